// normalize_for_speech, continued: money, percentages, fractions, dimensions and units.
// The normalizer and its driver: text/detail/normalizer.hpp, normalize.cpp.
#include <algorithm>

#include "parley/text/detail/normalizer.hpp"

namespace parley::text::detail {
namespace {

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

// Glued to a currency amount: "$3M", "$2.5bn", "$10k" (spelled scales: text::read_number_word).
constexpr scale_word k_money_scale_abbreviations[] = {
    {"bn", "billion"}, {"mn", "million"},  {"tn", "trillion"}, {"k", "thousand"},
    {"K", "thousand"}, {"M", "million"},   {"B", "billion"},   {"T", "trillion"},
};
constexpr std::uint64_t k_largest_money_scale = 1'000'000'000'000;  // "trillion"

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

}  // namespace

/// "$5/month", "20 km/day": the slash reads "per".
void normalizer::say_per() {
  if (at(pos_) == '/' && is_ascii_alpha(at(pos_ + 1))) {
    say("per");
    ++pos_;
  }
}

bool normalizer::try_percent(const number& n) {
  const std::size_t s = past_gap(n.end);
  if (at(s) != '%') return false;
  say(n.words() + " percent");
  pos_ = s + 1;
  return true;
}

/// The currency whose symbol is written at i.
std::optional<currency> normalizer::currency_symbol_at(std::size_t i) const {
  for (const currency& c : k_currencies) {
    if (starts(i, c.symbol)) return c;
  }
  return std::nullopt;
}

/// "$5", "€20", "£3.50", "$2.5 billion", "$3M", "US$10".
bool normalizer::try_currency_prefix() {
  const auto cur = currency_symbol_at(pos_);
  if (!cur) return false;
  if (cur->symbol == "US$" && !at_word_start(pos_)) return false;
  const std::size_t p = pos_ + cur->symbol.size();
  if (!is_ascii_digit(at(p))) return false;
  if (pos_ > 0 && is_ascii_alnum(in_[pos_ - 1]) && cur->symbol != "US$") return false;
  const number n = *parse_number(p);
  std::size_t end = n.end;
  std::string scale;
  const std::size_t s = at(end) == ' ' ? end + 1 : end;
  const std::size_t word_end = letters_end(s);
  std::string word;  // "$5 million", "$5 Million"
  for (std::size_t i = s; i < word_end && word.size() <= 8; ++i) word += to_ascii_lower(in_[i]);
  if (const auto nw = read_number_word(word); nw && nw->kind == number_word_kind::scale && !nw->ordinal &&
                                               nw->value <= k_largest_money_scale) {
    scale = std::move(word);
    end = word_end;
  } else {
    for (const scale_word& w : k_money_scale_abbreviations) {
      if (s == end && starts(s, w.written) && !is_ascii_alpha(at(s + w.written.size()))) {
        scale = w.spoken;
        end = s + w.written.size();
        break;
      }
    }
  }
  say(money_words(n, *cur, scale));
  pos_ = end;
  year_chain_ = false;
  say_per();
  return true;
}

/// "20€", "20 €", "5 USD".
bool normalizer::try_currency_suffix(const number& n) {
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

std::string normalizer::money_words(const number& n, const currency& cur, std::string_view scale) const {
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
bool normalizer::try_fraction(const number& n) {
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
bool normalizer::try_dimensions(const number& n) {
  std::size_t x = 0;
  if (at(n.end) == 'x') x = 1;
  else if (starts(n.end, "\u00D7")) x = 2;  // ×
  if (x == 0 || !is_ascii_digit(at(n.end + x))) return false;
  say(n.words() + " by");
  pos_ = n.end + x;
  number_ok_at_ = pos_;
  return true;
}

bool normalizer::try_unit(const number& n) {
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

}  // namespace parley::text::detail
