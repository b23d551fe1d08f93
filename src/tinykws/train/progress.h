// Training progress on stderr: a live bar with loss, accuracy and ETA on a terminal; one plain
// line per epoch when stderr is a pipe or a file (logs stay readable). Torch-free.
#pragma once
#include <string>

#include "tinykws/train/trainer.h"

namespace tkws {

class Progress {
 public:
  explicit Progress(bool enabled);
  void message(const std::string& line);  // a whole line (clears the bar first)
  void begin_epoch(int epoch, int epochs, int steps);
  void step(int done, double loss, double acc);  // running means over the epoch so far
  void end_epoch(const EpochRecord& r, double best_acc, int best_epoch);

 private:
  bool enabled_, tty_;
  int epoch_ = 0, epochs_ = 0, steps_ = 0;
  double t_run_ = 0, t_epoch_ = 0, t_last_draw_ = 0;
  int epochs_timed_ = 0;
  double epoch_seconds_sum_ = 0;
};

}  // namespace tkws
