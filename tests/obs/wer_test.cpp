#include "parley/obs/wer.hpp"

#include <gtest/gtest.h>

namespace parley::obs {
namespace {

struct wer_case {
  const char* name;
  const char* reference;
  const char* hypothesis;
  std::size_t n_ref, n_sub, n_del, n_ins;
};

class wer_table : public ::testing::TestWithParam<wer_case> {};

TEST_P(wer_table, counts_match) {
  const auto& c = GetParam();
  const auto r = word_error_rate(c.reference, c.hypothesis);
  EXPECT_EQ(r.n_ref_words, c.n_ref) << c.name;
  EXPECT_EQ(r.n_sub, c.n_sub) << c.name;
  EXPECT_EQ(r.n_del, c.n_del) << c.name;
  EXPECT_EQ(r.n_ins, c.n_ins) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    cases, wer_table,
    ::testing::Values(
        wer_case{"identical", "what time is it", "what time is it", 4, 0, 0, 0},
        wer_case{"both_empty", "", "", 0, 0, 0, 0},
        wer_case{"empty_hypothesis", "set a timer", "", 3, 0, 3, 0},
        wer_case{"empty_reference", "", "hello there", 0, 0, 0, 2},
        wer_case{"one_substitution", "set a timer for ten minutes", "set a timer for two minutes", 6, 1, 0, 0},
        wer_case{"one_deletion", "what time is it", "what time is", 4, 0, 1, 0},
        wer_case{"one_insertion", "what time is it", "what time is it now", 4, 0, 0, 1},
        wer_case{"deletion_at_start", "hey what time is it", "what time is it", 5, 0, 1, 0},
        wer_case{"mixed", "please set a timer for ten minutes", "set the timer for ten minutes now", 7, 1, 1, 1},
        wer_case{"all_wrong_same_length", "a b c", "x y z", 3, 3, 0, 0},
        wer_case{"longer_hypothesis_all_wrong", "a b", "x y z", 2, 2, 0, 1},
        wer_case{"case_and_punctuation_ignored", "What's the time?", "what's the TIME", 3, 0, 0, 0},
        wer_case{"apostrophe_kept_inside_word", "what's up", "whats up", 2, 1, 0, 0},
        wer_case{"quotes_are_not_apostrophes", "'hello' there", "hello there", 2, 0, 0, 0},
        wer_case{"hyphen_splits", "e-mail me", "e mail me", 3, 0, 0, 0},
        wer_case{"numbers_not_spelled_out", "set a timer for 5 minutes", "set a timer for five minutes", 6, 1, 0, 0},
        wer_case{"alternate_pronunciation_mark", "read the book", "read(2) the book", 3, 0, 0, 0},
        wer_case{"extra_whitespace", "  turn   it\toff ", "turn it off", 3, 0, 0, 0},
        wer_case{"repeated_words", "no no no", "no", 3, 0, 2, 0}),
    [](const ::testing::TestParamInfo<wer_case>& p) { return std::string(p.param.name); });

TEST(wer, ratio) {
  EXPECT_DOUBLE_EQ(word_error_rate("what time is it", "what time is").wer(), 0.25);
  EXPECT_DOUBLE_EQ(word_error_rate("a b", "x y z").wer(), 1.5);  // insertions can exceed 100 %
  EXPECT_DOUBLE_EQ(word_error_rate("", "").wer(), 0.0);
  EXPECT_DOUBLE_EQ(word_error_rate("", "noise").wer(), 1.0);
}

TEST(wer, normaliser) {
  EXPECT_EQ(normalize_for_wer("  Hello, World!  "), "hello world");
  EXPECT_EQ(normalize_for_wer("It's 5 o'clock."), "it's 5 o'clock");
  EXPECT_EQ(normalize_for_wer("'quoted'"), "quoted");
  EXPECT_EQ(normalize_for_wer("the(2) end"), "the end");
  EXPECT_EQ(normalize_for_wer("f(x)"), "f x");  // not an alternate mark: no digits inside
  EXPECT_EQ(normalize_for_wer("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 bytes kept
  EXPECT_EQ(normalize_for_wer(""), "");
  EXPECT_EQ(wer_words("a  b\nc").size(), 3u);
}

TEST(wer, total_sums_errors_over_reference_words) {
  wer_total total;
  EXPECT_DOUBLE_EQ(total.wer(), 0.0);
  total.add(word_error_rate("a b c d", "a b c d"));  // 0 / 4
  total.add(word_error_rate("e f", "x"));            // 2 / 2 (1 sub, 1 del)
  EXPECT_EQ(total.n_utterances, 2u);
  EXPECT_EQ(total.n_ref_words, 6u);
  EXPECT_EQ(total.n_errors(), 2u);
  EXPECT_EQ(total.n_exact, 1u);
  // Not the mean of per-utterance WERs (which would be 0.5).
  EXPECT_DOUBLE_EQ(total.wer(), 2.0 / 6.0);
}

}  // namespace
}  // namespace parley::obs
