#include "tinykws/eval/metrics.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "tinykws/audio/background.h"
#include "tinykws/audio/clips.h"
#include "tinykws/audio/dataset.h"
#include "tinykws/common/csv.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/kws_metrics.h"
#include "tinykws/eval/profile.h"
#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"

namespace tkws {

Stat median_std(std::vector<double> v) {
  Stat s;
  if (v.empty()) return s;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= v.size();
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  s.std = std::sqrt(var / v.size());
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return s;
}

void NoiseClips::next(int16_t* pcm, int n) {
  for (int i = 0; i < n; ++i)
    pcm[i] = static_cast<int16_t>(std::clamp(std::lround(normal_(rng_) * 8192.0), -32768L, 32767L));
}

LatencyReport measure_latency(KwsPipeline& pipe, int clip_samples, int runs, int discard,
                              double pause_ms, uint64_t seed) {
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  NoiseClips noise(seed);
  std::vector<int16_t> pcm(clip_samples);
  std::vector<float> clip(clip_samples),
      feats(static_cast<size_t>(pipe.num_frames()) * pipe.num_features());
  std::vector<float> probs(pipe.num_labels());
  std::vector<double> pre, net, tot;
  for (int r = 0; r < runs; ++r) {
    noise.next(pcm.data(), clip_samples);  // not timed
    auto t0 = clock::now();
    for (int i = 0; i < clip_samples; ++i) clip[i] = pcm[i] * (1.0f / 32768.0f);  // normalisation
    pipe.features(clip.data(), feats.data());
    auto t1 = clock::now();
    pipe.network(feats.data(), probs.data());
    auto t2 = clock::now();
    if (r >= discard) {
      pre.push_back(ms(t1 - t0));
      net.push_back(ms(t2 - t1));
      tot.push_back(ms(t2 - t0));
    }
    if (pause_ms > 0 && r + 1 < runs)
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(pause_ms));
  }
  LatencyReport L;
  L.preprocess = median_std(pre);
  L.model = median_std(net);
  L.total = median_std(tot);
  L.runs = runs;
  L.discarded = std::min(discard, runs);
  L.pause_ms = pause_ms;
  L.total_samples_ms = tot;
  return L;
}

size_t deflated_size(const std::vector<uint8_t>& bytes) {
  uLongf out_len = compressBound(bytes.size());
  std::vector<Bytef> out(out_len);
  if (compress2(out.data(), &out_len, bytes.data(), bytes.size(), 9) != Z_OK)
    throw std::runtime_error("zlib compress2 failed");
  return out_len;
}

std::vector<std::vector<float>> runtime_probs(KwsPipeline& pipe,
                                              const std::vector<std::vector<float>>& clips) {
  std::vector<std::vector<float>> out(clips.size(),
                                      std::vector<float>(static_cast<size_t>(pipe.num_labels())));
  for (size_t i = 0; i < clips.size(); ++i)
    if (auto s = pipe.run(clips[i].data(), out[i].data()); !s.ok())
      throw std::runtime_error("inference failed on clip " + std::to_string(i) + ": " + s.message);
  return out;
}

double argmax_accuracy(const std::vector<std::vector<float>>& probs,
                       const std::vector<int64_t>& labels) {
  size_t ok = 0;
  for (size_t i = 0; i < probs.size(); ++i)
    ok += std::max_element(probs[i].begin(), probs[i].end()) - probs[i].begin() == labels[i];
  return probs.empty() ? 0.0 : static_cast<double>(ok) / static_cast<double>(probs.size());
}

double runtime_accuracy(KwsPipeline& pipe, const std::vector<std::vector<float>>& clips,
                        const std::vector<int64_t>& labels) {
  return argmax_accuracy(runtime_probs(pipe, clips), labels);
}

int64_t count_parameters(const Model& m) {
  int64_t n = 0;
  for (auto& t : m.tensors) n += static_cast<int64_t>(t.numel());
  return n;
}

