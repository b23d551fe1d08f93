// Internal to the C API (tinykws_c.cpp, tinykws_c_detector.cpp): the model handle and the
// error formatting both files use.
#pragma once
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/frontend/frontend.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/runtime/tinykws.h"

// The last-error buffers of tinykws_open_*() and tinykws_detector_create() are per thread.
// A bare-metal build without an OS (no threads, no thread-local storage; mcu/CMakeLists.txt)
// defines TINYKWS_NO_THREADS and gets plain static buffers.
#ifdef TINYKWS_NO_THREADS
#define TINYKWS_THREAD_LOCAL
#else
#define TINYKWS_THREAD_LOCAL thread_local
#endif

struct tinykws_model {
  tkws::Model model;  // kept for detectors, which build their own pipeline from it
  tkws::KwsPipeline pipe;
  std::vector<float> clip;  // empty, or clip_samples: a short input zero-padded (take_clip)
  int sample_rate = 0;
  char error[256] = {};
};

namespace tkws::capi {

// printf into buf (truncated to size) and return `code`.
inline tinykws_status fail(char* buf, size_t size, tinykws_status code, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
inline tinykws_status fail(char* buf, size_t size, tinykws_status code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return code;
}

}  // namespace tkws::capi
