// text/normalize — rewrites written text into the words a TTS engine should say (English).
//
// Role: LLM replies are written text: "$3.50", "5:05 pm", "Dr. Smith", "2024-03-15", "5 km",
// "john@example.com". Engines read such text badly or not at all (flite drops "AM", espeak reads
// "a m" as "uh m"), so replies are normalised before synthesis:
//   numbers      12 → twelve · 1,234 → one thousand two hundred thirty-four · -5 → minus five ·
//                3.14 → three point one four · 1st/22nd → first/twenty-second · 5-10 → five to ten ·
//                1/2 → one half · 555-1234 → five five five, one two three four · 1990s → nineteen nineties
//   years        in context only ("in 1999", "since 2010", "(1889)", "from 1990 to 2000", after a
//                month): nineteen ninety-nine; a bare 1999 stays a cardinal
//   times        5:30 → five thirty · 5:05 pm → five oh five p m · 12:00 → twelve o'clock · 7am →
//                seven a.m. (for "am" both engines need the dots: "a m" is read as "uh m")
//   dates        2024-03-15, 03/15/2024, March 15, 2024 → March fifteenth, twenty twenty-four
//   currency     $5 → five dollars · $3.50 → three dollars and fifty cents · €20, £1.50, ¥, ₹,
//                20 EUR · $2.5 billion / $3M → two point five billion dollars / three million dollars
//   units        5 km → five kilometers (1 km → one kilometer) · 20 °C → twenty degrees Celsius ·
//                50% → fifty percent · 60 km/h, 5 GB, 3x ...
//   abbreviations Dr. (doctor / drive), St. (saint / street), Mr. Mrs. Ms. Prof. Jr. Sr. Mt. Ave.
//                e.g. i.e. etc. vs. approx. Inc. Ltd. No. 5, Jan. 5 ...
//   symbols      & + = @ % # × ÷ ± ≈ ≤ ≥, "2 * 3", " < ", " > ", ~5 → about five
//   web          https://www.example.com/docs → example dot com slash docs ·
//                john.doe@example.com → john dot doe at example dot com
//   typography   curly quotes → ASCII, … → ..., dashes between words → ", ", odd spaces → " "
// Choices: American English ("kilometers", no "and" inside numbers); month-first numeric dates
// unless the first part cannot be a month (15/03/2024) or month_first_dates is off; digit
// strings with a leading zero or longer than 15 digits are read digit by digit; numbers glued
// to letters (MP3, A4) are left alone. Whatever it does not recognise is copied unchanged, byte
// for byte, so any UTF-8 (valid or not) passes through and code points are never split.
// Threading: pure functions.
// Units: bytes of UTF-8.
//
//   tts.synthesize(parley::text::normalize_for_speech("It's 5:30 pm and 20 °C."), ...);
//   // → "It's five thirty p m and twenty degrees Celsius."
#pragma once

#include <string>
#include <string_view>

#include "parley/text/spoken.hpp"  // cardinal_words, ordinal_words, year_words, digit_words

namespace parley::text {

struct normalize_options {
  bool numbers = true;        // cardinals, decimals, signs, ordinals, ranges, fractions, years, phones
  bool times = true;          // 5:30, 5:05 pm, 7am
  bool dates = true;          // 2024-03-15, 03/15/2024, March 15, 2024, 15 March
  bool currency = true;       // $ € £ ¥ ₹ and USD/EUR/GBP/JPY/INR
  bool units = true;          // km, kg, °C, %, GB, km/h ...
  bool abbreviations = true;  // Dr., St., e.g., etc. ...
  bool symbols = true;        // & + = @ # × ÷ ± ...
  bool web = true;            // URLs and e-mail addresses
  bool typography = true;     // curly quotes, dashes, ellipsis, non-breaking spaces
  bool month_first_dates = true;  // 03/04/2024 is March fourth (false: the third of April)
};

/// Rewrites `text` into speakable English words. See the header comment for what it covers.
std::string normalize_for_speech(std::string_view text, const normalize_options& options = {});

}  // namespace parley::text
