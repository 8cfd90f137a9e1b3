// text/detail/normalizer — the state machine behind normalize_for_speech (text/normalize.hpp).
//
// Role: one normalizer reads one text left to right and writes what a TTS engine should say. Its
// readers are split by subject across normalize.cpp (the driver: input, output, dispatch),
// normalize_numbers.cpp (numbers, years, dates, times, phones), normalize_amounts.cpp (money,
// percentages, fractions, units) and normalize_words.cpp (abbreviations, web addresses, symbols,
// typography). Internal to text/.
// Threading: one normalizer per call, on the caller's thread. Ownership: it borrows the input
// and the options for its lifetime. Units: byte offsets into the UTF-8 input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/text/detail/ascii.hpp"
#include "parley/text/normalize.hpp"

namespace parley::text::detail {

inline constexpr std::size_t k_npos = std::string_view::npos;
inline constexpr std::size_t k_max_cardinal_digits = 15;  // longer digit strings are read digit by digit

void append_word(std::string& out, std::string_view word);
/// "twenty" → "twenties", "hundred" → "hundreds": the plural of a number's last word.
std::string pluralize_number(std::string words);
std::optional<std::uint64_t> to_u64(std::string_view digits);
/// Digits of an integer part as words: cardinal, or digit by digit for "007" and huge numbers.
std::string integer_words(std::string_view digits);

// A number as written: "1,234.56" → int_digits "1234", frac_digits "56".
struct number {
  std::size_t begin = 0, end = 0;
  std::string int_digits;
  std::string frac_digits;
  bool has_point = false;
  bool grouped = false;

  bool is_integer() const { return !has_point; }
  std::optional<std::uint64_t> value() const { return is_integer() ? to_u64(int_digits) : std::nullopt; }
  bool is_one() const { return is_integer() && int_digits == "1"; }
  /// A plain 4-digit number that can be a year (1000..2099).
  bool is_year_like() const {
    if (!is_integer() || grouped || int_digits.size() != 4) return false;
    const auto v = *value();
    return v >= 1000 && v <= 2099;
  }
  std::string words() const {
    std::string w = integer_words(int_digits);
    if (has_point) w += " point " + digit_words(frac_digits);
    return w;
  }
};

struct ampm {
  std::size_t length = 0;  // bytes, including a leading space
  bool pm = false;
  bool ends_with_dot = false;
};

struct currency {
  std::string_view symbol;  // as written before or after the amount
  std::string_view singular, plural, sub_singular, sub_plural;  // sub: hundredths; empty: none
};

class normalizer {
 public:
  normalizer(std::string_view in, const normalize_options& options) : in_(in), opt_(options) {
    out_.reserve(in.size() + in.size() / 2);
  }

  std::string run() {
    while (pos_ < in_.size()) {
      if (!step()) copy_code_point();
    }
    return std::move(out_);
  }

 private:
  // --- input ---------------------------------------------------------------------------------
  char at(std::size_t i) const { return i < in_.size() ? in_[i] : '\0'; }
  bool starts(std::size_t i, std::string_view s) const { return i <= in_.size() && in_.substr(i).starts_with(s); }
  bool starts_ci(std::size_t i, std::string_view s) const {
    return i <= in_.size() && in_.size() - i >= s.size() && iequals_ascii(in_.substr(i, s.size()), s);
  }
  std::size_t digits_end(std::size_t i) const {
    while (is_ascii_digit(at(i))) ++i;
    return i;
  }
  std::size_t letters_end(std::size_t i) const {
    while (is_ascii_alpha(at(i))) ++i;
    return i;
  }
  std::size_t skip_blanks(std::size_t i) const {
    while (at(i) == ' ' || at(i) == '\t') ++i;
    return i;
  }
  /// Past one space between a number and what qualifies it ("5 km", "5\u00A0km", "5 pm"), or i.
  std::size_t past_gap(std::size_t i) const {
    if (at(i) == ' ') return i + 1;
    if (starts(i, "\u00A0")) return i + 2;
    if (starts(i, "\u202F") || starts(i, "\u2009")) return i + 3;
    return i;
  }
  /// No letter or digit at i (the end of the text counts).
  bool boundary(std::size_t i) const { return !is_ascii_alnum(at(i)); }
  bool at_word_start(std::size_t i) const { return i == 0 || !is_ascii_alnum(in_[i - 1]); }
  void emit_raw(std::string_view s) {
    space_pending_ = false;
    out_ += s;
  }
  void trim_trailing_blanks() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
  }
  bool number_start(std::size_t i) const;
  std::string_view word_before(std::size_t i, std::size_t* start = nullptr) const;
  unsigned month_before(std::size_t i) const;
  std::string_view token_before(std::size_t i, std::size_t* start) const;
  bool sentence_start(std::size_t i) const;
  bool dot_ends_sentence(std::size_t i) const;

  // --- output --------------------------------------------------------------------------------
  void say(std::string_view words);
  void copy(std::size_t n);
  void copy_code_point();

  // --- dispatch (normalize.cpp) --------------------------------------------------------------
  bool step();

  // --- numbers, years, dates, times, phones (normalize_numbers.cpp) ---------------------------
  std::optional<number> parse_number(std::size_t i) const;
  bool try_number();
  bool year_context(const number& n) const;
  bool counted_noun_follows(const number& n) const;
  bool try_ratio(const number& n);
  std::size_t range_dash_at(std::size_t i) const;
  bool year_range_follows(const number& n) const;
  void after_number();
  bool try_signed();
  bool try_iso_date();
  bool try_slash_date();
  void say_date(unsigned month, std::uint64_t day, std::uint64_t year);
  bool try_time();
  std::optional<ampm> ampm_at(std::size_t i) const;
  void say_ampm(const ampm& a);
  bool try_hour_ampm(const number& n);
  bool try_phone();
  bool try_dotted();
  bool try_ordinal(const number& n);
  bool try_decade(const number& n);
  bool try_decade_apostrophe();
  bool try_day_of_month(const number& n);
  void say_year_after_day();

  // --- money, percentages, fractions, units (normalize_amounts.cpp) --------------------------
  void say_per();
  bool try_percent(const number& n);
  std::optional<currency> currency_symbol_at(std::size_t i) const;
  bool try_currency_prefix();
  bool try_currency_suffix(const number& n);
  std::string money_words(const number& n, const currency& cur, std::string_view scale) const;
  bool try_fraction(const number& n);
  bool try_dimensions(const number& n);
  bool try_unit(const number& n);

  // --- abbreviations, web, symbols, typography (normalize_words.cpp) -------------------------
  bool try_abbreviation();
  std::size_t host_end(std::size_t i, std::vector<std::string_view>* labels) const;
  bool try_email();
  bool try_url();
  bool digit_before(std::size_t i) const;
  bool spaced(std::size_t i, std::size_t len) const;
  bool digit_after(std::size_t i) const { return is_ascii_digit(at(skip_blanks(i))); }
  bool try_symbol();
  bool try_typography();

  std::string_view in_;
  const normalize_options& opt_;
  std::string out_;
  std::size_t pos_ = 0;
  std::size_t number_ok_at_ = k_npos;  // a number may start here even though a letter precedes it
  bool space_pending_ = false;         // spoken words were just emitted
  bool year_chain_ = false;            // the last number read was a year ("from 1990 to 2000")
  std::size_t year_range_at_ = k_npos; // a number here ends a range that began with a year
};

}  // namespace parley::text::detail
