#include "tinykws/config/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tinykws/audio/reverb.h"
#include "tinykws/common/error.h"
#include "tinykws/config/toml_reader.h"

namespace tkws {

const char* layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::kConv:
      return "conv";
    case LayerKind::kDwConv:
      return "dwconv";
    case LayerKind::kPwConv:
      return "pwconv";
    case LayerKind::kBatchNorm:
      return "batchnorm";
    case LayerKind::kRelu:
      return "relu";
    case LayerKind::kMaxPool:
      return "maxpool";
    case LayerKind::kAvgPool:
      return "avgpool";
    case LayerKind::kDropout:
      return "dropout";
    case LayerKind::kGap:
      return "gap";
    case LayerKind::kDense:
      return "dense";
    case LayerKind::kSoftmax:
      return "softmax";
  }
  return "?";
}

int ModelConfig::scaled_filters(int filters) const {
  return std::max(1, static_cast<int>(std::lround(filters * width_multiplier)));
}

bool AugmentConfig::waveform() const {
  return time_shift_ms > 0.0f || noise_prob > 0.0f || gain_db_min != 0.0f || gain_db_max != 0.0f ||
         background_frequency > 0.0f || speed() || reverb_prob > 0.0f;
}

namespace {

std::string fmt_num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

void read_frontend(TableReader& r, FrontendConfig& f) {
  r.read("sample_rate", f.sample_rate);
  double clip_s = -1, frame_s = -1, step_s = -1;
  r.read("clip_s", clip_s);
  r.read("frame_length_s", frame_s);
  r.read("frame_step_s", step_s);
  auto both = [&](const char* samples_key, const char* seconds_key, double secs, int& field) {
    if (r.has(samples_key) && secs >= 0)
      r.fail(samples_key, std::string("and ") + seconds_key + " both given: set one");
    r.read(samples_key, field);
    if (secs >= 0) {
      if (!(secs > 0)) r.fail(seconds_key, "= " + fmt_num(secs) + " must be > 0 s");
      field = FrontendConfig::seconds_to_samples(secs, f.sample_rate);
    }
  };
  both("clip_samples", "clip_s", clip_s, f.clip_samples);
  both("frame_length", "frame_length_s", frame_s, f.frame_length);
  both("frame_step", "frame_step_s", step_s, f.frame_step);
  r.read("fft_length", f.fft_length);
  r.read("num_mel_bins", f.num_mel_bins);
  r.read("lower_hz", f.lower_hz);
  r.read("upper_hz", f.upper_hz);
  r.read_enum("features", f.kind,
              std::map<std::string, FeatureKind>{{"mfcc", FeatureKind::kMfcc},
                                                 {"logmel", FeatureKind::kLogMel}});
  r.read("num_mfcc", f.num_mfcc);
  r.read_enum("spectrum", f.spectrum,
              std::map<std::string, SpectrumKind>{{"magnitude", SpectrumKind::kMagnitude},
                                                  {"power", SpectrumKind::kPower}});
  r.read("log_offset", f.log_offset);
  r.read("pcm_divisor", f.pcm_divisor);
  r.finish();
}

const std::map<std::string, LayerKind>& layer_names() {
  static const std::map<std::string, LayerKind> m{
      {"conv", LayerKind::kConv},       {"dwconv", LayerKind::kDwConv},
      {"pwconv", LayerKind::kPwConv},   {"batchnorm", LayerKind::kBatchNorm},
      {"bn", LayerKind::kBatchNorm},    {"relu", LayerKind::kRelu},
      {"maxpool", LayerKind::kMaxPool}, {"avgpool", LayerKind::kAvgPool},
      {"dropout", LayerKind::kDropout}, {"gap", LayerKind::kGap},
      {"dense", LayerKind::kDense},     {"softmax", LayerKind::kSoftmax}};
  return m;
}

LayerSpec read_layer(TableReader& r) {
  LayerSpec l;
  if (!r.has("type")) r.fail("type", "is missing (conv, dwconv, pwconv, bn, relu, ...)");
  r.read_enum("type", l.kind, layer_names());
  switch (l.kind) {
    case LayerKind::kConv:
    case LayerKind::kDwConv:
      if (l.kind == LayerKind::kConv) r.read("filters", l.filters);
      r.read_pair("kernel", l.kernel_h, l.kernel_w);
      r.read_pair("stride", l.stride_h, l.stride_w);
      r.read_enum(
          "padding", l.padding,
          std::map<std::string, Padding>{{"same", Padding::kSame}, {"valid", Padding::kValid}});
      r.read("bias", l.bias);
      break;
    case LayerKind::kPwConv:
      l.kernel_h = l.kernel_w = 1;
      r.read("filters", l.filters);
      r.read("bias", l.bias);
      break;
    case LayerKind::kMaxPool:
    case LayerKind::kAvgPool:
      l.kernel_h = l.kernel_w = 2;
      l.padding = Padding::kValid;
      r.read_pair("kernel", l.kernel_h, l.kernel_w);
      l.stride_h = l.kernel_h;
      l.stride_w = l.kernel_w;
      r.read_pair("stride", l.stride_h, l.stride_w);
      r.read_enum(
          "padding", l.padding,
          std::map<std::string, Padding>{{"same", Padding::kSame}, {"valid", Padding::kValid}});
      break;
    case LayerKind::kDropout:
      r.read("rate", l.rate);
      break;
    case LayerKind::kDense:
      r.read("units", l.units);
      r.read("bias", l.bias);
      break;
    default:
      break;
  }
  r.finish();
  return l;
}

void read_model(TableReader& r, const toml::table& t, ModelConfig& m, const std::string& source) {
  r.read("width_multiplier", m.width_multiplier);
  if (auto* n = r.get("layers")) {
    auto* arr = n->as_array();
    if (!arr) r.fail("layers", "must be an array of tables ({ type = \"conv\", ... })");
    m.layers.clear();
    for (size_t i = 0; i < arr->size(); ++i) {
      auto* lt = (*arr)[i].as_table();
      std::string where = "model.layers[" + std::to_string(i) + "]";
      if (!lt) throw InputError(source + ": " + where + " must be a table");
      TableReader lr(*lt, source, where);
      m.layers.push_back(read_layer(lr));
    }
  }
  r.finish();
}

void read_augment(TableReader& r, AugmentConfig& a) {
  r.read("time_shift_ms", a.time_shift_ms);
  r.read("noise_prob", a.noise_prob);
  r.read("noise_snr_db_min", a.noise_snr_db_min);
  r.read("noise_snr_db_max", a.noise_snr_db_max);
  r.read("gain_db_min", a.gain_db_min);
  r.read("gain_db_max", a.gain_db_max);
  r.read("time_masks", a.time_masks);
  r.read("time_mask_max", a.time_mask_max);
  r.read("freq_masks", a.freq_masks);
  r.read("freq_mask_max", a.freq_mask_max);
  r.read("background_frequency", a.background_frequency);
  r.read_enum("background_level", a.background_level,
              std::map<std::string, AugmentConfig::BackgroundLevel>{
                  {"volume", AugmentConfig::BackgroundLevel::kVolume},
                  {"snr", AugmentConfig::BackgroundLevel::kSnr}});
  r.read("background_volume", a.background_volume);
  r.read("background_snr_db_min", a.background_snr_db_min);
  r.read("background_snr_db_max", a.background_snr_db_max);
  r.read("speed_min", a.speed_min);
  r.read("speed_max", a.speed_max);
  r.read("vtlp_min", a.vtlp_min);
  r.read("vtlp_max", a.vtlp_max);
  r.read("reverb_prob", a.reverb_prob);
  r.read("reverb_rt60_min", a.reverb_rt60_min);
  r.read("reverb_rt60_max", a.reverb_rt60_max);
  r.read("reverb_drr_db_min", a.reverb_drr_db_min);
  r.read("reverb_drr_db_max", a.reverb_drr_db_max);
  r.finish();
}

void read_train(TableReader& r, TrainConfig& t) {
  r.read("epochs", t.epochs);
  r.read("batch_size", t.batch_size);
  r.read("lr_initial", t.lr_initial);
  r.read("lr_final", t.lr_final);
  r.read_enum("lr_schedule", t.lr_schedule,
              std::map<std::string, LrSchedule>{{"constant", LrSchedule::kConstant},
                                                {"linear", LrSchedule::kLinear},
                                                {"polynomial", LrSchedule::kPolynomial},
                                                {"cosine", LrSchedule::kCosine}});
  r.read("lr_power", t.lr_power);
  r.read("warmup_epochs", t.warmup_epochs);
  r.read("weight_decay", t.weight_decay);
  r.read("label_smoothing", t.label_smoothing);
  r.read("patience", t.patience);
  r.read("ema_decay", t.ema_decay);
  r.read("normalize", t.normalize);
  r.read("seed", t.seed);
  r.read("threads", t.threads);
  r.read("labels", t.labels);
  r.read("unknown_words", t.unknown_words);
  r.read("unknown_percentage", t.unknown_percentage);
  r.read("held_out_words", t.held_out_words);
  r.read("unknown_reversed", t.unknown_reversed);
  r.read("unknown_fragments", t.unknown_fragments);
  r.read("unknown_babble", t.unknown_babble);
  r.read("unknown_keyword_fragments", t.unknown_keyword_fragments);
  r.read("silence_percentage", t.silence_percentage);
  r.finish();
}

void read_prune(TableReader& r, PruneConfig& p) {
  p.enabled = true;
  r.read("enabled", p.enabled);
  r.read_enum("schedule", p.schedule,
              std::map<std::string, PruneSchedule>{{"polynomial", PruneSchedule::kPolynomial},
                                                   {"constant", PruneSchedule::kConstant}});
  r.read("initial_sparsity", p.initial_sparsity);
  r.read("final_sparsity", p.final_sparsity);
  r.read("begin_epoch", p.begin_epoch);
  r.read("end_epoch", p.end_epoch);
  int b = -1, e = -1;
  r.read("begin_step", b);
  r.read("end_step", e);
  p.begin_step = b, p.end_step = e;
  r.read("begin_fraction", p.begin_fraction);
  r.read("end_fraction", p.end_fraction);
  r.read("power", p.power);
  r.read("frequency", p.frequency);
  r.read_pair("block", p.block_h, p.block_w);
  r.read("depthwise", p.depthwise);
  r.read("dense", p.dense);
  int forms = (r.has("begin_epoch") || r.has("end_epoch")) +
              (r.has("begin_step") || r.has("end_step")) +
              (r.has("begin_fraction") || r.has("end_fraction"));
  if (forms > 1) r.fail("", "mixes epochs, steps and fractions for begin/end: use one form");
  r.finish();
}

void read_cluster(TableReader& r, ClusterConfig& c) {
  c.enabled = true;
  r.read("enabled", c.enabled);
  r.read("clusters", c.clusters);
  r.read_enum("init", c.init,
              std::map<std::string, ClusterInit>{{"kmeans++", ClusterInit::kKmeansPlusPlus},
                                                 {"linear", ClusterInit::kLinear},
                                                 {"density", ClusterInit::kDensity},
                                                 {"random", ClusterInit::kRandom}});
  r.read("epochs", c.epochs);
  r.read("lr", c.lr);
  r.read_enum("gradient", c.gradient,
              std::map<std::string, ClusterGradient>{{"sum", ClusterGradient::kSum},
                                                     {"mean", ClusterGradient::kMean}});
  r.read("per_channel", c.per_channel);
  r.read("preserve_sparsity", c.preserve_sparsity);
  r.read("depthwise", c.depthwise);
  r.read("dense", c.dense);
  r.finish();
}

void read_quantize(TableReader& r, QuantizeConfig& q) {
  r.read_enum(
      "mode", q.mode,
      std::map<std::string, QuantMode>{
          {"none", QuantMode::kNone}, {"fp16", QuantMode::kFloat16}, {"int8", QuantMode::kInt8}});
  r.read("calibration_clips", q.calibration_clips);
  r.finish();
}

void read_detector(TableReader& r, DetectorSettings& d) {
  r.read("hop_ms", d.hop_ms);
  r.read("smoothing_ms", d.smoothing_ms);
  r.read("threshold", d.threshold);
  r.read("min_hops", d.min_hops);
  r.read("refractory_ms", d.refractory_ms);
  r.read("gate", d.gate);
  r.read("gate_dbfs", d.gate_dbfs);
  r.read("gate_min_speech_ms", d.gate_min_speech_ms);
  r.read("gate_hangover_ms", d.gate_hangover_ms);
  r.finish();
}

}  // namespace

