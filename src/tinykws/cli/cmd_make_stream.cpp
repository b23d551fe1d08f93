// `tinykws make-stream`: a test stream (WAV) and its label CSV from a dataset split, for
// `tinykws stream-eval` (eval/stream_gen.h says how it is built).
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "tinykws/audio/dataset.h"
#include "tinykws/audio/wav.h"
#include "tinykws/cli/commands.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/stream_gen.h"

namespace tkws::cli {
namespace {

namespace fs = std::filesystem;

struct MakeStreamOptions {
  std::vector<std::string> data;
  std::string split = "val", out, labels_out, keywords, noise_dir;
  bool no_noise = false;
  StreamGenOptions gen;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> v;
  size_t at = 0;
  while (at <= s.size()) {
    const size_t c = std::min(s.find(',', at), s.size());
    if (c > at) v.push_back(s.substr(at, c - at));
    at = c + 1;
  }
  return v;
}

std::vector<std::string> wav_files(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".wav") v.push_back(e.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

Runner add_make_stream(CLI::App& app) {
  auto o = std::make_shared<MakeStreamOptions>();
  add_data_option(app, o->data);
  app.add_option("--split", o->split, "Split the clips come from: train, val or test");
  app.add_option("--out", o->out, "Stream WAV to write")->required();
  app.add_option("--labels-out", o->labels_out, "Label CSV to write (default: --out with .csv)");
  app.add_option("--keywords", o->keywords,
                 "Comma-separated keyword labels (default: the labels of the first --data "
                 "folder); every other label is an other word");
  app.add_option("--duration", o->gen.duration_s, "Seconds of stream [slot, 100000]")
      ->check(CLI::Range(0.0, 100000.0));
  app.add_option("--gap", o->gen.gap_s, "Seconds added to the clip length per slot [0, 60]");
  app.add_option("--others-share", o->gen.others_share,
                 "Fraction of slots holding another word [0, 1] (1: no keywords)");
  app.add_option("--snr-min", o->gen.snr_min_db, "Lowest SNR of the background, dB");
  app.add_option("--snr-max", o->gen.snr_max_db, "Highest SNR of the background, dB");
  app.add_option("--noise", o->noise_dir,
                 "Folder of background WAVs (default: _background_noise_ in a --data folder)");
  app.add_flag("--no-noise", o->no_noise, "No background noise");
  app.add_option("--rt60-min", o->gen.rt60_min_s,
                 "Shortest room reverberation time of the words, s (default 0.2; with --rt60-max)");
  app.add_option("--rt60-max", o->gen.rt60_max_s,
                 "Longest reverberation time, s; > 0 puts every word in a synthetic room");
  app.add_option("--drr-min", o->gen.drr_min_db, "Lowest direct-to-reverberant ratio, dB");
  app.add_option("--drr-max", o->gen.drr_max_db, "Highest direct-to-reverberant ratio, dB");
  app.add_option("--rate", o->gen.sample_rate, "Sample rate of the stream, Hz")
      ->check(CLI::Range(1000, 192000));
  app.add_option("--seed", o->gen.seed, "Random seed (the same seed gives the same stream)");
  const CLI::Option* rt60_min = app.get_option("--rt60-min");
  const CLI::Option* rt60_max = app.get_option("--rt60-max");
  return [o, rt60_min, rt60_max] {
    if (rt60_min->count() && !rt60_max->count())
      throw InputError("--rt60-min needs --rt60-max (the longest reverberation time, s)");
    o->data = require_data_dirs(o->data);
    const Split split = parse_split(o->split);
    o->gen.clip_samples = o->gen.sample_rate;  // 1 s clips
    o->gen.noise = !o->no_noise;
    std::vector<std::string> keywords = split_list(o->keywords);
    std::vector<StreamWordClip> kw, others;
    std::vector<std::string> noise;
    for (size_t i = 0; i < o->data.size(); ++i) {
      const Dataset ds = scan_dataset(o->data[i]);
      if (i == 0 && keywords.empty()) keywords = ds.labels;
      for (const ClipRef* c : ds.select(split)) {
        const std::string& label = ds.labels[static_cast<size_t>(c->label)];
        const bool is_kw = std::find(keywords.begin(), keywords.end(), label) != keywords.end();
        (is_kw ? kw : others).push_back({c->path, label});
      }
      if (o->noise_dir.empty() && noise.empty()) noise = ds.background;
    }
    if (!o->noise_dir.empty()) {
      if (!fs::is_directory(o->noise_dir))
        throw InputError("--noise " + o->noise_dir + ": not a folder");
      noise = wav_files(o->noise_dir);
    }
    const GeneratedStream g = generate_stream(kw, others, noise, o->gen);
    const std::string csv_path =
        o->labels_out.empty() ? fs::path(o->out).replace_extension(".csv").string() : o->labels_out;
    const std::string tmp = o->out + ".tmp." + std::to_string(::getpid()) + ".wav";
    write_wav_pcm16(tmp, g.audio, o->gen.sample_rate);
    if (std::rename(tmp.c_str(), o->out.c_str()) != 0) {
      std::remove(tmp.c_str());
      throw std::runtime_error(o->out + ": cannot rename the temporary file over it");
    }
    write_file_atomic(csv_path, stream_labels_csv(g.labels));
    std::printf(
        "wrote %s (%.1f s, %d keywords from %zu clips, %d other words from %zu clips, %s%s) "
        "and %s\n",
        o->out.c_str(), static_cast<double>(g.audio.size()) / o->gen.sample_rate, g.keywords,
        kw.size(), g.others, others.size(),
        o->gen.noise ? ("background at " + std::to_string(static_cast<int>(o->gen.snr_min_db)) +
                        "-" + std::to_string(static_cast<int>(o->gen.snr_max_db)) + " dB SNR")
                           .c_str()
                     : "no background",
        o->gen.rt60_max_s > 0.0
            ? fmt::format(", rooms of RT60 {:g}-{:g} s", o->gen.rt60_min_s, o->gen.rt60_max_s)
                  .c_str()
            : "",
        csv_path.c_str());
    return 0;
  };
}

}  // namespace tkws::cli