EvalReport evaluate(const EvalOptions& opt) {
  EvalReport r;
  r.model_path = opt.model_path;
  const std::string bytes_text = [&] {
    try {
      return read_text_file(opt.model_path);
    } catch (const std::exception&) {
      throw InputError(opt.model_path + ": cannot open model file");
    }
  }();
  std::vector<uint8_t> bytes(bytes_text.begin(), bytes_text.end());
  Model model = parse_model(bytes.data(), bytes.size(), opt.model_path);
  r.size_bytes = bytes.size();
  r.zipped_bytes = deflated_size(bytes);
  r.labels = model.labels;
  r.parameters = count_parameters(model);

  KwsPipeline pipe;
  if (auto s = pipe.create(model); !s.ok())
    throw InputError(opt.model_path + ": the runtime cannot run this model: " + s.message);
  r.arena_bytes = pipe.arena_bytes();

  Dataset ds = scan_datasets(opt.data_dirs);  // every word: the model's and the others
  r.data_dir = ds.root;
  std::vector<const ClipRef*> refs;
  if (opt.split == "all") {
    r.split = "all";
    for (auto& c : ds.clips) refs.push_back(&c);
  } else if (opt.split.empty()) {
    refs = ds.select(Split::kTest);
    r.split = "test";
    if (refs.empty()) {
      refs = ds.select(Split::kVal);
      r.split = "val";
    }
  } else {
    Split s = parse_split(opt.split);
    r.split = split_name(s);
    refs = ds.select(s);
  }
  if (refs.empty()) throw InputError(ds.root + ": the " + r.split + " split holds no clips");

  // Each word of the data: its class in the model and how it counts. Words the model has no
  // class for are `_unknown_` when it has that class; the training's metadata says which of
  // them it trained on (the rest count as unseen).
  const int L = static_cast<int>(model.labels.size());
  int unknown_class = -1, silence_class = -1;
  for (int c = 0; c < L; ++c) {
    if (model.labels[c] == kUnknownLabel) unknown_class = c;
    if (model.labels[c] == kSilenceLabel) silence_class = c;
  }
  std::set<std::string> trained_unknown;
  if (auto meta = nlohmann::json::parse(model.metadata_json, nullptr, false);
      meta.is_object() && meta.contains("unknown_words") && meta["unknown_words"].is_array())
    for (const auto& w : meta["unknown_words"])
      if (w.is_string()) trained_unknown.insert(w.get<std::string>());
  std::vector<int> word_class(ds.labels.size(), -1);
  std::vector<ClipGroup> word_group(ds.labels.size(), ClipGroup::kHeldOut);
  for (size_t w = 0; w < ds.labels.size(); ++w) {
    auto it = std::find(model.labels.begin(), model.labels.end(), ds.labels[w]);
    if (it != model.labels.end()) {
      word_class[w] = static_cast<int>(it - model.labels.begin());
      word_group[w] = model.is_keyword(word_class[w]) ? ClipGroup::kKeyword : ClipGroup::kUnknown;
    } else {
      word_class[w] = unknown_class;
      word_group[w] =
          trained_unknown.count(ds.labels[w]) ? ClipGroup::kUnknown : ClipGroup::kHeldOut;
    }
  }

  const FrontendConfig& fe = model.frontend;
  int threads = opt.threads > 0 ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  LoadedClips clips = load_clips(refs, fe.sample_rate, fe.clip_samples, threads);
  r.confusion.assign(L, std::vector<int>(L, 0));
  std::vector<ScoredClip> scored;
  std::vector<float> probs(L);
  for (size_t i = 0; i < refs.size(); ++i) {
    if (auto s = pipe.run(clips.samples[i].data(), probs.data()); !s.ok())
      throw std::runtime_error(refs[i]->rel + ": inference failed: " + s.message);
    int pred = static_cast<int>(std::max_element(probs.begin(), probs.end()) - probs.begin());
    const int w = refs[i]->label;
    const int truth = word_class[w];
    scored.push_back({refs[i]->rel, ds.labels[w], truth, word_group[w], probs});
    if (truth < 0) {
      ++r.foreign_clips;
      continue;
    }
    ++r.n;
    r.confusion[truth][pred]++;
    if (pred != truth)
      r.mistakes.push_back({refs[i]->rel, model.labels[truth], model.labels[pred], probs[pred]});
  }
  // Background windows (the recordings' validation part), for every split but training.
  if (r.split != "train" && !ds.background.empty()) {
    BackgroundNoise bg(ds.background, fe.sample_rate, fe.clip_samples, ds.root);
    const auto windows = background_eval_windows(bg);
    for (size_t i = 0; i < windows.size(); ++i) {
      if (auto s = pipe.run(windows[i].data(), probs.data()); !s.ok())
        throw std::runtime_error(std::string("background window: inference failed: ") + s.message);
      scored.push_back({"background window " + std::to_string(i), "",
                        silence_class >= 0 ? silence_class : unknown_class, ClipGroup::kBackground,
                        probs});
    }
  }
  if (r.n == 0)
    throw InputError(ds.root + ": the " + r.split + " split holds no clip of the model's labels (" +
                     std::to_string(r.foreign_clips) + " clips of other words)");
  r.errors = static_cast<int>(r.mistakes.size());
  r.accuracy = static_cast<double>(r.n - r.errors) / r.n;
  if (r.foreign_clips > 0 || scored.size() > static_cast<size_t>(r.n) ||
      !model.keyword_flags.empty())
    r.kws =
        std::make_shared<const KwsMetrics>(kws_metrics(scored, model.labels, model.keyword_flags));
  r.scores = std::move(scored);
  r.latency = measure_latency(pipe, fe.clip_samples, opt.latency_runs, opt.latency_discard,
                              opt.latency_pause_ms);
  if (opt.profile)
    r.profile = std::make_shared<const Profile>(
        profile_pipeline(pipe, model, opt.latency_runs, r.latency.discarded));
  return r;
}

