#include "tinykws/search/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/constraints.h"
#include "tinykws/eval/metrics.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/search/pareto.h"
#include "tinykws/search/space.h"
#include "tinykws/search/store.h"

namespace tkws::search {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Shard::db_name() const {
  return given ? fmt::format("shard-{}-of-{}.sqlite", index, count) : "results.sqlite";
}

Shard parse_shard(const std::string& text) {
  static const std::regex re(R"(\s*(\d{1,6})\s*/\s*(\d{1,6})\s*)");
  std::smatch m;
  if (!std::regex_match(text, m, re))
    throw InputError("--shard \"" + text + "\" must be I/N, e.g. 0/8 (I is 0-based)");
  Shard s;
  s.index = std::stoi(m[1]);
  s.count = std::stoi(m[2]);
  s.given = true;
  if (s.count < 1 || s.index >= s.count)
    throw InputError("--shard " + text + ": need 0 <= I < N (I is 0-based, as " +
                     "SLURM_ARRAY_TASK_ID with --array=0-" + std::to_string(s.count - 1) + ")");
  return s;
}

namespace {

std::vector<Constraint> constraints_of(const std::string& text) {
  if (text.empty()) return {};
  return parse_constraints(text);
}

// Size, zipped size and course-protocol latency of a trial's model (in this process).
void measure_model(const std::string& path, int runs, int discard, TrialRecord& r) {
  std::string text = read_text_file(path);
  std::vector<uint8_t> bytes(text.begin(), text.end());
  Model model = parse_model(bytes.data(), bytes.size(), path);
  r.size_bytes = static_cast<int64_t>(bytes.size());
  r.zipped_bytes = static_cast<int64_t>(deflated_size(bytes));
  KwsPipeline pipe;
  if (auto s = pipe.create(model); !s.ok())
    throw std::runtime_error(path + ": the runtime cannot run this model: " + s.message);
  LatencyReport lat = measure_latency(pipe, model.frontend.clip_samples, runs, discard, 0.0);
  r.latency_ms = lat.total.median;
  r.latency_std_ms = lat.total.std;
  r.preprocess_ms = lat.preprocess.median;
  r.model_ms = lat.model.median;
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

// fork + exec of `argv` with stdout and stderr appended to `log_path`. The child gets SIGTERM
// when the search process dies, so a killed search leaves no orphan training behind.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {  // child: async-signal-safe calls only
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(126);
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::execv(args[0], args.data());
    static const char msg[] = "tinykws search: cannot execute the worker binary\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(127);
  }
  return pid;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "ended abnormally";
}

fs::path resolve_run_dir(const std::string& out_dir, const std::string& run_dir) {
  fs::path p(run_dir);
  return p.is_absolute() ? p : fs::path(out_dir) / p;
}

// Prints the Pareto table; with write_files also OUT/pareto.json and OUT/best.tkws.
void report(const std::vector<TrialRecord>& rows, const std::string& out_dir,
            const std::string& constraints, bool write_files, FILE* log) {
  std::vector<Constraint> cs = constraints_of(constraints);
  Ranking rk = rank_trials(rows, cs);
  if (!cs.empty()) std::fprintf(log, "constraints: %s\n", constraints.c_str());
  std::fputs(pareto_table(rk, cs).c_str(), log);
  if (!write_files) return;
  write_file_atomic((fs::path(out_dir) / "pareto.json").string(),
                    pareto_json(rk, constraints).dump(2) + "\n");
  fs::path best = fs::path(out_dir) / "best.tkws";
  if (rk.best) {
    const TrialRecord& b = rk.done[*rk.best];
    fs::path model = resolve_run_dir(out_dir, b.run_dir) / "model.tkws";
    if (!fs::exists(model)) {
      std::fprintf(log, "warning: %s is missing; best.tkws not written\n", model.c_str());
      return;
    }
    write_file_atomic(best.string(), read_text_file(model.string()));
    std::fprintf(log, "best model: %s (from %s)\n", best.c_str(), model.c_str());
  } else {
    std::error_code ec;
    fs::remove(best, ec);  // a stale best from an earlier run would mislead
  }
}

// Refuses to mix results of different base configs or datasets in one file.
void check_or_set_meta(ResultStore& db, const std::string& key, const std::string& value,
                       const std::string& what) {
  if (auto old = db.meta(key); old && *old != value)
    throw InputError(db.path() + " holds results for another " + what + " (" + *old + ", now " +
                     value + "); use another --out or delete that file");
  db.set_meta(key, value);
}

struct Running {
  size_t trial;  // index into the trial list
  std::chrono::steady_clock::time_point start;
};

}  // namespace

