#include "parley/engines/intents/spoken_numbers.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "parley/engines/intents/words.hpp"

namespace parley::intents {
namespace {

constexpr std::array<std::string_view, 20> k_small = {
    "zero",    "one",     "two",       "three",    "four",     "five",    "six",
    "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen",  "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 8> k_tens = {"twenty", "thirty", "forty", "fifty",
                                                    "sixty",  "seventy", "eighty", "ninety"};

std::optional<int> small_value(std::string_view w) {
  for (std::size_t i = 0; i < k_small.size(); ++i) {
    if (k_small[i] == w) return static_cast<int>(i);
  }
  if (w == "nought" || w == "naught") return 0;
  return std::nullopt;
}

std::optional<int> tens_value(std::string_view w) {
  for (std::size_t i = 0; i < k_tens.size(); ++i) {
    if (k_tens[i] == w) return static_cast<int>(20 + 10 * i);
  }
  if (w == "fourty") return 40;
  return std::nullopt;
}

std::optional<double> scale_value(std::string_view w) {
  if (w == "thousand") return 1e3;
  if (w == "million") return 1e6;
  if (w == "billion") return 1e9;
  if (w == "trillion") return 1e12;
  return std::nullopt;
}

/// "half" → 0.5, "quarters" → 0.25, "third" → 1/3 (singular and plural).
std::optional<double> fraction_value(std::string_view w) {
  if (w == "half" || w == "halves") return 0.5;
  if (w == "quarter" || w == "quarters") return 0.25;
  if (w == "third" || w == "thirds") return 1.0 / 3.0;
  return std::nullopt;
}

std::optional<double> digits_value(std::string_view w) {
  if (w.empty() || w.front() < '0' || w.front() > '9') return std::nullopt;
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
  if (ec != std::errc() || ptr != w.data() + w.size()) return std::nullopt;
  return v;
}

/// A single digit, for the part after "point" ("one point five", "two point oh five").
std::optional<int> digit_word(std::string_view w) {
  if (w == "oh" || w == "o") return 0;
  if (auto v = small_value(w); v && *v < 10) return v;
  return std::nullopt;
}

bool starts_cardinal(std::string_view w) {
  return small_value(w) || tens_value(w) || digits_value(w) || w == "point";
}

enum class last_kind { none, unit, teen, tens, hundred, scale };

class parser {
 public:
  parser(std::span<const std::string> words, std::size_t at) : w_(words), i_(at) {}

  std::optional<number_span> run() {
    const std::size_t begin = i_;
    double sign = 1.0;
    if ((word(0) == "minus" || word(0) == "negative") && (starts_cardinal(word(1)) || word(1) == "a")) {
      sign = -1.0;
      ++i_;
    }
    std::optional<double> v = leading();
    if (!v) return std::nullopt;
    double value = *v;
    value = decimals(value);
    value = fraction_tail(value);
    return number_span{sign * value, begin, i_};
  }

 private:
  std::string_view word(std::size_t ahead) const {
    return i_ + ahead < w_.size() ? std::string_view(w_[i_ + ahead]) : std::string_view();
  }

  std::optional<double> leading() {
    const std::string_view w = word(0);
    if (w == "a" || w == "an") {
      const std::string_view next = word(1);
      if (next == "hundred" || scale_value(next)) {
        i_ += 1;  // "a" stands for "one"; the cardinal loop reads the scale
        return cardinal(1.0, last_kind::unit);
      }
      if (next == "dozen") {
        i_ += 2;
        return 12.0;
      }
      if (next == "half" || next == "quarter" || next == "third") {
        i_ += 2;
        return *fraction_value(next);
      }
      return std::nullopt;
    }
    if (w == "half") {
      ++i_;
      return 0.5;
    }
    if (w == "point") {
      if (!digit_word(word(1)) && !digits_value(word(1))) return std::nullopt;
      return 0.0;  // decimals() reads the rest
    }
    if (auto d = digits_value(w)) {
      ++i_;
      double value = *d;
      if (word(0) == "hundred") {
        value *= 100.0;
        ++i_;
      }
      if (auto s = scale_value(word(0))) {
        value *= *s;
        ++i_;
      }
      return value;
    }
    if (!small_value(w) && !tens_value(w)) return std::nullopt;
    return cardinal(0.0, last_kind::none);
  }

