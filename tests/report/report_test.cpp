// tinykws report: a fake run folder (metrics.json, eval.json, a model written in code and a
// tiny dataset) rendered to HTML; the page must be self-contained and hold every chart. A
// second test loads it in headless Chromium (skipped when Debian's `chromium` is absent).
#include "tinykws/eval/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "../format/test_models.h"
#include "tinykws/audio/wav.h"
#include "tinykws/common/error.h"
#include "tinykws/common/fs.h"
#include "tinykws/eval/metrics.h"
#include "tinykws/format/tkws.h"

namespace tkws {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tkws_report_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// 8 epochs, the last 3 in the clustering phase; labels of the tiny model.
json fake_metrics() {
  json h = json::array();
  for (int e = 1; e <= 8; ++e)
    h.push_back({{"epoch", e},
                 {"phase", e <= 5 ? "train" : "cluster"},
                 {"lr", 0.005 * (1.0 - e / 10.0)},
                 {"train_loss", 0.7 / e},
                 {"train_acc", 1.0 - 0.3 / e},
                 {"val_loss", 0.8 / e + 0.01},
                 {"val_acc", 1.0 - 0.35 / e},
                 {"sparsity", std::min(0.6, 0.15 * e)},
                 {"seconds", 1.1}});
  return {{"val_accuracy", 0.95}, {"best_epoch", 7},      {"epochs_run", 8},
          {"model_bytes", 1234},  {"parameters", 300},    {"quantize", "fp16"},
          {"sparsity", 0.6},      {"train_seconds", 9.0}, {"labels", {"down", "up", "yes"}},
          {"history", h}};
}

json fake_eval() {
  EvalReport r;
  r.labels = {"down", "up", "yes"};
  r.confusion = {{10, 1, 0}, {0, 9, 2}, {1, 0, 12}};
  r.n = 35;
  r.errors = 4;
  r.accuracy = 31.0 / 35;
  r.split = "val";
  r.latency.runs = 200;
  r.latency.discarded = 100;
  for (int i = 0; i < 100; ++i) r.latency.total_samples_ms.push_back(0.18 + 0.01 * std::sin(i));
  r.latency.total = {0.18, 0.007};
  return to_json(r);
}

// A run folder with metrics.json, eval.json and model.tkws (the tiny test model relabelled to
// down/up/yes), plus a dataset of 3 labels x 3 tone clips, 2 per label in the val list.
struct FakeRun {
  TempDir tmp;
  fs::path run, data;
  FakeRun(bool with_eval = true, bool with_model = true) {
    run = tmp.path() / "run";
    data = tmp.path() / "data";
    fs::create_directories(run);
    write_file_atomic((run / "metrics.json").string(), fake_metrics().dump(2));
    if (with_eval) write_file_atomic((run / "eval.json").string(), fake_eval().dump(2));
    Model m = testing_models::tiny_model();
    m.labels = {"down", "up", "yes"};
    if (with_model) write_model((run / "model.tkws").string(), m);
    std::string val_list;
    for (std::string label : {"down", "up", "yes"}) {
      fs::create_directories(data / label);
      for (int i = 0; i < 3; ++i) {
        std::vector<float> x(2560);
        for (size_t n = 0; n < x.size(); ++n)
          x[n] = 0.3f * std::sin(2 * M_PI * (300.0 + 400 * i + 100 * label.size()) * n / 16000);
        const std::string name = "spk" + std::to_string(i) + "_nohash_0.wav";
        write_wav_pcm16((data / label / name).string(), x, 16000);
        if (i < 2) val_list += label + "/" + name + "\n";
      }
    }
    write_file_atomic((data / "validation_list.txt").string(), val_list);
  }
};

void expect_self_contained(const std::string& html) {
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("</html>"));
}