int run_search(const SearchOptions& opt, FILE* log) {
  if (opt.jobs < 1) throw InputError("search: --jobs must be at least 1");
  if (opt.latency_discard >= opt.latency_runs)
    throw InputError("search: --latency-discard must be smaller than --latency-runs");
  SearchSpace space = load_space(opt.space_path);
  std::vector<Trial> trials = expand_trials(space);
  const std::string constraints = opt.constraints.empty() ? space.constraints : opt.constraints;
  constraints_of(constraints);  // InputError now, not after hours of training
  std::vector<std::string> data_dirs;
  std::string data_dir;  // the folders, absolute, ':'-joined: the store's "data_dir"
  for (const auto& d : opt.data_dirs) {
    if (!fs::is_directory(d)) throw InputError("search: --data " + d + " is not a folder");
    data_dirs.push_back(fs::absolute(d).lexically_normal().string());
    data_dir += (data_dir.empty() ? "" : ":") + data_dirs.back();
  }
  if (::access(opt.worker_binary.c_str(), X_OK) != 0)
    throw std::runtime_error("search: worker binary " + opt.worker_binary + " is not executable");

  fs::create_directories(fs::path(opt.out_dir) / "trials");
  ResultStore db((fs::path(opt.out_dir) / opt.shard.db_name()).string());
  check_or_set_meta(db, "base_hash", hex64(fnv1a64(space.base_text)), "base config");
  check_or_set_meta(db, "data_dir", data_dir, "dataset");
  db.set_meta("space", fs::absolute(opt.space_path).lexically_normal().string());
  db.set_meta("base_config", space.base_path);
  db.set_meta("constraints", constraints);
  db.set_meta("shard", fmt::format("{}/{}", opt.shard.index, opt.shard.count));
  db.set_meta("trials_total", std::to_string(trials.size()));

  // This shard's trials; done ones are kept, everything else is (re)run.
  std::deque<size_t> todo;
  std::map<size_t, TrialRecord> rec;  // by trial list index
  int mine = 0, already = 0, invalid = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    const Trial& t = trials[i];
    if (t.index % opt.shard.count != opt.shard.index) continue;
    ++mine;
    std::optional<TrialRecord> old = db.get(t.id);
    if (old && old->done()) {
      ++already;
      continue;
    }
    TrialRecord r = old.value_or(TrialRecord{});
    r.id = t.id;
    r.index = t.index;
    r.params = t.params.dump();
    r.run_dir = "trials/" + t.id;
    r.updated_at.clear();
    if (!t.invalid.empty()) {
      ++invalid;
      r.status = "invalid";
      r.error = t.invalid;
      db.put(r);
      continue;
    }
    rec[i] = r;
    todo.push_back(i);
  }
  std::fprintf(
      log,
      "search: %zu trials (%s) from %s; %s%d here: %d done already, %d invalid, %zu to "
      "run with %d job%s\n",
      trials.size(), space.mode == SpaceMode::kGrid ? "grid" : "random", opt.space_path.c_str(),
      opt.shard.given ? fmt::format("shard {}/{}: ", opt.shard.index, opt.shard.count).c_str() : "",
      mine, already, invalid, todo.size(), opt.jobs, opt.jobs == 1 ? "" : "s");
  std::fflush(log);

  std::map<pid_t, Running> running;
  int finished = 0, failed = 0;
  const int to_run = static_cast<int>(todo.size());
  auto start_next = [&] {
    size_t i = todo.front();
    todo.pop_front();
    const Trial& t = trials[i];
    TrialRecord& r = rec[i];
    fs::path dir = fs::path(opt.out_dir) / r.run_dir;
    // A trial that failed starts over; one that was running when the search died continues
    // from its last checkpoint (`train --resume` ends with the same model either way).
    if (r.status == "failed") fs::remove_all(dir);
    fs::create_directories(dir);
    write_file_atomic((dir / "trial.toml").string(),
                      "# tinykws search trial " + t.id + ": " + t.params.dump() + "\n# space " +
                          opt.space_path + ", base " + space.base_path + "\n" + t.config_text);
    std::vector<std::string> argv = {
        opt.worker_binary, "train",      "--config", (dir / "trial.toml").string(),
        "--out",           dir.string(), "--quiet"};
    for (const auto& d : data_dirs) argv.insert(argv.end(), {"--data", d});
    if (r.status == "running") argv.push_back("--resume");
    r.status = "running";
    r.error.clear();
    r.attempts++;
    r.updated_at.clear();
    db.put(r);
    pid_t pid = spawn(argv, (dir / "train.log").string());
    running[pid] = {i, std::chrono::steady_clock::now()};
  };
  auto finish = [&](const Running& run, int status) {
    TrialRecord& r = rec[run.trial];
    fs::path dir = fs::path(opt.out_dir) / r.run_dir;
    r.updated_at.clear();
    try {
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(exit_text(status) + ": " +
                                 last_line((dir / "train.log").string()));
      json m = json::parse(read_text_file((dir / "metrics.json").string()));
      r.val_accuracy = m.at("val_accuracy").get<double>();
      r.train_seconds = m.value("train_seconds", 0.0);
      r.parameters = m.value("parameters", int64_t{0});
      r.sparsity = m.value("sparsity", 0.0);
      measure_model((dir / "model.tkws").string(), opt.latency_runs, opt.latency_discard, r);
      r.status = "done";
      r.error.clear();
    } catch (const std::exception& e) {
      r.status = "failed";
      r.error = e.what();
      ++failed;
    }
    db.put(r);
    ++finished;
    if (!opt.quiet) {
      if (r.done())
        std::fprintf(log, "[%d/%d] %s done: %.2f %%, %lld B, %.3f ms, %.1f s  %s\n", finished,
                     to_run, r.id.c_str(), 100.0 * r.val_accuracy,
                     static_cast<long long>(r.size_bytes), r.latency_ms, r.train_seconds,
                     r.params.c_str());
      else
        std::fprintf(log, "[%d/%d] %s FAILED (%s/train.log): %s\n", finished, to_run, r.id.c_str(),
                     dir.c_str(), r.error.c_str());
      std::fflush(log);
    }
  };

  while (!todo.empty() || !running.empty()) {
    while (!todo.empty() && static_cast<int>(running.size()) < opt.jobs) start_next();
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    Running run = it->second;
    running.erase(it);
    finish(run, status);
  }

  report(db.all(), opt.out_dir, constraints, !opt.shard.given, log);
  if (opt.shard.given)
    std::fprintf(log,
                 "shard results: %s (combine the shards with `tinykws search merge --out %s`)\n",
                 db.path().c_str(), opt.out_dir.c_str());
  if (failed > 0) {
    std::fprintf(log, "%d trial%s failed; rerun the same command to retry them\n", failed,
                 failed == 1 ? "" : "s");
    return 1;
  }
  return 0;
}

