// Internal to the runtime: the planning steps Interpreter::prepare() and Int8Network::prepare()
// share (shapes, kernel set, ping-pong buffers, pool offsets), and invoke()'s argument checks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinykws/format/model.h"
#include "tinykws/runtime/network_base.h"
#include "tinykws/runtime/status.h"

namespace tkws::plan {

inline size_t round_up(size_t n, size_t a) {
  return (n + a - 1) / a * a;
}

// Activation shapes of `m` from input shape `in`: (*shapes)[i] is op i's input, the last entry
// the network's output. kInvalidModel with op_output_shape()'s message if an op does not apply.
inline Status plan_shapes(const Model& m, ActShape in, std::vector<ActShape>* shapes) {
  const size_t n = m.ops.size();
  shapes->assign(n + 1, ActShape{});
  (*shapes)[0] = in;
  for (size_t i = 0; i < n; ++i)
    if (std::string e = op_output_shape(m, i, (*shapes)[i], &(*shapes)[i + 1]); !e.empty())
      return Status::Error(StatusCode::kInvalidModel, "%s", e.c_str());
  return Status::Ok();
}

// The fast kernel set `index` of list_sets() (best first; clamped to what exists), or nullptr
// when `fast` is false. *name gets the set's isa, or "reference".
template <class K>
const K* pick_kernel_set(bool fast, const K* const* (*list_sets)(int*), int index,
                         const char** name) {
  if (!fast) {
    *name = "reference";
    return nullptr;
  }
  int count = 0;
  const K* const* sets = list_sets(&count);
  const K* k = sets[index < 0 ? 0 : index < count ? index : count - 1];
  *name = k->isa;
  return k;
}

// Ping-pong buffers: step 0 reads the input, each step writes A or B in turn and the next reads
// it; the last step writes the output. Sets every step's src and dst and
// returns the largest activation (elements) written to A and to B.
template <class Step>
void plan_ping_pong(std::vector<Step>& steps, size_t* max_a, size_t* max_b) {
  using namespace detail;  // StepBuffer
  *max_a = *max_b = 0;
  StepBuffer cur = kStepInput;
  for (size_t k = 0; k < steps.size(); ++k) {
    Step& s = steps[k];
    s.src = cur;
    s.dst = k + 1 == steps.size() ? kStepOutput : cur == kArenaA ? kArenaB : kArenaA;
    size_t& mx = s.dst == kArenaA ? *max_a : *max_b;
    if (s.dst != kStepOutput && s.args.out.size() > mx) mx = s.args.out.size();
    cur = s.dst;
  }
}

// The element `off` entries into `base`; nullptr for SIZE_MAX (none).
template <class T>
const T* at_offset(const T* base, size_t off) {
  return off == SIZE_MAX ? nullptr : base + off;
}

// invoke()'s argument checks: kNotPrepared ("invoke: <who> is not prepared"), kInvalidArgument
// (null input or output), kArenaTooSmall ("invoke: arena of N bytes, <needer> needs M"; a null
// arena is fine only when `need` is 0). Ok when all pass.
inline Status check_invoke(const char* who, const char* needer, bool prepared, const void* in,
                           const void* out, const void* arena, size_t have, size_t need) {
  if (!prepared) return Status::Error(StatusCode::kNotPrepared, "invoke: %s is not prepared", who);
  if (!in || !out)
    return Status::Error(StatusCode::kInvalidArgument, "invoke: null input or output");
  if (have < need || (need != 0 && !arena))
    return Status::Error(StatusCode::kArenaTooSmall, "invoke: arena of %zu bytes, %s needs %zu",
                         have, needer, need);
  return Status::Ok();
}

}  // namespace tkws::plan