TEST(Report, FullRunFolderHasEveryChart) {
  FakeRun f;
  ReportOptions opt;
  opt.run_dir = f.run.string();
  opt.data_dirs = {f.data.string()};
  std::vector<std::string> missing;
  const std::string html = render_report(opt, &missing);
  EXPECT_TRUE(missing.empty()) << ::testing::PrintToString(missing);
  expect_self_contained(html);
  for (const char* id : {"chart-loss", "chart-accuracy", "chart-sparsity", "chart-lr",
                         "chart-confusion", "chart-latency", "chart-tensors"})
    EXPECT_THAT(html, HasSubstr(std::string("<svg id=\"") + id + "\"")) << id;
  // 4 curve charts: train + val loss, train + val accuracy, sparsity, lr = 6 drawn series.
  EXPECT_EQ(count(html, "<path class=\"series\" d=\"M"), 6);
  EXPECT_THAT(html, HasSubstr(">clustering</text>"));  // the cluster phase is shaded
  EXPECT_EQ(count(html, "class=\"band\""), 4);
  // Confusion: 3 x 3 cells with their counts; latency histogram bars; one bar pair per tensor.
  EXPECT_THAT(html, HasSubstr("true up / predicted yes: 2"));
  EXPECT_GE(count(html, "runs</title>"), 10);
  const Model m = read_model((f.run / "model.tkws").string());
  for (const auto& t : m.tensors) EXPECT_THAT(html, HasSubstr(">" + t.name + "</text>"));
  // Spectrograms: 2 val clips per label x 3 labels, a log-mel (7 frames x 40 bands) and an
  // MFCC (7 x 10) heat map each.
  for (int i = 0; i < 6; ++i) {
    EXPECT_THAT(html, HasSubstr("<svg id=\"spec-" + std::to_string(i) + "\""));
    EXPECT_THAT(html, HasSubstr("<svg id=\"feat-" + std::to_string(i) + "\""));
  }
  EXPECT_THAT(html, Not(HasSubstr("id=\"spec-6\"")));
  EXPECT_THAT(html, Not(HasSubstr("spk2_nohash_0")));  // a training clip
  EXPECT_GE(count(html, "<rect x="), 6 * (7 * 40 + 7 * 10));
}

TEST(Report, WritesDefaultPathAndOut) {
  FakeRun f;
  ReportOptions opt;
  opt.run_dir = f.run.string();
  ReportResult r = write_report(opt);
  EXPECT_EQ(r.out_path, (f.run / "report.html").string());
  EXPECT_TRUE(fs::exists(r.out_path));
  EXPECT_EQ(fs::file_size(r.out_path), r.bytes);
  ASSERT_EQ(r.missing.size(), 1u);  // no dataset: spectrograms left out
  EXPECT_THAT(r.missing[0], HasSubstr("--data"));
  opt.out_path = (f.tmp.path() / "elsewhere.html").string();
  EXPECT_EQ(write_report(opt).out_path, opt.out_path);
  EXPECT_TRUE(fs::exists(opt.out_path));
}

TEST(Report, MissingSectionsSayHowToProduceThem) {
  FakeRun f(/*with_eval=*/false, /*with_model=*/false);
  ReportOptions opt;
  opt.run_dir = f.run.string();
  opt.data_dirs = {f.data.string()};
  std::vector<std::string> missing;
  const std::string html = render_report(opt, &missing);
  expect_self_contained(html);
  EXPECT_EQ(missing.size(), 3u) << ::testing::PrintToString(missing);
  EXPECT_THAT(html, HasSubstr("<svg id=\"chart-loss\""));
  EXPECT_THAT(html, Not(HasSubstr("chart-confusion")));
  EXPECT_THAT(html, Not(HasSubstr("chart-tensors")));
  EXPECT_THAT(html, HasSubstr("tinykws eval --model"));
  EXPECT_THAT(html, HasSubstr("class=\"missing\""));
}

TEST(Report, EvalJsonWithoutSamplesStillDrawsConfusion) {
  FakeRun f;
  json e = fake_eval();
  e["latency_ms"].erase("samples_total");
  write_file_atomic((f.run / "eval.json").string(), e.dump());
  ReportOptions opt;
  opt.run_dir = f.run.string();
  std::vector<std::string> missing;
  const std::string html = render_report(opt, &missing);
  EXPECT_THAT(html, HasSubstr("<svg id=\"chart-confusion\""));
  EXPECT_THAT(html, Not(HasSubstr("<svg id=\"chart-latency\"")));
  EXPECT_THAT(::testing::PrintToString(missing), HasSubstr("samples_total"));
}

