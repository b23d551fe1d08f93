// Per-layer profile of a KwsPipeline (`tinykws eval --profile`): the front end as one row, then
// one row per network step (the float Interpreter's plan steps, a conv with its folded
// BatchNorm and fused ReLU being one step; Int8Network's ops), each with its median time per
// run and its multiply-accumulates (MACs) computed from the op shapes.
//
// Timing: the same noise input as the latency protocol (metrics.h, docs/training.md), `runs`
// runs of which the first `discard` are dropped, no pause (a breakdown of where the time goes,
// not the protocol's number), one thread. Float steps are timed between the interpreter's
// before/after hook events; int8 ops between consecutive after-events, the first op from the
// start of the network call (so it includes quantising the input features, a few hundred
// values). "other" = network call time - sum of step times: input/output (de)quantisation,
// argument checks and the hook's own clock reads.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinykws/eval/metrics.h"
#include "tinykws/format/model.h"

namespace tkws {

class KwsPipeline;

// MACs of op i of `m` on input `in` (one multiply-add = 1):
//   Conv2D          out_h * out_w * out_c * in_c * kh * kw   (padded cells counted: the
//   DepthwiseConv2D out_h * out_w * c * kh * kw               usual convention)
//   Dense           in_size * units
//   BatchNorm       h * w * c                                 (y = x * scale + shift)
//   Relu, pools, GlobalAvgPool, Softmax: 0 (no multiply-accumulate).
// `out` (optional) receives the output shape. InputError with check's message if the op does
// not apply to `in`.
int64_t op_macs(const Model& m, size_t op_index, ActShape in, ActShape* out = nullptr);
// Every op's MACs, the input being model_input_shape(m).
std::vector<int64_t> model_macs(const Model& m);

struct ProfileRow {
  std::string name;                 // "front end" or the step name, e.g. "Conv2D+BatchNorm+Relu"
  int first_op = -1, last_op = -1;  // model ops run by this row (-1: not a network op)
  ActShape shape;                   // output shape (front end: [frames][features][1])
  int64_t macs = 0;  // a BatchNorm folded into the step's conv / dense counts 0 (it costs nothing)
  Stat time;         // ms per run (median, std over the kept runs)
};

struct Profile {
  std::string runner;   // "float" (Interpreter) or "int8" (Int8Network)
  std::string kernels;  // kernel set name ("avx2+fma", "reference", ...)
  int runs = 0, discarded = 0;
  std::vector<ProfileRow> rows;  // [0] the front end (normalisation + features), then the steps
  Stat frontend, network, steps_sum, other;  // ms per run; other = network - steps_sum
  int64_t network_macs = 0;                  // sum of the step rows
};

// Runs the pipeline `runs` times with a step hook installed (removed again before returning).
// runs >= 1, 0 <= discard < runs.
Profile profile_pipeline(KwsPipeline& pipe, const Model& m, int runs = 200, int discard = 100,
                         uint64_t seed = 0);

nlohmann::json profile_json(const Profile& p);
std::string profile_table(const Profile& p);

}  // namespace tkws
