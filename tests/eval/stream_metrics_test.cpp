// Streaming benchmark: the label CSV parser, the scoring rules, replaying decisions on a score
// trace, the threshold sweep, and the test-stream generator.
#include "tinykws/eval/stream_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include "tinykws/audio/wav.h"
#include "tinykws/common/csv.h"
#include "tinykws/common/error.h"
#include "tinykws/eval/stream_gen.h"

namespace tkws {
namespace {

namespace fs = std::filesystem;

std::string parse_error(const std::string& text) {
  try {
    parse_stream_labels(text, "s.csv");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(StreamLabels, ParsesRowsAndNamesBadLines) {
  const auto rows =
      parse_stream_labels("start_s,end_s,label\r\n1.5,2.25,up\n\n 3 , 3.5 , go \n", "s.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0].start_s, 1.5);
  EXPECT_DOUBLE_EQ(rows[0].end_s, 2.25);
  EXPECT_EQ(rows[0].label, "up");
  EXPECT_EQ(rows[1].label, "go");
  EXPECT_EQ(parse_error(""), "s.csv: empty, expected the header 'start_s,end_s,label'");
  EXPECT_EQ(parse_error("start,end,label\n"),
            "s.csv:1: expected the header 'start_s,end_s,label', found 'start,end,label'");
  const std::string h = "start_s,end_s,label\n";
  EXPECT_EQ(parse_error(h + "1,2\n"), "s.csv:2: expected 3 fields (start_s,end_s,label), found 2");
  EXPECT_EQ(parse_error(h + "1,2,up\nx,2,up\n"), "s.csv:3: start_s 'x' is not a number >= 0");
  EXPECT_EQ(parse_error(h + "-1,2,up\n"), "s.csv:2: start_s '-1' is not a number >= 0");
  EXPECT_EQ(parse_error(h + "2,1,up\n"), "s.csv:2: end_s '1' is not a number >= start_s");
  EXPECT_EQ(parse_error(h + "1,nan,up\n"), "s.csv:2: end_s 'nan' is not a number >= start_s");
  EXPECT_EQ(parse_error(h + "1,2,\n"), "s.csv:2: empty label");
  EXPECT_EQ(parse_error(h + "1,2,up,x\n"),
            "s.csv:2: expected 3 fields (start_s,end_s,label), found 4");
}

// A tiny fuzz loop: random edits of a valid file only ever parse or throw InputError.
TEST(StreamLabels, RandomEditsParseOrThrowInputError) {
  const std::string good = "start_s,end_s,label\n0.5,1.0,up\n2,2.5,down\n4.25,4.75,go\n";
  std::mt19937 rng(11);
  const std::string alphabet = "0123456789.,-e\n\r abupnaif";
  for (int i = 0; i < 5000; ++i) {
    std::string t = good;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      const size_t at = rng() % (t.size() + 1);
      switch (rng() % 3) {
        case 0:
          t.insert(t.begin() + static_cast<ptrdiff_t>(at), alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (at < t.size()) t.erase(at, 1);
          break;
        default:
          if (at < t.size()) t[at] = alphabet[rng() % alphabet.size()];
      }
    }
    try {
      for (const StreamLabel& r : parse_stream_labels(t, "f.csv")) {
        ASSERT_TRUE(std::isfinite(r.start_s) && r.start_s >= 0 && r.end_s >= r.start_s);
        ASSERT_FALSE(r.label.empty());
      }
    } catch (const InputError& e) {
      ASSERT_EQ(std::string(e.what()).rfind("f.csv", 0), 0u);
    }
  }
}

const auto kIsKeyword = [](const std::string& l) { return l == "up" || l == "down"; };

TEST(StreamScore, HitsMissesWrongLabelsAndFalseAccepts) {
  const std::vector<StreamLabel> truth = {
      {1.0, 1.5, "up"}, {4.0, 4.4, "down"}, {7.0, 7.5, "go"}, {10.0, 10.6, "up"}};
  const std::vector<StreamDetection> d = {
      {1.9, "up", 0.9f},     // hit, delay 0.4
      {2.3, "up", 0.9f},     // same window, already hit: duplicate
      {4.9, "up", 0.9f},     // inside down's window with the wrong label
      {7.6, "up", 0.9f},     // a distractor protects nothing: false accept
      {20.0, "down", 0.8f},  // false accept
      {11.7, "up", 0.9f},    // 1.1 s after the end: outside [start, end + 1]: false accept
  };
  const StreamScore s = score_stream(truth, d, kIsKeyword, 1800.0);
  EXPECT_EQ(s.keywords, 3);
  EXPECT_EQ(s.distractors, 1);
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 2);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(s.wrong_label, 1);
  EXPECT_EQ(s.false_accepts, 3);
  EXPECT_DOUBLE_EQ(s.fa_per_hour, 6.0);  // 3 in half an hour
  EXPECT_NEAR(s.miss_rate, 2.0 / 3.0, 1e-12);
  ASSERT_EQ(s.delays_s.size(), 1u);
  EXPECT_NEAR(s.median_delay_s, 0.4, 1e-12);
  // A wider window turns the late detection into a hit.
  EXPECT_EQ(score_stream(truth, d, kIsKeyword, 1800.0, 1.2).hits, 2);
}

TEST(StreamScore, ReplayAndSweepFollowTheDecider) {
  ScoreTrace t;
  t.num_labels = 3;  // down, up, _unknown_
  const float hi_up[] = {0.05f, 0.9f, 0.05f}, mid_down[] = {0.6f, 0.1f, 0.3f},
              unk[] = {0.0f, 0.0f, 1.0f};
  for (int h = 0; h < 60; ++h) {
    const double time = 1.0 + 0.1 * h;
    if (h >= 10 && h < 15)
      t.add(time, true, hi_up);  // an "up" at 2.0-2.4 s
    else if (h >= 30 && h < 35)
      t.add(time, true, mid_down);  // a weaker "down" at 4.0-4.4 s
    else if (h >= 50)
      t.add(time, false, nullptr);  // gate closed
    else
      t.add(time, true, unk);
  }
  DeciderConfig c;
  c.num_labels = 3, c.keyword = {1, 1, 0}, c.thresholds = {0.5f, 0.5f, 0.5f};
  c.smoothing_hops = 1, c.min_hops = 2, c.refractory_hops = 5;
  const std::vector<std::string> labels = {"down", "up", "_unknown_"};
  const auto det = replay_decisions(t, c, labels);
  ASSERT_EQ(det.size(), 2u);
  EXPECT_EQ(det[0].label, "up");
  EXPECT_NEAR(det[0].time_s, 2.1, 1e-9);
  EXPECT_EQ(det[1].label, "down");
  const std::vector<StreamLabel> truth = {{1.5, 2.0, "up"}, {3.5, 4.0, "down"}};
  const auto curve = sweep_thresholds(t, c, labels, {0.5f, 0.7f, 0.95f}, truth, kIsKeyword, 3600);
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_EQ(curve[0].score.hits, 2);
  EXPECT_EQ(curve[1].score.hits, 1);  // the down at 0.6 is lost
  EXPECT_EQ(curve[2].score.hits, 0);
  EXPECT_EQ(pick_for_fa_rate(curve, 0.0), &curve[0]);
  EXPECT_EQ(default_sweep_thresholds().size(), 26u);
}

TEST(StreamScore, HopScoresCsv) {
  ScoreTrace t;
  t.num_labels = 2;
  const float s[] = {0.25f, 0.75f};
  t.add(1.0, true, s);
  t.add(1.08, false, nullptr);
  EXPECT_EQ(hop_scores_csv(t, {"up", "a,\"b\""}),
            "time_s,network,up,\"a,\"\"b\"\"\"\n"
            "1.000,1,0.25,0.75\n"
            "1.080,0,0,0\n");
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(StreamGen, SlotsLabelsNoiseAndDeterminism) {
  const fs::path dir = fs::path(::testing::TempDir()) / "stream_gen_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Word clips: 0.3 s of tone at 0.2-0.5 s of a 1 s clip; a noise recording.
  auto tone_clip = [&](const std::string& name, double hz) {
    std::vector<float> x(16000, 0.0f);
    for (int i = 3200; i < 8000; ++i)
      x[i] = static_cast<float>(0.3 * std::sin(2 * M_PI * hz * i / 16000));
    const std::string p = (dir / name).string();
    write_wav_pcm16(p, x, 16000);
    return p;
  };
  const std::vector<StreamWordClip> kw = {{tone_clip("up.wav", 800), "up"}};
  const std::vector<StreamWordClip> other = {{tone_clip("go.wav", 300), "go"}};
  std::mt19937 rng(2);
  std::normal_distribution<float> g(0.0f, 0.1f);
  std::vector<float> noise(48000);
  for (float& v : noise) v = g(rng);
  write_wav_pcm16((dir / "noise.wav").string(), noise, 16000);
  StreamGenOptions o;
  o.duration_s = 61.0, o.gap_s = 1.0, o.others_share = 0.3, o.snr_min_db = o.snr_max_db = 10.0;
  o.seed = 7;
  const GeneratedStream a = generate_stream(kw, other, {(dir / "noise.wav").string()}, o);
  EXPECT_EQ(a.audio.size(), 30u * 32000);  // 30 whole slots of 2 s
  ASSERT_EQ(a.labels.size(), 30u);
  EXPECT_EQ(a.keywords + a.others, 30);
  EXPECT_GT(a.others, 2);
  EXPECT_GT(a.keywords, 12);
  for (size_t s = 0; s < a.labels.size(); ++s) {
    const StreamLabel& l = a.labels[s];
    EXPECT_NEAR(l.end_s - l.start_s, 0.3, 0.011) << s;  // the tone, to the 10 ms frame
    EXPECT_GE(l.start_s, 2.0 * s + 0.2 - 1e-9);
    EXPECT_LE(l.end_s, 2.0 * s + 1.5 + 1e-9);
  }
  // SNR 10 dB: the tone's power (0.045) is 10x the noise's inside a word.
  const size_t w0 = static_cast<size_t>(a.labels[0].start_s * 16000), slot_end = 32000;
  double noise_pow = 0;
  size_t count = 0;
  for (size_t i = 0; i < slot_end; ++i)
    if (i + 200 < w0 || i > static_cast<size_t>(a.labels[0].end_s * 16000) + 200)
      noise_pow += a.audio[i] * a.audio[i], ++count;
  EXPECT_NEAR(10 * std::log10(0.045 / (noise_pow / count)), 10.0, 0.5);
  const GeneratedStream b = generate_stream(kw, other, {(dir / "noise.wav").string()}, o);
  EXPECT_EQ(a.audio, b.audio);
  EXPECT_EQ(stream_labels_csv(a.labels), stream_labels_csv(b.labels));
  EXPECT_EQ(parse_stream_labels(stream_labels_csv(a.labels), "x").size(), 30u);
  // Rooms: every word reverberated, from a stream of its own, so the slots, words, labels and
  // noise are those of the dry stream; the reverberant tail lengthens each word.
  StreamGenOptions r = o;
  r.rt60_min_s = 0.4, r.rt60_max_s = 0.6, r.drr_min_db = r.drr_max_db = 0.0;
  const GeneratedStream wet = generate_stream(kw, other, {(dir / "noise.wav").string()}, r);
  EXPECT_EQ(stream_labels_csv(wet.labels), stream_labels_csv(a.labels));
  EXPECT_NE(wet.audio, a.audio);
  EXPECT_EQ(wet.audio, generate_stream(kw, other, {(dir / "noise.wav").string()}, r).audio);
  const size_t tail = static_cast<size_t>((a.labels[0].end_s + 0.01) * 16000);
  double dry_tail = 0, wet_tail = 0;
  for (size_t i = tail; i < tail + 1600; ++i)
    dry_tail += a.audio[i] * a.audio[i], wet_tail += wet.audio[i] * wet.audio[i];
  EXPECT_GT(wet_tail, 1.8 * dry_tail);  // 10-110 ms after the word: reverberation over noise
  r.rt60_min_s = 0.01;
  EXPECT_THROW(generate_stream(kw, other, {(dir / "noise.wav").string()}, r), InputError);
  r.rt60_min_s = 0.4, r.drr_max_db = 50.0;
  EXPECT_THROW(generate_stream(kw, other, {(dir / "noise.wav").string()}, r), InputError);
  o.seed = 8;
  EXPECT_NE(generate_stream(kw, other, {(dir / "noise.wav").string()}, o).audio, a.audio);
  o.others_share = 1.5;
  EXPECT_THROW(generate_stream(kw, other, {}, o), InputError);
  o.others_share = 0.3;
  EXPECT_THROW(generate_stream(kw, {}, {(dir / "noise.wav").string()}, o), InputError);
  EXPECT_THROW(generate_stream(kw, other, {}, o), InputError);  // noise on, none given
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tkws
