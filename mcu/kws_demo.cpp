// The streaming detector on a microcontroller: firmware for a Cortex-M4F (scripts/mcu.sh
// builds it for MPS2 AN386 and runs it under qemu-system-arm) that carries a .tkws model (the
// C array of `tinykws export --format c`) and a stretch of audio in flash. It parses the model,
// runs StreamDetector (runtime/detector.h) over the whole audio in 10 ms pushes, as a board's
// audio interrupt would hand them over, and prints every hop's network scores, every detection
// and the memory it used. The same source built
// for the host prints the same lines (the memory lines apart), which is how scripts/mcu.sh and
// the `mcu` test check that the board computes what the host computes.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "tinykws/format/tkws.h"
#include "tinykws/runtime/detector.h"

#if defined(__arm__) && !defined(__linux__)
#include <malloc.h>
#define TINYKWS_MCU_BOARD 1
#endif

#ifndef TINYKWS_MCU_MODEL
#define TINYKWS_MCU_MODEL g_kws_model_model_data
#endif
#define TINYKWS_CAT(a, b) a##b
#define TINYKWS_SIZE(sym) TINYKWS_CAT(sym, _size)
// A threshold for every keyword instead of the model's (< 0: the model's).
#ifndef TINYKWS_MCU_THRESHOLD
#define TINYKWS_MCU_THRESHOLD -1
#endif
constexpr float kThreshold = static_cast<float>(TINYKWS_MCU_THRESHOLD);

extern "C" {
extern const unsigned char TINYKWS_MCU_MODEL[];
extern const unsigned int TINYKWS_SIZE(TINYKWS_MCU_MODEL);
extern const unsigned char tinykws_mcu_audio[];
extern const unsigned char tinykws_mcu_audio_end[];
}

namespace {

#ifdef TINYKWS_MCU_BOARD
// The stack below main's frame is painted, so its deepest use shows at the end. Addresses come
// from the stack pointer and are read and written through volatile pointers, so the compiler
// cannot treat the region as some object's and drop the stores.
constexpr uintptr_t kStackPaint = 32 * 1024;
constexpr uint32_t kPaint = 0x5A5AA5A5u;
uintptr_t g_paint_top = 0;
inline uintptr_t stack_pointer() {
  uintptr_t sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  return sp;
}
__attribute__((noinline)) void paint_stack() {
  g_paint_top = (stack_pointer() - 256) & ~uintptr_t{3};
  for (uintptr_t a = g_paint_top - kStackPaint; a < g_paint_top; a += 4)
    *reinterpret_cast<volatile uint32_t*>(a) = kPaint;
}
// SysTick, the core's 24-bit down-counter, on the processor clock: cycles on a real part. Under
// qemu -icount shift=0 (scripts/mcu.sh) virtual time advances 1 ns per instruction and the MPS2
// board's 25 MHz clock ticks once per 40 instructions, so it counts instructions instead.
volatile uint32_t& systick_reg(uintptr_t a) {
  return *reinterpret_cast<volatile uint32_t*>(a);
}
void systick_start() {
  systick_reg(0xE000E014u) = 0xFFFFFFu;  // reload
  systick_reg(0xE000E018u) = 0;          // current value
  systick_reg(0xE000E010u) = 5;          // enable, processor clock, no interrupt
}
uint32_t systick_now() {
  return systick_reg(0xE000E018u);
}
uint32_t systick_since(uint32_t t0) {
  return (t0 - systick_now()) & 0xFFFFFFu;
}
uint64_t g_callback_ticks = 0;  // spent printing inside push(), left out of the count
#else
uint32_t systick_now() {
  return 0;
}
uint32_t systick_since(uint32_t) {
  return 0;
}
uint64_t g_callback_ticks = 0;
#endif
#if defined(TINYKWS_MCU_BOARD) && defined(TINYKWS_MCU_PROFILE)
// A sampling profiler (scripts/mcu.sh --profile): the board's timer 0 (an Arm CMSDK APB timer
// at 0x40000000, IRQ 8, on the 25 MHz peripheral clock, so one tick per 40 instructions under
// -icount shift=0) interrupts every kProfileTicks ticks while push() runs, and the handler
// records the interrupted program counter, which the processor stacked 24 bytes into the
// exception frame. The samples are printed between pushes ("prof <hex pc>"); mcu.sh maps them to
// functions. The interrupts cost ~15 instructions per sample (0.15 %), inside the count.
constexpr uint32_t kProfileTicks = 250;  // 10,000 instructions
constexpr uint32_t kProfileMax = 2048;
uint32_t g_prof[kProfileMax];
volatile uint32_t g_prof_n = 0;
volatile uint32_t& timer0(uintptr_t off) {
  return *reinterpret_cast<volatile uint32_t*>(0x40000000u + off);
}
void profile_start() {
  timer0(0x8) = kProfileTicks;  // reload
  timer0(0x4) = kProfileTicks;  // value
  timer0(0x0) = 1u | 8u;        // enable, interrupt enable
}
void profile_stop() {
  timer0(0x0) = 0;
}
bool profile_half_full() {
  return g_prof_n > kProfileMax / 2;  // a push takes < 2^20 instructions: < 105 samples
}
void profile_flush() {
  const uint32_t n = g_prof_n;
  for (uint32_t i = 0; i < n; ++i) std::printf("prof %lx\n", static_cast<unsigned long>(g_prof[i]));
  g_prof_n = 0;
}
}  // namespace
extern "C" void tinykws_profile_sample(const uint32_t* frame) {
  if (g_prof_n < kProfileMax) g_prof[g_prof_n++] = frame[6];
  timer0(0xC) = 1;  // clear the interrupt
}
// The exception frame is on the main stack (the firmware never switches to the process stack).
extern "C" __attribute__((naked)) void tinykws_timer0_irq() {
  __asm volatile("mrs r0, msp\n\tb tinykws_profile_sample");
}
namespace {
#else
void profile_start() {}
void profile_stop() {}
bool profile_half_full() {
  return false;
}
void profile_flush() {}
#endif
#ifdef TINYKWS_MCU_BOARD
// Bytes of stack used below main's frame (within the painted 32 kB).
uintptr_t stack_used() {
  uintptr_t a = g_paint_top - kStackPaint;
  while (a < g_paint_top && *reinterpret_cast<volatile uint32_t*>(a) == kPaint) a += 4;
  return g_paint_top - a;
}
#endif

struct Out {
  const std::vector<std::string>* labels;
  int events = 0;
};

// The callbacks' printing is left out of the instruction count and the profile.
void on_hop(void* user, const tkws::HopInfo& h) {
  if (!h.ran) return;
  profile_stop();
  const uint32_t t0 = systick_now();
  const auto* out = static_cast<const Out*>(user);
  std::printf("hop %lld", static_cast<long long>(h.end_sample));
  for (size_t i = 0; i < out->labels->size(); ++i) std::printf(" %.6f", h.scores[i]);
  std::printf("\n");
  g_callback_ticks += systick_since(t0);
  profile_start();
}

void on_event(void* user, const tkws::DetectionEvent& e) {
  profile_stop();
  const uint32_t t0 = systick_now();
  auto* out = static_cast<Out*>(user);
  std::printf("event %lld %s %.6f\n", static_cast<long long>(e.end_sample),
              (*out->labels)[e.label].c_str(), e.score);
  ++out->events;
  g_callback_ticks += systick_since(t0);
  profile_start();
}

}  // namespace

