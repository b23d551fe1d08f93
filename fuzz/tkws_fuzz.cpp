// Fuzz target: the .tkws parser (format/tkws.h parse_model) and, for what it accepts, the
// runtime built from it: KwsPipeline::create and one clip through the front end and the
// network (float or int8), as `tinykws predict` would run a downloaded model file; then the
// streaming detector's row reuse (runtime/row_reuse.h, float or int8, kept rows in rings or
// moved) on windows sliding by 2 rows, which must give exactly the whole network's output.
// Each input is parsed as it is, then again with its size field and CRC-32 made to match
// (tkws_fixup.h).
#include <cstring>
#include <optional>
#include <vector>

#include "tinykws/format/tkws.h"
#include "tinykws/runtime/pipeline.h"
#include "tinykws/runtime/row_reuse.h"
#include "tkws_fixup.h"

namespace {

// The network's own invoke (`whole`) and row reuse on three windows of a feature sequence
// 2 rows apart (1 for a network of 2 rows or fewer) must give the same bytes, with the kept
// rows in rings stored twice and stored once and moved.
template <class Net, class Reuse, class Whole>
void compare_with_reuse(const Net& net, Reuse& reuse, Whole whole, bool moved) {
  const int rows = net.input_shape().h, shift = rows > 2 ? 2 : 1;
  if (rows <= shift) return;
  if (!reuse.create(net, shift, moved).ok()) __builtin_trap();
  const size_t row = net.input_size() / static_cast<size_t>(rows);
  std::vector<float> seq(net.input_size() + 2 * shift * row);
  for (size_t i = 0; i < seq.size(); ++i) seq[i] = static_cast<float>(i % 7) * 0.3f - 0.9f;
  std::vector<float> want(net.output_size()), got(net.output_size());
  for (int k = 0; k < 3; ++k) {
    const float* window = seq.data() + static_cast<size_t>(k) * shift * row;
    if (!whole(window, want.data())) return;
    reuse.invoke(window, got.data(), k > 0);
    if (std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) != 0) __builtin_trap();
  }
}
template <class Net, class Reuse, class Whole>
void compare_with_reuse(const Net& net, Reuse& reuse, Whole whole) {
  for (bool moved : {false, true}) compare_with_reuse(net, reuse, whole, moved);
}

void parse_and_run(const uint8_t* data, size_t size) {
  const std::optional<tkws::Model> parsed = tkws::fuzz::parse_or_refuse(data, size);
  if (!parsed) return;
  const tkws::Model& m = *parsed;
  // The reader's promise: what it returns passes check_model.
  if (!tkws::check_model(m).empty()) __builtin_trap();
  tkws::KwsPipeline p;
  if (!p.create(m).ok()) return;
  std::vector<float> clip(static_cast<size_t>(p.clip_samples()), 0.25f);
  std::vector<float> probs(static_cast<size_t>(p.num_labels()));
  (void)p.run(clip.data(), probs.data());
  // Row reuse against the whole network, three windows of a feature sequence 2 rows apart.
  if (p.is_int8()) {
    const tkws::Int8Network& net = p.int8_network();
    tkws::RowReuseInt8Network reuse;
    std::vector<uint8_t> arena(net.arena_bytes() + 1);
    compare_with_reuse(net, reuse, [&](const float* x, float* y) {
      return net.invoke(x, y, arena.data(), net.arena_bytes()).ok();
    });
  } else {
    const tkws::Interpreter& net = p.interpreter();
    tkws::RowReuseNetwork reuse;
    std::vector<float> arena(net.arena_bytes() / sizeof(float) + 1);
    compare_with_reuse(net, reuse, [&](const float* x, float* y) {
      return net.invoke(x, y, arena.data(), net.arena_bytes()).ok();
    });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tkws::fuzz::as_is_and_fixed(data, size, parse_and_run);
  return 0;
}
