// Shared fixture of the train tests: a synthetic dataset made once per suite in a temp folder,
// and quiet training runs on it.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../common/synth_data.h"
#include "tinykws/train/trainer.h"

namespace tkws::testing {

// Each suite deriving from it gets its own folder `name` and dataset (speakers, clips each,
// validation speakers).
template <int Speakers, int Clips, int ValSpeakers>
class SynthTrainSuite : public ::testing::Test {
 protected:
  static void make(const std::string& name) {
    root_ = temp_dir(name);
    data_ = make_synth_dataset(root_ + "/data", Speakers, Clips, ValSpeakers);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(root_); }
  // Trains `c` into `out` (a path); `stop_after` > 0 leaves as a kill would; `resume` continues.
  static TrainResult train(const Config& c, const std::string& out, int stop_after = 0,
                           bool resume = false) {
    TrainOptions o;
    o.data_dirs = {data_};
    o.out_dir = out;
    o.progress = false;
    o.io_threads = 2;
    o.stop_after_epoch = stop_after;
    o.resume = resume;
    return train_model(c, o);
  }
  static inline std::string root_, data_;
};

}  // namespace tkws::testing
