// The training configuration: one named struct per TOML section, with documented defaults and
// validate(). `tinykws train --config FILE.toml` reads these; presets live in configs/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/frontend/frontend_config.h"

namespace tkws {

// One layer of [model].layers. Which fields apply depends on `type`:
//   conv      filters, kernel, stride, padding, bias   (standard 2-D convolution)
//   dwconv    kernel, stride, padding, bias            (depthwise, multiplier 1)
//   pwconv    filters, bias                            (1x1 convolution)
//   batchnorm (alias bn), relu, gap (global average pool), softmax: no fields
//   maxpool / avgpool  kernel, stride (default = kernel), padding
//   dropout   rate
//   dense     units (0 = number of labels), bias
enum class LayerKind {
  kConv,
  kDwConv,
  kPwConv,
  kBatchNorm,
  kRelu,
  kMaxPool,
  kAvgPool,
  kDropout,
  kGap,
  kDense,
  kSoftmax
};
const char* layer_kind_name(LayerKind k);

struct LayerSpec {
  LayerKind kind = LayerKind::kRelu;
  int filters = 0;                 // conv / pwconv output channels, before width_multiplier
  int kernel_h = 3, kernel_w = 3;  // conv, dwconv, pools
  int stride_h = 1, stride_w = 1;
  Padding padding = Padding::kSame;  // conv/dwconv default "same"; pools default "valid"
  bool bias = true;                  // conv/dwconv/pwconv/dense
  float rate = 0.0f;                 // dropout probability in [0, 1)
  int units = 0;                     // dense; 0 = number of labels
};

struct ModelConfig {
  std::vector<LayerSpec> layers;
  // Multiplies conv/pwconv filters (rounded, at least 1); dense units are never scaled.
  float width_multiplier = 1.0f;
  int scaled_filters(int filters) const;
};

// Waveform augmentation (on the fly, per epoch) and feature masking. All off by default.
struct AugmentConfig {
  float time_shift_ms = 0.0f;  // random shift in [-x, +x] ms, zero-filled
  float noise_prob = 0.0f;     // probability of adding white noise to a clip
  float noise_snr_db_min = 10.0f, noise_snr_db_max = 40.0f;  // SNR drawn uniformly (dB)
  float gain_db_min = 0.0f, gain_db_max = 0.0f;              // random gain drawn uniformly (dB)
  int time_masks = 0;     // SpecAugment: number of time masks per clip
  int time_mask_max = 0;  //   each up to this many frames
  int freq_masks = 0;     // number of coefficient masks per clip
  int freq_mask_max = 0;  //   each up to this many coefficients
  // Real background noise (the dataset's `_background_noise_` recordings): this share of the
  // training clips gets a random 1-s window of a random recording added, scaled by
  // background_level:
  //  - kVolume: by a volume drawn uniformly in [0, background_volume] (TensorFlow
  //    speech_commands: 0.8 and 0.1), whatever the clip's own level;
  //  - kSnr: to an SNR drawn uniformly in [background_snr_db_min, background_snr_db_max],
  //    the clip's power taken over its audible extent (audio/level.h), as `make-stream` mixes
  //    its streams; a clip with no power (all zero) falls back to the volume draw.
  enum class BackgroundLevel { kVolume, kSnr };
  float background_frequency = 0.0f;
  BackgroundLevel background_level = BackgroundLevel::kVolume;
  float background_volume = 0.1f;
  float background_snr_db_min = 5.0f, background_snr_db_max = 20.0f;
  // Speed perturbation: each clip is resampled about its centre by a factor drawn uniformly in
  // [speed_min, speed_max] (> 1 = faster and higher, as Kaldi's speed perturbation), then cut
  // or zero-padded back to the clip length. 1, 1 = off.
  float speed_min = 1.0f, speed_max = 1.0f;
  bool speed() const { return speed_min != 1.0f || speed_max != 1.0f; }
  // Vocal tract length perturbation (log-Mel features only): each clip's mel bands are warped
  // along frequency by a factor drawn uniformly in [vtlp_min, vtlp_max] (> 1 moves energy to
  // higher bands, as a shorter vocal tract; Jaitly & Hinton 2013), after the front end and
  // before normalisation (warp_mel_bands, train/feature_set.h). 1, 1 = off.
  float vtlp_min = 1.0f, vtlp_max = 1.0f;
  bool vtlp() const { return vtlp_min != 1.0f || vtlp_max != 1.0f; }
  // Room reverberation: this share of the clips is convolved, after speed perturbation and
  // before the time shift, with a synthetic room impulse response (audio/reverb.h) whose RT60
  // is drawn uniformly in [reverb_rt60_min, reverb_rt60_max] seconds and whose
  // direct-to-reverberant ratio in [reverb_drr_db_min, reverb_drr_db_max] dB. 0 = off.
  float reverb_prob = 0.0f;
  float reverb_rt60_min = 0.2f, reverb_rt60_max = 0.8f;
  float reverb_drr_db_min = 0.0f, reverb_drr_db_max = 10.0f;
  bool waveform() const;  // any waveform augmentation on (features recomputed per epoch)
  bool per_clip() const { return waveform() || vtlp(); }  // features change per epoch
  bool masking() const { return time_masks > 0 || freq_masks > 0; }
};

enum class LrSchedule { kConstant, kLinear, kPolynomial, kCosine };

struct TrainConfig {
  int epochs = 30;
  int batch_size = 32;
  float lr_initial = 0.01f;
  float lr_final = 0.001f;                       // reached at the last step
  LrSchedule lr_schedule = LrSchedule::kLinear;  // per step, lr_initial -> lr_final
  float lr_power = 2.0f;         // kPolynomial: lr = final + (init - final) (1 - t)^power
  int warmup_epochs = 0;         // linear warm-up from lr_initial / 10
  float weight_decay = 0.0f;     // Adam L2 (coupled, as tf/keras Adam + regulariser)
  float label_smoothing = 0.0f;  // in [0, 1)
  int patience = 0;              // early stopping: epochs without val-accuracy gain; 0 = off
  float ema_decay = 0.0f;        // exponential moving average of weights; 0 = off
  bool normalize = true;         // per-coefficient feature normalisation (train statistics)
  uint64_t seed = 0;
  int threads = 1;  // torch intra-op threads; results are deterministic per count
  // The keywords: the classes a detector fires on, in this order. Empty = every word folder of
  // the data, sorted (and then there is no `_unknown_` class: nothing is left over).
  std::vector<std::string> labels;
  // `_unknown_` class (any other word): present when unknown_percentage > 0. Each epoch draws
  // unknown_percentage % of the number of keyword training clips from the training clips of
  // `unknown_words` (empty = every word folder that is neither a keyword nor held out).
  std::vector<std::string> unknown_words;
  float unknown_percentage = 0.0f;  // [0, 500]
  // Words kept out of training altogether: their validation clips (as `_unknown_`) measure the
  // false-accept rate on words the model never heard, and count in model selection.
  std::vector<std::string> held_out_words;
  // Variety for `_unknown_`: shares of the unknown draws turned into, in turn, a time-reversed
  // clip, an onset or ending fragment of an unknown clip (the first or last 20-50 % of its
  // energy, the rest silenced; with unknown_keyword_fragments half of them of keyword clips),
  // and babble (two unknown clips overlaid).
  float unknown_reversed = 0.0f;
  float unknown_fragments = 0.0f;
  float unknown_babble = 0.0f;
  bool unknown_keyword_fragments = false;  // half of the fragments come from keyword clips
  // `_silence_` class: present when silence_percentage > 0. Each epoch adds silence_percentage %
  // of the number of keyword training clips: 1-s windows of the background recordings at a
  // volume drawn uniformly in [0, 1] (one in ten all zeros).
  float silence_percentage = 0.0f;  // [0, 500]
  AugmentConfig augment;
  bool has_unknown() const { return unknown_percentage > 0.0f; }
  bool has_silence() const { return silence_percentage > 0.0f; }
};

// [prune]: magnitude pruning during training, tfmot prune_low_magnitude semantics
// (docs/training.md). Begin/end are given in epochs (begin_epoch, end_epoch, may be
// fractional), in steps (begin_step, end_step) or as fractions of all training steps
// (begin_fraction, end_fraction); one form per run.
enum class PruneSchedule { kPolynomial, kConstant };
struct PruneConfig {
  bool enabled = false;  // [prune] present (unless it sets enabled = false)
  PruneSchedule schedule = PruneSchedule::kPolynomial;
  float initial_sparsity = 0.0f;  // polynomial: sparsity at `begin`
  float final_sparsity = 0.5f;    // polynomial: sparsity at `end`; constant: the target
  double begin_epoch = -1, end_epoch = -1;
  int64_t begin_step = -1, end_step = -1;
  double begin_fraction = -1, end_fraction = -1;
  float power = 3.0f;            // polynomial exponent (tfmot default 3; 1 = linear)
  int frequency = 100;           // steps between mask updates
  int block_h = 1, block_w = 1;  // block sparsity (2-D dense kernels only, as tfmot)
  bool depthwise = false;        // also prune depthwise kernels (tfmot never does)
  bool dense = true;             // prune dense kernels
  // Resolved begin/end steps for a run of `total_steps` with `steps_per_epoch`.
  void resolve(int64_t total_steps, int64_t steps_per_epoch, int64_t* begin, int64_t* end) const;
  // Target sparsity at `step` (0 before begin).
  double sparsity_at(int64_t step, int64_t begin, int64_t end) const;
};

// [cluster]: weight clustering fine-tuning after training, tfmot cluster_weights semantics.
enum class ClusterInit { kKmeansPlusPlus, kLinear, kDensity, kRandom };
enum class ClusterGradient { kSum, kMean };
struct ClusterConfig {
  bool enabled = false;  // [cluster] present (unless it sets enabled = false)
  int clusters = 8;      // centroids per tensor (per channel with per_channel)
  ClusterInit init = ClusterInit::kKmeansPlusPlus;
  int epochs = 2;   // fine-tuning epochs with clustered weights
  float lr = 0.0f;  // fine-tuning learning rate; 0 = train.lr_final
  ClusterGradient gradient = ClusterGradient::kSum;  // centroid gradient: members' sum or mean
  bool per_channel = false;                          // one codebook per output channel
  bool preserve_sparsity = true;  // a fixed zero centroid; zeros stay zero (with [prune])
  bool depthwise = false;         // also cluster depthwise kernels
  bool dense = true;              // cluster dense kernels
};

// [quantize]: how weights are stored and run.
enum class QuantMode { kNone, kFloat16, kInt8 };
struct QuantizeConfig {
  QuantMode mode = QuantMode::kNone;
  int calibration_clips = 200;  // int8: representative training clips for activation ranges
};

// [distill]: knowledge distillation from a teacher. loss = (1 - alpha) CE(student, label)
// + alpha T^2 KL(softmax(teacher / T) || softmax(student / T)) (Hinton et al., 2015).
struct DistillConfig {
  bool enabled = false;  // [distill] present (unless it sets enabled = false)
  // "self": first train a teacher in the same run (this config without [prune], [cluster],
  // [quantize] and [distill], width_multiplier x teacher_width), in OUT/teacher; or the path
  // of a .tkws model with the same front end and labels (relative to the config file).
  std::string teacher = "self";
  float teacher_width = 1.0f;  // "self": the teacher's width relative to the student's
  float alpha = 0.5f;          // weight of the distillation term, [0, 1]
  float temperature = 2.0f;    // softmax temperature T, > 0
  // The student starts from the teacher's selected weights instead of a random init, so
  // pruning and clustering fine-tune a trained network (tfmot's recommended "prune a trained
  // model") while the distillation term keeps it close to the teacher. Needs teacher = "self"
  // and teacher_width = 1 (same architecture).
  bool init_from_teacher = false;
};

struct Config {
  FrontendConfig frontend;
  ModelConfig model;
  TrainConfig train;
  DistillConfig distill;
  PruneConfig prune;
  ClusterConfig cluster;
  QuantizeConfig quantize;
  // [detector]: the streaming detector's defaults the trained model stores (format/model.h,
  // DetectorSettings; `listen` and `stream-eval` flags override them, `stream-eval
  // --write-model` rewrites them). Per-keyword thresholds are not set here.
  DetectorSettings detector;
  std::string source;  // file the config came from ("<string>" when parsed from text)
  std::string text;    // the TOML text, bases merged (stored in run folders for provenance)

  // Throws InputError("<source>: <section.field> = <value> must be ...") on the first bad value.
  void validate() const;
};

// Parses TOML text. Unknown sections or keys are errors (they are almost always typos).
// Throws InputError naming the source, the key and the problem.
// A `base = "FILE.toml"` key in the text is an error: bases are resolved from files only.
Config parse_config(const std::string& text, const std::string& source_name = "<string>");

// The config file's text with its bases merged. A config may start with `base = "OTHER.toml"`
// (relative to its own folder; bases may have bases): its settings are laid over the base's,
// tables key by key, any other value (arrays such as model.layers included) whole. A section
// that switches a phase on ([distill], [prune], [cluster]) is switched off again by
// `enabled = false`. A file without `base` comes back byte for byte; with one, the merged
// TOML (comments dropped) under a one-line header, which is what runs record. InputError names
// the file: unreadable, a cycle of bases, a base that is not a string.
std::string resolve_config_text(const std::string& path);
// parse_config(resolve_config_text(path), path).
Config load_config(const std::string& path);

// Human-readable default values of every section (for `tinykws train --help-config`).
std::string config_defaults_toml();

}  // namespace tkws