void PruneConfig::resolve(int64_t total, int64_t per_epoch, int64_t* begin, int64_t* end) const {
  if (begin_step >= 0 || end_step >= 0) {
    *begin = std::max<int64_t>(begin_step, 0);
    *end = end_step >= 0 ? end_step : total;
  } else if (begin_fraction >= 0 || end_fraction >= 0) {
    *begin = static_cast<int64_t>(std::llround(std::max(begin_fraction, 0.0) * total));
    *end = static_cast<int64_t>(std::llround((end_fraction >= 0 ? end_fraction : 1.0) * total));
  } else {
    *begin = static_cast<int64_t>(std::llround(std::max(begin_epoch, 0.0) * per_epoch));
    *end = end_epoch >= 0 ? static_cast<int64_t>(std::llround(end_epoch * per_epoch)) : total;
  }
  // Steps are 0-based: the last one is total - 1, and the final sparsity must be reached.
  *end = std::min(*end, std::max<int64_t>(total - 1, 0));
  *begin = std::min(*begin, *end);
}

double PruneConfig::sparsity_at(int64_t step, int64_t begin, int64_t end) const {
  if (step < begin) return 0.0;
  if (schedule == PruneSchedule::kConstant) return final_sparsity;
  double p =
      end > begin ? std::clamp(static_cast<double>(step - begin) / (end - begin), 0.0, 1.0) : 1.0;
  return final_sparsity + (initial_sparsity - final_sparsity) * std::pow(1.0 - p, power);
}

