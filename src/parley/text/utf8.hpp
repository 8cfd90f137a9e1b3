// text/utf8 — UTF-8 safety for text that arrives in pieces.
//
// Role: LLM tokens may end in the middle of a multi-byte sequence, and engines may emit invalid
// bytes. These helpers decode one code point, find the complete prefix of a byte buffer, check
// validity and replace bad sequences. They follow the Unicode "maximal subpart" practice: overlong
// forms, UTF-16 surrogates and values above U+10FFFF are invalid, and each maximal ill-formed
// subsequence counts as one error.
// Threading: pure functions. Units: lengths and offsets are in bytes.
//
//   pending += token;
//   const std::size_t n = utf8_complete_prefix(pending);   // hold back a cut-off code point
//   emit(sanitize_utf8(std::string_view(pending).substr(0, n)));
//   pending.erase(0, n);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace parley::text {

enum class utf8_status {
  valid,
  invalid,    // not UTF-8: no bytes that follow can make it valid
  truncated,  // a valid start of a sequence that the text ends before completing
};

struct utf8_code_point {
  char32_t value = 0;        // the code point; U+FFFD unless status is valid
  std::size_t n_bytes = 0;   // bytes it spans (>= 1); when not valid, the ill-formed subpart
  utf8_status status = utf8_status::valid;
};

/// Decodes the code point at the start of `s`, which must not be empty.
utf8_code_point decode_utf8(std::string_view s);

/// Length of the longest prefix of `s` that ends on a code-point boundary: all of `s` unless it
/// ends with a truncated sequence. Invalid bytes count as complete (no later byte can fix them).
std::size_t utf8_complete_prefix(std::string_view s);

bool is_valid_utf8(std::string_view s);

/// Replaces each invalid or truncated sequence with U+FFFD.
std::string sanitize_utf8(std::string_view s);
/// Replaces each invalid or truncated sequence with `replacement` (may be empty: drop them).
std::string sanitize_utf8(std::string_view s, std::string_view replacement);

}  // namespace parley::text
