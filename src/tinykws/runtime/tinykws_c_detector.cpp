// The C API's streaming detector (tinykws.h, "Streaming detection") over StreamDetector.
// Detections go into a fixed ring of kQueue events, so push() allocates nothing.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "tinykws/runtime/detector.h"
#include "tinykws/runtime/tinykws_c_internal.h"

using tkws::capi::fail;

namespace {

constexpr int kQueue = 256;
TINYKWS_THREAD_LOCAL char g_create_error[512];

// Applies "name=value,name=value" to s (reuse_activations to *reuse, shift_kept_rows to
// opt->shift_kept_rows). False with a message naming the bad item.
bool apply_options(const char* options, tkws::DetectorSettings* s, bool* reuse,
                   tkws::InterpreterOptions* opt, std::string* err) {
  std::string text = options ? options : "";
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    const size_t eq = item.find('=');
    auto trim = [](std::string t) {
      const size_t a = t.find_first_not_of(" \t"), b = t.find_last_not_of(" \t");
      return a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
    };
    const std::string name = trim(item.substr(0, eq));
    const std::string value = eq == std::string::npos ? "" : trim(item.substr(eq + 1));
    char* stop = nullptr;
    const double v = std::strtod(value.c_str(), &stop);
    if (eq == std::string::npos || value.empty() || *stop != '\0') {
      *err = "option '" + item + "': expected name=number";
      return false;
    }
    const int32_t iv = static_cast<int32_t>(v);
    if (name == "hop_ms")
      s->hop_ms = iv;
    else if (name == "smoothing_ms")
      s->smoothing_ms = iv;
    else if (name == "threshold")
      s->threshold = static_cast<float>(v), s->thresholds.clear();
    else if (name == "min_hops")
      s->min_hops = iv;
    else if (name == "refractory_ms")
      s->refractory_ms = iv;
    else if (name == "gate")
      s->gate = v != 0;
    else if (name == "gate_dbfs")
      s->gate_dbfs = static_cast<float>(v);
    else if (name == "gate_min_speech_ms")
      s->gate_min_speech_ms = iv;
    else if (name == "gate_hangover_ms")
      s->gate_hangover_ms = iv;
    else if (name == "reuse_activations")
      *reuse = v != 0;
    else if (name == "shift_kept_rows")
      opt->shift_kept_rows = v != 0;
    else {
      *err = "unknown option '" + name +
             "' (hop_ms, smoothing_ms, threshold, min_hops, refractory_ms, gate, gate_dbfs, "
             "gate_min_speech_ms, gate_hangover_ms, reuse_activations, shift_kept_rows)";
      return false;
    }
  }
  return true;
}

}  // namespace

struct tinykws_detector {
  tkws::StreamDetector det;
  tinykws_event queue[kQueue];
  int head = 0, count = 0;  // oldest unread at queue[head]
  char error[256] = {};

  static void on_event(void* user, const tkws::DetectionEvent& e) {
    auto* d = static_cast<tinykws_detector*>(user);
    if (d->count == kQueue) d->head = (d->head + 1) % kQueue, --d->count;  // drop the oldest
    d->queue[(d->head + d->count++) % kQueue] = {e.label, e.score, e.time_s, e.end_sample};
  }
};

extern "C" {

tinykws_status tinykws_detector_create(const tinykws_model* m, const char* options,
                                       tinykws_detector** out) {
  g_create_error[0] = '\0';
  if (!out || !m)
    return fail(g_create_error, sizeof g_create_error, TINYKWS_ERROR_INVALID_ARGUMENT,
                "tinykws_detector_create: null model or output handle");
  *out = nullptr;
  try {
    tkws::DetectorSettings s = m->model.detector;
    std::string err;
    bool reuse = true;
    tkws::InterpreterOptions opt;
    if (!apply_options(options, &s, &reuse, &opt, &err))
      return fail(g_create_error, sizeof g_create_error, TINYKWS_ERROR_INVALID_ARGUMENT,
                  "tinykws_detector_create: %s", err.c_str());
    auto d = std::make_unique<tinykws_detector>();
    if (tkws::Status st = d->det.create(m->model, s, opt, reuse); !st.ok())
      return fail(g_create_error, sizeof g_create_error,
                  st.code == tkws::StatusCode::kInvalidArgument ? TINYKWS_ERROR_INVALID_ARGUMENT
                                                                : TINYKWS_ERROR_INVALID_MODEL,
                  "tinykws_detector_create: %s", st.message);
    *out = d.release();
    return TINYKWS_OK;
  } catch (const std::bad_alloc&) {
    return fail(g_create_error, sizeof g_create_error, TINYKWS_ERROR_OUT_OF_MEMORY,
                "tinykws_detector_create: out of memory");
  } catch (...) {
    return fail(g_create_error, sizeof g_create_error, TINYKWS_ERROR_INTERNAL,
                "tinykws_detector_create: unexpected error");
  }
}

void tinykws_detector_close(tinykws_detector* d) {
  delete d;
}

tinykws_status tinykws_detector_push(tinykws_detector* d, const float* samples, size_t n) {
  if (!d) return TINYKWS_ERROR_INVALID_ARGUMENT;
  d->error[0] = '\0';
  if (!samples && n > 0)
    return fail(d->error, sizeof d->error, TINYKWS_ERROR_INVALID_ARGUMENT,
                "tinykws_detector_push: null samples");
  const tkws::Status s = d->det.push(samples, n, &tinykws_detector::on_event, d);
  if (!s.ok())
    return fail(d->error, sizeof d->error, TINYKWS_ERROR_INTERNAL, "tinykws_detector_push: %s",
                s.message);
  return TINYKWS_OK;
}

int tinykws_detector_read(tinykws_detector* d, tinykws_event* events, int max) {
  if (!d || !events || max <= 0) return 0;
  int k = 0;
  for (; k < max && d->count > 0; ++k, --d->count, d->head = (d->head + 1) % kQueue)
    events[k] = d->queue[d->head];
  return k;
}

void tinykws_detector_reset(tinykws_detector* d) {
  if (!d) return;
  d->det.reset();
  d->head = d->count = 0;
}

const char* tinykws_detector_last_error(const tinykws_detector* d) {
  return d ? d->error : g_create_error;
}

}  // extern "C"
