// obs/wer — word error rate, for ASR accuracy checks and benchmarks.
//
// Role: `word_error_rate(reference, hypothesis)` aligns the two word sequences with the Levenshtein
// distance (unit costs) and counts substitutions, deletions and insertions; `wer_result::wer()` is
// (sub + del + ins) / reference words. Both sides first go through `normalize_for_wer`, the one
// normaliser shared by every row of every report, so numbers are comparable:
//   - ASCII letters are lower-cased (other bytes, e.g. UTF-8, are kept as they are);
//   - an apostrophe between two letters or digits stays ("what's", "o'clock": the pocketsphinx
//     dictionary spells these with the apostrophe); every other punctuation byte becomes a space
//     (so "e-mail" → "e mail", "hello," → "hello");
//   - numbers are NOT spelled out: "5" stays "5" and is a different word from "five". References
//     should be written the way the recognizer speaks numbers (as words); a digit in a reference
//     therefore counts as an error against a recogniser that outputs words, visibly.
//   - pocketsphinx's alternate-pronunciation marks are stripped: "read(2)" → "read".
// Aggregation: `wer_total` sums errors and reference words over utterances (the WER of the
// concatenated corpus), never the mean of per-utterance WERs.
// Threading: pure functions and plain value types.
// Units: counts of words; wer() is a ratio (0.12 = 12 %), may exceed 1 with many insertions.
//
//   auto r = obs::word_error_rate("what time is it", "what time is");   // n_del == 1
//   obs::wer_total all;  all.add(r);  all.wer();                         // 0.25
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parley::obs {

struct wer_result {
  std::size_t n_ref_words = 0;
  std::size_t n_sub = 0;
  std::size_t n_del = 0;
  std::size_t n_ins = 0;

  std::size_t n_errors() const { return n_sub + n_del + n_ins; }
  /// (sub + del + ins) / n_ref_words; with an empty reference: 0 if the hypothesis is empty too,
  /// otherwise 1 (every hypothesis word is an insertion; the ratio would be undefined).
  double wer() const;
};

/// The normaliser every WER row uses (see the header comment).
std::string normalize_for_wer(std::string_view text);
/// normalize_for_wer, then split on whitespace.
std::vector<std::string> wer_words(std::string_view text);

/// Aligns reference and hypothesis (both normalised) with minimum edit distance (unit costs); the
/// counts are those of one minimal alignment (on ties: match/substitution, then deletion).
wer_result word_error_rate(std::string_view reference, std::string_view hypothesis);

/// Corpus-level aggregate: errors and reference words summed over utterances.
struct wer_total {
  std::size_t n_utterances = 0;
  std::size_t n_ref_words = 0;
  std::size_t n_sub = 0;
  std::size_t n_del = 0;
  std::size_t n_ins = 0;
  std::size_t n_exact = 0;  // utterances with no error at all

  void add(const wer_result& r);
  std::size_t n_errors() const { return n_sub + n_del + n_ins; }
  /// sum(errors) / sum(reference words); 0 when nothing was added.
  double wer() const;
};

}  // namespace parley::obs
