// normalize_for_speech, continued: numbers, years, dates, times and phone numbers.
// The normalizer and its driver: text/detail/normalizer.hpp, normalize.cpp.
#include <algorithm>
#include <vector>

#include "parley/text/detail/normalizer.hpp"

namespace parley::text::detail {
namespace {

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

}  // namespace

// --- numbers -------------------------------------------------------------------------------
std::optional<number> normalizer::parse_number(std::size_t i) const {
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
bool normalizer::try_number() {
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
bool normalizer::year_context(const number& n) const {
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
  if (month_number(prev) != 0 && is_ascii_upper(prev[0])) return true;
  if (year_chain_ && std::ranges::any_of(k_year_chain_words, [&](auto w) { return iequals_ascii(prev, w); })) return true;
  if (iequals_ascii(prev, "of")) {  // "the summer of 1969", not "a population of 1500"
    const std::string_view before = word_before(word_start);
    return std::ranges::any_of(k_year_words, [&](auto w) { return iequals_ascii(before, w) && !iequals_ascii(w, "of"); });
  }
  return std::ranges::any_of(k_year_words, [&](auto w) { return iequals_ascii(prev, w); });
}

/// "in 1500 years": a count, not a year.
bool normalizer::counted_noun_follows(const number& n) const {
  const std::size_t s = skip_blanks(n.end);
  if (s == n.end) return false;
  const std::string_view word = in_.substr(s, letters_end(s) - s);
  return std::ranges::any_of(k_counted_nouns, [&](auto w) { return iequals_ascii(word, w); });
}

/// 3:1, 21:7 (one digit after the colon; two digits make a time): "three to one".
bool normalizer::try_ratio(const number& n) {
  if (!n.is_integer() || at(n.end) != ':' || !is_ascii_digit(at(n.end + 1)) || is_ascii_alnum(at(n.end + 2))) {
    return false;
  }
  say(n.words() + " to " + cardinal_words(static_cast<std::uint64_t>(at(n.end + 1) - '0')));
  pos_ = n.end + 2;
  year_chain_ = false;
  return true;
}

/// Length of a range dash at i ('-' or an en dash) directly followed by a digit, or 0.
std::size_t normalizer::range_dash_at(std::size_t i) const {
  const std::size_t len = at(i) == '-' ? 1 : starts(i, "\u2013") ? 3 : 0;
  return len != 0 && is_ascii_digit(at(i + len)) ? len : 0;
}

/// 1990-1995: both ends read as years.
bool normalizer::year_range_follows(const number& n) const {
  const std::size_t len = range_dash_at(n.end);
  if (len == 0) return false;
  const auto m = parse_number(n.end + len);
  return m && m->is_year_like() && !is_ascii_alnum(at(m->end));
}

/// Ranges and differences right after a number: 5-10 → "to", 1990–1995, "7 - 2 = 5" → "minus".
void normalizer::after_number() {
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

bool normalizer::try_signed() {
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
bool normalizer::try_iso_date() {
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
bool normalizer::try_slash_date() {
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

void normalizer::say_date(unsigned month, std::uint64_t day, std::uint64_t year) {
  say(std::string(month_name(month)) + " " + ordinal_words(day) + ",");
  say(year_words(year));
  year_chain_ = true;
}

/// h:mm or h:mm:ss, optionally with am/pm.
bool normalizer::try_time() {
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
    words = cardinal_words(h) + (m < 10 ? " oh " : " ") + cardinal_words(m);
  }
  if (seconds && *seconds > 0) words += " and " + cardinal_words(*seconds) + (*seconds == 1 ? " second" : " seconds");
  say(words);
  pos_ = end;
  if (suffix) say_ampm(*suffix);
  return true;
}

/// am / pm / a.m. / p.m. (any case) at i, after at most one space, ending at a word boundary.
std::optional<ampm> normalizer::ampm_at(std::size_t i) const {
  const std::size_t s = past_gap(i);
  for (const std::string_view form : {"a.m.", "p.m.", "a.m", "p.m", "am", "pm"}) {
    if (starts_ci(s, form) && !is_ascii_alpha(at(s + form.size())) &&
        !(at(s + form.size()) == '.' && is_ascii_alpha(at(s + form.size() + 1)))) {
      return ampm{s + form.size() - i, to_ascii_lower(in_[s]) == 'p', form.back() == '.'};
    }
  }
  return std::nullopt;
}

void normalizer::say_ampm(const ampm& a) {
  // "a.m." keeps its dots: both engines read "a m" as "uh m". "p m" reads right everywhere.
  say(a.pm ? "p m" : "a.m.");
  pos_ += a.length;
  if (!a.pm && at(pos_) == '.') ++pos_;  // "at 5 am." : "a.m." already ends the sentence
  if (a.pm && a.ends_with_dot && dot_ends_sentence(pos_)) emit_raw(".");
}

bool normalizer::try_hour_ampm(const number& n) {
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
bool normalizer::try_phone() {
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
bool normalizer::try_dotted() {
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

bool normalizer::try_ordinal(const number& n) {
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
bool normalizer::try_decade(const number& n) {
  const auto v = n.value();
  if (!v || n.grouped || (*v % 10) != 0 || (n.int_digits.size() != 2 && n.int_digits.size() != 4)) return false;
  std::size_t e = n.end;
  if (at(e) == '\'') ++e;
  if (at(e) != 's' || is_ascii_alpha(at(e + 1))) return false;
  if (n.int_digits.size() == 4 && !n.is_year_like()) return false;
  if (n.int_digits[0] == '0') return false;
  say(pluralize_number(n.int_digits.size() == 4 ? year_words(*v) : cardinal_words(*v)));
  pos_ = e + 1;
  return true;
}

/// '90s → "nineties".
bool normalizer::try_decade_apostrophe() {
  const std::size_t len = in_[pos_] == '\'' ? 1 : 3;
  const std::size_t d = pos_ + len;
  if (!at_word_start(pos_) || digits_end(d) != d + 2 || at(d + 1) != '0' || at(d + 2) != 's' ||
      is_ascii_alpha(at(d + 3))) {
    return false;
  }
  const auto v = *to_u64(in_.substr(d, 2));
  if (v < 10) return false;
  say(pluralize_number(cardinal_words(v)));
  pos_ = d + 3;
  return true;
}

/// "March 15" → "March fifteenth", "March 15, 2024" → "..., twenty twenty-four",
/// "15 March" → "fifteenth of March".
bool normalizer::try_day_of_month(const number& n) {
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
  const unsigned month = month_number(word);
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
void normalizer::say_year_after_day() {
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

}  // namespace parley::text::detail