TEST(Report, RunFolderWithoutMetricsIsAnInputErrorNamingIt) {
  TempDir tmp;
  ReportOptions opt;
  opt.run_dir = tmp.path().string();
  try {
    render_report(opt);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr(tmp.path().string()));
    EXPECT_THAT(e.what(), HasSubstr("metrics.json"));
  }
  opt.run_dir = (tmp.path() / "nope").string();
  EXPECT_THROW(render_report(opt), InputError);
  write_file_atomic((tmp.path() / "metrics.json").string(), "{\"history\": [");
  opt.run_dir = tmp.path().string();
  try {
    render_report(opt);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("metrics.json: not valid JSON"));
  }
}

TEST(Report, EvalJsonCarriesLatencySamples) {
  const json e = fake_eval();
  ASSERT_TRUE(e["latency_ms"].contains("samples_total"));
  EXPECT_EQ(e["latency_ms"]["samples_total"].size(), 100u);
}

TEST(Report, HelpersEscapeAndColour) {
  EXPECT_EQ(html_escape("<a&\"b'>"), "&lt;a&amp;&quot;b&#39;&gt;");
  EXPECT_EQ(viridis(0), "#440154");
  EXPECT_EQ(viridis(1), "#fde725");
  EXPECT_EQ(viridis(NAN), "#440154");
  LineChart c;
  c.id = "x";
  c.series = {{"<s>", {1, 2, 3}, {1, NAN, 3}, "#000", false}};
  const std::string svg = svg_line_chart(c);
  EXPECT_THAT(svg, HasSubstr("&lt;s&gt;"));
  EXPECT_EQ(count(svg, "M"), 2);  // the NaN lifts the pen: two sub-paths
}

// ---- headless Chromium ----

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// Runs a shell command, returns its stdout; *rc gets the exit status.
std::string run(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *rc = ::pclose(p);
  return out;
}

std::string chromium_cmd(const std::string& exe, const fs::path& profile) {
  return exe +
         " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
         " --disable-background-networking --disable-component-update --disable-sync"
         " --user-data-dir=" +
         profile.string();
}

TEST(ReportChromium, PageLoadsAndChartsAreDrawn) {
  const std::string exe = find_chromium();
  if (exe.empty()) GTEST_SKIP() << "chromium not installed (apt-get install -y chromium)";
  FakeRun f;
  ReportOptions opt;
  opt.run_dir = f.run.string();
  opt.data_dirs = {f.data.string()};
  const std::string page = write_report(opt).out_path;
  const fs::path profile = f.tmp.path() / "profile";
  fs::create_directories(profile);
  const fs::path log = f.tmp.path() / "chromium.log";
  int rc = -1;
  const std::string dom = run("timeout 120 " + chromium_cmd(exe, profile) + " --dump-dom file://" +
                                  page + " 2>" + log.string(),
                              &rc);
  ASSERT_EQ(rc, 0) << "chromium failed; its log:\n" << read_text_file(log.string());
  // The DOM after load: every chart is an <svg> with drawn content.
  EXPECT_THAT(dom, HasSubstr("</html>"));
  EXPECT_THAT(dom, Not(HasSubstr("parsererror")));
  for (const char* id : {"chart-loss", "chart-accuracy", "chart-sparsity", "chart-lr",
                         "chart-confusion", "chart-latency", "chart-tensors", "spec-0", "feat-5"})
    EXPECT_THAT(dom, HasSubstr(std::string("<svg id=\"") + id + "\"")) << id;
  EXPECT_EQ(count(dom, "<path class=\"series\" d=\"M"), 6);
  EXPECT_GE(count(dom, "<rect class=\"bar\""), 10);
  EXPECT_GE(count(dom, "<rect "), 6 * (7 * 40 + 7 * 10));
  // Nothing was fetched from anywhere but the file itself.
  EXPECT_THAT(read_text_file(log.string()), Not(HasSubstr("ERR_FILE_NOT_FOUND")));

  // A screenshot: a drawn page is far from blank (a blank PNG of this size is ~10 kB).
  const fs::path png = f.tmp.path() / "shot.png";
  run("timeout 120 " + chromium_cmd(exe, profile) + " --hide-scrollbars --window-size=1100,2400" +
          " --screenshot=" + png.string() + " file://" + page + " >/dev/null 2>&1",
      &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 40000u);
}

}  // namespace
}  // namespace tkws
