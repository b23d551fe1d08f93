#include "tinykws/cli/listen_actions.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "tinykws/audio/wav.h"

extern char** environ;

namespace tkws::cli {

void CommandRunner::run(const std::string& label, float score, double time_s) {
  reap();
  // Environment: ours, minus any TINYKWS_{LABEL,SCORE,TIME}, plus the detection's.
  std::vector<std::string> env_text = {"TINYKWS_LABEL=" + label,
                                       fmt::format("TINYKWS_SCORE={:.4f}", score),
                                       fmt::format("TINYKWS_TIME={:.3f}", time_s)};
  std::vector<char*> envp;
  for (char** e = environ; e && *e; ++e) {
    const bool ours = std::strncmp(*e, "TINYKWS_LABEL=", 14) == 0 ||
                      std::strncmp(*e, "TINYKWS_SCORE=", 14) == 0 ||
                      std::strncmp(*e, "TINYKWS_TIME=", 13) == 0;
    if (!ours) envp.push_back(*e);
  }
  for (std::string& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c", cmd = command_;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, "/bin/sh", &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) {
    ++failed_;
    std::fprintf(stderr, "tinykws: --exec: cannot start /bin/sh (%s)\n", std::strerror(err));
    return;
  }
  ++started_;
  running_.push_back(pid);
}

void CommandRunner::finished(pid_t pid, int status) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  ++failed_;
  std::fprintf(stderr, "tinykws: --exec: command (pid %d) %s %d\n", static_cast<int>(pid),
               WIFEXITED(status) ? "exited with status" : "killed by signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

void CommandRunner::reap() {
  for (size_t i = 0; i < running_.size();) {
    int status = 0;
    const pid_t r = ::waitpid(running_[i], &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) {
      ++i;
      continue;
    }
    if (r > 0) finished(r, status);
    running_.erase(running_.begin() + static_cast<ptrdiff_t>(i));
  }
}

void CommandRunner::wait_all() {
  for (pid_t pid : running_) {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r > 0) finished(r, status);
  }
  running_.clear();
}

void AudioHistory::append(const float* x, size_t n) {
  const size_t cap = ring_.size();
  if (cap == 0) return;
  if (n > cap) x += n - cap, total_ += static_cast<int64_t>(n - cap), n = cap;
  for (size_t i = 0; i < n; ++i) ring_[static_cast<size_t>((total_ + i) % cap)] = x[i];
  total_ += static_cast<int64_t>(n);
}

std::vector<float> AudioHistory::slice(int64_t from, int64_t to) const {
  from = std::max({from, total_ - static_cast<int64_t>(ring_.size()), int64_t{0}});
  to = std::min(to, total_);
  std::vector<float> out;
  for (int64_t i = from; i < to; ++i)
    out.push_back(ring_[static_cast<size_t>(i % static_cast<int64_t>(ring_.size()))]);
  return out;
}

std::string save_detection(const std::string& dir, int index, const std::string& label,
                           const DetectionEvent& e, const AudioHistory& h, int sample_rate,
                           int clip_samples, double pre_roll_s) {
  const int64_t pre = static_cast<int64_t>(pre_roll_s * sample_rate + 0.5);
  const std::vector<float> audio = h.slice(e.end_sample - clip_samples - pre, e.end_sample);
  std::string safe = label;
  for (char& c : safe)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  const std::string name = fmt::format("{:04d}_{}_{}ms.wav", index, safe,
                                       static_cast<long long>(e.time_s * 1000.0 + 0.5));
  const std::string path = (std::filesystem::path(dir) / name).string();
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + ".wav";
  write_wav_pcm16(tmp, audio, sample_rate);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error(path + ": cannot rename the temporary file over it");
  }
  return path;
}

int64_t pump_stream(SampleSource& src, StreamDetector& det, int64_t max_samples,
                    const volatile std::sig_atomic_t* stop,
                    const std::function<void(const float*, size_t,
                                             const std::vector<DetectionEvent>&)>& after_block) {
  constexpr size_t kBlock = 1024;
  std::vector<float> block(kBlock);
  std::vector<DetectionEvent> events;
  events.reserve(16);
  int64_t total = 0;
  auto collect = [](void* u, const DetectionEvent& e) {
    static_cast<std::vector<DetectionEvent>*>(u)->push_back(e);
  };
  while (!(stop && *stop) && (max_samples <= 0 || total < max_samples)) {
    size_t want = kBlock;
    if (max_samples > 0) want = static_cast<size_t>(std::min<int64_t>(want, max_samples - total));
    const size_t n = src.read(block.data(), want);
    if (n == 0) break;
    events.clear();
    if (Status st = det.push(block.data(), n, collect, &events); !st.ok())
      throw std::runtime_error(std::string("detector: ") + st.message);
    total += static_cast<int64_t>(n);
    after_block(block.data(), n, events);
  }
  return total;
}

}  // namespace tkws::cli
