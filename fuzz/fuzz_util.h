// Shared by the libFuzzer targets in fuzz/ (see docs/reliability.md). Each target feeds its input
// to one parser: a tkws::InputError is the expected answer to bad input; any other exception,
// a crash or a sanitizer report is a finding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tkws::fuzz {

inline std::string as_text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace tkws::fuzz
