// Runtime status (docs/architecture.md, conventions: the runtime returns a status and never throws
// or exits). A small value type: a code and a fixed message buffer, so reporting an error allocates
// nothing.
#pragma once
#include <cstdint>

namespace tkws {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidModel = 1,     // check_model() failed, or the model uses something unsupported
  kInvalidArgument = 2,  // null pointer or bad size passed by the caller
  kNotPrepared = 3,      // invoke()/run() before a successful prepare()/create()
  kArenaTooSmall = 4,    // arena smaller than arena_bytes(), or misaligned
  kUnsupported = 5,      // valid model, feature this build cannot run (e.g. an unknown dtype)
};

struct Status {
  StatusCode code = StatusCode::kOk;
  char message[152] = {};  // NUL-terminated, "" when ok

  bool ok() const { return code == StatusCode::kOk; }
  static Status Ok() { return Status{}; }
  // printf-style message, truncated to fit.
  static Status Error(StatusCode code, const char* fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
      ;
};

const char* status_code_name(StatusCode c);  // "ok", "invalid model", ...

}  // namespace tkws
