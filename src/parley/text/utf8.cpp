#include "parley/text/utf8.hpp"

#include <cassert>
#include <optional>

namespace parley::text {
namespace {

constexpr char32_t k_replacement = 0xFFFD;

unsigned char byte(char c) { return static_cast<unsigned char>(c); }

bool is_continuation(char c) { return (byte(c) & 0xC0) == 0x80; }

struct lead_byte {
  std::size_t n_bytes;
  unsigned char second_min;  // the second byte's range rules out overlong forms,
  unsigned char second_max;  // surrogates (ED A0..) and values above U+10FFFF (F4 90..)
};

std::optional<lead_byte> classify_lead(unsigned char b) {
  if (b >= 0xC2 && b <= 0xDF) return lead_byte{2, 0x80, 0xBF};
  if (b == 0xE0) return lead_byte{3, 0xA0, 0xBF};
  if (b == 0xED) return lead_byte{3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return lead_byte{3, 0x80, 0xBF};
  if (b == 0xF0) return lead_byte{4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return lead_byte{4, 0x80, 0xBF};
  if (b == 0xF4) return lead_byte{4, 0x80, 0x8F};
  return std::nullopt;  // 80..C1 (continuation or overlong lead), F5..FF
}

}  // namespace

utf8_code_point decode_utf8(std::string_view s) {
  assert(!s.empty());
  const unsigned char b0 = byte(s[0]);
  if (b0 < 0x80) return {b0, 1, utf8_status::valid};
  const std::optional<lead_byte> lead = classify_lead(b0);
  if (!lead) return {k_replacement, 1, utf8_status::invalid};
  char32_t value = b0 & (0x7Fu >> lead->n_bytes);
  for (std::size_t i = 1; i < lead->n_bytes; ++i) {
    if (i == s.size()) return {k_replacement, i, utf8_status::truncated};
    const unsigned char b = byte(s[i]);
    const bool in_range = i == 1 ? b >= lead->second_min && b <= lead->second_max : is_continuation(s[i]);
    if (!in_range) return {k_replacement, i, utf8_status::invalid};
    value = (value << 6) | (b & 0x3Fu);
  }
  return {value, lead->n_bytes, utf8_status::valid};
}

std::size_t utf8_complete_prefix(std::string_view s) {
  // Only the last code point can be cut short: it starts at the last non-continuation byte
  // among the final four.
  const std::size_t first = s.size() > 4 ? s.size() - 4 : 0;
  for (std::size_t start = s.size(); start-- > first;) {
    if (!is_continuation(s[start])) {
      return decode_utf8(s.substr(start)).status == utf8_status::truncated ? start : s.size();
    }
  }
  return s.size();
}

bool is_valid_utf8(std::string_view s) {
  while (!s.empty()) {
    const utf8_code_point cp = decode_utf8(s);
    if (cp.status != utf8_status::valid) return false;
    s.remove_prefix(cp.n_bytes);
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) { return sanitize_utf8(s, "\xEF\xBF\xBD"); }

std::string sanitize_utf8(std::string_view s, std::string_view replacement) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const utf8_code_point cp = decode_utf8(s);
    out += cp.status == utf8_status::valid ? s.substr(0, cp.n_bytes) : replacement;
    s.remove_prefix(cp.n_bytes);
  }
  return out;
}

}  // namespace parley::text