void Config::validate() const {
  auto bad = [&](const std::string& what) { throw InputError(source + ": " + what); };
  if (auto msg = frontend.check(); !msg.empty()) bad(msg);
  if (auto msg = detector.check(); !msg.empty()) bad(msg);

  const auto& m = model;
  if (m.layers.empty()) bad("model.layers is empty: the network needs at least one dense layer");
  if (!(m.width_multiplier > 0.0f && m.width_multiplier <= 16.0f))
    bad("model.width_multiplier = " + fmt_num(m.width_multiplier) + " must be in (0, 16]");
  bool seen_dense = false, spatial = true;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const auto& l = m.layers[i];
    std::string w = "model.layers[" + std::to_string(i) + "] (" + layer_kind_name(l.kind) + ")";
    auto in_range = [&](const char* f, int v, int lo, int hi) {
      if (v < lo || v > hi)
        bad(w + "." + f + " = " + std::to_string(v) + " must be in [" + std::to_string(lo) + ", " +
            std::to_string(hi) + "]");
    };
    switch (l.kind) {
      case LayerKind::kConv:
      case LayerKind::kPwConv:
        in_range("filters", l.filters, 1, 4096);
        [[fallthrough]];
      case LayerKind::kDwConv:
      case LayerKind::kMaxPool:
      case LayerKind::kAvgPool:
        if (!spatial) bad(w + " comes after gap/dense: no spatial dimensions are left");
        in_range("kernel height", l.kernel_h, 1, 64);
        in_range("kernel width", l.kernel_w, 1, 64);
        in_range("stride height", l.stride_h, 1, 64);
        in_range("stride width", l.stride_w, 1, 64);
        break;
      case LayerKind::kDropout:
        if (!(l.rate >= 0.0f && l.rate < 1.0f))
          bad(w + ".rate = " + fmt_num(l.rate) + " must be in [0, 1)");
        break;
      case LayerKind::kGap:
        spatial = false;
        break;
      case LayerKind::kDense:
        if (spatial) bad(w + " needs a gap layer before it (dense takes a vector)");
        in_range("units", l.units, 0, 65536);
        seen_dense = true;
        break;
      case LayerKind::kSoftmax:
        if (i + 1 != m.layers.size()) bad(w + " must be the last layer");
        break;
      default:
        break;
    }
  }
  if (!seen_dense) bad("model.layers has no dense layer: the network must end in one");

  const auto& t = train;
  if (t.epochs < 1 || t.epochs > 100000)
    bad("train.epochs = " + std::to_string(t.epochs) + " must be in [1, 100000]");
  if (t.batch_size < 1 || t.batch_size > 65536)
    bad("train.batch_size = " + std::to_string(t.batch_size) + " must be in [1, 65536]");
  if (!(t.lr_initial > 0.0f && t.lr_initial < 10.0f))
    bad("train.lr_initial = " + fmt_num(t.lr_initial) + " must be in (0, 10)");
  if (!(t.lr_final > 0.0f && t.lr_final < 10.0f))
    bad("train.lr_final = " + fmt_num(t.lr_final) + " must be in (0, 10)");
  if (!(t.lr_power > 0.0f)) bad("train.lr_power = " + fmt_num(t.lr_power) + " must be > 0");
  if (t.warmup_epochs < 0 || t.warmup_epochs >= t.epochs)
    bad("train.warmup_epochs = " + std::to_string(t.warmup_epochs) + " must be in [0, epochs)");
  if (!(t.weight_decay >= 0.0f)) bad("train.weight_decay must be >= 0");
  if (!(t.label_smoothing >= 0.0f && t.label_smoothing < 1.0f))
    bad("train.label_smoothing = " + fmt_num(t.label_smoothing) + " must be in [0, 1)");
  if (t.patience < 0) bad("train.patience must be >= 0 (0 = no early stopping)");
  if (!(t.ema_decay >= 0.0f && t.ema_decay < 1.0f))
    bad("train.ema_decay = " + fmt_num(t.ema_decay) + " must be in [0, 1) (0 = off)");
  if (t.threads < 1 || t.threads > 256)
    bad("train.threads = " + std::to_string(t.threads) + " must be in [1, 256]");
  for (const auto& [name, v] : {std::pair{"unknown_percentage", t.unknown_percentage},
                                {"silence_percentage", t.silence_percentage}})
    if (!(v >= 0.0f && v <= 500.0f))
      bad(std::string("train.") + name + " = " + fmt_num(v) +
          " must be in [0, 500] (% of the keyword training clips)");
  for (const auto& [name, v] : {std::pair{"unknown_reversed", t.unknown_reversed},
                                {"unknown_fragments", t.unknown_fragments},
                                {"unknown_babble", t.unknown_babble}})
    if (!(v >= 0.0f && v <= 1.0f))
      bad(std::string("train.") + name + " = " + fmt_num(v) + " must be in [0, 1]");
  if (!(t.unknown_reversed + t.unknown_fragments + t.unknown_babble <= 1.0f))
    bad("train.unknown_reversed + unknown_fragments + unknown_babble must be <= 1");
  {
    std::set<std::string> kw(t.labels.begin(), t.labels.end()), seen;
    auto check_words = [&](const char* field, const std::vector<std::string>& words) {
      for (const auto& w : words) {
        if (w.empty() || w[0] == '_')
          bad(std::string("train.") + field + ": '" + w +
              "' is not a word folder name (empty or starting with '_')");
        if (kw.count(w)) bad(std::string("train.") + field + ": '" + w + "' is a keyword");
        if (!seen.insert(w).second)
          bad(std::string("train.") + field + ": '" + w +
              "' listed twice (unknown_words and held_out_words must not overlap)");
      }
    };
    for (const auto& l : t.labels)
      if (l.empty() || l[0] == '_')
        bad("train.labels: '" + l + "' cannot be a keyword (empty or starting with '_')");
    check_words("unknown_words", t.unknown_words);
    check_words("held_out_words", t.held_out_words);
    if (!t.held_out_words.empty() && !t.has_unknown())
      bad("train.held_out_words needs an _unknown_ class (unknown_percentage > 0): held-out "
          "words are validated as _unknown_");
    if (!t.unknown_words.empty() && !t.has_unknown())
      bad("train.unknown_words is set but unknown_percentage = 0 (no _unknown_ class)");
    if (t.labels.empty() && (t.has_unknown() || !t.held_out_words.empty()))
      bad("train.labels (the keywords) must be listed when there is an _unknown_ class or "
          "held-out words");
  }
  std::set<std::string> uniq(t.labels.begin(), t.labels.end());
  if (uniq.size() != t.labels.size()) bad("train.labels lists a label twice");
  if (!t.labels.empty() && t.labels.size() < 2) bad("train.labels needs at least two labels");

  const auto& p = prune;
  if (p.enabled) {
    if (!(p.initial_sparsity >= 0.0f && p.initial_sparsity < 1.0f))
      bad("prune.initial_sparsity = " + fmt_num(p.initial_sparsity) + " must be in [0, 1)");
    if (!(p.final_sparsity >= 0.0f && p.final_sparsity < 1.0f))
      bad("prune.final_sparsity = " + fmt_num(p.final_sparsity) + " must be in [0, 1)");
    if (!(p.power > 0.0f)) bad("prune.power = " + fmt_num(p.power) + " must be > 0");
    if (p.frequency < 1) bad("prune.frequency = " + std::to_string(p.frequency) + " must be >= 1");
    if (p.block_h < 1 || p.block_w < 1 || p.block_h > 64 || p.block_w > 64)
      bad("prune.block must be in [1, 64] x [1, 64]");
    if (p.end_epoch >= 0 && p.begin_epoch > p.end_epoch)
      bad("prune.begin_epoch must be <= end_epoch");
    if (p.end_epoch > t.epochs)
      bad("prune.end_epoch = " + fmt_num(p.end_epoch) + " is after the last epoch (" +
          std::to_string(t.epochs) + ")");
    if (p.end_step >= 0 && p.begin_step > p.end_step) bad("prune.begin_step must be <= end_step");
    if (p.begin_fraction > 1.0 || p.end_fraction > 1.0 ||
        (p.end_fraction >= 0 && p.begin_fraction > p.end_fraction))
      bad("prune.begin_fraction/end_fraction must satisfy 0 <= begin <= end <= 1");
  }
  if (distill.enabled) {
    if (!(distill.alpha >= 0.0f && distill.alpha <= 1.0f))
      bad("distill.alpha = " + fmt_num(distill.alpha) + " must be in [0, 1]");
    if (!(distill.temperature > 0.0f && distill.temperature <= 100.0f))
      bad("distill.temperature = " + fmt_num(distill.temperature) + " must be in (0, 100]");
    if (!(distill.teacher_width > 0.0f && distill.teacher_width <= 16.0f))
      bad("distill.teacher_width = " + fmt_num(distill.teacher_width) + " must be in (0, 16]");
    if (distill.teacher.empty()) bad("distill.teacher is empty (\"self\" or a .tkws path)");
    if (distill.init_from_teacher && (distill.teacher != "self" || distill.teacher_width != 1.0f))
      bad("distill.init_from_teacher needs teacher = \"self\" and teacher_width = 1 (the "
          "student starts from the teacher's weights, so they must have the same shapes)");
  }
  const auto& cl = cluster;
  if (cl.enabled) {
    if (cl.clusters < 2 || cl.clusters > 256)
      bad("cluster.clusters = " + std::to_string(cl.clusters) + " must be in [2, 256]");
    if (cl.epochs < 0 || cl.epochs > 1000)
      bad("cluster.epochs = " + std::to_string(cl.epochs) + " must be in [0, 1000]");
    if (!(cl.lr >= 0.0f && cl.lr < 10.0f))
      bad("cluster.lr must be in [0, 10) (0 = train.lr_final)");
  }
  if (quantize.calibration_clips < 1 || quantize.calibration_clips > 100000)
    bad("quantize.calibration_clips = " + std::to_string(quantize.calibration_clips) +
        " must be in [1, 100000]");

  const auto& a = t.augment;
  if (!(a.time_shift_ms >= 0.0f && a.time_shift_ms <= 1000.0f))
    bad("train.augment.time_shift_ms = " + fmt_num(a.time_shift_ms) + " must be in [0, 1000]");
  if (!(a.noise_prob >= 0.0f && a.noise_prob <= 1.0f))
    bad("train.augment.noise_prob = " + fmt_num(a.noise_prob) + " must be in [0, 1]");
  if (!(a.noise_snr_db_min <= a.noise_snr_db_max))
    bad("train.augment.noise_snr_db_min must be <= noise_snr_db_max");
  if (!(a.gain_db_min <= a.gain_db_max) || a.gain_db_min < -60.0f || a.gain_db_max > 60.0f)
    bad("train.augment.gain_db_min/max must satisfy -60 <= min <= max <= 60");
  int nf = frontend.num_frames(), nc = frontend.num_features();
  if (a.time_masks < 0 || a.time_masks > 16) bad("train.augment.time_masks must be in [0, 16]");
  if (a.freq_masks < 0 || a.freq_masks > 16) bad("train.augment.freq_masks must be in [0, 16]");
  if (a.time_mask_max < 0 || a.time_mask_max > nf)
    bad("train.augment.time_mask_max = " + std::to_string(a.time_mask_max) + " must be in [0, " +
        std::to_string(nf) + " frames]");
  if (a.freq_mask_max < 0 || a.freq_mask_max > nc)
    bad("train.augment.freq_mask_max = " + std::to_string(a.freq_mask_max) + " must be in [0, " +
        std::to_string(nc) + " coefficients]");
  if (!(a.background_frequency >= 0.0f && a.background_frequency <= 1.0f))
    bad("train.augment.background_frequency = " + fmt_num(a.background_frequency) +
        " must be in [0, 1]");
  if (!(a.background_volume >= 0.0f && a.background_volume <= 1.0f))
    bad("train.augment.background_volume = " + fmt_num(a.background_volume) + " must be in [0, 1]");
  if (!(a.background_snr_db_min >= -30.0f && a.background_snr_db_min <= a.background_snr_db_max &&
        a.background_snr_db_max <= 60.0f))
    bad("train.augment.background_snr_db_min = " + fmt_num(a.background_snr_db_min) +
        ", background_snr_db_max = " + fmt_num(a.background_snr_db_max) +
        " must satisfy -30 <= min <= max <= 60");
  if (!(a.vtlp_min >= 0.8f && a.vtlp_min <= a.vtlp_max && a.vtlp_max <= 1.25f))
    bad("train.augment.vtlp_min = " + fmt_num(a.vtlp_min) + ", vtlp_max = " + fmt_num(a.vtlp_max) +
        " must satisfy 0.8 <= min <= max <= 1.25");
  if (a.vtlp() && frontend.kind != FeatureKind::kLogMel)
    bad("train.augment.vtlp_min/max warp mel bands: they need frontend.features = \"logmel\"");
  if (!(a.speed_min >= 0.5f && a.speed_min <= a.speed_max && a.speed_max <= 2.0f))
    bad("train.augment.speed_min = " + fmt_num(a.speed_min) +
        ", speed_max = " + fmt_num(a.speed_max) + " must satisfy 0.5 <= min <= max <= 2");
  if (!(a.reverb_prob >= 0.0f && a.reverb_prob <= 1.0f))
    bad("train.augment.reverb_prob = " + fmt_num(a.reverb_prob) + " must be in [0, 1]");
  if (!(a.reverb_rt60_min >= kRt60MinS && a.reverb_rt60_min <= a.reverb_rt60_max &&
        a.reverb_rt60_max <= kRt60MaxS))
    bad("train.augment.reverb_rt60_min = " + fmt_num(a.reverb_rt60_min) +
        ", reverb_rt60_max = " + fmt_num(a.reverb_rt60_max) + " must satisfy " +
        fmt_num(kRt60MinS) + " <= min <= max <= " + fmt_num(kRt60MaxS) + " (seconds)");
  if (!(a.reverb_drr_db_min >= kDrrMinDb && a.reverb_drr_db_min <= a.reverb_drr_db_max &&
        a.reverb_drr_db_max <= kDrrMaxDb))
    bad("train.augment.reverb_drr_db_min = " + fmt_num(a.reverb_drr_db_min) +
        ", reverb_drr_db_max = " + fmt_num(a.reverb_drr_db_max) + " must satisfy " +
        fmt_num(kDrrMinDb) + " <= min <= max <= " + fmt_num(kDrrMaxDb) + " (dB)");
}