std::string scores_csv(const EvalReport& r) {
  std::string out = "clip,word,group,truth";
  for (const auto& l : r.labels) out += "," + csv_field(l);
  out += "\n";
  for (const ScoredClip& c : r.scores) {
    out += csv_field(c.name) + "," + csv_field(c.word) + "," + clip_group_name(c.group) + ",";
    if (c.truth >= 0 && c.truth < static_cast<int>(r.labels.size()))
      out += csv_field(r.labels[static_cast<size_t>(c.truth)]);
    for (float p : c.probs) out += fmt::format(",{:.6g}", p);
    out += "\n";
  }
  return out;
}

nlohmann::json to_json(const EvalReport& r) {
  auto st = [](const Stat& s) { return nlohmann::json{{"median", s.median}, {"std", s.std}}; };
  nlohmann::json mistakes = nlohmann::json::array();
  for (auto& m : r.mistakes)
    mistakes.push_back({{"file", m.file},
                        {"truth", m.truth},
                        {"predicted", m.predicted},
                        {"confidence", m.confidence}});
  nlohmann::json j = {{"model", r.model_path},
                      {"data", r.data_dir},
                      {"split", r.split},
                      {"accuracy", r.accuracy},
                      {"n", r.n},
                      {"errors", r.errors},
                      {"labels", r.labels},
                      {"confusion", r.confusion},
                      {"mistakes", mistakes},
                      {"size_bytes", r.size_bytes},
                      {"zipped_bytes", r.zipped_bytes},
                      {"parameters", r.parameters},
                      {"arena_bytes", r.arena_bytes},
                      {"latency_ms",
                       {{"preprocess", st(r.latency.preprocess)},
                        {"model", st(r.latency.model)},
                        {"total", st(r.latency.total)},
                        {"runs", r.latency.runs},
                        {"discarded", r.latency.discarded},
                        {"pause_ms", r.latency.pause_ms},
                        {"threads", 1},
                        {"samples_total", r.latency.total_samples_ms}}}};
  if (r.profile) j["profile"] = profile_json(*r.profile);
  if (r.kws) {
    j["kws"] = to_json(*r.kws);
    j["kws"]["foreign_clips"] = r.foreign_clips;
  }
  return j;
}

std::string to_text(const EvalReport& r) {
  std::ostringstream o;
  o << fmt::format("model   {}  ({} bytes, {} zipped, {} parameters, arena {} bytes)\n",
                   r.model_path, r.size_bytes, r.zipped_bytes, r.parameters, r.arena_bytes);
  o << fmt::format("data    {}  split {}  ({} clips of the model's classes)\n", r.data_dir, r.split,
                   r.n);
  o << fmt::format("accuracy {:.2f} %  ({} errors)\n\n", 100.0 * r.accuracy, r.errors);
  size_t w = 6;
  for (auto& l : r.labels) w = std::max(w, l.size() + 1);
  o << fmt::format("{:>{}}", "true\\pred", w + 4);
  for (auto& l : r.labels) o << fmt::format("{:>{}}", l, w);
  o << "\n";
  for (size_t i = 0; i < r.labels.size(); ++i) {
    o << fmt::format("{:>{}}", r.labels[i], w + 4);
    for (int c : r.confusion[i]) o << fmt::format("{:>{}}", c, w);
    o << "\n";
  }
  if (!r.mistakes.empty()) {
    o << "\nmisclassified:\n";
    for (auto& m : r.mistakes)
      o << fmt::format("  {}  {} -> {} (p = {:.3f})\n", m.file, m.truth, m.predicted, m.confidence);
  }
  if (r.kws) {
    if (r.foreign_clips > 0)
      o << fmt::format("\n{} clips of words the model has no class for (not in the accuracy)\n",
                       r.foreign_clips);
    o << "\n" << to_text(*r.kws);
  }
  auto& L = r.latency;
  o << fmt::format(
      "\nlatency (course protocol: {} runs, first {} dropped, {} ms pause, 1 thread), median ± "
      "std:\n"
      "  preprocess {:.4f} ± {:.4f} ms\n  model      {:.4f} ± {:.4f} ms\n"
      "  total      {:.4f} ± {:.4f} ms\n",
      L.runs, L.discarded, L.pause_ms, L.preprocess.median, L.preprocess.std, L.model.median,
      L.model.std, L.total.median, L.total.std);
  if (r.profile) o << "\n" << profile_table(*r.profile);
  return o.str();
}

}  // namespace tkws
