#include "tinykws/train/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace tkws {

namespace {
double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
std::string eta_text(double s) {
  char buf[32];
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, t / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  return buf;
}
}  // namespace

Progress::Progress(bool enabled) : enabled_(enabled), tty_(::isatty(2) == 1), t_run_(now_s()) {}

void Progress::message(const std::string& line) {
  if (!enabled_) return;
  std::fprintf(stderr, "%s%s\n", tty_ ? "\r\033[K" : "", line.c_str());
}

void Progress::begin_epoch(int epoch, int epochs, int steps) {
  epoch_ = epoch, epochs_ = epochs, steps_ = steps;
  t_epoch_ = now_s();
  t_last_draw_ = 0;
}

void Progress::step(int done, double loss, double acc) {
  if (!enabled_ || !tty_) return;
  double t = now_s();
  if (done < steps_ && t - t_last_draw_ < 0.1) return;  // redraw at most 10 times a second
  t_last_draw_ = t;
  double per_epoch = epochs_timed_ ? epoch_seconds_sum_ / epochs_timed_
                                   : (t - t_epoch_) * steps_ / std::max(done, 1);
  double eta = per_epoch * (epochs_ - epoch_) + (t - t_epoch_) * (steps_ - done) / done;
  constexpr int kWidth = 24;
  int fill = kWidth * done / steps_;
  std::string bar(fill, '#');
  bar.append(kWidth - fill, '.');
  std::fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %d/%d loss %.4f acc %.2f%% ETA %s", epoch_,
               epochs_, bar.c_str(), done, steps_, loss, 100.0 * acc, eta_text(eta).c_str());
  std::fflush(stderr);
}

void Progress::end_epoch(const EpochRecord& r, double best_acc, int best_epoch) {
  epoch_seconds_sum_ += r.seconds;
  ++epochs_timed_;
  if (!enabled_) return;
  double eta = epoch_seconds_sum_ / epochs_timed_ * (epochs_ - r.epoch);
  // No epoch is eligible for selection yet while pruning has not reached its target.
  char best[48];
  if (best_epoch > 0)
    std::snprintf(best, sizeof best, "best %.2f%% @%d", 100 * best_acc, best_epoch);
  else
    std::snprintf(best, sizeof best, "no eligible epoch yet");
  std::fprintf(stderr,
               "%sepoch %d/%d  lr %.2e  loss %.4f  acc %.2f%%  val_loss %.4f  val_acc %.2f%%  "
               "(%s)  %.1fs  ETA %s\n",
               tty_ ? "\r\033[K" : "", r.epoch, epochs_, r.lr, r.train_loss, 100 * r.train_acc,
               r.val_loss, 100 * r.val_acc, best, r.seconds, eta_text(eta).c_str());
  std::fflush(stderr);
}

}  // namespace tkws
