#include "tinykws/search/pareto.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>

namespace tkws::search {
using json = nlohmann::json;

bool dominates(const Objectives& a, const Objectives& b) {
  bool no_worse = a.accuracy >= b.accuracy && a.size <= b.size && a.latency <= b.latency;
  bool better = a.accuracy > b.accuracy || a.size < b.size || a.latency < b.latency;
  return no_worse && better;
}

std::vector<size_t> pareto_front(const std::vector<Objectives>& p) {
  std::vector<size_t> front;
  for (size_t i = 0; i < p.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < p.size() && !dominated; ++j) dominated = j != i && dominates(p[j], p[i]);
    if (!dominated) front.push_back(i);
  }
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    if (p[a].accuracy != p[b].accuracy) return p[a].accuracy > p[b].accuracy;
    if (p[a].size != p[b].size) return p[a].size < p[b].size;
    if (p[a].latency != p[b].latency) return p[a].latency < p[b].latency;
    return a < b;
  });
  return front;
}

Measured measured_of(const TrialRecord& r) {
  Measured m;
  if (!r.done()) return m;
  m.accuracy = r.val_accuracy;
  m.size_bytes = static_cast<double>(r.size_bytes);
  m.zipped_bytes = static_cast<double>(r.zipped_bytes);
  m.latency_ms = r.latency_ms;
  return m;
}

Ranking rank_trials(const std::vector<TrialRecord>& all, const std::vector<Constraint>& cs) {
  Ranking r;
  for (auto& t : all) {
    if (t.done())
      r.done.push_back(t);
    else if (t.status == "failed")
      r.failed++;
    else if (t.status == "invalid")
      r.invalid++;
    else
      r.running++;
  }
  std::sort(r.done.begin(), r.done.end(),
            [](auto& a, auto& b) { return a.index != b.index ? a.index < b.index : a.id < b.id; });
  std::vector<size_t> feasible_idx;
  for (size_t i = 0; i < r.done.size(); ++i) {
    bool ok = all_pass(check(cs, measured_of(r.done[i])));
    r.feasible.push_back(ok);
    if (ok) feasible_idx.push_back(i);
  }
  r.front_of_all = feasible_idx.empty();
  std::vector<size_t> pool = feasible_idx;
  if (r.front_of_all) {
    pool.resize(r.done.size());
    std::iota(pool.begin(), pool.end(), size_t{0});
  }
  std::vector<Objectives> pts;
  for (size_t i : pool)
    pts.push_back(
        {r.done[i].val_accuracy, static_cast<double>(r.done[i].size_bytes), r.done[i].latency_ms});
  for (size_t k : pareto_front(pts)) r.front.push_back(pool[k]);
  for (size_t i : feasible_idx) {
    if (!r.best) {
      r.best = i;
      continue;
    }
    const TrialRecord& a = r.done[i];
    const TrialRecord& b = r.done[*r.best];
    if (a.val_accuracy > b.val_accuracy ||
        (a.val_accuracy == b.val_accuracy && a.size_bytes < b.size_bytes))
      r.best = i;
  }
  return r;
}

namespace {

// "k=v" pairs of a params object; a path is shortened to its last part when that is unique.
std::string short_params(const std::string& params_text) {
  json p = json::parse(params_text, nullptr, false);
  if (!p.is_object()) return params_text;
  std::map<std::string, int> uses;
  auto last = [](const std::string& path) {
    size_t dot = path.rfind('.');
    return dot == std::string::npos ? path : path.substr(dot + 1);
  };
  for (auto& [k, v] : p.items()) uses[last(k)]++;
  std::string out;
  for (auto& [k, v] : p.items()) {
    std::string name = uses[last(k)] == 1 ? last(k) : k;
    std::string val = v.is_string() ? v.get<std::string>() : v.dump();
    out += (out.empty() ? "" : " ") + name + "=" + val;
  }
  return out;
}

}  // namespace

std::string pareto_table(const Ranking& r, const std::vector<Constraint>& cs) {
  std::string out;
  std::string what = cs.empty() ? "all trials" : "feasible trials";
  if (!cs.empty() && r.front_of_all) what = "all trials (none meets the constraints)";
  out += fmt::format("Pareto front of {} (accuracy max, size min, latency min): {} of {} done\n",
                     what, r.front.size(), r.done.size());
  out += fmt::format("{:>2}  {:<16}  {:>8}  {:>9}  {:>9}  {:>10}  {:<8}  {}\n", "#", "trial",
                     "val acc", "size B", "zipped B", "latency ms", "feasible", "params");
  int rank = 0;
  for (size_t i : r.front) {
    const TrialRecord& t = r.done[i];
    out += fmt::format("{:>2}  {:<16}  {:>7.2f}%  {:>9}  {:>9}  {:>10.3f}  {:<8}  {}{}\n", ++rank,
                       t.id, 100.0 * t.val_accuracy, t.size_bytes, t.zipped_bytes, t.latency_ms,
                       r.feasible[i] ? "yes" : "no", short_params(t.params),
                       r.best && *r.best == i ? "  <- best" : "");
  }
  out += fmt::format("trials: {} done, {} feasible, {} failed, {} invalid, {} not finished\n",
                     r.done.size(), std::count(r.feasible.begin(), r.feasible.end(), true),
                     r.failed, r.invalid, r.running);
  if (r.best) {
    const TrialRecord& b = r.done[*r.best];
    out += fmt::format("best feasible: {} ({:.2f} %, {} B, {:.3f} ms) {}\n", b.id,
                       100.0 * b.val_accuracy, b.size_bytes, b.latency_ms, short_params(b.params));
  } else {
    out += "best feasible: none\n";
  }
  return out;
}

json pareto_json(const Ranking& r, const std::string& constraints) {
  std::vector<bool> on_front(r.done.size(), false);
  for (size_t i : r.front) on_front[i] = true;
  json trials = json::array();
  for (size_t i = 0; i < r.done.size(); ++i) {
    const TrialRecord& t = r.done[i];
    trials.push_back({{"id", t.id},
                      {"index", t.index},
                      {"params", json::parse(t.params, nullptr, false)},
                      {"val_accuracy", t.val_accuracy},
                      {"size_bytes", t.size_bytes},
                      {"zipped_bytes", t.zipped_bytes},
                      {"latency_ms", t.latency_ms},
                      {"latency_std_ms", t.latency_std_ms},
                      {"train_seconds", t.train_seconds},
                      {"parameters", t.parameters},
                      {"feasible", static_cast<bool>(r.feasible[i])},
                      {"pareto", static_cast<bool>(on_front[i])},
                      {"run_dir", t.run_dir}});
  }
  json front = json::array();
  for (size_t i : r.front) front.push_back(r.done[i].id);
  return {{"objectives", {{"val_accuracy", "max"}, {"size_bytes", "min"}, {"latency_ms", "min"}}},
          {"constraints", constraints},
          {"best", r.best ? json(r.done[*r.best].id) : json(nullptr)},
          {"front", front},
          {"front_of_all", r.front_of_all},
          {"counts",
           {{"done", r.done.size()},
            {"feasible", std::count(r.feasible.begin(), r.feasible.end(), true)},
            {"failed", r.failed},
            {"invalid", r.invalid},
            {"not_finished", r.running}}},
          {"trials", trials}};
}

}  // namespace tkws::search
