#include "parley/text/normalize.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "parley/text/detail/ascii.hpp"
#include "parley/text/utf8.hpp"

namespace parley::text {
namespace {

using detail::is_ascii_alnum;
using detail::is_ascii_alpha;
using detail::is_ascii_digit;
using detail::is_ascii_lower;
using detail::is_ascii_upper;
using detail::is_space;

constexpr std::size_t k_npos = std::string_view::npos;
constexpr std::size_t k_max_cardinal_digits = 15;  // longer digit strings are read digit by digit

constexpr std::array<std::string_view, 20> k_ones = {
    "zero",    "one",     "two",       "three",    "four",     "five",    "six",
    "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen",  "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 10> k_tens = {"",      "",      "twenty",  "thirty", "forty",
                                                     "fifty", "sixty", "seventy", "eighty", "ninety"};
constexpr std::array<std::string_view, 7> k_scales = {"",         "thousand",    "million",    "billion",
                                                      "trillion", "quadrillion", "quintillion"};
constexpr std::array<std::string_view, 12> k_months = {"January", "February", "March",     "April",
                                                       "May",     "June",     "July",      "August",
                                                       "September", "October", "November", "December"};

char lower(char c) { return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

void append_word(std::string& out, std::string_view word) {
  if (word.empty()) return;
  if (!out.empty()) out += ' ';
  out += word;
}

std::string below_hundred(unsigned n) {
  if (n < 20) return std::string(k_ones[n]);
  std::string s(k_tens[n / 10]);
  if (n % 10 != 0) (s += '-') += k_ones[n % 10];
  return s;
}

std::string below_thousand(unsigned n) {
  std::string s;
  if (n >= 100) {
    s = std::string(k_ones[n / 100]) + " hundred";
    n %= 100;
    if (n == 0) return s;
    s += ' ';
  }
  return s + below_hundred(n);
}

/// "twenty" → "twenties", "hundred" → "hundreds": the plural of a number's last word.
std::string pluralize_number(std::string words) {
  if (words.ends_with('y')) {
    words.pop_back();
    return words + "ies";
  }
  if (words.ends_with("six")) return words + "es";
  return words + 's';
}

/// 1 → 1-based month name or "" when out of range.
std::string_view month_name(unsigned month) { return month >= 1 && month <= 12 ? k_months[month - 1] : ""; }

/// The month a word names ("March", "mar", "Sept"), 1..12, or 0.
unsigned month_of(std::string_view word) {
  if (word.size() < 3) return 0;
  for (unsigned m = 1; m <= 12; ++m) {
    const std::string_view name = k_months[m - 1];
    if (iequals(word, name) || iequals(word, name.substr(0, 3))) return m;
  }
  return iequals(word, "sept") ? 9 : 0;
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

/// Digits of an integer part as words: cardinal, or digit by digit for "007" and huge numbers.
std::string integer_words(std::string_view digits) {
  if ((digits.size() > 1 && digits[0] == '0') || digits.size() > k_max_cardinal_digits) return digit_words(digits);
  return cardinal_words(*to_u64(digits));
}

// ---------------------------------------------------------------------------------------------
// Tables.

struct currency {
  std::string_view symbol;  // as written before or after the amount
  std::string_view singular, plural, sub_singular, sub_plural;  // sub: hundredths; empty: none
};

constexpr currency k_currencies[] = {
    {"US$", "dollar", "dollars", "cent", "cents"},
    {"$", "dollar", "dollars", "cent", "cents"},
    {"\u20AC", "euro", "euros", "cent", "cents"},        // €
    {"\u00A3", "pound", "pounds", "penny", "pence"},     // £
    {"\u00A5", "yen", "yen", "", ""},                    // ¥
    {"\u20B9", "rupee", "rupees", "paisa", "paise"},     // ₹
};

constexpr currency k_currency_codes[] = {
    {"USD", "dollar", "dollars", "cent", "cents"},   {"EUR", "euro", "euros", "cent", "cents"},
    {"GBP", "pound", "pounds", "penny", "pence"},    {"JPY", "yen", "yen", "", ""},
    {"INR", "rupee", "rupees", "paisa", "paise"},
};

struct scale_word {
  std::string_view written, spoken;
};

// After a currency amount: "$5 million", "$3M", "$2.5bn", "$10k".
constexpr scale_word k_money_scales[] = {
    {"thousand", "thousand"}, {"million", "million"}, {"billion", "billion"}, {"trillion", "trillion"},
    {"bn", "billion"},        {"mn", "million"},      {"tn", "trillion"},     {"k", "thousand"},
    {"K", "thousand"},        {"M", "million"},       {"B", "billion"},       {"T", "trillion"},
};

struct unit {
  std::string_view written, singular, plural;
};

// Written after a number, with or without one space. Longest match wins; case-sensitive.
constexpr unit k_units[] = {
    {"km/h", "kilometer per hour", "kilometers per hour"},
    {"m/s", "meter per second", "meters per second"},
    {"\u00B0C", "degree Celsius", "degrees Celsius"},   // °C
    {"\u00B0F", "degree Fahrenheit", "degrees Fahrenheit"},
    {"\u00B0 C", "degree Celsius", "degrees Celsius"},
    {"\u00B0 F", "degree Fahrenheit", "degrees Fahrenheit"},
    {"\u00BAC", "degree Celsius", "degrees Celsius"},   // ºC (ordinal indicator, a common typo)
    {"\u00BAF", "degree Fahrenheit", "degrees Fahrenheit"},
    {"\u2103", "degree Celsius", "degrees Celsius"},    // ℃
    {"\u2109", "degree Fahrenheit", "degrees Fahrenheit"},  // ℉
    {"\u00B0", "degree", "degrees"},
    {"kph", "kilometer per hour", "kilometers per hour"},
    {"mph", "mile per hour", "miles per hour"},
    {"km", "kilometer", "kilometers"},
    {"cm", "centimeter", "centimeters"},
    {"mm", "millimeter", "millimeters"},
    {"m", "meter", "meters"},
    {"mi", "mile", "miles"},
    {"ft", "foot", "feet"},
    {"yd", "yard", "yards"},
    {"kg", "kilogram", "kilograms"},
    {"mg", "milligram", "milligrams"},
    {"g", "gram", "grams"},
    {"lbs", "pound", "pounds"},
    {"lb", "pound", "pounds"},
    {"oz", "ounce", "ounces"},
    {"ml", "milliliter", "milliliters"},
    {"mL", "milliliter", "milliliters"},
    {"l", "liter", "liters"},
    {"L", "liter", "liters"},
    {"hrs", "hour", "hours"},
    {"hr", "hour", "hours"},
    {"h", "hour", "hours"},
    {"mins", "minute", "minutes"},
    {"min", "minute", "minutes"},
    {"secs", "second", "seconds"},
    {"sec", "second", "seconds"},
    {"ms", "millisecond", "milliseconds"},
    {"kHz", "kilohertz", "kilohertz"},
    {"MHz", "megahertz", "megahertz"},
    {"GHz", "gigahertz", "gigahertz"},
    {"Hz", "hertz", "hertz"},
    {"KB", "kilobyte", "kilobytes"},
    {"kB", "kilobyte", "kilobytes"},
    {"MB", "megabyte", "megabytes"},
    {"GB", "gigabyte", "gigabytes"},
    {"TB", "terabyte", "terabytes"},
    {"Mbps", "megabit per second", "megabits per second"},
    {"Gbps", "gigabit per second", "gigabits per second"},
    {"kWh", "kilowatt hour", "kilowatt hours"},
    {"kW", "kilowatt", "kilowatts"},
    {"W", "watt", "watts"},
    {"V", "volt", "volts"},
    {"mAh", "milliamp hour", "milliamp hours"},
    {"kcal", "kilocalorie", "kilocalories"},
    {"px", "pixel", "pixels"},
    {"fps", "frame per second", "frames per second"},
    {"dB", "decibel", "decibels"},
    {"x", "times", "times"},
};

enum class abbr_kind {
  plain,        // always expanded
  sentence_end, // expanded; its dot also ends the sentence when a capital follows or the text ends
  doctor_drive, // Dr.
  saint_street, // St.
  before_number // only before a number: No. 5, Jan. 5
};

struct abbreviation {
  std::string_view written, spoken;
  abbr_kind kind;
};

// Matched as a whole token of letters and dots, case-sensitive.
constexpr abbreviation k_abbreviations[] = {
    {"Mr.", "mister", abbr_kind::plain},        {"Mrs.", "missus", abbr_kind::plain},
    {"Ms.", "miz", abbr_kind::plain},           {"Prof.", "professor", abbr_kind::plain},
    {"Dr.", "", abbr_kind::doctor_drive},       {"St.", "", abbr_kind::saint_street},
    {"Mt.", "mount", abbr_kind::plain},         {"Jr.", "junior", abbr_kind::sentence_end},
    {"Sr.", "senior", abbr_kind::sentence_end}, {"Ave.", "avenue", abbr_kind::sentence_end},
    {"Rd.", "road", abbr_kind::sentence_end},   {"Blvd.", "boulevard", abbr_kind::sentence_end},
    {"Inc.", "incorporated", abbr_kind::sentence_end}, {"Ltd.", "limited", abbr_kind::sentence_end},
    {"Co.", "company", abbr_kind::sentence_end},       {"Corp.", "corporation", abbr_kind::sentence_end},
    {"Dept.", "department", abbr_kind::plain},  {"e.g.", "for example", abbr_kind::plain},
    {"E.g.", "for example", abbr_kind::plain},  {"i.e.", "that is", abbr_kind::plain},
    {"I.e.", "that is", abbr_kind::plain},      {"etc.", "et cetera", abbr_kind::sentence_end},
    {"etc", "et cetera", abbr_kind::plain},     {"vs.", "versus", abbr_kind::plain},
    {"vs", "versus", abbr_kind::plain},         {"Vs.", "versus", abbr_kind::plain},
    {"approx.", "approximately", abbr_kind::sentence_end},
    {"Approx.", "approximately", abbr_kind::plain},
    {"No.", "number", abbr_kind::before_number}, {"no.", "number", abbr_kind::before_number},
    {"Nos.", "numbers", abbr_kind::before_number},
};

constexpr std::string_view k_tlds[] = {"com", "org", "net", "edu", "gov", "io", "ai", "co", "uk", "de", "fr",
                                       "es",  "it",  "nl",  "eu",  "us",  "ca", "au", "info", "biz", "app",
                                       "dev", "me",  "tv",  "ly",  "xyz", "ch", "se", "no", "jp", "in"};

constexpr std::string_view k_year_words[] = {"in",    "since",  "until",  "till",  "before", "after",
                                             "circa", "during", "year",   "from",  "by",     "early",
                                             "late",  "mid",    "spring", "summer", "autumn", "fall",
                                             "winter", "of"};
// A count of these is not a year: "in 1500 years".
constexpr std::string_view k_counted_nouns[] = {"years", "months", "weeks",  "days",   "hours",  "minutes",
                                                "seconds", "people", "times", "miles", "meters", "kilometers",
                                                "feet",  "pages",  "words",  "items",  "users",  "points",
                                                "votes", "cases",  "units",  "dollars", "euros", "pounds"};
constexpr std::string_view k_year_chain_words[] = {"to", "and", "or", "through", "until", "till", "thru"};

// ---------------------------------------------------------------------------------------------
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
    return i <= in_.size() && in_.size() - i >= s.size() && iequals(in_.substr(i, s.size()), s);
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
  /// Where a number may begin: not inside a word ("MP3") nor after "1." or "1," ("v1.2").
  bool number_start(std::size_t i) const {
    if (i == number_ok_at_ || i == 0) return true;
    const char p = in_[i - 1];
    if (is_ascii_alnum(p)) return false;
    if ((p == '.' || p == ',' || p == ':') && i >= 2 && is_ascii_alnum(in_[i - 2])) return false;
    return true;
  }

  /// The word of letters before position i, skipping blanks and one of , . ( before it.
  /// `start` receives where it begins.
  std::string_view word_before(std::size_t i, std::size_t* start = nullptr) const {
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
  unsigned month_before(std::size_t i) const {
    std::size_t e = i;
    while (e > 0 && (in_[e - 1] == ' ' || in_[e - 1] == '\t')) --e;
    if (e == i) return 0;
    if (e > 0 && in_[e - 1] == '.') --e;
    std::size_t b = e;
    while (b > 0 && is_ascii_alpha(in_[b - 1])) --b;
    if (b == e || !is_ascii_upper(in_[b]) || (b > 0 && is_ascii_alnum(in_[b - 1]))) return 0;
    const std::string_view word = in_.substr(b, e - b);
    const unsigned m = month_of(word);
    return m != 0 && (word.size() <= 4 || word.size() == month_name(m).size()) ? m : 0;
  }

  /// The white-space-delimited token before position i and where it begins.
  std::string_view token_before(std::size_t i, std::size_t* start) const {
    std::size_t e = i;
    while (e > 0 && is_space(in_[e - 1])) --e;
    std::size_t b = e;
    while (b > 0 && !is_space(in_[b - 1])) --b;
    *start = b;
    return in_.substr(b, e - b);
  }

  /// Whether position i (a word start) begins a sentence: only blanks and nothing, or . ! ?, before it.
  bool sentence_start(std::size_t i) const {
    while (i > 0 && is_space(in_[i - 1])) --i;
    if (i == 0) return true;
    const char p = in_[i - 1];
    return p == '.' || p == '!' || p == '?' || p == '"' || p == ':';
  }

  /// After a dot at i-1: whether it ends the sentence (end of text, or a capital after a space).
  bool dot_ends_sentence(std::size_t i) const {
    const std::size_t j = skip_blanks(i);
    if (j >= in_.size() || in_[j] == '\n') return true;
    return j > i && is_ascii_upper(in_[j]);
  }

  // --- output --------------------------------------------------------------------------------
  /// Appends spoken words, separated from what precedes them by one space.
  void say(std::string_view words) {
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
  void copy(std::size_t n) {
    for (std::size_t k = 0; k < n && pos_ < in_.size(); ++k, ++pos_) {
      const char c = in_[pos_];
      if (space_pending_) {
        space_pending_ = false;
        if (is_ascii_alnum(c)) out_ += ' ';
      }
      out_ += c;
    }
  }

  void copy_code_point() {
    const unsigned char b = static_cast<unsigned char>(in_[pos_]);
    copy(b < 0x80 ? 1 : decode_utf8(in_.substr(pos_)).n_bytes);
  }

  void emit_raw(std::string_view s) {
    space_pending_ = false;
    out_ += s;
  }

  void trim_trailing_blanks() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
  }

  // --- dispatch ------------------------------------------------------------------------------
  bool step() {
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

  // --- numbers -------------------------------------------------------------------------------
  std::optional<number> parse_number(std::size_t i) const {
    if (!is_ascii_digit(at(i))) return std::nullopt;
    number n;
    n.begin = i;
    std::size_t j = digits_end(i);
    n.int_digits = std::string(in_.substr(i, j - i));
    if (j - i <= 3) {  // thousands separators: 1,234,567
      std::size_t k = j;
      std::string grouped = n.int_digits;
      while (at(k) == ',' && is_ascii_digit(at(k + 1)) && is_ascii_digit(at(k + 2)) && is_ascii_digit(at(k + 3)) &&
             !is_ascii_digit(at(k + 4))) {
        grouped.append(in_.substr(k + 1, 3));
        k += 4;
      }
      if (k != j) {
        n.int_digits = std::move(grouped);
        n.grouped = true;
        j = k;
      }
    }
    if (at(j) == '.' && is_ascii_digit(at(j + 1))) {
      const std::size_t k = digits_end(j + 1);
      n.frac_digits = std::string(in_.substr(j + 1, k - j - 1));
      n.has_point = true;
      j = k;
    }
    n.end = j;
    return n;
  }

  /// A number at pos_ (a number start). Always consumes it.
  bool try_number() {
    if (opt_.dates && (try_iso_date() || try_slash_date())) return true;
    if (opt_.times && try_time()) return true;
    if (opt_.numbers && (try_phone() || try_dotted())) return true;
    const number n = *parse_number(pos_);
    if (opt_.numbers && try_ordinal(n)) return true;
    if (opt_.numbers && try_decade(n)) return true;
    if (opt_.times && try_hour_ampm(n)) return true;
    if (opt_.units && try_percent(n)) return true;
    if (opt_.currency && try_currency_suffix(n)) return true;
    if (opt_.numbers && try_fraction(n)) return true;
    if (opt_.numbers && try_dimensions(n)) return true;
    if (opt_.units && try_unit(n)) return true;
    if (opt_.dates && try_day_of_month(n)) return true;
    if (!opt_.numbers) {
      copy(n.end - pos_);
      return true;
    }
    if (try_ratio(n)) return true;
    const bool year = n.is_year_like() && (year_context(n) || year_range_follows(n)) && !counted_noun_follows(n);
    say(year ? year_words(*n.value()) : n.words());
    pos_ = n.end;
    year_chain_ = year;
    after_number();
    return true;
  }

  /// A year reading fits "in 1999", "(1889)", "March 2024", "1066 AD", "from 1990 to 2000".
  bool year_context(const number& n) const {
    const std::size_t b = n.begin;
    if (b > 0 && in_[b - 1] == '(' && at(n.end) == ')') return true;
    if (b == year_range_at_) return true;
    const std::size_t after = skip_blanks(n.end);
    if (after > n.end && (starts(after, "AD") || starts(after, "BC") || starts(after, "CE") || starts(after, "BCE")) &&
        boundary(after + (starts(after, "BCE") ? 3 : 2))) {
      return true;
    }
    std::size_t word_start = 0;
    const std::string_view prev = word_before(b, &word_start);
    std::size_t token_start = 0;
    const std::string_view token = token_before(b, &token_start);
    if (token.size() == 2 && (token[0] == 'Q' || token[0] == 'H') && token[1] >= '1' && token[1] <= '4') return true;
    if (token == "FY") return true;
    if (prev.empty()) return false;
    if (month_of(prev) != 0 && is_ascii_upper(prev[0])) return true;
    if (year_chain_ && std::ranges::any_of(k_year_chain_words, [&](auto w) { return iequals(prev, w); })) return true;
    if (iequals(prev, "of")) {  // "the summer of 1969", not "a population of 1500"
      const std::string_view before = word_before(word_start);
      return std::ranges::any_of(k_year_words, [&](auto w) { return iequals(before, w) && !iequals(w, "of"); });
    }
    return std::ranges::any_of(k_year_words, [&](auto w) { return iequals(prev, w); });
  }

  /// "in 1500 years": a count, not a year.
  bool counted_noun_follows(const number& n) const {
    const std::size_t s = skip_blanks(n.end);
    if (s == n.end) return false;
    const std::string_view word = in_.substr(s, letters_end(s) - s);
    return std::ranges::any_of(k_counted_nouns, [&](auto w) { return iequals(word, w); });
  }

  /// 3:1, 21:7 (one digit after the colon; two digits make a time): "three to one".
  bool try_ratio(const number& n) {
    if (!n.is_integer() || at(n.end) != ':' || !is_ascii_digit(at(n.end + 1)) || is_ascii_alnum(at(n.end + 2))) {
      return false;
    }
    say(n.words() + " to " + std::string(k_ones[static_cast<std::size_t>(at(n.end + 1) - '0')]));
    pos_ = n.end + 2;
    year_chain_ = false;
    return true;
  }

  /// "$5/month", "20 km/day": the slash reads "per".
  void say_per() {
    if (at(pos_) == '/' && is_ascii_alpha(at(pos_ + 1))) {
      say("per");
      ++pos_;
    }
  }

  /// Length of a range dash at i ('-' or an en dash) directly followed by a digit, or 0.
  std::size_t range_dash_at(std::size_t i) const {
    const std::size_t len = at(i) == '-' ? 1 : starts(i, "\u2013") ? 3 : 0;
    return len != 0 && is_ascii_digit(at(i + len)) ? len : 0;
  }

  /// 1990-1995: both ends read as years.
  bool year_range_follows(const number& n) const {
    const std::size_t len = range_dash_at(n.end);
    if (len == 0) return false;
    const auto m = parse_number(n.end + len);
    return m && m->is_year_like() && !is_ascii_alnum(at(m->end));
  }

  /// Ranges and differences right after a number: 5-10 → "to", 1990–1995, "7 - 2 = 5" → "minus".
  void after_number() {
    if (const std::size_t len = range_dash_at(pos_); len != 0) {
      say("to");
      pos_ += len;
      number_ok_at_ = pos_;
      if (year_chain_) year_range_at_ = pos_;
      return;
    }
    // Spaced: "5 - 3" is a difference when an '=' follows on the line, else a range; "5 − 3"
    // (a minus sign) is always a difference and "5 – 10" (an en dash) always a range.
    const std::size_t s = skip_blanks(pos_);
    if (s == pos_) return;
    std::size_t op_len = 0;
    enum { hyphen, minus_sign, en_dash } op = hyphen;
    if (at(s) == '-') op_len = 1;
    else if (starts(s, "\u2212")) op_len = 3, op = minus_sign;
    else if (starts(s, "\u2013")) op_len = 3, op = en_dash;
    if (op_len == 0 || (at(s + op_len) != ' ' && at(s + op_len) != '\t')) return;
    const std::size_t m = skip_blanks(s + op_len);
    if (!is_ascii_digit(at(m))) return;
    const std::size_t eol = std::min(in_.find('\n', m), in_.size());
    const bool equation = op == minus_sign || (op == hyphen && in_.substr(m, eol - m).find('=') != k_npos);
    say(equation ? "minus" : "to");
    pos_ = m;
    number_ok_at_ = pos_;
    if (equation) year_chain_ = false;
    else if (year_chain_) year_range_at_ = pos_;
  }

  bool try_signed() {
    // Only where a sign can stand: at the start, after a space, a bracket, a quote, '=' or ':'.
    if (pos_ > 0 && std::string_view(" \t\n([\"=:").find(in_[pos_ - 1]) == k_npos) return false;
    const std::size_t len = in_[pos_] == '-' || in_[pos_] == '+' ? 1 : 3;
    const std::size_t next = pos_ + len;
    const bool digit = is_ascii_digit(at(next)) || (at(next) == '.' && is_ascii_digit(at(next + 1)));
    const bool money = opt_.currency && currency_symbol_at(next).has_value() &&
                       is_ascii_digit(at(next + currency_symbol_at(next)->symbol.size()));
    if (!digit && !money) return false;
    say(in_[pos_] == '+' ? "plus" : "minus");
    pos_ = next;
    number_ok_at_ = pos_;
    return true;
  }

  /// 2024-03-15 → "March fifteenth, twenty twenty-four".
  bool try_iso_date() {
    const std::size_t p = pos_;
    if (digits_end(p) != p + 4 || at(p + 4) != '-' || digits_end(p + 5) != p + 7 || at(p + 7) != '-' ||
        digits_end(p + 8) != p + 10 || is_ascii_alnum(at(p + 10))) {
      return false;
    }
    const auto y = *to_u64(in_.substr(p, 4)), m = *to_u64(in_.substr(p + 5, 2)), d = *to_u64(in_.substr(p + 8, 2));
    if (m < 1 || m > 12 || d < 1 || d > 31) return false;
    say_date(static_cast<unsigned>(m), d, y);
    pos_ = p + 10;
    return true;
  }

  /// 03/15/2024 (month first) or 15/03/2024 (the first part cannot be a month), also with '.'.
  bool try_slash_date() {
    const std::size_t p = pos_;
    const std::size_t e1 = digits_end(p);
    if (e1 - p < 1 || e1 - p > 2 || (at(e1) != '/' && at(e1) != '.')) return false;
    const char sep = at(e1);
    const std::size_t e2 = digits_end(e1 + 1);
    if (e2 - e1 - 1 < 1 || e2 - e1 - 1 > 2 || at(e2) != sep) return false;
    const std::size_t e3 = digits_end(e2 + 1);
    if (e3 - e2 - 1 != 4 || is_ascii_alnum(at(e3))) return false;
    auto a = *to_u64(in_.substr(p, e1 - p)), b = *to_u64(in_.substr(e1 + 1, e2 - e1 - 1));
    const auto y = *to_u64(in_.substr(e2 + 1, 4));
    const bool month_first = (opt_.month_first_dates && sep == '/' && a <= 12) || b > 12;
    const auto month = month_first ? a : b, day = month_first ? b : a;
    if (month < 1 || month > 12 || day < 1 || day > 31) return false;
    say_date(static_cast<unsigned>(month), day, y);
    pos_ = e3;
    return true;
  }

  void say_date(unsigned month, std::uint64_t day, std::uint64_t year) {
    say(std::string(month_name(month)) + " " + ordinal_words(day) + ",");
    say(year_words(year));
    year_chain_ = true;
  }

  /// h:mm or h:mm:ss, optionally with am/pm.
  bool try_time() {
    const std::size_t p = pos_;
    const std::size_t e1 = digits_end(p);
    if (e1 - p > 2 || at(e1) != ':' || digits_end(e1 + 1) != e1 + 3) return false;
    std::size_t end = e1 + 3;
    std::optional<std::uint64_t> seconds;
    if (at(end) == ':' && digits_end(end + 1) == end + 3) {
      seconds = to_u64(in_.substr(end + 1, 2));
      end += 3;
    }
    if (is_ascii_digit(at(end))) return false;
    const auto h = *to_u64(in_.substr(p, e1 - p)), m = *to_u64(in_.substr(e1 + 1, 2));
    if (h > 24 || m > 59 || (seconds && *seconds > 59)) return false;
    std::optional<ampm> suffix = ampm_at(end);
    if (h == 0 || h > 12) suffix.reset();  // "17:00 pm": the 24-hour reading wins
    std::string words;
    if (m == 0) {
      if (suffix) words = cardinal_words(h);
      else if (h == 0 || h == 24) words = "midnight";
      else if (h <= 12) words = cardinal_words(h) + " o'clock";
      else words = cardinal_words(h) + " hundred";
    } else {
      words = cardinal_words(h) + (m < 10 ? " oh " + std::string(k_ones[m]) : " " + below_hundred(static_cast<unsigned>(m)));
    }
    if (seconds && *seconds > 0) words += " and " + cardinal_words(*seconds) + (*seconds == 1 ? " second" : " seconds");
    say(words);
    pos_ = end;
    if (suffix) say_ampm(*suffix);
    return true;
  }

  /// am / pm / a.m. / p.m. (any case) at i, after at most one space, ending at a word boundary.
  std::optional<ampm> ampm_at(std::size_t i) const {
    const std::size_t s = past_gap(i);
    for (const std::string_view form : {"a.m.", "p.m.", "a.m", "p.m", "am", "pm"}) {
      if (starts_ci(s, form) && !is_ascii_alpha(at(s + form.size())) &&
          !(at(s + form.size()) == '.' && is_ascii_alpha(at(s + form.size() + 1)))) {
        return ampm{s + form.size() - i, lower(in_[s]) == 'p', form.back() == '.'};
      }
    }
    return std::nullopt;
  }

  void say_ampm(const ampm& a) {
    // "a.m." keeps its dots: both engines read "a m" as "uh m". "p m" reads right everywhere.
    say(a.pm ? "p m" : "a.m.");
    pos_ += a.length;
    if (!a.pm && at(pos_) == '.') ++pos_;  // "at 5 am." : "a.m." already ends the sentence
    if (a.pm && a.ends_with_dot && dot_ends_sentence(pos_)) emit_raw(".");
  }

  bool try_hour_ampm(const number& n) {
    const auto v = n.value();
    if (!v || *v < 1 || *v > 12 || n.int_digits.size() > 2) return false;
    const std::optional<ampm> suffix = ampm_at(n.end);
    if (!suffix) return false;
    say(cardinal_words(*v));
    pos_ = n.end;
    say_ampm(*suffix);
    return true;
  }

  /// 555-1234, 555-123-4567, 1-800-555-1234, (555) 123-4567: digit by digit, in groups.
  bool try_phone() {
    std::size_t p = pos_;
    std::vector<std::string_view> groups;
    const bool parenthesised = p > 0 && in_[p - 1] == '(' && digits_end(p) == p + 3 && at(p + 3) == ')' && at(p + 4) == ' ';
    if (parenthesised) {
      groups.push_back(in_.substr(p, 3));
      p += 5;
      if (!is_ascii_digit(at(p))) return false;
    }
    while (true) {
      const std::size_t e = digits_end(p);
      groups.push_back(in_.substr(p, e - p));
      if (at(e) == '-' && is_ascii_digit(at(e + 1))) {
        p = e + 1;
        continue;
      }
      p = e;
      break;
    }
    if (is_ascii_alnum(at(p))) return false;
    std::vector<std::size_t> sizes;
    for (const auto g : groups) sizes.push_back(g.size());
    const std::vector<std::vector<std::size_t>> shapes = {{3, 4}, {3, 3, 4}, {1, 3, 3, 4}};
    if (std::ranges::find(shapes, sizes) == shapes.end()) return false;
    if (parenthesised) {  // the "(" was already copied: say the area code inside the brackets
      say(digit_words(groups[0]));
      emit_raw(")");
      groups.erase(groups.begin());
    }
    std::string words;
    for (const auto g : groups) words += (words.empty() ? "" : ", ") + digit_words(g);
    say(words);
    pos_ = p;
    return true;
  }

  /// 1.2.3, 192.168.0.1: parts joined by "dot".
  bool try_dotted() {
    std::size_t p = pos_;
    std::vector<std::string_view> parts;
    while (true) {
      const std::size_t e = digits_end(p);
      parts.push_back(in_.substr(p, e - p));
      if (at(e) == '.' && is_ascii_digit(at(e + 1))) {
        p = e + 1;
        continue;
      }
      p = e;
      break;
    }
    if (parts.size() < 3 || is_ascii_alpha(at(p))) return false;
    std::string words;
    for (const auto part : parts) words += (words.empty() ? "" : " dot ") + integer_words(part);
    say(words);
    pos_ = p;
    return true;
  }

  bool try_ordinal(const number& n) {
    const auto v = n.value();
    if (!v || n.int_digits.size() > k_max_cardinal_digits) return false;
    const std::size_t e = n.end;
    static constexpr std::string_view suffixes[] = {"st", "nd", "rd", "th"};
    if (!std::ranges::any_of(suffixes, [&](auto s) { return starts_ci(e, s); }) || is_ascii_alpha(at(e + 2))) {
      return false;
    }
    say(ordinal_words(*v));
    pos_ = e + 2;
    if (month_before(n.begin) != 0) say_year_after_day();
    return true;
  }

  /// 1990s → "nineteen nineties", 80s → "eighties", 1990's too.
  bool try_decade(const number& n) {
    const auto v = n.value();
    if (!v || n.grouped || (*v % 10) != 0 || (n.int_digits.size() != 2 && n.int_digits.size() != 4)) return false;
    std::size_t e = n.end;
    if (at(e) == '\'') ++e;
    if (at(e) != 's' || is_ascii_alpha(at(e + 1))) return false;
    if (n.int_digits.size() == 4 && !n.is_year_like()) return false;
    if (n.int_digits[0] == '0') return false;
    say(pluralize_number(n.int_digits.size() == 4 ? year_words(*v) : below_hundred(static_cast<unsigned>(*v))));
    pos_ = e + 1;
    return true;
  }

  /// '90s → "nineties".
  bool try_decade_apostrophe() {
    const std::size_t len = in_[pos_] == '\'' ? 1 : 3;
    const std::size_t d = pos_ + len;
    if (!at_word_start(pos_) || digits_end(d) != d + 2 || at(d + 1) != '0' || at(d + 2) != 's' ||
        is_ascii_alpha(at(d + 3))) {
      return false;
    }
    const auto v = *to_u64(in_.substr(d, 2));
    if (v < 10) return false;
    say(pluralize_number(below_hundred(static_cast<unsigned>(v))));
    pos_ = d + 3;
    return true;
  }

  bool try_percent(const number& n) {
    const std::size_t s = past_gap(n.end);
    if (at(s) != '%') return false;
    say(n.words() + " percent");
    pos_ = s + 1;
    return true;
  }

  /// The currency whose symbol is written at i.
  std::optional<currency> currency_symbol_at(std::size_t i) const {
    for (const currency& c : k_currencies) {
      if (starts(i, c.symbol)) return c;
    }
    return std::nullopt;
  }

  /// "$5", "€20", "£3.50", "$2.5 billion", "$3M", "US$10".
  bool try_currency_prefix() {
    const auto cur = currency_symbol_at(pos_);
    if (!cur) return false;
    if (cur->symbol == "US$" && !at_word_start(pos_)) return false;
    const std::size_t p = pos_ + cur->symbol.size();
    if (!is_ascii_digit(at(p))) return false;
    if (pos_ > 0 && is_ascii_alnum(in_[pos_ - 1]) && cur->symbol != "US$") return false;
    const number n = *parse_number(p);
    std::size_t end = n.end;
    std::string_view scale;
    const std::size_t s = at(end) == ' ' ? end + 1 : end;
    for (const scale_word& w : k_money_scales) {
      const bool spelled = w.written.size() > 2;
      if ((spelled ? starts_ci(s, w.written) : (s == end && starts(s, w.written))) && !is_ascii_alpha(at(s + w.written.size()))) {
        scale = w.spoken;
        end = s + w.written.size();
        break;
      }
    }
    say(money_words(n, *cur, scale));
    pos_ = end;
    year_chain_ = false;
    say_per();
    return true;
  }

  /// "20€", "20 €", "5 USD".
  bool try_currency_suffix(const number& n) {
    const std::size_t s = past_gap(n.end);
    std::optional<currency> cur;
    std::size_t len = 0;
    for (const currency& c : k_currencies) {
      if (c.symbol != "US$" && starts(s, c.symbol)) cur = c, len = c.symbol.size();
    }
    if (!cur) {
      for (const currency& c : k_currency_codes) {
        if (starts(s, c.symbol) && boundary(s + c.symbol.size())) cur = c, len = c.symbol.size();
      }
    }
    if (!cur || (cur->symbol == "$" && is_ascii_digit(at(s + 1)))) return false;  // "5 $6": the $ is the next amount's
    say(money_words(n, *cur, {}));
    pos_ = s + len;
    say_per();
    return true;
  }

  std::string money_words(const number& n, const currency& cur, std::string_view scale) const {
    if (!scale.empty()) return n.words() + " " + std::string(scale) + " " + std::string(cur.plural);
    const std::string unit_name(n.is_one() ? cur.singular : cur.plural);
    if (!n.has_point) return n.words() + " " + unit_name;
    if (cur.sub_plural.empty() || n.frac_digits.size() > 2) return n.words() + " " + std::string(cur.plural);
    const std::uint64_t sub = *to_u64(n.frac_digits) * (n.frac_digits.size() == 1 ? 10 : 1);
    const std::string whole = integer_words(n.int_digits);
    const bool one = n.int_digits == "1";
    const std::string sub_words = cardinal_words(sub) + " " + std::string(sub == 1 ? cur.sub_singular : cur.sub_plural);
    if (to_u64(n.int_digits) == 0u) return sub == 0 ? "zero " + std::string(cur.plural) : sub_words;
    if (sub == 0) return whole + " " + std::string(one ? cur.singular : cur.plural);
    return whole + " " + std::string(one ? cur.singular : cur.plural) + " and " + sub_words;
  }

  /// 1/2 → "one half", 3/4 → "three quarters", 2/3 → "two thirds", 24/7.
  bool try_fraction(const number& n) {
    if (at(n.end) != '/' || !is_ascii_digit(at(n.end + 1))) return false;
    const std::size_t e = digits_end(n.end + 1);
    if (at(e) == '/' || is_ascii_alnum(at(e)) || (at(e) == '.' && is_ascii_digit(at(e + 1)))) return false;
    const auto num = n.value();
    const auto den = to_u64(in_.substr(n.end + 1, e - n.end - 1));
    if (!num || !den) return false;
    std::string words;
    if (*num == 24 && *den == 7) {
      words = "twenty-four seven";
    } else {
      if (*num < 1 || *den < 2 || *den > 10 || *num >= *den || n.int_digits.size() > 1) return false;
      const bool plural = *num > 1;
      std::string name = *den == 2 ? "half" : *den == 4 ? "quarter" : ordinal_words(*den);
      if (plural) name = *den == 2 ? "halves" : name + "s";
      words = cardinal_words(*num) + " " + name;
    }
    say(words);
    pos_ = e;
    return true;
  }

  /// 1920x1080 → "one thousand nine hundred twenty by one thousand eighty".
  bool try_dimensions(const number& n) {
    std::size_t x = 0;
    if (at(n.end) == 'x') x = 1;
    else if (starts(n.end, "\u00D7")) x = 2;  // ×
    if (x == 0 || !is_ascii_digit(at(n.end + x))) return false;
    say(n.words() + " by");
    pos_ = n.end + x;
    number_ok_at_ = pos_;
    return true;
  }

  bool try_unit(const number& n) {
    const std::size_t s = past_gap(n.end);
    const unit* best = nullptr;
    for (const unit& u : k_units) {
      if (!starts(s, u.written)) continue;
      const std::size_t e = s + u.written.size();
      const bool ends_in_letter = is_ascii_alpha(u.written.back());
      if (ends_in_letter ? is_ascii_alnum(at(e)) : is_ascii_digit(at(e))) continue;
      if (u.written == "x" && s != n.end) continue;  // only glued: "3x faster" (not "3 x 4")
      if (!best || u.written.size() > best->written.size()) best = &u;
    }
    if (!best) return false;
    say(n.words() + " " + std::string(n.is_one() ? best->singular : best->plural));
    pos_ = s + best->written.size();
    year_chain_ = false;
    if (best->written.find('/') == k_npos) say_per();
    return true;
  }

  /// "March 15" → "March fifteenth", "March 15, 2024" → "..., twenty twenty-four",
  /// "15 March" → "fifteenth of March".
  bool try_day_of_month(const number& n) {
    const auto v = n.value();
    if (!v || *v < 1 || *v > 31 || n.int_digits.size() > 2) return false;
    if (month_before(n.begin) != 0 && at(n.end) != ':') {
      say(ordinal_words(*v));
      pos_ = n.end;
      say_year_after_day();
      return true;
    }
    const std::size_t s = at(n.end) == ' ' ? n.end + 1 : 0;
    if (s == 0) return false;
    const std::size_t e = letters_end(s);
    std::string_view word = in_.substr(s, e - s);
    const unsigned month = month_of(word);
    if (month == 0 || !(word.size() == 3 || word.size() == 4 || month_name(month).size() == word.size()) ||
        !is_ascii_upper(word[0])) {
      return false;
    }
    std::size_t end = e;
    if (word.size() <= 4 && at(end) == '.') ++end;
    say(ordinal_words(*v) + " of " + std::string(month_name(month)));
    pos_ = end;
    const std::size_t y = skip_blanks(pos_);
    const auto year = parse_number(y);
    if (y > pos_ && year && year->is_year_like() && boundary(year->end)) {
      say(year_words(*year->value()));
      pos_ = year->end;
    }
    return true;
  }

  /// After "March fifteenth": an optional ", 2024" read as a year.
  void say_year_after_day() {
    std::size_t i = pos_;
    const bool comma = at(i) == ',';
    if (comma) ++i;
    const std::size_t y = skip_blanks(i);
    if (y == i) return;
    const auto year = parse_number(y);
    if (!year || !year->is_year_like() || is_ascii_alnum(at(year->end))) return;
    if (comma) emit_raw(",");
    say(year_words(*year->value()));
    pos_ = year->end;
    year_chain_ = true;
  }

  // --- abbreviations -------------------------------------------------------------------------
  bool try_abbreviation() {
    if (starts(pos_, "w/o") && boundary(pos_ + 3)) {
      say("without");
      pos_ += 3;
      return true;
    }
    if (starts(pos_, "w/") && (at(pos_ + 2) == ' ' || boundary(pos_ + 2)) && !is_ascii_digit(at(pos_ + 2))) {
      say("with");
      pos_ += 2;
      return true;
    }
    std::size_t e = pos_;
    while (is_ascii_alpha(at(e)) || (at(e) == '.' && is_ascii_alpha(at(e + 1)) && e > pos_)) ++e;
    if (at(e) == '.') ++e;
    const std::string_view token = in_.substr(pos_, e - pos_);
    const std::size_t next = skip_blanks(e);
    const bool number_follows = is_ascii_digit(at(next));
    // Months before a day number: "Jan. 5", "Sept 3".
    if (number_follows && next > e) {
      const std::string_view bare = token.ends_with('.') ? token.substr(0, token.size() - 1) : token;
      const unsigned m = month_of(bare);
      if (m != 0 && bare.size() <= 4 && bare.size() < month_name(m).size() && is_ascii_upper(bare[0])) {
        say(month_name(m));
        pos_ = e;
        return true;
      }
    }
    for (const abbreviation& a : k_abbreviations) {
      if (token != a.written) continue;
      std::string_view spoken = a.spoken;
      bool can_end = a.kind == abbr_kind::sentence_end;
      switch (a.kind) {
        case abbr_kind::before_number:
          if (!number_follows) return false;
          break;
        case abbr_kind::doctor_drive:
        case abbr_kind::saint_street: {
          // A capitalised word (not the first of a sentence) or a number before it makes it part of
          // an address: "Main St.", "5th St.", "Mulholland Dr.". Otherwise a title: "St. Louis",
          // "Dr. Smith"; a lone "St." with no name after it is a street.
          const bool next_cap = next > e && is_ascii_upper(at(next));
          std::size_t prev_start = 0;
          const std::string_view prev = token_before(pos_, &prev_start);
          const bool prev_name = !prev.empty() && is_ascii_upper(prev[0]) && !sentence_start(prev_start) &&
                                 std::ranges::all_of(prev, [](char ch) { return is_ascii_alpha(ch); });
          const bool prev_number = !prev.empty() && is_ascii_digit(prev[0]);
          const bool place = prev_name || prev_number;
          if (a.kind == abbr_kind::doctor_drive) spoken = place ? "drive" : "doctor";
          else spoken = place || !next_cap ? "street" : "saint";
          can_end = spoken == "street" || spoken == "drive";
          break;
        }
        default:
          break;
      }
      say(spoken);
      pos_ = e;
      if (can_end && token.ends_with('.') && dot_ends_sentence(pos_)) emit_raw(".");
      return true;
    }
    return false;
  }

  // --- web -----------------------------------------------------------------------------------
  static constexpr std::size_t k_max_local_bytes = 64;   // RFC 5321 limits: also keep the scans short
  static constexpr std::size_t k_max_host_bytes = 253;
  static constexpr std::size_t k_max_path_bytes = 2048;

  static bool is_email_local(char c) {
    return is_ascii_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
  }

  /// Host labels from i: "mail.example.com". Returns the end, or i when there is none.
  std::size_t host_end(std::size_t i, std::vector<std::string_view>* labels) const {
    std::size_t p = i;
    while (p - i <= k_max_host_bytes) {
      const std::size_t b = p;
      while (is_ascii_alnum(at(p)) || at(p) == '-') ++p;
      if (p == b) return labels->empty() ? i : b - 1;  // a trailing '.' is not part of the host
      labels->push_back(in_.substr(b, p - b));
      if (at(p) == '.' && (is_ascii_alnum(at(p + 1)))) {
        ++p;
        continue;
      }
      return p;
    }
    return i;
  }

  /// Speaks one piece of an address: letters as they are, digits one by one, . - _ named.
  static std::string spell_address_part(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (is_ascii_alpha(c)) {
        std::size_t j = i;
        while (j < s.size() && is_ascii_alpha(s[j])) ++j;
        append_word(out, s.substr(i, j - i));
        i = j;
      } else if (is_ascii_digit(c)) {
        std::size_t j = i;
        while (j < s.size() && is_ascii_digit(s[j])) ++j;
        append_word(out, digit_words(s.substr(i, j - i)));
        i = j;
      } else {
        switch (c) {
          case '.': append_word(out, "dot"); break;
          case '-': append_word(out, "dash"); break;
          case '_': append_word(out, "underscore"); break;
          case '+': append_word(out, "plus"); break;
          case '%': append_word(out, "percent"); break;
          case '~': append_word(out, "tilde"); break;
          default: break;
        }
        ++i;
      }
    }
    return out;
  }

  static bool valid_tld(std::string_view label) {
    return label.size() >= 2 && std::ranges::all_of(label, [](char c) { return is_ascii_alpha(c); });
  }

  bool try_email() {
    std::size_t p = pos_;
    while (is_email_local(at(p)) && p - pos_ <= k_max_local_bytes) ++p;
    if (p == pos_ || at(p) != '@' || in_[p - 1] == '.') return false;
    std::vector<std::string_view> labels;
    const std::size_t e = host_end(p + 1, &labels);
    if (labels.size() < 2 || !valid_tld(labels.back()) || is_ascii_alnum(at(e))) return false;
    std::string words = spell_address_part(in_.substr(pos_, p - pos_)) + " at";
    for (std::size_t k = 0; k < labels.size(); ++k) {
      if (k) words += " dot";
      append_word(words, spell_address_part(labels[k]));
    }
    say(words);
    pos_ = e;
    return true;
  }

  bool try_url() {
    std::size_t p = pos_;
    bool scheme = false;
    for (const std::string_view s : {"https://", "http://", "ftp://"}) {
      if (starts_ci(p, s)) {
        p += s.size();
        scheme = true;
        break;
      }
    }
    const bool www = starts_ci(p, "www.");
    if (www) p += 4;
    std::vector<std::string_view> labels;
    const std::size_t e = host_end(p, &labels);
    if (labels.size() < (www ? 1u : 2u) || (!www && !valid_tld(labels.back()))) return false;
    if (!scheme && !www) {
      if (!std::ranges::any_of(k_tlds, [&](auto t) { return labels.back() == t; })) return false;
      if (at(e) == '@' || is_ascii_alnum(at(e))) return false;
    }
    // Path: up to white space; the query and fragment are consumed but not read out; trailing
    // punctuation belongs to the sentence.
    std::size_t end = e;
    std::size_t path_end = e;
    if (at(e) == '/' || at(e) == ':' || at(e) == '?' || at(e) == '#') {
      while (end < in_.size() && end - e < k_max_path_bytes && !is_space(in_[end]) && in_[end] != '"' && in_[end] != '<' && in_[end] != '>' &&
             static_cast<unsigned char>(in_[end]) < 0x80) {
        ++end;
      }
      while (end > e && std::string_view(".,;:!?)]}'").find(in_[end - 1]) != k_npos) --end;
      path_end = std::min({end, in_.find('?', e), in_.find('#', e)});
    }
    std::string words;
    for (std::size_t k = 0; k < labels.size(); ++k) {
      if (k) words += " dot";
      append_word(words, spell_address_part(labels[k]));
    }
    std::string_view path = in_.substr(e, path_end - e);
    if (path.starts_with(':')) {  // a port
      const std::size_t d = path.find('/');
      append_word(words, "colon " + spell_address_part(path.substr(1, d == k_npos ? k_npos : d - 1)));
      path = d == k_npos ? std::string_view() : path.substr(d);
    }
    while (path.ends_with('/')) path.remove_suffix(1);
    while (!path.empty()) {
      path.remove_prefix(1);  // the '/'
      const std::size_t d = path.find('/');
      append_word(words, "slash");
      append_word(words, spell_address_part(path.substr(0, d)));
      path = d == k_npos ? std::string_view() : path.substr(d);
    }
    say(words);
    pos_ = end;
    return true;
  }

  // --- symbols and typography ----------------------------------------------------------------
  bool digit_before(std::size_t i) const {
    while (i > 0 && in_[i - 1] == ' ') --i;
    return i > 0 && is_ascii_digit(in_[i - 1]);
  }
  bool digit_after(std::size_t i) const { return is_ascii_digit(at(skip_blanks(i))); }
  bool spaced(std::size_t i, std::size_t len) const {
    return i > 0 && is_space(in_[i - 1]) && (i + len >= in_.size() || is_space(in_[i + len]));
  }

  bool try_symbol() {
    struct symbol {
      std::string_view written, spoken;
    };
    static constexpr symbol anywhere[] = {
        {"&amp;", "and"},
        {"&", "and"},
        {"@", "at"},
        {"%", "percent"},
        {"\u00D7", "times"},                      // ×
        {"\u00F7", "divided by"},                 // ÷
        {"\u00B1", "plus or minus"},              // ±
        {"\u2248", "approximately"},              // ≈
        {"\u2260", "is not equal to"},            // ≠
        {"\u2264", "is less than or equal to"},   // ≤
        {"\u2265", "is greater than or equal to"},// ≥
        {"\u00B0", "degrees"},                    // ° (not after a number)
    };
    for (const symbol& s : anywhere) {
      if (starts(pos_, s.written)) {
        say(s.spoken);
        pos_ += s.written.size();
        return true;
      }
    }
    const char c = in_[pos_];
    if (c == '+') {
      say("plus");
      ++pos_;
      return true;
    }
    if (c == '=') {
      say("equals");
      while (at(pos_) == '=') ++pos_;
      return true;
    }
    if (c == '#' && is_ascii_digit(at(pos_ + 1))) {
      say("number");
      ++pos_;
      number_ok_at_ = pos_;
      return true;
    }
    if (c == '*' && digit_before(pos_) && digit_after(pos_ + 1)) {
      say("times");
      pos_ = skip_blanks(pos_ + 1);
      number_ok_at_ = pos_;
      return true;
    }
    if (c == '~' && digit_after(pos_ + 1)) {
      say("about");
      pos_ = skip_blanks(pos_ + 1);
      number_ok_at_ = pos_;
      return true;
    }
    if ((c == '<' || c == '>') && (spaced(pos_, 1) || (at(pos_ + 1) == '=' && spaced(pos_, 2)))) {
      const bool or_equal = at(pos_ + 1) == '=';
      say(std::string(c == '<' ? "less than" : "greater than") + (or_equal ? " or equal to" : ""));
      pos_ += or_equal ? 2 : 1;
      return true;
    }
    struct vulgar {
      std::string_view written, alone, after_number;
    };
    static constexpr vulgar fractions[] = {
        {"\u00BD", "one half", "and a half"},          {"\u00BC", "one quarter", "and a quarter"},
        {"\u00BE", "three quarters", "and three quarters"}, {"\u2153", "one third", "and a third"},
        {"\u2154", "two thirds", "and two thirds"},
    };
    for (const vulgar& f : fractions) {
      if (starts(pos_, f.written)) {
        say(pos_ > 0 && is_ascii_digit(in_[pos_ - 1]) ? f.after_number : f.alone);
        pos_ += f.written.size();
        return true;
      }
    }
    return false;
  }

  bool try_typography() {
    struct mapping {
      std::string_view written, plain;
    };
    static constexpr mapping marks[] = {
        {"\u2018", "'"},  {"\u2019", "'"},   {"\u201A", "'"},  {"\u201B", "'"},  {"\u201C", "\""},
        {"\u201D", "\""}, {"\u201E", "\""},  {"\u201F", "\""}, {"\u2026", "..."}, {"\u00A0", " "},
        {"\u2009", " "},  {"\u202F", " "},   {"\u2007", " "},  {"\u200B", ""},   {"\uFEFF", ""},
    };
    for (const mapping& m : marks) {
      if (starts(pos_, m.written)) {
        if (m.plain == " ") {
          if (!out_.empty() && out_.back() != ' ') emit_raw(" ");
        } else {
          for (const char ch : m.plain) {
            if (space_pending_ && is_ascii_alnum(ch)) out_ += ' ';
            space_pending_ = false;
            out_ += ch;
          }
        }
        pos_ += m.written.size();
        return true;
      }
    }
    // A dash between words is a pause: "Paris — the capital" → "Paris, the capital".
    std::size_t len = 0;
    if (starts(pos_, "\u2014") || starts(pos_, "\u2013") || starts(pos_, "\u2015")) len = 3;
    else if (starts(pos_, "--")) len = 2;
    else if (in_[pos_] == '-' && spaced(pos_, 1)) len = 1;
    if (len == 0) return false;
    if (len == 1 && digit_before(pos_) && digit_after(pos_ + 1)) return false;
    trim_trailing_blanks();
    if (!out_.empty() && out_.back() != ',' && out_.back() != '\n') emit_raw(",");
    pos_ += len;
    while (at(pos_) == '-') ++pos_;
    pos_ = skip_blanks(pos_);
    if (!out_.empty() && out_.back() == ',') emit_raw(" ");
    return true;
  }

  std::string_view in_;
  const normalize_options& opt_;
  std::string out_;
  std::size_t pos_ = 0;
  std::size_t number_ok_at_ = k_npos;  // a number may start here even though a letter precedes it
  bool space_pending_ = false;         // spoken words were just emitted
  bool year_chain_ = false;            // the last number read was a year ("from 1990 to 2000")
  std::size_t year_range_at_ = k_npos; // a number here ends a range that began with a year
};

}  // namespace

std::string cardinal_words(std::uint64_t n) {
  if (n == 0) return "zero";
  std::vector<unsigned> groups;
  for (; n != 0; n /= 1000) groups.push_back(static_cast<unsigned>(n % 1000));
  std::string out;
  for (std::size_t i = groups.size(); i-- > 0;) {
    if (groups[i] == 0) continue;
    append_word(out, below_thousand(groups[i]));
    append_word(out, k_scales[i]);
  }
  return out;
}

std::string ordinal_words(std::uint64_t n) {
  std::string words = cardinal_words(n);
  const std::size_t cut = words.find_last_of(" -") + 1;  // npos + 1 == 0
  const std::string last = words.substr(cut);
  static constexpr std::pair<std::string_view, std::string_view> irregular[] = {
      {"one", "first"}, {"two", "second"}, {"three", "third"}, {"five", "fifth"},
      {"eight", "eighth"}, {"nine", "ninth"}, {"twelve", "twelfth"}};
  words.resize(cut);
  for (const auto& [card, ord] : irregular) {
    if (last == card) return words + std::string(ord);
  }
  if (last.ends_with('y')) return words + last.substr(0, last.size() - 1) + "ieth";
  return words + last + "th";
}

std::string year_words(std::uint64_t year) {
  if (year < 1000 || year > 9999) return cardinal_words(year);
  const unsigned hi = static_cast<unsigned>(year / 100), lo = static_cast<unsigned>(year % 100);
  if (year % 1000 == 0 || (year > 2000 && year < 2010)) return cardinal_words(year);
  if (lo == 0) return below_hundred(hi) + " hundred";
  if (lo < 10) return below_hundred(hi) + " oh " + std::string(k_ones[lo]);
  return below_hundred(hi) + " " + below_hundred(lo);
}

std::string digit_words(std::string_view digits) {
  std::string out;
  for (const char c : digits) {
    if (is_ascii_digit(c)) append_word(out, k_ones[static_cast<std::size_t>(c - '0')]);
  }
  return out;
}

std::string normalize_for_speech(std::string_view text, const normalize_options& options) {
  return normalizer(text, options).run();
}

}  // namespace parley::text
