// Names that travel into JSON, protobuf (ONNX) and flatbuffer (TFLite) strings must be valid
// UTF-8: labels (dataset folders, model files) and tensor names. Header-only.
#pragma once
#include <cstddef>
#include <string_view>

namespace tkws {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) and,
// with `allow_control` false, holds no control character (U+0000-U+001F, U+007F).
inline bool is_utf8_text(std::string_view s, bool allow_control = false) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (!allow_control && (c < 0x20 || c == 0x7F)) return false;
      ++i;
      continue;
    }
    int extra;
    unsigned long cp;
    if (c >= 0xC2 && c <= 0xDF) extra = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) extra = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) extra = 3, cp = c & 0x07;
    else return false;  // a continuation byte first, C0/C1 (overlong), or F5-FF
    if (s.size() - i <= static_cast<size_t>(extra)) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

}  // namespace tkws
