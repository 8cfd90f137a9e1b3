// engines/pocketsphinx/pronounce — pronunciations for words the dictionary does not know.
//
// Role: a domain phrase may hold words missing from cmudict (product names, made-up words). They
// must not be dropped: the recognizer asks espeak-ng for the word's phonemes (`espeak-ng -q
// --ipa -v en-us --sep=_ WORD`, a separate process run once per word at start-up, so espeak's
// global library state is never shared with the espeak TTS adapter) and maps its IPA onto the 39
// CMU phones of the en-us acoustic model (`ipa_to_cmu`). Where espeak-ng is missing or yields
// nothing usable, simple English letter-to-sound rules (`letters_to_cmu`) give a rougher guess.
// Threading: pure functions, except `espeak_ipa`/`guess_pronunciation`, which spawn a process
// (reentrant; start-up only — never on a session's data path).
// Units: phone strings are CMU phones separated by single spaces, without stress marks
// ("P AA R L IY").
//
//   auto p = guess_pronunciation("zorblax", "espeak-ng");  // {"zorblax", "Z AO R B L AE K S", espeak}
#pragma once

#include <string>
#include <string_view>

#include "parley/core/error.hpp"

namespace parley::pocketsphinx {

enum class pron_source { dictionary, espeak, rules };
std::string_view to_string(pron_source source);

struct pronunciation {
  std::string word;
  std::string phones;  // CMU phones, space separated
  pron_source source = pron_source::rules;
};

/// True for the 39 CMU phones of the en-us model (AA AE AH ... ZH), upper case, no stress digit.
bool is_cmu_phone(std::string_view phone);

/// Maps espeak-ng IPA output (phonemes separated by '_', words by spaces; stress and length
/// marks allowed) to CMU phones. Unknown symbols are skipped; "" when nothing maps.
std::string ipa_to_cmu(std::string_view ipa);

/// Rule-based letter-to-sound for a lower-case word (a-z and apostrophes; other bytes skipped).
/// Rough but never empty for a word with at least one letter.
std::string letters_to_cmu(std::string_view word);

/// Runs `program -q --ipa -v en-us --sep=_ word` (program looked up in PATH when it has no '/')
/// and returns its trimmed standard output. unavailable if it cannot be run or fails.
result<std::string> espeak_ipa(const std::string& program, const std::string& word);

/// espeak-ng (when `espeak_program` is not empty and works) mapped by ipa_to_cmu, otherwise
/// letters_to_cmu. Always returns a usable pronunciation for a word with a letter in it.
pronunciation guess_pronunciation(const std::string& word, const std::string& espeak_program);

}  // namespace parley::pocketsphinx
