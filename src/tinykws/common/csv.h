// One CSV field as RFC 4180 writes it: as it is, or in double quotes (inner quotes doubled)
// when it holds a comma, a quote or a line break. For the CSV files tinykws writes
// (`eval --scores`, `stream-eval --hop-scores`).
#pragma once
#include <string>

namespace tkws {

inline std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

}  // namespace tkws