namespace {

struct ShardFile {
  fs::path path;
  int index = -1, count = -1;  // from the file name; -1 for other names
};

std::vector<ShardFile> find_sources(const MergeOptions& opt) {
  static const std::regex re(R"(shard-(\d+)-of-(\d+)\.sqlite)");
  std::vector<std::string> sources = opt.sources;
  if (sources.empty()) sources.push_back(opt.out_dir);
  std::vector<ShardFile> out;
  for (auto& s : sources) {
    if (fs::is_directory(s)) {
      std::vector<ShardFile> found;
      for (auto& e : fs::directory_iterator(s)) {
        std::smatch m;
        std::string name = e.path().filename().string();
        if (e.is_regular_file() && std::regex_match(name, m, re))
          found.push_back({e.path(), std::stoi(m[1]), std::stoi(m[2])});
      }
      if (found.empty())
        throw InputError("search merge: " + s + " holds no shard-I-of-N.sqlite files");
      std::sort(found.begin(), found.end(), [](auto& a, auto& b) {
        return std::tie(a.count, a.index) < std::tie(b.count, b.index);
      });
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(s)) {
      ShardFile f{s};
      std::smatch m;
      std::string name = fs::path(s).filename().string();
      if (std::regex_match(name, m, re)) {
        f.index = std::stoi(m[1]);
        f.count = std::stoi(m[2]);
      }
      out.push_back(f);
    } else {
      throw InputError("search merge: " + s + " is neither a folder nor a results file");
    }
  }
  return out;
}

int status_rank(const std::string& s) {
  return s == "done" ? 3 : s == "failed" ? 2 : s == "invalid" ? 1 : 0;
}

}  // namespace

