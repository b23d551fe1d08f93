#include "tinykws/runtime/status.h"

#include <cstdarg>
#include <cstdio>

namespace tkws {

Status Status::Error(StatusCode code, const char* fmt, ...) {
  Status s;
  s.code = code;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(s.message, sizeof s.message, fmt, ap);
  va_end(ap);
  return s;
}

const char* status_code_name(StatusCode c) {
  switch (c) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidModel:
      return "invalid model";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kNotPrepared:
      return "not prepared";
    case StatusCode::kArenaTooSmall:
      return "arena too small";
    case StatusCode::kUnsupported:
      return "unsupported";
  }
  return "?";
}

}  // namespace tkws
