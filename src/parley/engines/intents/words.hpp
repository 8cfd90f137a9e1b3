// engines/intents/words — utterances as the local responder reads them.
//
// Role: turns recogniser output (lower-case words, no punctuation, numbers spelled out) or typed
// text into a list of plain lower-case words: punctuation dropped, contractions expanded
// ("what's" → "what is"), hyphens split, digit groups joined ("1,440" → "1440"), symbols spoken
// ("%" → "percent", "+" → "plus"), digits and letters apart ("10km" → "10 km").
// Also the English function words the scorers use (see local_responder.hpp, confidence). The
// contractions and the function words are text/spoken's (function_words::conversation).
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::intents {

/// Splits `text` into normalised lower-case words (UTF-8 letters beyond ASCII are kept as is).
std::vector<std::string> to_words(std::string_view text);

/// True for English function words ("the", "is", "what", "you"...): words that carry little
/// meaning on their own, as opposed to content words ("timer", "refund", "twelve").
bool is_function_word(std::string_view word);

/// A light English stemmer: plural, -ing, -ed, -ly and final -e/-y folded, doubled final
/// consonants undone ("shipping" → "ship", "deliveries" → "deliveri", "stored" → "stor").
std::string stem(std::string_view word);

}  // namespace parley::intents
