// Minimal NumPy .npy reader/writer (format v1.0; v2.0/v3.0 headers are also read) for
// C-order little-endian arrays of float32 ('<f4'), int16 ('<i2') and int32 ('<i4').
// Format: numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//   magic "\x93NUMPY", u8 major, u8 minor, header length (u16 LE for v1, u32 LE for v2/3),
//   an ASCII Python dict {'descr': ..., 'fortran_order': ..., 'shape': (...), } padded with
//   spaces and ended by '\n' so the data starts at a multiple of 64 bytes, then the data.
// Host-side code (used by tests, golden checks and `tinykws features`): it throws.
//   - read_npy<T>: tkws::InputError naming the file and the problem (bad magic, truncated,
//     "expected dtype '<f4', found '<i2'", ...).
//   - write_npy: std::runtime_error on an I/O failure. The file appears atomically (written to
//     a temporary file in the same folder, then renamed), so a reader never sees half a file.
#pragma once
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "tinykws/common/error.h"

namespace tkws {

// An array read from a .npy file: shape (row-major, C order) and the elements.
template <typename T>
struct NpyArray {
  std::vector<size_t> shape;  // empty for a 0-d array (one element)
  std::vector<T> data;        // product(shape) elements, C order

  size_t size() const { return data.size(); }
};

namespace npy_detail {

template <typename T>
constexpr const char* descr() {
  if constexpr (std::is_same_v<T, float>) {
    return "<f4";
  } else if constexpr (std::is_same_v<T, int16_t>) {
    return "<i2";
  } else {
    static_assert(std::is_same_v<T, int32_t>, "npy: only float, int16_t and int32_t");
    return "<i4";
  }
}

inline constexpr char kMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

// Reverses the bytes of each element in place (only used on big-endian hosts).
inline void swap_bytes(char* p, size_t count, size_t item) {
  for (size_t i = 0; i < count; ++i, p += item)
    for (size_t a = 0, b = item - 1; a < b; ++a, --b) std::swap(p[a], p[b]);
}

// Elements in a shape; throws InputError if the product overflows size_t.
inline size_t element_count(const std::vector<size_t>& shape, const std::string& path) {
  size_t n = 1;
  for (size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<size_t>::max() / d)
      throw InputError(path + ": npy shape is too large");
    n *= d;
  }
  return n;
}

inline std::string shape_text(const std::vector<size_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) s += ",";
    if (i + 1 < shape.size()) s += " ";
  }
  return s + ")";
}

// The header dict's value for `key` (text up to the matching ',' or '}' or ')').
// Returns false if the key is absent.
inline bool dict_value(const std::string& header, const std::string& key, std::string* value) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) k = header.find("\"" + key + "\"");
  if (k == std::string::npos) return false;
  size_t colon = header.find(':', k + key.size() + 2);
  if (colon == std::string::npos) return false;
  size_t b = header.find_first_not_of(" ", colon + 1);
  if (b == std::string::npos) return false;
  size_t e;
  if (header[b] == '(') {
    e = header.find(')', b);
    if (e == std::string::npos) return false;
    ++e;
  } else if (header[b] == '\'' || header[b] == '"') {
    e = header.find(header[b], b + 1);
    if (e == std::string::npos) return false;
    ++e;
  } else {
    e = header.find_first_of(",}", b);
    if (e == std::string::npos) return false;
  }
  *value = header.substr(b, e - b);
  while (!value->empty() && value->back() == ' ') value->pop_back();
  return true;
}

// Parses "(49, 40)", "(16000,)" or "()".
inline std::vector<size_t> parse_shape(const std::string& text, const std::string& path) {
  const auto bad = [&]() { return InputError(path + ": bad npy shape " + text); };
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') throw bad();
  std::vector<size_t> shape;
  size_t i = 1;
  const size_t end = text.size() - 1;
  while (i < end) {
    while (i < end && text[i] == ' ') ++i;
    if (i == end) break;
    if (text[i] < '0' || text[i] > '9') throw bad();
    size_t v = 0;
    while (i < end && text[i] >= '0' && text[i] <= '9') {
      const size_t digit = static_cast<size_t>(text[i] - '0');
      if (v > (std::numeric_limits<size_t>::max() - digit) / 10) throw bad();
      v = v * 10 + digit;
      ++i;
    }
    shape.push_back(v);
    while (i < end && text[i] == ' ') ++i;
    if (i < end) {
      if (text[i] != ',') throw bad();
      ++i;
    }
  }
  return shape;
}

}  // namespace npy_detail