Config parse_config(const std::string& text, const std::string& source_name) {
  const toml::table root = parse_toml(text, source_name);
  Config c;
  c.source = source_name;
  c.text = text;
  static const std::set<std::string> sections{"frontend", "model",    "train",   "prune",
                                              "cluster",  "quantize", "distill", "detector"};
  if (root.contains("base"))
    throw InputError(source_name +
                     ": base = ... names a file relative to this one, so it is resolved only when "
                     "the config is read from a file (load_config, resolve_config_text)");
  for (auto& [k, v] : root) {
    std::string key(k.str());
    if (!v.as_table() || !sections.count(key))
      throw InputError(source_name + ": unknown section [" + key +
                       "] (known: frontend, model, train, distill, prune, cluster, quantize, "
                       "detector)");
  }
  if (auto* t = root["distill"].as_table()) {
    TableReader r(*t, source_name, "distill");
    c.distill.enabled = true;
    r.read("enabled", c.distill.enabled);
    r.read("teacher", c.distill.teacher);
    r.read("teacher_width", c.distill.teacher_width);
    r.read("alpha", c.distill.alpha);
    r.read("temperature", c.distill.temperature);
    r.read("init_from_teacher", c.distill.init_from_teacher);
    r.finish();
  }
  if (auto* t = root["prune"].as_table()) {
    TableReader r(*t, source_name, "prune");
    read_prune(r, c.prune);
  }
  if (auto* t = root["cluster"].as_table()) {
    TableReader r(*t, source_name, "cluster");
    read_cluster(r, c.cluster);
  }
  if (auto* t = root["quantize"].as_table()) {
    TableReader r(*t, source_name, "quantize");
    read_quantize(r, c.quantize);
  }
  if (auto* t = root["detector"].as_table()) {
    TableReader r(*t, source_name, "detector");
    read_detector(r, c.detector);
  }
  if (auto* t = root["frontend"].as_table()) {
    TableReader r(*t, source_name, "frontend");
    read_frontend(r, c.frontend);
  }
  if (auto* t = root["model"].as_table()) {
    TableReader r(*t, source_name, "model");
    read_model(r, *t, c.model, source_name);
  }
  if (auto* t = root["train"].as_table()) {
    toml::table train_copy = *t;
    const toml::table* aug = nullptr;
    if (auto* a = t->get("augment")) {
      aug = a->as_table();
      if (!aug) throw InputError(source_name + ": train.augment must be a table");
      train_copy.erase("augment");
    }
    TableReader r(train_copy, source_name, "train");
    read_train(r, c.train);
    if (aug) {
      TableReader ar(*aug, source_name, "train.augment");
      read_augment(ar, c.train.augment);
    }
  }
  c.validate();
  return c;
}

