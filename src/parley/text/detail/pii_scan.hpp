// text/detail/pii_scan — the token stream and scanners behind find_pii (text/pii.hpp).
//
// Role: find_pii tokenises once and runs one scanner per kind of personal data over the tokens;
// pii.cpp holds the tokens, the context helpers, IBANs and the public functions,
// pii_numbers.cpp the spoken and typed digit runs (phones, cards, SSNs, accounts) and
// pii_places.cpp e-mail addresses, street addresses and dates of birth. Internal to text/.
// Threading: pure functions. Units: byte offsets into the input.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/text/pii.hpp"
#include "parley/text/spoken.hpp"

namespace parley::text::detail {

// Tokens: words (letters, digits, UTF-8 bytes), numbers (digits only) and single punctuation
// bytes, with their byte ranges.
enum class tok_kind { word, number, punct };

struct token {
  std::size_t begin = 0;
  std::size_t end = 0;
  tok_kind kind = tok_kind::punct;
  std::string lower;        // ASCII lower-cased text
  bool space_before = true; // white space (or the start) right before it
  bool upper_first = false; // typed with a capital first letter
};

std::vector<token> tokenize(std::string_view s);

inline bool is_punct(const std::vector<token>& t, std::size_t i, char c) {
  return i < t.size() && t[i].kind == tok_kind::punct && t[i].lower[0] == c;
}
inline bool is_word(const std::vector<token>& t, std::size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == tok_kind::word && t[i].lower == w;
}
template <std::size_t N>
bool in(const std::array<std::string_view, N>& list, std::string_view w) {
  return std::find(list.begin(), list.end(), w) != list.end();
}

// --- context (pii.cpp) ---------------------------------------------------------------------
/// The words before token `tok`, nearest first, up to n, not past a sentence end.
std::vector<std::string_view> words_before(const std::vector<token>& t, std::size_t tok, std::size_t n);
std::vector<std::string_view> words_after(const std::vector<token>& t, std::size_t tok, std::size_t n);
bool has_word(const std::vector<std::string_view>& words, std::string_view w, std::size_t within);

// --- spoken and typed digits (pii_numbers.cpp) -----------------------------------------------
/// The spoken number at t[i] as text::read_number reads it over the tokens (never from an
/// article: "a hundred" is not one): a hyphen inside "forty-two" joins, other punctuation and
/// digit tokens end it.
std::optional<number_reading> read_spoken(const std::vector<token>& t, std::size_t i, const number_options& options);
/// Words of spoken digits and small numbers: "five", "oh", "twenty", "hundred", "double".
bool is_number_word(std::string_view w);

struct digit_item {
  std::string digits;
  std::size_t tok_begin = 0;  // token range [tok_begin, tok_end)
  std::size_t tok_end = 0;
  bool spoken = false;
  int value = -1;  // the spoken value (for the counting check); -1 for typed digits
};
/// One item of a digit run at t[i]: typed digits, "double five", or a spoken number below a
/// thousand ("seven", "forty two", "eight hundred"); `first`: "oh" is not zero at the start.
std::optional<digit_item> read_item(const std::vector<token>& t, std::size_t i, bool first);

// --- scanners ------------------------------------------------------------------------------
void scan_numbers(const std::vector<token>& t, std::vector<pii_span>& out);         // pii_numbers.cpp
void scan_ibans(const std::vector<token>& t, std::vector<pii_span>& out);           // pii.cpp
void scan_typed_emails(std::string_view s, std::vector<pii_span>& out);             // pii_places.cpp
void scan_spoken_emails(const std::vector<token>& t, std::vector<pii_span>& out);   // pii_places.cpp
void scan_addresses(const std::vector<token>& t, std::vector<pii_span>& out);       // pii_places.cpp
void scan_dates_of_birth(const std::vector<token>& t, std::vector<pii_span>& out);  // pii_places.cpp

}  // namespace parley::text::detail