// Writes data (product(shape) elements, C order) as a v1.0 .npy file at path, atomically.
template <typename T>
void write_npy(const std::string& path, const T* data, const std::vector<size_t>& shape) {
  namespace fs = std::filesystem;
  std::string header = std::string("{'descr': '") + npy_detail::descr<T>() +
                       "', 'fortran_order': False, 'shape': " + npy_detail::shape_text(shape) +
                       ", }";
  // Pad so that magic (6) + version (2) + length (2) + header is a multiple of 64 bytes.
  const size_t unpadded = 10 + header.size() + 1;  // + '\n'
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 65535) throw std::runtime_error(path + ": npy header too long");
  const size_t count = npy_detail::element_count(shape, path);

  // Temporary file in the destination folder, so the rename stays on one file system.
  std::random_device rd;
  const std::string tmp = path + ".tmp" + std::to_string(rd()) + std::to_string(rd());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(path + ": cannot create " + tmp + ": " + std::strerror(errno));
    const uint16_t len = static_cast<uint16_t>(header.size());
    const char prefix[10] = {npy_detail::kMagic[0],
                             npy_detail::kMagic[1],
                             npy_detail::kMagic[2],
                             npy_detail::kMagic[3],
                             npy_detail::kMagic[4],
                             npy_detail::kMagic[5],
                             1,
                             0,
                             static_cast<char>(len & 0xff),
                             static_cast<char>(len >> 8)};
    f.write(prefix, sizeof prefix);
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    if constexpr (std::endian::native == std::endian::little) {
      f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
    } else {
      std::vector<T> le(data, data + count);
      npy_detail::swap_bytes(reinterpret_cast<char*>(le.data()), count, sizeof(T));
      f.write(reinterpret_cast<const char*>(le.data()),
              static_cast<std::streamsize>(count * sizeof(T)));
    }
    f.flush();
    if (!f) {
      const std::string why = std::strerror(errno);
      f.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error(path + ": write failed: " + why);
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error(path + ": cannot rename " + tmp + ": " + ec.message());
  }
}

template <typename T>
void write_npy(const std::string& path, const std::vector<T>& data,
               const std::vector<size_t>& shape) {
  if (npy_detail::element_count(shape, path) != data.size())
    throw std::invalid_argument(path + ": write_npy: shape " + npy_detail::shape_text(shape) +
                                " does not match " + std::to_string(data.size()) + " elements");
  write_npy(path, data.data(), shape);
}

// Reads a .npy file whose dtype must be T's ('<f4', '<i2' or '<i4') and C order.
template <typename T>
NpyArray<T> read_npy(const std::string& path) {
  const auto fail = [&](const std::string& what) { return InputError(path + ": " + what); };
  std::ifstream f(path, std::ios::binary);
  if (!f) throw fail(std::string("cannot open npy file: ") + std::strerror(errno));
  f.seekg(0, std::ios::end);
  const std::streamoff file_size = f.tellg();
  f.seekg(0, std::ios::beg);
  if (file_size < 10) throw fail("not an npy file (truncated header: file is too short)");

  char prefix[8];
  f.read(prefix, sizeof prefix);
  if (!f || std::memcmp(prefix, npy_detail::kMagic, 6) != 0)
    throw fail("not an npy file (bad magic)");
  const unsigned major = static_cast<unsigned char>(prefix[6]);
  size_t header_len = 0;
  size_t prefix_len = 0;
  if (major == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (static_cast<size_t>(b[1]) << 8);
    prefix_len = 10;
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (static_cast<size_t>(b[1]) << 8) | (static_cast<size_t>(b[2]) << 16) |
                 (static_cast<size_t>(b[3]) << 24);
    prefix_len = 12;
  } else {
    throw fail("unsupported npy format version " + std::to_string(major));
  }
  if (!f) throw fail("truncated npy header");
  if (static_cast<std::streamoff>(prefix_len + header_len) > file_size)
    throw fail("truncated npy header: header says " + std::to_string(header_len) +
               " bytes, file has " + std::to_string(file_size - prefix_len));
  std::string header(header_len, '\0');
  f.read(header.data(), static_cast<std::streamsize>(header_len));
  if (!f) throw fail("truncated npy header");

  std::string descr, fortran, shape_str;
  if (!npy_detail::dict_value(header, "descr", &descr) ||
      !npy_detail::dict_value(header, "fortran_order", &fortran) ||
      !npy_detail::dict_value(header, "shape", &shape_str))
    throw fail("bad npy header (expected descr, fortran_order and shape): " + header);
  // descr is quoted; numpy writes '<' for little endian, '|' for one-byte types only.
  const std::string expected = std::string("'") + npy_detail::descr<T>() + "'";
  if (descr != expected && descr != "\"" + expected.substr(1, 3) + "\"")
    throw fail("expected dtype " + expected + ", found " + descr);
  if (fortran != "False") throw fail("fortran_order arrays are not supported (expected C order)");

  NpyArray<T> out;
  out.shape = npy_detail::parse_shape(shape_str, path);
  const size_t count = npy_detail::element_count(out.shape, path);
  const size_t data_bytes = static_cast<size_t>(file_size) - prefix_len - header_len;
  if (count > std::numeric_limits<size_t>::max() / sizeof(T) || data_bytes < count * sizeof(T))
    throw fail("truncated npy data: shape " + npy_detail::shape_text(out.shape) + " needs " +
               std::to_string(count * sizeof(T)) + " bytes, file has " +
               std::to_string(data_bytes));
  if (data_bytes > count * sizeof(T))
    throw fail("npy file has " + std::to_string(data_bytes - count * sizeof(T)) +
               " bytes after the data of shape " + npy_detail::shape_text(out.shape));
  out.data.resize(count);
  f.read(reinterpret_cast<char*>(out.data.data()), static_cast<std::streamsize>(count * sizeof(T)));
  if (!f) throw fail("read error in npy data");
  if constexpr (std::endian::native == std::endian::big)
    npy_detail::swap_bytes(reinterpret_cast<char*>(out.data.data()), count, sizeof(T));
  return out;
}

}  // namespace tkws