namespace {

namespace fs = std::filesystem;

std::string read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `over` merged into `into`: tables merge key by key; any other value (numbers, strings,
// arrays such as model.layers or train.labels) replaces the one below it whole.
void merge_tables(toml::table& into, const toml::table& over) {
  for (auto& [k, v] : over) {
    toml::table* below = into.get_as<toml::table>(k);
    if (below && v.is_table())
      merge_tables(*below, *v.as_table());
    else
      into.insert_or_assign(k, v);
  }
}

// A relative distill.teacher path in a base file names a file next to that base; rewrite it
// relative to the folder of the config being loaded, which the trainer resolves it against.
void rebase_paths(toml::table& root, const fs::path& file_dir, const fs::path& top_dir) {
  toml::table* d = root.get_as<toml::table>("distill");
  toml::value<std::string>* t = d ? d->get_as<std::string>("teacher") : nullptr;
  if (!t || t->get() == "self" || fs::path(t->get()).is_absolute()) return;
  const fs::path abs = fs::absolute(file_dir / t->get()).lexically_normal();
  const fs::path rel = abs.lexically_relative(fs::absolute(top_dir).lexically_normal());
  *t = rel.empty() ? abs.string() : rel.string();
}

// `root` (read from `path`) with its chain of bases merged below it. `chain` holds the files
// being resolved, to name a cycle.
toml::table with_bases(toml::table root, const fs::path& path, const fs::path& top_dir,
                       std::vector<fs::path>& chain) {
  if (chain.size() > 1) rebase_paths(root, path.parent_path(), top_dir);
  const toml::node* b = root.get("base");
  if (!b) return root;
  const std::optional<std::string> name = b->value<std::string>();
  if (!name || name->empty())
    throw InputError(path.string() +
                     ": base must be the path of a config file (a string, relative to this one)");
  const fs::path base_path = (path.parent_path() / *name).lexically_normal();
  const fs::path key = fs::weakly_canonical(base_path);
  if (std::find(chain.begin(), chain.end(), key) != chain.end()) {
    std::string names;
    for (const auto& c : chain) names += c.filename().string() + " -> ";
    throw InputError(path.string() + ": base = \"" + *name + "\" makes a cycle: " + names +
                     base_path.filename().string());
  }
  std::string text;
  try {
    text = read_config_file(base_path.string());
  } catch (const InputError&) {
    throw InputError(path.string() + ": base config " + base_path.string() + " cannot be read");
  }
  chain.push_back(key);
  toml::table merged = with_bases(parse_toml(text, base_path.string()), base_path, top_dir, chain);
  root.erase("base");
  merge_tables(merged, root);
  return merged;
}

}  // namespace

std::string resolve_config_text(const std::string& path) {
  std::string text = read_config_file(path);
  const toml::table root = parse_toml(text, path);
  if (!root.contains("base")) return text;
  std::vector<fs::path> chain{fs::weakly_canonical(path)};
  const toml::table merged = with_bases(root, path, fs::path(path).parent_path(), chain);
  std::ostringstream o;
  o << "# " << path
    << " with its base configs merged (`tinykws train --print-config`)\n"
    // 15 significant digits give back every decimal written in a config file exactly.
    << toml::toml_formatter{merged, toml::toml_formatter::default_flags |
                                        toml::format_flags::relaxed_float_precision}
    << "\n";
  return o.str();
}

Config load_config(const std::string& path) {
  return parse_config(resolve_config_text(path), path);
}

std::string config_defaults_toml() {
  // Every value comes from the structs' defaults, so this listing cannot drift from them;
  // the sections that switch a phase on by being present ([distill], [prune], [cluster]) are
  // printed commented out. Config.PrintedDefaultsParseBackToTheDefaults checks the round trip.
  const FrontendConfig f;
  const TrainConfig t;
  const AugmentConfig a;
  const DistillConfig d;
  const PruneConfig p;
  const ClusterConfig c;
  const QuantizeConfig q;
  const DetectorSettings det;
  const auto b = [](bool v) { return v ? "true" : "false"; };
  const auto n = [](double v) { return fmt_num(v); };
  std::ostringstream o;
  o << "[frontend]\n"
    << "sample_rate = " << f.sample_rate << "   # Hz\n"
    << "clip_samples = " << f.clip_samples << "  # or clip_s (seconds)\n"
    << "frame_length = " << f.frame_length << "   # samples, or frame_length_s\n"
    << "frame_step = " << f.frame_step << "     # samples, or frame_step_s\n"
    << "fft_length = " << f.fft_length << "       # 0 = next power of two >= frame_length\n"
    << "num_mel_bins = " << f.num_mel_bins << "\n"
    << "lower_hz = " << n(f.lower_hz) << "\nupper_hz = " << n(f.upper_hz) << "\n"
    << "features = \"" << (f.kind == FeatureKind::kMfcc ? "mfcc" : "logmel")
    << "\"   # or \"logmel\" / \"mfcc\"\n"
    << "num_mfcc = " << f.num_mfcc << "\n"
    << "spectrum = \"" << (f.spectrum == SpectrumKind::kPower ? "power" : "magnitude")
    << "\"   # or \"power\" / \"magnitude\"\n"
    << "log_offset = " << n(f.log_offset) << "\npcm_divisor = " << n(f.pcm_divisor) << "\n\n"
    << "[model]\nwidth_multiplier = 1.0\n"
    << "# layers = [ { type = \"conv\", filters = 32, kernel = 3, stride = 2 }, ... ]\n"
    << "# types: conv dwconv pwconv bn relu maxpool avgpool dropout gap dense softmax\n\n"
    << "[train]\n"
    << "epochs = " << t.epochs << "\nbatch_size = " << t.batch_size << "\n"
    << "lr_initial = " << n(t.lr_initial) << "\nlr_final = " << n(t.lr_final) << "\n"
    << "lr_schedule = \"linear\"   # constant, linear, polynomial, cosine\n"
    << "lr_power = " << n(t.lr_power) << "\nwarmup_epochs = " << t.warmup_epochs << "\n"
    << "weight_decay = " << n(t.weight_decay) << "\n"
    << "label_smoothing = " << n(t.label_smoothing) << "\n"
    << "patience = " << t.patience << "          # 0 = no early stopping\n"
    << "ema_decay = " << n(t.ema_decay) << "         # 0 = off\n"
    << "normalize = " << b(t.normalize) << "\nseed = " << t.seed << "\nthreads = " << t.threads
    << "\nlabels = []           # the keywords; empty = all word folders, sorted\n"
    << "unknown_words = []    # empty = every other word folder not held out\n"
    << "unknown_percentage = " << n(t.unknown_percentage)
    << "   # _unknown_ clips per epoch, % of the keyword clips; 0 = no _unknown_ class\n"
    << "held_out_words = []   # never trained on; their val clips measure unseen-word false "
       "accepts\n"
    << "unknown_reversed = " << n(t.unknown_reversed) << "     # share of unknown draws reversed\n"
    << "unknown_fragments = " << n(t.unknown_fragments)
    << "    # share made onset / ending fragments\n"
    << "unknown_babble = " << n(t.unknown_babble) << "       # share made of two overlaid words\n"
    << "unknown_keyword_fragments = " << b(t.unknown_keyword_fragments)
    << "   # half the fragments from keyword clips\n"
    << "silence_percentage = " << n(t.silence_percentage)
    << "   # _silence_ clips per epoch, % of the keyword clips; 0 = no _silence_ class\n\n"
    << "[train.augment]\n"
    << "time_shift_ms = " << n(a.time_shift_ms) << "\nnoise_prob = " << n(a.noise_prob) << "\n"
    << "noise_snr_db_min = " << n(a.noise_snr_db_min)
    << "\nnoise_snr_db_max = " << n(a.noise_snr_db_max) << "\n"
    << "gain_db_min = " << n(a.gain_db_min) << "\ngain_db_max = " << n(a.gain_db_max) << "\n"
    << "time_masks = " << a.time_masks << "\ntime_mask_max = " << a.time_mask_max << "\n"
    << "freq_masks = " << a.freq_masks << "\nfreq_mask_max = " << a.freq_mask_max << "\n"
    << "background_frequency = " << n(a.background_frequency)
    << "   # share of clips mixed with _background_noise_\n"
    << "background_level = \""
    << (a.background_level == AugmentConfig::BackgroundLevel::kSnr ? "snr" : "volume")
    << "\"   # or \"snr\": scale the window to an SNR below the clip's speech\n"
    << "background_volume = " << n(a.background_volume) << "   # volume: drawn in [0, this]\n"
    << "background_snr_db_min = " << n(a.background_snr_db_min)
    << "\nbackground_snr_db_max = " << n(a.background_snr_db_max)
    << "   # snr: drawn in [min, max]\n"
    << "speed_min = " << n(a.speed_min) << "\nspeed_max = " << n(a.speed_max)
    << "   # resampling factor drawn per clip; 1, 1 = off\n"
    << "vtlp_min = " << n(a.vtlp_min) << "\nvtlp_max = " << n(a.vtlp_max)
    << "   # logmel: mel-band warp factor drawn per clip; 1, 1 = off\n"
    << "reverb_prob = " << n(a.reverb_prob) << "   # share of clips given room reverberation\n"
    << "reverb_rt60_min = " << n(a.reverb_rt60_min)
    << "\nreverb_rt60_max = " << n(a.reverb_rt60_max) << "   # seconds\n"
    << "reverb_drr_db_min = " << n(a.reverb_drr_db_min)
    << "\nreverb_drr_db_max = " << n(a.reverb_drr_db_max) << "   # direct-to-reverberant ratio\n\n"
    << "# [distill]            # present = on (enabled = false turns a base's section off)\n"
    << "# teacher = \"" << d.teacher << "\"     # or the path of a .tkws teacher\n"
    << "# teacher_width = " << n(d.teacher_width) << "\n# alpha = " << n(d.alpha)
    << "\n# temperature = " << n(d.temperature)
    << "\n# init_from_teacher = " << b(d.init_from_teacher) << "\n\n"
    << "# [prune]              # present = on (enabled = false turns a base's section off)\n"
    << "# schedule = \"polynomial\"   # or \"constant\"\n"
    << "# initial_sparsity = " << n(p.initial_sparsity)
    << "\n# final_sparsity = " << n(p.final_sparsity) << "\n"
    << "# begin_epoch = 0      # or begin_step / begin_fraction\n"
    << "# end_epoch = <last>   # or end_step / end_fraction\n"
    << "# power = " << n(p.power) << "\n# frequency = " << p.frequency << "  # steps\n"
    << "# block = [" << p.block_h << ", " << p.block_w << "]\n"
    << "# depthwise = " << b(p.depthwise) << "\n# dense = " << b(p.dense) << "\n\n"
    << "# [cluster]            # present = on (enabled = false turns a base's section off)\n"
    << "# clusters = " << c.clusters << "\n"
    << "# init = \"kmeans++\"    # linear, density, random\n"
    << "# epochs = " << c.epochs << "\n# lr = " << n(c.lr) << "              # 0 = train.lr_final\n"
    << "# gradient = \"sum\"     # or \"mean\"\n"
    << "# per_channel = " << b(c.per_channel)
    << "\n# preserve_sparsity = " << b(c.preserve_sparsity) << "\n"
    << "# depthwise = " << b(c.depthwise) << "\n# dense = " << b(c.dense) << "\n\n"
    << "[quantize]\nmode = \"none\"   # fp16, int8\n"
    << "calibration_clips = " << q.calibration_clips << "\n\n"
    << "[detector]           # the streaming detector's defaults stored in the model\n"
    << "hop_ms = " << det.hop_ms << "\nsmoothing_ms = " << det.smoothing_ms
    << "\nthreshold = " << n(det.threshold) << "   # every keyword\nmin_hops = " << det.min_hops
    << "\nrefractory_ms = " << det.refractory_ms << "\ngate = " << b(det.gate)
    << "\ngate_dbfs = " << n(det.gate_dbfs) << "\ngate_min_speech_ms = " << det.gate_min_speech_ms
    << "\ngate_hangover_ms = " << det.gate_hangover_ms << "\n";
  return o.str();
}

}  // namespace tkws
