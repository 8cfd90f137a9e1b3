// text/spoken — the spoken-English vocabulary, once: number words both ways, months and weekdays,
// function words, hesitations, the common top-level domains and contractions.
//
// Role: every reader and writer of spoken English in parley uses these tables and this one number
// parser: text normalisation before TTS (value → words), PII detection over transcripts, the
// response cache's query key and the local responder's intents (words → value), the recogniser's
// domain language model. Readers take ASCII lower-case words (what recognisers write, and what
// the callers' tokenisers make of typed text); month and weekday names are read in any case.
// Threading: pure functions; the tables are immutable.
// Units: none (number values are plain numbers; word positions are indices into the caller's list).
//
//   cardinal_words(1234)                        // "one thousand two hundred thirty-four"
//   const std::vector<std::string> w{"a", "hundred", "and", "fifth", "street"};
//   read_number(w, 0, {.ordinals = true})       // value 105, ordinal, written "105th", end 4
//   read_number(w, 0, {})                       // value 100, end 2 ("and fifth" is not read)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::text {

// --- numbers: value → words ------------------------------------------------------------------

/// 0 → "zero", 1234 → "one thousand two hundred thirty-four" (up to 18 446 744 073 709 551 615).
/// American style: no "and", a hyphen inside the tens ("twenty-one").
std::string cardinal_words(std::uint64_t n);
/// 1 → "first", 22 → "twenty-second", 100 → "one hundredth".
std::string ordinal_words(std::uint64_t n);
/// 1999 → "nineteen ninety-nine", 2005 → "two thousand five", 2024 → "twenty twenty-four",
/// 1900 → "nineteen hundred", 1905 → "nineteen oh five"; outside 1000..9999: cardinal_words.
std::string year_words(std::uint64_t year);
/// "042" → "zero four two"; non-digits are skipped.
std::string digit_words(std::string_view digits);
/// The suffix of an ordinal written in digits: 1 → "st", 22 → "nd", 13 → "th".
std::string_view ordinal_suffix(std::uint64_t n);

// --- numbers: words → value ------------------------------------------------------------------

enum class number_word_kind { unit, teen, tens, hundred, scale };

struct number_word {
  number_word_kind kind = number_word_kind::unit;
  std::uint64_t value = 0;  // "seven" 7, "thirteenth" 13, "forty" 40, "hundred" 100, "million" 1e6
  bool ordinal = false;     // "fifth", "twentieth", "hundredth", "thousandth"
};

/// One number word: the cardinals "zero" to "ninety", "hundred" and the scales ("thousand" up to
/// "quintillion"), their ordinals ("first", "twelfth", "ninetieth", "millionth"), and the
/// spellings "fourty", "nought" and "naught". nullopt for anything else ("oh", "a", "dozen").
std::optional<number_word> read_number_word(std::string_view word);

/// A word said for one digit: "zero" to "nine", "oh", "o", "nought", "naught". nullopt otherwise.
std::optional<unsigned> digit_word_value(std::string_view word);

/// The largest number word a reading may use.
enum class number_range {
  tens,      // below a hundred: "ninety-nine"
  hundreds,  // below a thousand: "nine hundred and ninety-nine", "twelve hundred"
  any,       // the scales too: "three million five hundred thousand"
};

/// What read_number reads besides spelled-out cardinals ("twenty one", "a hundred and five",
/// "twelve hundred", "two thousand and ten"; scales up to "trillion", so values stay exact in a
/// double). Zero stands alone ("zero", never "twenty zero"). A number never swallows a following "and" unless a
/// number continues after it, so "add two and three" reads 2, "and", 3.
struct number_options {
  number_range range = number_range::any;
  bool ordinals = false;    // "fifth", "twenty first", "a hundred and first": the number ends there
  bool decimals = true;     // "one point five", "two point oh five"
  bool digits = false;      // digit words: "12", "3.5", "5 thousand", "ten point 5"
  bool signs = false;       // a leading "minus" or "negative" ("minus seven")
  bool fractions = false;   // "half", "a third", "three quarters", "two and a half", "point five",
                            // "a dozen" (without it "half past five" stays words for clock rules)
  bool oh_is_zero = false;  // a lone "oh" or "o" is 0 (digit strings: "five oh five")
};

