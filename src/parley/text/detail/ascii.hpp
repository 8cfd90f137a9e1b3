// text/detail/ascii — locale-free ASCII character classes shared by the text/ sources.
//
// Role: std::isalpha and friends depend on the C locale and are undefined for negative chars;
// these take any byte and answer for ASCII only (every byte of a multi-byte UTF-8 sequence is
// >= 0x80 and so is none of these classes). Threading: pure functions.
#pragma once

#include <algorithm>
#include <string_view>

namespace parley::text::detail {

constexpr bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_ascii_lower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_ascii_alpha(char c) { return is_ascii_lower(c) || is_ascii_upper(c); }
constexpr bool is_ascii_alnum(char c) { return is_ascii_alpha(c) || is_ascii_digit(c); }
/// Space, tab or carriage return: white space within a line.
constexpr bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
constexpr bool is_space(char c) { return is_blank(c) || c == '\n'; }
constexpr char to_ascii_lower(char c) { return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
/// Equal when ASCII letters are folded to lower case.
constexpr bool iequals_ascii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_ascii_lower(x) == to_ascii_lower(y);
         });
}

}  // namespace parley::text::detail
