// The C API (tinykws.h) over KwsPipeline (models; detectors: tinykws_c_detector.cpp). Every entry
// point catches everything: nothing is thrown across the API (std::bad_alloc becomes
// TINYKWS_ERROR_OUT_OF_MEMORY).
#include "tinykws/runtime/tinykws.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "tinykws/format/tkws.h"
#include "tinykws/runtime/tinykws_c_internal.h"

using tkws::capi::fail;

namespace {

TINYKWS_THREAD_LOCAL char g_open_error[512];

tinykws_status open_image(const uint8_t* data, size_t size, const std::string& source,
                          tinykws_model** out) {
  g_open_error[0] = '\0';
  if (!out)
    return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_INVALID_ARGUMENT,
                "tinykws_open: null output handle");
  *out = nullptr;
  try {
    tkws::Model model;
    std::string err;
    if (!tkws::try_parse_model(data, size, source, &model, &err))
      return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_INVALID_MODEL, "%s",
                  err.c_str());
    auto m = std::make_unique<tinykws_model>();
    if (tkws::Status s = m->pipe.create(model); !s.ok())
      return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_INVALID_MODEL,
                  "%s: the runtime cannot run this model: %s", source.c_str(), s.message);
    m->sample_rate = model.frontend.sample_rate;
    m->model = std::move(model);  // moved, not copied: one set of decoded weights at a time
    *out = m.release();
    return TINYKWS_OK;
  } catch (const std::bad_alloc&) {
    return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_OUT_OF_MEMORY, "%s: out of memory",
                source.c_str());
  } catch (const std::exception& e) {
    return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_INTERNAL, "%s: %s", source.c_str(),
                e.what());
  } catch (...) {
    return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_INTERNAL, "%s: unknown error",
                source.c_str());
  }
}

// Checks the arguments of classify / features and returns the clip to run in *clip: the
// caller's samples when there are at least clip_samples of them (the rest is not read), else
// m->clip holding them zero-padded. m->clip is allocated at the first short input, so a handle
// that is only given whole clips never holds a clip's worth of floats (64 kB at 16 kHz).
tinykws_status take_clip(tinykws_model* m, const float* samples, size_t n, const void* dst,
                         const char* fn, const float** clip) {
  if (!m) return TINYKWS_ERROR_INVALID_ARGUMENT;
  m->error[0] = '\0';
  if (!samples || !dst || n == 0)
    return fail(m->error, sizeof m->error, TINYKWS_ERROR_INVALID_ARGUMENT,
                "%s: null samples or output, or no samples", fn);
  const auto len = static_cast<size_t>(m->pipe.clip_samples());
  if (n >= len) {
    *clip = samples;
    return TINYKWS_OK;
  }
  try {
    m->clip.resize(len);
  } catch (const std::bad_alloc&) {
    return fail(m->error, sizeof m->error, TINYKWS_ERROR_OUT_OF_MEMORY,
                "%s: out of memory for a %zu-sample clip buffer (pass whole clips to need none)",
                fn, len);
  }
  std::memcpy(m->clip.data(), samples, n * sizeof(float));
  std::memset(m->clip.data() + n, 0, (len - n) * sizeof(float));
  *clip = m->clip.data();
  return TINYKWS_OK;
}

}  // namespace

extern "C" {

const char* tinykws_version(void) {
  return "0.1.0";
}

tinykws_status tinykws_open_buffer(const void* data, size_t size, tinykws_model** out) {
  if (!data || size == 0) {
    if (out) *out = nullptr;
    return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_INVALID_ARGUMENT,
                "tinykws_open_buffer: no data");
  }
  return open_image(static_cast<const uint8_t*>(data), size, "<buffer>", out);
}

tinykws_status tinykws_open_file(const char* path, tinykws_model** out) {
  if (out) *out = nullptr;
  if (!path)
    return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_INVALID_ARGUMENT,
                "tinykws_open_file: null path");
  std::vector<uint8_t> bytes;
  try {
    FILE* f = std::fopen(path, "rb");
    if (!f)
      return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_IO, "%s: cannot open: %s", path,
                  std::strerror(errno));
    uint8_t buf[65536];
    size_t k;
    while ((k = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + k);
    const bool err = std::ferror(f) != 0;
    std::fclose(f);
    if (err)
      return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_IO, "%s: read error", path);
  } catch (const std::bad_alloc&) {
    return fail(g_open_error, sizeof g_open_error, TINYKWS_ERROR_OUT_OF_MEMORY, "%s: out of memory",
                path);
  }
  return open_image(bytes.data(), bytes.size(), path, out);
}

void tinykws_close(tinykws_model* m) {
  delete m;
}

const char* tinykws_last_error(const tinykws_model* m) {
  return m ? m->error : g_open_error;
}

int tinykws_num_labels(const tinykws_model* m) {
  return m ? m->pipe.num_labels() : 0;
}
const char* tinykws_label(const tinykws_model* m, int i) {
  if (!m || i < 0 || i >= m->pipe.num_labels()) return nullptr;
  return m->pipe.labels()[static_cast<size_t>(i)].c_str();
}
int tinykws_sample_rate(const tinykws_model* m) {
  return m ? m->sample_rate : 0;
}
int tinykws_clip_samples(const tinykws_model* m) {
  return m ? m->pipe.clip_samples() : 0;
}
int tinykws_num_frames(const tinykws_model* m) {
  return m ? m->pipe.num_frames() : 0;
}
int tinykws_num_features(const tinykws_model* m) {
  return m ? m->pipe.num_features() : 0;
}
int tinykws_is_int8(const tinykws_model* m) {
  return m && m->pipe.is_int8() ? 1 : 0;
}

tinykws_status tinykws_classify(tinykws_model* m, const float* samples, size_t n, float* probs) {
  const float* clip = nullptr;
  if (tinykws_status s = take_clip(m, samples, n, probs, "tinykws_classify", &clip);
      s != TINYKWS_OK)
    return s;
  const tkws::Status s = m->pipe.run(clip, probs);
  if (!s.ok())
    return fail(m->error, sizeof m->error, TINYKWS_ERROR_INTERNAL, "tinykws_classify: %s",
                s.message);
  return TINYKWS_OK;
}

tinykws_status tinykws_features(tinykws_model* m, const float* samples, size_t n, float* feats) {
  const float* clip = nullptr;
  if (tinykws_status s = take_clip(m, samples, n, feats, "tinykws_features", &clip);
      s != TINYKWS_OK)
    return s;
  m->pipe.frontend().compute(clip, feats);  // before the pipeline's normalisation
  return TINYKWS_OK;
}

int tinykws_argmax(const float* p, int n) {
  if (!p || n <= 0) return -1;
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (p[i] > p[best]) best = i;
  return best;
}

}  // extern "C"
