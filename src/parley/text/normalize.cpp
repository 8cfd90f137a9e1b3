// The driver of normalize_for_speech: the normalizer's input and output helpers and its
// dispatch; the readers live in normalize_numbers.cpp, normalize_amounts.cpp and
// normalize_words.cpp (see text/detail/normalizer.hpp).
#include "parley/text/normalize.hpp"

#include <vector>

#include "parley/text/detail/normalizer.hpp"
#include "parley/text/utf8.hpp"

namespace parley::text {
namespace detail {

void append_word(std::string& out, std::string_view word) {
  if (word.empty()) return;
  if (!out.empty()) out += ' ';
  out += word;
}

std::string pluralize_number(std::string words) {
  if (words.ends_with('y')) {
    words.pop_back();
    return words + "ies";
  }
  if (words.ends_with("six")) return words + "es";
  return words + 's';
}

std::optional<std::uint64_t> to_u64(std::string_view digits) {
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : digits) {
    if (!is_ascii_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::string integer_words(std::string_view digits) {
  if ((digits.size() > 1 && digits[0] == '0') || digits.size() > k_max_cardinal_digits) return digit_words(digits);
  return cardinal_words(*to_u64(digits));
}

/// Where a number may begin: not inside a word ("MP3") nor after "1." or "1," ("v1.2").
bool normalizer::number_start(std::size_t i) const {
  if (i == number_ok_at_ || i == 0) return true;
  const char p = in_[i - 1];
  if (is_ascii_alnum(p)) return false;
  if ((p == '.' || p == ',' || p == ':') && i >= 2 && is_ascii_alnum(in_[i - 2])) return false;
  return true;
}

/// The word of letters before position i, skipping blanks and one of , . ( before it.
/// `start` receives where it begins.
std::string_view normalizer::word_before(std::size_t i, std::size_t* start) const {
  std::size_t e = i;
  while (e > 0 && (in_[e - 1] == ' ' || in_[e - 1] == '\t')) --e;
  if (e > 0 && (in_[e - 1] == ',' || in_[e - 1] == '.' || in_[e - 1] == '(')) --e;
  while (e > 0 && (in_[e - 1] == ' ' || in_[e - 1] == '\t')) --e;
  std::size_t b = e;
  while (b > 0 && is_ascii_alpha(in_[b - 1])) --b;
  if (start) *start = b;
  if (b > 0 && is_ascii_digit(in_[b - 1])) return {};  // "15th": not a word
  return in_.substr(b, e - b);
}

/// The month named right before a day number at i ("March 15", "Jan. 5"; capitalised, no
/// comma in between), 1..12, or 0.
unsigned normalizer::month_before(std::size_t i) const {
  std::size_t e = i;
  while (e > 0 && (in_[e - 1] == ' ' || in_[e - 1] == '\t')) --e;
  if (e == i) return 0;
  if (e > 0 && in_[e - 1] == '.') --e;
  std::size_t b = e;
  while (b > 0 && is_ascii_alpha(in_[b - 1])) --b;
  if (b == e || !is_ascii_upper(in_[b]) || (b > 0 && is_ascii_alnum(in_[b - 1]))) return 0;
  const std::string_view word = in_.substr(b, e - b);
  const unsigned m = month_number(word);
  return m != 0 && (word.size() <= 4 || word.size() == month_name(m).size()) ? m : 0;
}

/// The white-space-delimited token before position i and where it begins.
std::string_view normalizer::token_before(std::size_t i, std::size_t* start) const {
  std::size_t e = i;
  while (e > 0 && is_space(in_[e - 1])) --e;
  std::size_t b = e;
  while (b > 0 && !is_space(in_[b - 1])) --b;
  *start = b;
  return in_.substr(b, e - b);
}

/// Whether position i (a word start) begins a sentence: only blanks and nothing, or . ! ?, before it.
bool normalizer::sentence_start(std::size_t i) const {
  while (i > 0 && is_space(in_[i - 1])) --i;
  if (i == 0) return true;
  const char p = in_[i - 1];
  return p == '.' || p == '!' || p == '?' || p == '"' || p == ':';
}

/// After a dot at i-1: whether it ends the sentence (end of text, or a capital after a space).
bool normalizer::dot_ends_sentence(std::size_t i) const {
  const std::size_t j = skip_blanks(i);
  if (j >= in_.size() || in_[j] == '\n') return true;
  return j > i && is_ascii_upper(in_[j]);
}

// --- output --------------------------------------------------------------------------------
/// Appends spoken words, separated from what precedes them by one space.
void normalizer::say(std::string_view words) {
  if (words.empty()) return;
  if (!out_.empty()) {
    const char c = out_.back();
    if (!is_space(c) && c != '(' && c != '[' && c != '{' && c != '"' && c != '\'' && c != '-' && c != '/') {
      out_ += ' ';
    }
  }
  out_ += words;
  space_pending_ = true;
}

/// Copies input bytes; a letter or digit right after spoken words gets a space first.
void normalizer::copy(std::size_t n) {
  for (std::size_t k = 0; k < n && pos_ < in_.size(); ++k, ++pos_) {
    const char c = in_[pos_];
    if (space_pending_) {
      space_pending_ = false;
      if (is_ascii_alnum(c)) out_ += ' ';
    }
    out_ += c;
  }
}

void normalizer::copy_code_point() {
  const unsigned char b = static_cast<unsigned char>(in_[pos_]);
  copy(b < 0x80 ? 1 : decode_utf8(in_.substr(pos_)).n_bytes);
}

// --- dispatch ------------------------------------------------------------------------------
bool normalizer::step() {
  const char c = in_[pos_];
  const bool word_start = at_word_start(pos_);
  if (word_start && opt_.web && is_ascii_alnum(c) && (try_email() || try_url())) return true;
  if (opt_.currency && try_currency_prefix()) return true;
  if (is_ascii_digit(c) && number_start(pos_)) return try_number();
  if ((c == '-' || c == '+' || starts(pos_, "\u2212")) && opt_.numbers && try_signed()) return true;
  if (c == '.' && opt_.numbers && number_start(pos_) && is_ascii_digit(at(pos_ + 1)) &&
      (pos_ == 0 || !is_ascii_digit(in_[pos_ - 1]))) {
    const std::size_t e = digits_end(pos_ + 1);
    say("point " + digit_words(in_.substr(pos_ + 1, e - pos_ - 1)));
    pos_ = e;
    return true;
  }
  if ((c == '\'' || starts(pos_, "\u2019")) && opt_.numbers && try_decade_apostrophe()) return true;
  if (word_start && is_ascii_alpha(c)) {
    if (opt_.abbreviations && try_abbreviation()) return true;
    copy(letters_end(pos_) - pos_);
    return true;
  }
  if (opt_.symbols && try_symbol()) return true;
  if (opt_.typography && try_typography()) return true;
  return false;
}

}  // namespace detail

std::string normalize_for_speech(std::string_view text, const normalize_options& options) {
  return detail::normalizer(text, options).run();
}

}  // namespace parley::text
