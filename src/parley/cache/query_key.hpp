// cache/query_key — the exact-match key of a query: the words that matter, in one spelling.
//
// Role: two queries that differ only in case, punctuation, filler words ("um", "please", "hey"),
// contractions, the spelling of numbers ("five" / "5") or of a clock time ("5 pm", "five p.m.",
// "17:00") get the same key, so the response cache answers the second from the first with an
// exact hit. The key is also what the semantic embedder sees (so fillers never move a vector).
// Rules, in order:
//   1. lower case (ASCII; other UTF-8 bytes are kept as they are), "a.m."/"p.m." read as am/pm,
//      digit groups joined ("1,000" → "1000"), digits and letters split ("5pm" → "5 pm");
//   2. punctuation becomes a word break; contractions expanded ("what's" → "what is");
//   3. fillers dropped everywhere (um, uh, er, erm, hmm, please, kindly, hey, hi, hello),
//      discourse words dropped at the start ("so", "well", "okay", "like", "oh", "now") and
//      "like"/"you know"/"i mean" dropped after a filler or a comma;
//   4. spelled numbers become digits ("twenty one" → "21", "a hundred and five" → "105",
//      "fifth" → "5th");
//   5. clock times become 24-hour "hh:mm" ("5 pm", "5:00 p.m.", "five o'clock in the evening",
//      "half past five pm", "noon" → "12:00", "midnight" → "00:00"); a bare "17:00" is padded
//      ("9:05" → "09:05"); "5 o'clock" without am/pm reads as "05:00".
// The vocabulary is text/spoken's: its contractions, hesitations, number parser (with ordinals,
// without fractions, so "half past five" reaches rule 5) and function_words::query.
// Threading: pure functions. Units: none (UTF-8 text in, UTF-8 text out).
//
//   normalize_query("Um, what time do you open on Sunday, please?")  // "what time do you open on sunday"
//   normalize_query("Is it open at five p.m.?")                       // "is it open at 17:00"
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::cache {

/// The normalised words of `text` (see the rules above).
std::vector<std::string> query_words(std::string_view text);

/// The normalised words joined by single spaces: the exact-match key ("" when nothing is left).
std::string normalize_query(std::string_view text);

/// The numeric words of a normalised key ("5", "17:00", "3rd", "2.5"), in order: two queries
/// asking about different numbers are never the same question, however close their vectors.
std::vector<std::string> numeric_words(std::string_view normalized_key);

/// The content words of a normalised key: every word except English function words ("the", "is",
/// "do", "you", "my"...) and question words ("what", "when", "how"...), in order. Numbers count
/// as content. Used by the response cache's substitution guard.
std::vector<std::string> content_words(std::string_view normalized_key);

/// True for the function and question words content_words() leaves out.
bool is_function_word(std::string_view word);

}  // namespace parley::cache
