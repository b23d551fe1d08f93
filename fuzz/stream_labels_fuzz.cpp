// Fuzz target: the stream label CSV (eval/stream_metrics.h parse_stream_labels), then
// score_stream on what it accepts, with one detection at each row's start, end + 0.5 s and
// far after, so hits, duplicates, wrong labels and false accepts all occur.
#include <vector>

#include "fuzz_util.h"
#include "tinykws/common/error.h"
#include "tinykws/eval/stream_metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<tkws::StreamLabel> labels;
  try {
    labels = tkws::parse_stream_labels(tkws::fuzz::as_text(data, size), "fuzz.csv");
  } catch (const tkws::InputError&) {
    return 0;
  }
  std::vector<tkws::StreamDetection> dets;
  for (const auto& l : labels) {
    dets.push_back({l.start_s, l.label, 0.9f});
    dets.push_back({l.end_s + 0.5, l.label == "up" ? "down" : "up", 0.8f});
    dets.push_back({l.end_s + 100.0, l.label, 0.7f});
  }
  const double audio_s = labels.empty() ? 1.0 : labels.back().end_s + 200.0;
  (void)tkws::score_stream(
      labels, dets, [](const std::string& s) { return s == "up" || s == "down"; }, audio_s);
  return 0;
}
