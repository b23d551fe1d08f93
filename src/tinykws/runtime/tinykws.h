/* tinykws C API: run a .tkws keyword-spotting model from C (or any language with a C FFI).
 *
 * A model handle owns everything it needs (the parsed model, the front end, the network and its
 * arena); after tinykws_open_*() nothing allocates. Nothing is thrown across this API: every
 * function returns a status (or a plain value) and never aborts on bad input. One handle must not
 * be used by two threads at once; separate handles are independent.
 *
 * Samples are float in the int16 / 32768 scale (a WAV's int16 s as s / 32768.0f), mono, at the
 * model's sample rate (tinykws_sample_rate()); a clip is tinykws_clip_samples() long (shorter
 * input is zero-padded at the end, longer input is cut, as `tinykws predict` does).
 *
 *   tinykws_model* m = NULL;
 *   if (tinykws_open_file("model.tkws", &m) != TINYKWS_OK) {
 *     fprintf(stderr, "%s\n", tinykws_last_error(NULL));  // why the open failed
 *     return 1;
 *   }
 *   float probs[16];  // tinykws_num_labels(m) values
 *   if (tinykws_classify(m, samples, n, probs) != TINYKWS_OK) puts(tinykws_last_error(m));
 *   tinykws_close(m);
 */
#ifndef TINYKWS_TINYKWS_H_
#define TINYKWS_TINYKWS_H_

#include <stddef.h>

#if defined(_WIN32)
#define TINYKWS_API
#else
#define TINYKWS_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tinykws_status {
  TINYKWS_OK = 0,
  TINYKWS_ERROR_INVALID_MODEL = 1,    /* not a readable .tkws model, or the runtime cannot run it */
  TINYKWS_ERROR_INVALID_ARGUMENT = 2, /* NULL pointer, zero size, ... */
  TINYKWS_ERROR_IO = 3,               /* the model file cannot be opened or read */
  TINYKWS_ERROR_OUT_OF_MEMORY = 4,
  TINYKWS_ERROR_INTERNAL = 5 /* a failure inside the runtime (a bug) */
} tinykws_status;

typedef struct tinykws_model tinykws_model;

/* Version of the library, e.g. "0.1.0". */
TINYKWS_API const char* tinykws_version(void);

/* Opens a .tkws file / a .tkws image in memory (copied: `data` may be freed afterwards; e.g. the
 * array `tinykws export --format c` writes). On success *out is a new handle; on failure *out is
 * NULL and tinykws_last_error(NULL) says why, naming the file and the problem. */
TINYKWS_API tinykws_status tinykws_open_file(const char* path, tinykws_model** out);
TINYKWS_API tinykws_status tinykws_open_buffer(const void* data, size_t size, tinykws_model** out);
TINYKWS_API void tinykws_close(tinykws_model* m); /* NULL is fine */

/* Message of the last failed call on `m` ("" if none), or with m == NULL of the last failed
 * tinykws_open_*() on this thread. Valid until the next call on the same handle / thread. */
TINYKWS_API const char* tinykws_last_error(const tinykws_model* m);

/* What the model expects and returns. */
TINYKWS_API int tinykws_num_labels(const tinykws_model* m);
TINYKWS_API const char* tinykws_label(const tinykws_model* m, int i); /* NULL if out of range */
TINYKWS_API int tinykws_sample_rate(const tinykws_model* m);          /* Hz */
TINYKWS_API int tinykws_clip_samples(const tinykws_model* m);
TINYKWS_API int tinykws_num_frames(const tinykws_model* m);
TINYKWS_API int tinykws_num_features(const tinykws_model* m);
TINYKWS_API int tinykws_is_int8(const tinykws_model* m); /* 1: integer network, 0: float */

/* Classifies one clip of n samples: probs gets tinykws_num_labels() class probabilities. */
TINYKWS_API tinykws_status tinykws_classify(tinykws_model* m, const float* samples, size_t n,
                                            float* probs);

/* The clip's features as `tinykws features --model M` writes them (before the model's
 * normalisation; the input of exported TFLite / ONNX graphs): feats gets
 * tinykws_num_frames() x tinykws_num_features() floats, row-major. */
TINYKWS_API tinykws_status tinykws_features(tinykws_model* m, const float* samples, size_t n,
                                            float* feats);

/* ---- Streaming detection (runtime/detector.h) --------------------------------------------------
 * A detector runs the model over an unbounded stream: push samples of any length as they arrive
 * (same scale and rate as tinykws_classify), then read the detections. Settings start from the
 * model file's detector defaults; `options` overrides some of them, "" or NULL for none:
 *   "threshold=0.7,hop_ms=50,min_hops=2,smoothing_ms=300,refractory_ms=1000,gate=1,
 *    gate_dbfs=-50,gate_min_speech_ms=40,gate_hangover_ms=1000"
 * and reuse_activations=0|1 (default 1: when the hop allows it, consecutive hops recompute only
 * the activation rows that changed; the same detections at a third to a half less work per
 * hop, with more state: 74 kB instead of 51 kB for the default model, more for 2-D networks;
 * 0 saves that memory), and shift_kept_rows=0|1 (1: the rows kept between hops are stored
 * once and moved each hop instead of in rings stored twice: the same detections, 54 kB of
 * state for the default model, 2 % more time per hop; the default is 1 in a build with
 * TINYKWS_SMALL_RAM, else 0). An unknown name or a value out of range fails with a message naming
 * it. The detector keeps its own copy of what it needs: the model handle may be closed afterwards.
 */
typedef struct tinykws_detector tinykws_detector;

typedef struct tinykws_event {
  int label;     /* index of a keyword label (tinykws_label) */
  float score;   /* its smoothed score when it fired */
  double time_s; /* end of the window that fired, seconds of audio from the stream start */
  long long end_sample;
} tinykws_event;

TINYKWS_API tinykws_status tinykws_detector_create(const tinykws_model* m, const char* options,
                                                   tinykws_detector** out);
TINYKWS_API void tinykws_detector_close(tinykws_detector* d); /* NULL is fine */
/* Appends n samples (n may be 0). Detections are queued (up to 256 unread; older ones are
 * dropped first) until read. */
TINYKWS_API tinykws_status tinykws_detector_push(tinykws_detector* d, const float* samples,
                                                 size_t n);
/* Moves up to `max` queued detections, oldest first, into events; returns how many. */
TINYKWS_API int tinykws_detector_read(tinykws_detector* d, tinykws_event* events, int max);
/* Back to the start of a new stream (time 0, nothing queued). */
TINYKWS_API void tinykws_detector_reset(tinykws_detector* d);
/* Message of the last failed call on d, or with d == NULL of the last failed
 * tinykws_detector_create() on this thread. */
TINYKWS_API const char* tinykws_detector_last_error(const tinykws_detector* d);

/* Index of the largest of the n values (the predicted label), -1 if n == 0 or p is NULL. */
TINYKWS_API int tinykws_argmax(const float* p, int n);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TINYKWS_TINYKWS_H_ */
