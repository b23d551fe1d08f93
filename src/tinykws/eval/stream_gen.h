// Test streams for `tinykws stream-eval`, built as TensorFlow's streaming-test generator does
// (`tinykws make-stream`): the stream is a row of slots of (clip + gap) seconds; each slot holds
// one word clip at a random offset, a keyword or, with probability others_share, another word;
// background noise runs underneath at a random SNR per slot. Deterministic from the seed.
//
// Label rows give where the word is audible, not where its clip is: the first and last 10 ms
// frame of the clip whose energy is within 30 dB of the clip's loudest frame (and above
// -70 dBFS); a clip with no such frame is labelled over its whole length.
// SNR = 10 log10(speech power / noise power): speech power over the word's audible frames,
// noise power over the slot's noise segment before scaling.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/audio/level.h"  // audible_extent (the labels' rule above)
#include "tinykws/eval/stream_metrics.h"

namespace tkws {

struct StreamWordClip {
  std::string path;   // read with read_audio at StreamGenOptions::sample_rate
  std::string label;  // written to the CSV
};

struct StreamGenOptions {
  int sample_rate = 16000;
  int clip_samples = 16000;   // every clip is fitted to this length (zero-padded / cut)
  double duration_s = 600.0;  // the stream holds floor(duration / slot) whole slots
  double gap_s = 1.0;         // slot = clip + gap: a word every 2 s by default
  double others_share = 0.3;  // fraction of slots holding a non-keyword word, [0, 1]
  double snr_min_db = 10.0, snr_max_db = 20.0;
  bool noise = true;  // false: no background
  // Room reverberation of every word (audio/reverb.h) when rt60_max_s > 0: RT60 drawn in
  // [rt60_min_s, rt60_max_s] s and direct-to-reverberant ratio in [drr_min_db, drr_max_db] dB
  // per word, from a random stream of its own (a stream without it is as before). The labels
  // and the SNR are those of the dry word.
  double rt60_min_s = 0.2, rt60_max_s = 0.0;
  double drr_min_db = 0.0, drr_max_db = 10.0;
  uint64_t seed = 0;
};

struct GeneratedStream {
  std::vector<float> audio;         // mono, sample_rate, int16 / 32768 scale, clipped to +-1
  std::vector<StreamLabel> labels;  // one per slot, in time order
  int keywords = 0, others = 0;
};

// Throws InputError when a pool needed by the shares is empty, no noise recording is given
// while noise is on, an option is out of range, or a file cannot be read.
GeneratedStream generate_stream(const std::vector<StreamWordClip>& keywords,
                                const std::vector<StreamWordClip>& others,
                                const std::vector<std::string>& noise_paths,
                                const StreamGenOptions& opt);

// "start_s,end_s,label" CSV text of `labels` (millisecond precision), parse_stream_labels' input.
std::string stream_labels_csv(const std::vector<StreamLabel>& labels);

}  // namespace tkws
