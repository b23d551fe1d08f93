#include "tinykws/eval/profile.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "tinykws/common/error.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws {

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// What the step hooks record during one run: each step's duration and, on the first run, its
// ops and output shape.
struct Recorder {
  std::vector<double> step_ms;  // per step, this run
  std::vector<int> first_op, last_op;
  std::vector<ActShape> shape;
  Clock::time_point mark;  // float: start of the current step; int8: end of the previous op
  int next = 0;            // int8: index of the next step to finish
  bool overflow = false;   // more events than steps (a bug): reported after the run

  void reset(size_t steps) {
    step_ms.assign(steps, 0.0);
    next = 0;
  }
  void record(int k, double t, int first, int last, ActShape s) {
    if (k < 0 || static_cast<size_t>(k) >= step_ms.size()) {
      overflow = true;
      return;
    }
    step_ms[k] = t;
    first_op[k] = first, last_op[k] = last, shape[k] = s;
  }
};

void float_hook(void* user, const StepEvent& e) {
  auto* r = static_cast<Recorder*>(user);
  const Clock::time_point now = Clock::now();
  if (!e.done) {
    r->mark = now;
    return;
  }
  r->record(e.step, ms(now - r->mark), e.first_op, e.last_op, e.shape);
  r->mark = Clock::now();
}

void int8_hook(void* user, const Int8StepEvent& e) {
  auto* r = static_cast<Recorder*>(user);
  const Clock::time_point now = Clock::now();
  r->record(r->next++, ms(now - r->mark), e.op, e.op, e.shape);
  r->mark = Clock::now();  // the hook's own bookkeeping is not charged to the next op
}

std::string shape_str(ActShape s) {
  if (s.h == 1 && s.w == 1) return std::to_string(s.c);
  return fmt::format("{}x{}x{}", s.h, s.w, s.c);
}

std::string group(int64_t v) {  // 1234567 -> "1,234,567"
  std::string d = std::to_string(v), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i > 0 && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return out;
}

}  // namespace

int64_t op_macs(const Model& m, size_t i, ActShape in, ActShape* out_shape) {
  ActShape out;
  if (std::string e = op_output_shape(m, i, in, &out); !e.empty()) throw InputError(e);
  if (out_shape) *out_shape = out;
  const Op& op = m.ops[i];
  const int64_t out_size = static_cast<int64_t>(out.size());
  switch (op.type) {
    case OpType::kConv2D:
      return out_size * in.c * op.kernel_h * op.kernel_w;
    case OpType::kDepthwiseConv2D:
      return out_size * op.kernel_h * op.kernel_w;
    case OpType::kDense:
      return static_cast<int64_t>(in.size()) * out.c;
    case OpType::kBatchNorm:
      return out_size;
    default:
      return 0;
  }
}

std::vector<int64_t> model_macs(const Model& m) {
  std::vector<int64_t> macs;
  ActShape in = model_input_shape(m);
  for (size_t i = 0; i < m.ops.size(); ++i) macs.push_back(op_macs(m, i, in, &in));
  return macs;
}

Profile profile_pipeline(KwsPipeline& pipe, const Model& m, int runs, int discard, uint64_t seed) {
  if (!pipe.ready()) throw std::logic_error("profile_pipeline: pipeline not created");
  if (runs < 1 || discard < 0 || discard >= runs)
    throw InputError(
        fmt::format("profile: need runs >= 1 and 0 <= discard < runs ({}, {})", runs, discard));
  const bool int8 = pipe.is_int8();
  const size_t steps =
      static_cast<size_t>(int8 ? pipe.int8_network().num_steps() : pipe.interpreter().num_steps());
  const std::vector<int64_t> macs = model_macs(m);

  Recorder rec;
  rec.first_op.assign(steps, -1);
  rec.last_op.assign(steps, -1);
  rec.shape.assign(steps, ActShape{});
  if (int8)
    pipe.int8_network().set_step_hook(int8_hook, &rec);
  else
    pipe.interpreter().set_step_hook(float_hook, &rec);

  const int n = pipe.clip_samples();
  NoiseClips noise(seed);
  std::vector<int16_t> pcm(n);
  std::vector<float> clip(n), feats(static_cast<size_t>(pipe.num_frames()) * pipe.num_features());
  std::vector<float> probs(pipe.num_labels());
  std::vector<std::vector<double>> step_ms(steps);
  std::vector<double> fe_ms, net_ms, sum_ms, other_ms;
  bool failed = false;
  for (int r = 0; r < runs; ++r) {
    noise.next(pcm.data(), n);  // not timed
    rec.reset(steps);
    const Clock::time_point t0 = Clock::now();
    for (int i = 0; i < n; ++i) clip[i] = pcm[i] * (1.0f / 32768.0f);
    failed |= !pipe.features(clip.data(), feats.data()).ok();
    const Clock::time_point t1 = Clock::now();
    rec.mark = t1;
    failed |= !pipe.network(feats.data(), probs.data()).ok();
    const Clock::time_point t2 = Clock::now();
    if (r < discard) continue;
    double sum = 0;
    for (size_t k = 0; k < steps; ++k) {
      step_ms[k].push_back(rec.step_ms[k]);
      sum += rec.step_ms[k];
    }
    fe_ms.push_back(ms(t1 - t0));
    net_ms.push_back(ms(t2 - t1));
    sum_ms.push_back(sum);
    other_ms.push_back(ms(t2 - t1) - sum);
  }
  if (int8)
    pipe.int8_network().set_step_hook(nullptr, nullptr);
  else
    pipe.interpreter().set_step_hook(nullptr, nullptr);
  if (failed) throw std::runtime_error("profile: the pipeline failed on the noise input");
  if (rec.overflow) throw std::logic_error("profile: more step events than planned steps");

  Profile p;
  p.runner = int8 ? "int8" : "float";
  p.kernels = int8 ? pipe.int8_network().kernel_set_name() : pipe.interpreter().kernel_set_name();
  p.runs = runs;
  p.discarded = discard;
  p.frontend = median_std(fe_ms);
  p.network = median_std(net_ms);
  p.steps_sum = median_std(sum_ms);
  p.other = median_std(other_ms);
  p.rows.push_back(
      {"front end", -1, -1, ActShape{pipe.num_frames(), pipe.num_features(), 1}, 0, p.frontend});
  for (size_t k = 0; k < steps; ++k) {
    ProfileRow row;
    row.name = int8 ? pipe.int8_network().step_name(static_cast<int>(k))
                    : pipe.interpreter().step_name(static_cast<int>(k));
    row.first_op = rec.first_op[k];
    row.last_op = rec.last_op[k];
    row.shape = rec.shape[k];
    for (int op = row.first_op; op >= 0 && op <= row.last_op; ++op) {
      // A BatchNorm folded into the conv / dense it follows costs nothing at run time.
      const bool folded = op > row.first_op && m.ops[op].type == OpType::kBatchNorm;
      if (!folded && static_cast<size_t>(op) < macs.size()) row.macs += macs[op];
    }
    row.time = median_std(step_ms[k]);
    p.network_macs += row.macs;
    p.rows.push_back(std::move(row));
  }
  return p;
}