  // Spelled-out cardinals: a small state machine over unit/teen/tens/hundred/scale words.
  std::optional<double> cardinal(double current, last_kind last) {
    double total = 0.0;
    double last_scale = 1e18;
    bool any = last != last_kind::none;
    while (i_ < w_.size()) {
      const std::string_view w = word(0);
      if (auto v = small_value(w)) {
        const bool teen = *v >= 10;
        const bool ok = last == last_kind::none || last == last_kind::hundred || last == last_kind::scale ||
                        (last == last_kind::tens && !teen && *v > 0);
        if (!ok) break;
        current += *v;
        last = teen ? last_kind::teen : last_kind::unit;
      } else if (auto t = tens_value(w)) {
        if (!(last == last_kind::none || last == last_kind::hundred || last == last_kind::scale)) break;
        current += *t;
        last = last_kind::tens;
      } else if (w == "hundred") {
        if (!(last == last_kind::unit || last == last_kind::teen || last == last_kind::tens) || current >= 100.0 ||
            current == 0.0) {
          break;
        }
        current *= 100.0;
        last = last_kind::hundred;
      } else if (auto s = scale_value(w)) {
        if (last == last_kind::none || last == last_kind::scale || *s >= last_scale || current == 0.0) break;
        total += current * *s;
        current = 0.0;
        last_scale = *s;
        last = last_kind::scale;
      } else if (w == "and" && (last == last_kind::hundred || last == last_kind::scale) &&
                 (small_value(word(1)) || tens_value(word(1)))) {
        // "a hundred and five", "two thousand and ten": the number goes on after "and".
      } else {
        break;
      }
      any = true;
      ++i_;
    }
    if (!any) return std::nullopt;
    return total + current;
  }

  double decimals(double value) {
    if (word(0) != "point") return value;
    if (auto d = digits_value(word(1)); d && w_[i_ + 1].find('.') == std::string::npos) {
      const std::string& s = w_[i_ + 1];
      i_ += 2;
      return value + *d / std::pow(10.0, static_cast<double>(s.size()));
    }
    double scale = 0.1;
    std::size_t n = 0;
    while (auto d = digit_word(word(1 + n))) {
      value += *d * scale;
      scale /= 10.0;
      ++n;
    }
    if (n > 0) i_ += 1 + n;
    return value;
  }

  double fraction_tail(double value) {
    const bool whole = value == std::floor(value);
    // "three quarters", "one half", "two thirds"
    if (whole && value >= 1.0 && value <= 10.0) {
      if (auto f = fraction_value(word(0)); f && (word(0) != "third" || value == 1.0)) {
        ++i_;
        return value * *f;
      }
    }
    if (word(0) != "and") return value;
    // "two and a half", "one and a quarter"
    if ((word(1) == "a" || word(1) == "an" || word(1) == "one") && fraction_value(word(2)) &&
        (word(2) == "half" || word(2) == "quarter" || word(2) == "third")) {
      value += *fraction_value(word(2));
      i_ += 3;
      return value;
    }
    // "two and three quarters"
    if (auto n = small_value(word(1)); n && *n >= 1 && *n <= 9 && fraction_value(word(2))) {
      value += *n * *fraction_value(word(2));
      i_ += 3;
    }
    return value;
  }

  std::span<const std::string> w_;
  std::size_t i_;
};

std::string with_separators(std::string digits) {
  std::string out;
  const std::size_t n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[i];
    const std::size_t left = n - i - 1;
    if (left > 0 && left % 3 == 0) out += ',';
  }
  return out;
}

}  // namespace

std::optional<number_span> parse_number_at(std::span<const std::string> words, std::size_t at) {
  if (at >= words.size()) return std::nullopt;
  return parser(words, at).run();
}

std::optional<double> parse_spoken_number(std::string_view text) {
  const auto words = to_words(text);
  if (words.empty()) return std::nullopt;
  auto n = parse_number_at(words, 0);
  if (!n || n->end != words.size()) return std::nullopt;
  return n->value;
}

std::string format_number(double value, int max_decimals, bool* rounded) {
  if (rounded) *rounded = false;
  if (!std::isfinite(value)) return "an impossibly large number";
  std::string prefix;
  if (value < 0) {
    prefix = "minus ";
    value = -value;
  }
  int decimals = max_decimals;
  if (value > 0 && value < 1.0) {  // keep 3 significant digits of small values
    const int leading_zeros = static_cast<int>(std::floor(-std::log10(value)));
    decimals = std::max(decimals, leading_zeros + 3);
  }
  decimals = std::clamp(decimals, 0, 12);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string s = buf;
  if (rounded) {
    const double back = std::strtod(buf, nullptr);
    *rounded = std::fabs(back - value) > 1e-9 * std::max(1.0, value);
  }
  std::string frac;
  if (const auto dot = s.find('.'); dot != std::string::npos) {
    frac = s.substr(dot + 1);
    s.resize(dot);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
  }
  std::string out = with_separators(std::move(s));
  if (!frac.empty()) out += "." + frac;
  if (out == "0") prefix.clear();
  return prefix + out;
}

}  // namespace parley::intents