int main() {
#ifdef TINYKWS_MCU_BOARD
  paint_stack();
  // What the C++ library holds before main (libstdc++'s emergency exception buffer).
  const size_t heap_start = mallinfo().uordblks;
#endif
  const uint8_t* model_bytes = TINYKWS_MCU_MODEL;
  const size_t model_size = TINYKWS_SIZE(TINYKWS_MCU_MODEL);
  const auto* pcm = reinterpret_cast<const int16_t*>(tinykws_mcu_audio);
  const size_t n = static_cast<size_t>(tinykws_mcu_audio_end - tinykws_mcu_audio) / 2;

  // The streaming detector.
  tkws::Model m;
  std::string err;
  if (!tkws::try_parse_model(model_bytes, model_size, "model", &m, &err)) {
    std::printf("error %s\n", err.c_str());
    return 1;
  }
  tkws::DetectorSettings s = m.detector;
  if (kThreshold >= 0.0f) s.threshold = kThreshold, s.thresholds.clear();
  tkws::StreamDetector det;
  tkws::InterpreterOptions opt;  // kept rows stored once in this build (TINYKWS_SMALL_RAM)
#ifdef TINYKWS_MCU_REFERENCE_KERNELS
  opt.kernels = tkws::KernelSet::kReference;  // plain loops, weights as stored
#endif
  if (tkws::Status st = det.create(m, s, opt); !st.ok()) {
    std::printf("error %s\n", st.message);
    return 1;
  }
  m = tkws::Model();  // the detector keeps what it needs
  // %lu with casts: newlib's printf has no %zu.
  std::printf("model labels %lu hop_ms %.0f reuse %d threshold %.3f samples %lu\n",
              static_cast<unsigned long>(det.labels().size()), det.hop_ms(),
              det.reuses_activations() ? 1 : 0, s.threshold, static_cast<unsigned long>(n));
#ifdef TINYKWS_MCU_BOARD
  const size_t heap_ready = mallinfo().uordblks;
#endif
  Out out{&det.labels()};
  det.set_hop_hook(on_hop, &out);
  float chunk[160];  // 10 ms at 16 kHz
#ifdef TINYKWS_MCU_BOARD
  systick_start();
#endif
#if defined(TINYKWS_MCU_BOARD) && defined(TINYKWS_MCU_PROFILE)
  *reinterpret_cast<volatile uint32_t*>(0xE000E100u) = 1u << 8;  // NVIC: enable IRQ 8
#endif
  uint64_t push_ticks = 0;  // inside push(), one push (< 2^24 ticks) at a time
  for (size_t i = 0; i < n;) {
    const size_t k = n - i < 160 ? n - i : 160;
    for (size_t j = 0; j < k; ++j) chunk[j] = pcm[i + j] / 32768.0f;
    const uint32_t t0 = systick_now();
    profile_start();
    const tkws::Status st = det.push(chunk, k, on_event, &out);
    profile_stop();
    push_ticks += systick_since(t0);
    if (profile_half_full()) profile_flush();
    if (!st.ok()) {
      std::printf("error %s\n", st.message);
      return 1;
    }
    i += k;
  }
  profile_flush();
  std::printf("done hops %lld runs %lld events %d\n", static_cast<long long>(det.hops()),
              static_cast<long long>(det.network_runs()), out.events);
#ifdef TINYKWS_MCU_BOARD
  const struct mallinfo mi = mallinfo();
  std::printf("ticks %llu\n", static_cast<unsigned long long>(push_ticks - g_callback_ticks));
  std::printf(
      "memory state %lu heap_at_start %lu heap_in_use %lu heap_after_stream %lu heap_peak %lu "
      "stack %lu\n",
      static_cast<unsigned long>(det.state_bytes()), static_cast<unsigned long>(heap_start),
      static_cast<unsigned long>(heap_ready), static_cast<unsigned long>(mi.uordblks),
      static_cast<unsigned long>(mi.arena), static_cast<unsigned long>(stack_used()));
#endif
  return 0;
}
