/* Classifies 16-bit PCM WAV clips with a .tkws model through the tinykws C API (tinykws.h).
 * Built against the installed package (examples/CMakeLists.txt, or pkg-config tinykws).
 *
 *   classify MODEL.tkws FILE.wav...   prints "FILE<TAB>label<TAB>probability" per clip
 *
 * With -DTINYKWS_EMBEDDED_MODEL=g_<name>_model_data and the source `tinykws export --format c`
 * wrote, the model comes from that array instead (tinykws_open_buffer) and the first argument is
 * a WAV file already. Exit codes: 0 ok, 1 runtime failure, 2 bad input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinykws.h"

#ifdef TINYKWS_EMBEDDED_MODEL
#include TINYKWS_EMBEDDED_HEADER
#define TKWS_CAT2(a, b) a##b
#define TKWS_CAT(a, b) TKWS_CAT2(a, b)
#define TKWS_EMBEDDED_SIZE TKWS_CAT(TINYKWS_EMBEDDED_MODEL, _size)
#endif

static uint32_t le32(const unsigned char* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads a mono 16-bit PCM WAV into *out (s / 32768). Returns the sample count, -1 on error. */
static long read_wav(const char* path, int want_rate, float** out) {
  FILE* f = fopen(path, "rb");
  unsigned char h[12], ck[8], fmt[16];
  long n = -1;
  int fmt_ok = 0;
  if (!f) return -1;
  if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0) {
    fclose(f);
    return -1;
  }
  while (fread(ck, 1, 8, f) == 8) {
    uint32_t size = le32(ck + 4);
    if (memcmp(ck, "fmt ", 4) == 0 && size >= 16) {
      if (fread(fmt, 1, 16, f) != 16) break;
      fmt_ok = fmt[0] == 1 && fmt[2] == 1 && (int)le32(fmt + 4) == want_rate && fmt[14] == 16;
      fseek(f, (long)(size - 16 + (size & 1)), SEEK_CUR);
    } else if (memcmp(ck, "data", 4) == 0 && fmt_ok) {
      long i, count = (long)(size / 2);
      unsigned char* raw = (unsigned char*)malloc(size);
      *out = (float*)malloc((size_t)count * sizeof(float));
      if (raw && *out && fread(raw, 1, size, f) == size) {
        for (i = 0; i < count; ++i)
          (*out)[i] = (float)(int16_t)(raw[2 * i] | raw[2 * i + 1] << 8) / 32768.0f;
        n = count;
      }
      free(raw);
      break;
    } else {
      fseek(f, (long)(size + (size & 1)), SEEK_CUR);
    }
  }
  fclose(f);
  return n;
}

int main(int argc, char** argv) {
  tinykws_model* m = NULL;
  float* probs;
  int i, first, rc = 0;
#ifdef TINYKWS_EMBEDDED_MODEL
  tinykws_status s = tinykws_open_buffer(TINYKWS_EMBEDDED_MODEL, TKWS_EMBEDDED_SIZE, &m);
  first = 1;
#else
  tinykws_status s;
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.tkws FILE.wav...\n", argv[0]);
    return 2;
  }
  s = tinykws_open_file(argv[1], &m);
  first = 2;
#endif
  if (s != TINYKWS_OK) {
    fprintf(stderr, "error: %s\n", tinykws_last_error(NULL));
    return 2;
  }
  probs = (float*)malloc(sizeof(float) * (size_t)tinykws_num_labels(m));
  for (i = first; i < argc; ++i) {
    float* clip = NULL;
    long n = read_wav(argv[i], tinykws_sample_rate(m), &clip);
    if (n <= 0) {
      fprintf(stderr, "error: %s: not a mono 16-bit PCM WAV at %d Hz\n", argv[i],
              tinykws_sample_rate(m));
      rc = 2;
    } else if (tinykws_classify(m, clip, (size_t)n, probs) != TINYKWS_OK) {
      fprintf(stderr, "error: %s: %s\n", argv[i], tinykws_last_error(m));
      rc = 1;
    } else {
      int best = tinykws_argmax(probs, tinykws_num_labels(m));
      printf("%s\t%s\t%.4f\n", argv[i], tinykws_label(m, best), probs[best]);
    }
    free(clip);
  }
  free(probs);
  tinykws_close(m);
  return rc;
}
