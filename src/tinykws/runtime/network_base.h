// Internal to the runtime: what Interpreter (float) and Int8Network (int8) share. Both plan a
// sequence of steps in prepare() and report the same facts about the plan; both call an optional
// step hook, with an event type of their own. Derived classes keep their steps in `steps_`
// (each with a `name`) and befriend the base.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinykws/format/model.h"

namespace tkws::detail {

// Buffers of the ping-pong plan (plan::plan_ping_pong): the caller's input, arena buffers A and
// B, the caller's output. Values index invoke()'s buffer table.
enum StepBuffer : uint8_t { kStepInput = 0, kArenaA = 1, kArenaB = 2, kStepOutput = 3 };

template <class Derived, class Event>
class NetworkBase {
 public:
  using Hook = void (*)(void* user, const Event& e);

  bool prepared() const { return !self().steps_.empty(); }

  size_t arena_bytes() const { return arena_bytes_; }  // what invoke() needs
  ActShape input_shape() const { return input_; }
  ActShape output_shape() const { return output_; }
  size_t input_size() const { return input_.size(); }
  size_t output_size() const { return output_.size(); }
  // "reference", or the fast set's instruction set ("avx2+fma", "avx2", "generic", ...).
  const char* kernel_set_name() const { return kernel_set_name_; }
  int num_steps() const { return static_cast<int>(self().steps_.size()); }
  const char* step_name(int i) const { return self().steps_[static_cast<size_t>(i)].name; }

  void set_step_hook(Hook hook, void* user) { hook_ = hook, hook_user_ = user; }

 protected:
  NetworkBase() = default;
  NetworkBase(const NetworkBase&) = delete;
  NetworkBase& operator=(const NetworkBase&) = delete;
  NetworkBase(NetworkBase&&) noexcept = default;
  NetworkBase& operator=(NetworkBase&&) noexcept = default;
  ~NetworkBase() = default;

  // Back to a default-constructed Derived, keeping the step hook (prepare() starts here).
  void reset_keeping_hook() {
    const Hook hook = hook_;
    void* const user = hook_user_;
    static_cast<Derived&>(*this) = Derived();
    hook_ = hook, hook_user_ = user;
  }

  size_t arena_bytes_ = 0;
  ActShape input_, output_;
  const char* kernel_set_name_ = "";
  Hook hook_ = nullptr;
  void* hook_user_ = nullptr;

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace tkws::detail
