#include "parley/engines/intents/spoken_numbers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "parley/engines/intents/words.hpp"
#include "parley/text/spoken.hpp"

namespace parley::intents {
namespace {

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
  const auto n = text::read_number(words, at, {.digits = true, .signs = true, .fractions = true});
  if (!n) return std::nullopt;
  return number_span{n->value, n->begin, n->end};
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