struct number_reading {
  std::size_t begin = 0;  // the first word of the number
  std::size_t end = 0;    // one past its last word
  double value = 0.0;     // with its sign, decimals and fraction
  bool ordinal = false;
  /// In digits: "105", "21st", "1.05" (the decimals as spoken, "1.50" too), "-7"; a fraction or
  /// a digit word with decimals as the shortest decimal form of the value ("2.5", "3500000").
  std::string written;
};

/// The longest number that starts exactly at words[at], or nullopt when none does. Words other
/// than these are never part of a number; a "-" word joins a tens word and a unit ("forty", "-",
/// "two") for callers that keep hyphens as words.
std::optional<number_reading> read_number(std::span<const std::string> words, std::size_t at,
                                          const number_options& options = {});
std::optional<number_reading> read_number(std::span<const std::string_view> words, std::size_t at,
                                          const number_options& options = {});

// --- calendar --------------------------------------------------------------------------------

/// 1 → "January" ... 12 → "December"; "" outside 1..12.
std::string_view month_name(unsigned month);
/// The month a word names, in any case: the full name, its first three letters or "sept"
/// ("March", "mar", "SEPT") → 1..12; 0 when none.
unsigned month_number(std::string_view word);
/// 0 → "Sunday" ... 6 → "Saturday"; "" outside 0..6.
std::string_view weekday_name(unsigned weekday);
/// The weekday a full name names, in any case ("monday" → 1), 0 = Sunday; nullopt when none.
std::optional<unsigned> weekday_number(std::string_view word);

// --- function words --------------------------------------------------------------------------

/// Which list of English function words (words that carry little meaning alone). Each list
/// holds the one before it plus named additions; the lists differ on purpose, because their
/// readers were measured with them.
enum class function_words {
  /// Articles, the common prepositions and conjunctions, personal pronouns and determiners, and
  /// the forms of "be": "the", "of", "and", "they", "my", "was".
  closed_class,
  /// closed_class + auxiliaries and modals, question words, quantifiers, request verbs and
  /// politeness that every reader drops: "can", "what", "some", "tell", "please", "thing".
  common,
  /// common + a query's phrasing and its weak content words (the response cache's substitution
  /// guard): "explain", "describe", "time", "use", "available", "usually".
  query,
  /// common + what speech adds around a request (the local responder's scores): negations,
  /// hedges, more quantifiers, greetings and address words: "not", "maybe", "other", "hey", "guys".
  conversation,
};

/// True when `word` (lower case) is in the list `set`.
bool is_function_word(std::string_view word, function_words set = function_words::common);

/// Hesitations: "um", "umm", "uh", "er", "erm", "ah", "hmm", "mm", "mhm"...
bool is_hesitation(std::string_view word);

// --- web addresses -------------------------------------------------------------------------

/// The top-level domains read aloud as part of an address ("example dot com"), lower case: "com",
/// "org", "io", "uk", "de", "info", "app"... Readers add their own (normalisation "ly"; PII
/// detection more country codes).
bool is_common_tld(std::string_view label);

// --- contractions ----------------------------------------------------------------------------

/// The words a (lower-case) word stands for: contractions and their apostrophe-less spellings
/// ("what's" / "whats" → what is, "can't" / "cant" → can not, "won't" → will not, "i'm" → i am,
/// "let's" → let us, "cannot" → can not), informal spellings ("gonna" → going to, "u" → you,
/// "pls" → please), then the regular endings ("n't" → not, "'re" → are, "'ll" → will, "'ve" →
/// have, "'d" → would); any other "'s" (a possessive) is dropped and other apostrophes removed
/// ("france's" → france, "rock'n'roll" → rocknroll). Apostrophes at the edges are trimmed first;
/// a word with nothing to expand comes back as it is, and nothing comes back for "'".
std::vector<std::string> expand_contraction(std::string_view word);

}  // namespace parley::text
