// engines/intents/spoken_numbers — numbers as speech recognisers write them, and back.
//
// Role: reads a number starting at a word of an utterance (see words.hpp): digits ("12", "3.5",
// "1440"), spelled-out cardinals from zero to the trillions ("twelve", "a hundred and five",
// "one thousand two hundred thirty four", "twelve hundred"), decimals ("one point five"),
// fractions ("a half", "three quarters", "two and a half", "5 and a quarter"), a dozen, and a
// leading "minus"/"negative" — text::read_number (text/spoken.hpp) with its digit, sign and
// fraction options, the parser the cache key and PII detection use too. Writes numbers for
// speech-bound replies: digits with thousands separators ("1,440"), at most `max_decimals`
// decimals, "minus" for negatives (text normalisation before TTS speaks digits).
// Threading: pure functions.
//
//   auto words = to_words("what is a hundred and five plus two");
//   auto n = parse_number_at(words, 2);   // n->value == 105, n->end == 6 (the word "plus")
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace parley::intents {

struct number_span {
  double value = 0.0;
  std::size_t begin = 0;  // first word of the number
  std::size_t end = 0;    // one past its last word
};

/// The longest number that starts exactly at words[at], or nullopt when none does. A number
/// never swallows a following "and" unless a number continues after it ("a hundred and five",
/// "two and a half"), so "add two and three" reads as 2, "and", 3.
std::optional<number_span> parse_number_at(std::span<const std::string> words, std::size_t at);

/// The value of `text` when the whole text is one number ("twenty one", "2.5"), else nullopt.
std::optional<double> parse_spoken_number(std::string_view text);

/// "1,440", "3.14", "0.333", "minus 5": digits with thousands separators, rounded to
/// `max_decimals` decimals (at least 3 significant digits below 1), trailing zeros dropped.
/// Sets *rounded (if given) when the text is not the exact value.
std::string format_number(double value, int max_decimals = 2, bool* rounded = nullptr);

}  // namespace parley::intents
