// Loads many clips of a dataset into memory, in parallel, fitted to the clip length.
#pragma once
#include <string>
#include <vector>

#include "tinykws/audio/dataset.h"

namespace tkws {

struct LoadedClips {
  std::vector<const ClipRef*> refs;
  std::vector<std::vector<float>> samples;  // [clip][clip_samples], int16 / 32768 scale
};

// Reads every clip (read_audio + fit_length) with `threads` workers; the result is in `refs`
// order whatever the thread count. If any file fails, throws one InputError listing every
// failing file with its reason (nothing is silently dropped).
LoadedClips load_clips(const std::vector<const ClipRef*>& refs, int sample_rate, int clip_samples,
                       int threads);

// Runs fn(i) for i in [0, n) on `threads` std::threads (static interleaved partition, so the
// work each index gets does not depend on timing). Exceptions are rethrown after joining.
template <class Fn>
void parallel_for(int n, int threads, Fn fn);

}  // namespace tkws

#include <exception>
#include <mutex>
#include <thread>

template <class Fn>
void tkws::parallel_for(int n, int threads, Fn fn) {
  threads = std::max(1, std::min(threads, n));
  if (threads == 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::exception_ptr err;
  std::mutex mu;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        for (int i = t; i < n; i += threads) fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!err) err = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (err) std::rethrow_exception(err);
}
