// engines/pocketsphinx/domain_lm — a small n-gram language model built from domain phrases.
//
// Role: the recognizer favours what the assistant is for (the responder's intent phrasings and
// FAQ questions) by interpolating the generic language model with a tiny one built, at start-up,
// from those phrases. This file holds the pure part: normalising phrases into recogniser words
// (`phrase_words`) and estimating a back-off trigram model written as ARPA text (`build_arpa`),
// which pocketsphinx reads. No third-party code; deterministic output for the same input.
// Estimation: absolute discounting (D = `discount`) with Katz-style back-off weights, so every
// context's distribution sums to one; unigrams are maximum likelihood over the phrase words plus
// </s>; <s> gets the conventional log10 probability -99. Counts are per phrase (a phrase listed
// twice counts twice: repetition is a way to weight it).
// Threading: pure functions.
//
//   auto words = phrase_words("Set a timer for 10 minutes!");  // set a timer for ten minutes
//   std::string arpa = build_arpa({words, ...});
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::pocketsphinx {

/// Lower-cases ASCII, keeps apostrophes inside words ("what's"), turns other punctuation into
/// word breaks, and spells out integers 0..999999 ("10" → "ten", "2024" → "two thousand twenty
/// four"); other digit strings are spelled digit by digit. Returns the words in order.
std::vector<std::string> phrase_words(std::string_view phrase);

/// Spells a non-negative integer below one million in words ("twenty one"); digit by digit above.
std::string number_to_words(std::string_view digits);

struct arpa_options {
  int order = 3;          // 1..3
  double discount = 0.5;  // absolute discount in (0, 1)
};

/// ARPA text of a back-off n-gram model over `sentences` (each already split into words; empty
/// sentences are skipped). Returns "" when there is no word at all.
std::string build_arpa(const std::vector<std::vector<std::string>>& sentences, arpa_options options = {});

}  // namespace parley::pocketsphinx