int merge_search(const MergeOptions& opt, FILE* log) {
  if (opt.out_dir.empty()) throw InputError("search merge: --out DIR is required");
  std::vector<ShardFile> files = find_sources(opt);
  const fs::path target = fs::path(opt.out_dir) / "results.sqlite";
  std::error_code ec;
  const fs::path out_canon = fs::weakly_canonical(opt.out_dir, ec);

  std::map<std::string, TrialRecord> merged;
  std::string base_hash, base_file, constraints, data_dir, space;
  std::set<int> seen_shards;
  int shard_count = -1;
  int64_t trials_total = -1;
  for (auto& f : files) {
    if (fs::weakly_canonical(f.path, ec) == fs::weakly_canonical(target, ec)) continue;
    std::unique_ptr<ResultStore> db;
    try {
      db = std::make_unique<ResultStore>(f.path.string(), true);
    } catch (const std::runtime_error& e) {
      throw InputError(std::string("search merge: ") + e.what());
    }
    std::string h = db->meta("base_hash").value_or("");
    if (base_hash.empty()) {
      base_hash = h;
      base_file = f.path.string();
      constraints = db->meta("constraints").value_or("");
      data_dir = db->meta("data_dir").value_or("");
      space = db->meta("space").value_or("");
      trials_total = std::stoll(db->meta("trials_total").value_or("-1"));
    } else if (h != base_hash) {
      throw InputError("search merge: " + f.path.string() + " comes from another search than " +
                       base_file + " (different base config)");
    }
    if (f.count > 0) {
      if (shard_count > 0 && f.count != shard_count)
        throw InputError("search merge: " + f.path.string() + " is a shard of " +
                         std::to_string(f.count) + ", the others of " +
                         std::to_string(shard_count));
      shard_count = f.count;
      seen_shards.insert(f.index);
    }
    const fs::path src_dir = fs::weakly_canonical(
        f.path.parent_path().empty() ? fs::path(".") : f.path.parent_path(), ec);
    int rows = 0;
    for (TrialRecord r : db->all()) {
      ++rows;
      if (!fs::path(r.run_dir).is_absolute() && src_dir != out_canon)
        r.run_dir = (src_dir / r.run_dir).string();
      auto it = merged.find(r.id);
      if (it == merged.end() || status_rank(r.status) > status_rank(it->second.status))
        merged[r.id] = r;
    }
    std::fprintf(log, "merge: %s: %d trials\n", f.path.c_str(), rows);
  }
  if (base_hash.empty() && merged.empty()) throw InputError("search merge: no shard results found");
  if (shard_count > 0) {
    std::string missing;
    for (int i = 0; i < shard_count; ++i)
      if (!seen_shards.count(i)) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    if (!missing.empty())
      std::fprintf(log, "warning: shards %s of %d are missing; their trials are not in the merge\n",
                   missing.c_str(), shard_count);
  }

  // Written beside the target and renamed over it: readers never see a half-merged file.
  fs::create_directories(opt.out_dir);
  const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  fs::remove(tmp, ec);
  {
    ResultStore out(tmp.string());
    out.begin();
    out.set_meta("base_hash", base_hash);
    out.set_meta("data_dir", data_dir);
    out.set_meta("space", space);
    out.set_meta("constraints", constraints);
    out.set_meta("trials_total", std::to_string(trials_total));
    out.set_meta("merged_from", std::to_string(files.size()) + " files");
    for (auto& [id, r] : merged) out.put(r);
    out.commit();
  }
  fs::rename(tmp, target);
  std::vector<TrialRecord> rows;
  for (auto& [id, r] : merged) rows.push_back(r);
  int done =
      static_cast<int>(std::count_if(rows.begin(), rows.end(), [](auto& r) { return r.done(); }));
  std::fprintf(log, "merged %zu trials (%d done) of %lld into %s\n", rows.size(), done,
               static_cast<long long>(trials_total), target.c_str());
  report(rows, opt.out_dir, opt.constraints.empty() ? constraints : opt.constraints, true, log);
  return 0;
}

}  // namespace tkws::search
