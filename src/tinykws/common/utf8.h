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
    // The lead byte gives the sequence length; a continuation byte first, C0/C1 (overlong)
    // and F5-FF are never lead bytes.
    const int extra = c >= 0xC2 && c <= 0xDF   ? 1
                      : c >= 0xE0 && c <= 0xEF ? 2
                      : c >= 0xF0 && c <= 0xF4 ? 3
                                               : 0;
    if (extra == 0) return false;
    unsigned long cp = c & (0x3Fu >> extra);
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