nlohmann::json profile_json(const Profile& p) {
  auto st = [](const Stat& s) { return nlohmann::json{{"median", s.median}, {"std", s.std}}; };
  nlohmann::json rows = nlohmann::json::array();
  for (const ProfileRow& r : p.rows)
    rows.push_back({{"name", r.name},
                    {"first_op", r.first_op},
                    {"last_op", r.last_op},
                    {"shape", {r.shape.h, r.shape.w, r.shape.c}},
                    {"macs", r.macs},
                    {"time_ms", st(r.time)}});
  return {{"runner", p.runner},
          {"kernels", p.kernels},
          {"runs", p.runs},
          {"discarded", p.discarded},
          {"pause_ms", 0},
          {"threads", 1},
          {"rows", rows},
          {"frontend_ms", st(p.frontend)},
          {"network_ms", st(p.network)},
          {"steps_sum_ms", st(p.steps_sum)},
          {"other_ms", st(p.other)},
          {"network_macs", p.network_macs}};
}

std::string profile_table(const Profile& p) {
  const double total = p.frontend.median + p.network.median;
  auto share = [&](double t) {
    return total > 0 ? fmt::format("{:5.1f} %", 100.0 * t / total) : "";
  };
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"#", "step", "ops", "output", "MACs", "median ms", "share"});
  for (size_t k = 0; k < p.rows.size(); ++k) {
    const ProfileRow& r = p.rows[k];
    const std::string ops = r.first_op < 0            ? "-"
                            : r.first_op == r.last_op ? std::to_string(r.first_op)
                                                      : fmt::format("{}-{}", r.first_op, r.last_op);
    rows.push_back({k == 0 ? "-" : std::to_string(k - 1), r.name, ops, shape_str(r.shape),
                    r.first_op < 0 ? "-" : group(r.macs), fmt::format("{:.4f}", r.time.median),
                    share(r.time.median)});
  }
  rows.push_back({"", "other (network call overhead)", "", "", "",
                  fmt::format("{:.4f}", p.other.median), share(p.other.median)});
  rows.push_back({"", "total (front end + network)", "", "", group(p.network_macs),
                  fmt::format("{:.4f}", total), share(total)});
  size_t w[7] = {};
  for (const auto& row : rows)
    for (size_t c = 0; c < 7; ++c) w[c] = std::max(w[c], row[c].size());
  std::string out = fmt::format(
      "per-layer profile ({} network, {} kernels; {} runs, first {} dropped, no pause, 1 "
      "thread), median per run:\n",
      p.runner, p.kernels, p.runs, p.discarded);
  for (const auto& row : rows)
    out += fmt::format("  {:>{}}  {:<{}}  {:<{}}  {:<{}}  {:>{}}  {:>{}}  {:>{}}\n", row[0], w[0],
                       row[1], w[1], row[2], w[2], row[3], w[3], row[4], w[4], row[5], w[5], row[6],
                       w[6]);
  out += fmt::format(
      "  network call {:.4f} ms median, of which the steps {:.4f} ms; MACs exclude BatchNorm "
      "folded into a conv\n",
      p.network.median, p.steps_sum.median);
  return out;
}

}  // namespace tkws
