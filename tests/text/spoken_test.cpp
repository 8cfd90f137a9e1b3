// Tests of text/spoken: the spoken-English vocabulary in tables (value → words, words → value
// under each caller's options, months and weekdays, function words, contractions) and the round
// trip cardinal_words/ordinal_words → read_number.
#include "parley/text/spoken.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace parley::text {
namespace {

/// "twenty-one thousand" → {"twenty", "-", "one", "thousand"}: words, with hyphens kept as words.
std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  std::string w;
  for (const char c : s) {
    if (c == ' ' || c == '-') {
      if (!w.empty()) out.push_back(std::move(w));
      w.clear();
      if (c == '-') out.emplace_back("-");
    } else {
      w += c;
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

TEST(spoken, value_to_words_table) {
  struct row {
    std::uint64_t n;
    const char* cardinal;
    const char* ordinal;
  };
  const row rows[] = {
      {0, "zero", "zeroth"},
      {1, "one", "first"},
      {3, "three", "third"},
      {12, "twelve", "twelfth"},
      {20, "twenty", "twentieth"},
      {42, "forty-two", "forty-second"},
      {100, "one hundred", "one hundredth"},
      {105, "one hundred five", "one hundred fifth"},
      {1000000, "one million", "one millionth"},
      {2024, "two thousand twenty-four", "two thousand twenty-fourth"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(cardinal_words(r.n), r.cardinal) << r.n;
    EXPECT_EQ(ordinal_words(r.n), r.ordinal) << r.n;
  }
  EXPECT_EQ(year_words(1905), "nineteen oh five");
  EXPECT_EQ(year_words(2024), "twenty twenty-four");
  EXPECT_EQ(digit_words("0a42"), "zero four two");
  for (const auto& [n, suffix] : std::vector<std::pair<std::uint64_t, std::string_view>>{
           {1, "st"}, {2, "nd"}, {3, "rd"}, {4, "th"}, {11, "th"}, {12, "th"}, {13, "th"}, {21, "st"}, {112, "th"}}) {
    EXPECT_EQ(ordinal_suffix(n), suffix) << n;
  }
}

// One row per reading: the words, the options of a caller, and what it reads.
struct read_case {
  const char* words;
  const char* options;  // "cache" (query key), "intents", "pii" (digit runs), "day" (pii days)
  double value;         // ignored when `end` is 0
  std::size_t end;      // 0: no number
  const char* written;  // "" to skip
};

number_options options_named(std::string_view name) {
  if (name == "cache") return {.ordinals = true};
  if (name == "intents") return {.digits = true, .signs = true, .fractions = true};
  if (name == "pii") return {.range = number_range::hundreds, .decimals = false, .oh_is_zero = true};
  if (name == "day") return {.range = number_range::tens, .ordinals = true, .decimals = false};
  return {};
}

TEST(spoken, words_to_value_table) {
  const read_case cases[] = {
      // Cardinals, the same for every caller.
      {"twenty one", "cache", 21, 2, "21"},
      {"twenty - one", "cache", 21, 3, "21"},
      {"a hundred and five", "cache", 105, 4, "105"},
      {"an hundred", "cache", 100, 2, "100"},
      {"twelve hundred", "cache", 1200, 2, "1200"},
      {"twenty hundred", "intents", 2000, 2, "2000"},
      {"two thousand and ten", "intents", 2010, 4, "2010"},
      {"three million five hundred thousand", "cache", 3.5e6, 5, "3500000"},
      {"a trillion", "cache", 1e12, 2, "1000000000000"},
      {"a quadrillion", "cache", 0, 0, ""},  // beyond the scales read
      {"fourty two", "cache", 42, 2, "42"},
      {"nought", "intents", 0, 1, "0"},
      {"add two and three", "cache", 0, 0, ""},
      {"two and three", "cache", 2, 1, "2"},
      {"twenty zero", "cache", 20, 1, "20"},  // zero stands alone
      {"a hundred zero", "cache", 100, 2, "100"},
      {"five five", "intents", 5, 1, "5"},
      {"twenty twenty", "cache", 20, 1, "20"},
      {"two thousand three million", "cache", 2003, 3, "2003"},  // scales only get smaller
      {"hundred", "cache", 0, 0, ""},
      {"a timer", "intents", 0, 0, ""},
      // Decimals.
      {"one point five", "cache", 1.5, 3, "1.5"},
      {"one point five zero", "cache", 1.5, 4, "1.50"},
      {"two point oh five", "cache", 2.05, 4, "2.05"},
      {"ten point 5", "intents", 10.5, 3, "10.5"},
      {"ten point 5", "cache", 10, 1, "10"},
      // Ordinals: the cache's.
      {"fifth", "cache", 5, 1, "5th"},
      {"twenty first", "cache", 21, 2, "21st"},
      {"a hundred and first", "cache", 101, 4, "101st"},
      {"one hundredth", "cache", 100, 2, "100th"},
      {"a hundredth", "cache", 0, 0, ""},
      {"fifth", "intents", 0, 0, ""},
      {"ten second timer", "intents", 10, 1, "10"},  // "second" is a unit here
      // Fractions, signs, digits: the intents'.
      {"half past five", "cache", 0, 0, ""},  // the clock rule reads it
      {"half past five", "intents", 0.5, 1, "0.5"},
      {"two and a half", "intents", 2.5, 4, "2.5"},
      {"three quarters", "intents", 0.75, 2, "0.75"},
      {"a dozen", "intents", 12, 2, "12"},
      {"point five", "intents", 0.5, 2, "0.5"},
      {"point five", "cache", 0, 0, ""},
      {"minus seven", "intents", -7, 2, "-7"},
      {"minus seven", "cache", 0, 0, ""},
      {"minus half", "intents", 0, 0, ""},
      {"5 thousand", "intents", 5000, 2, "5000"},
      {"3.5", "intents", 3.5, 1, "3.5"},
      {"3.5", "cache", 0, 0, ""},
      // Digit runs (PII): below a thousand, "oh" is zero, no decimals.
      {"eight hundred five five five", "pii", 805, 3, "805"},
      {"nineteen hundred", "pii", 1900, 2, "1900"},
      {"oh five", "pii", 0, 1, "0"},
      {"oh five", "cache", 0, 0, ""},
      {"five point five", "pii", 5, 1, "5"},
      {"two thousand", "pii", 2, 1, "2"},
      // Days of the month (PII): below a hundred, ordinals.
      {"twenty - first of march", "day", 21, 3, "21st"},
      {"thirty first", "day", 31, 2, "31st"},
      {"five hundred", "day", 5, 1, "5"},
  };
  for (const auto& c : cases) {
    const auto words = split(c.words);
    const auto r = read_number(words, 0, options_named(c.options));
    const std::string what = std::string(c.words) + " [" + c.options + "]";
    if (c.end == 0) {
      EXPECT_FALSE(r) << what << " read as " << r->written;
      continue;
    }
    ASSERT_TRUE(r) << what;
    EXPECT_NEAR(r->value, c.value, 1e-9) << what;
    EXPECT_EQ(r->begin, 0u) << what;
    EXPECT_EQ(r->end, c.end) << what;
    if (*c.written) {
      EXPECT_EQ(r->written, c.written) << what;
    }
  }
}

TEST(spoken, every_number_it_writes_it_reads_back) {
  for (std::uint64_t n = 0; n < 200'000; n += n < 2000 ? 1 : 997) {
    const auto card = split(cardinal_words(n));
    const auto c = read_number(card, 0, {.ordinals = true});
    ASSERT_TRUE(c) << n;
    EXPECT_EQ(c->value, static_cast<double>(n)) << cardinal_words(n);
    EXPECT_EQ(c->end, card.size()) << cardinal_words(n);
    if (n == 0) continue;
    const auto ord = split(ordinal_words(n));
    const auto o = read_number(ord, 0, {.ordinals = true});
    ASSERT_TRUE(o) << n;
    EXPECT_TRUE(o->ordinal) << ordinal_words(n);
    EXPECT_EQ(o->written, std::to_string(n) + std::string(ordinal_suffix(n))) << ordinal_words(n);
    EXPECT_EQ(o->end, ord.size()) << ordinal_words(n);
  }
  EXPECT_EQ(read_number(split(cardinal_words(999'999'999'999'999)), 0)->value, 999'999'999'999'999.0);
}

TEST(spoken, number_words_table) {
  EXPECT_EQ(read_number_word("forty")->value, 40u);
  EXPECT_EQ(read_number_word("forty")->kind, number_word_kind::tens);
  EXPECT_TRUE(read_number_word("ninetieth")->ordinal);
  EXPECT_EQ(read_number_word("thousandth")->kind, number_word_kind::scale);
  EXPECT_EQ(read_number_word("fourty")->value, 40u);
  EXPECT_FALSE(read_number_word("oh"));
  EXPECT_FALSE(read_number_word("dozen"));
  const std::pair<const char*, int> digits[] = {{"zero", 0}, {"oh", 0}, {"o", 0}, {"nought", 0},
                                                {"seven", 7}, {"ten", -1}, {"first", -1}, {"a", -1}};
  for (const auto& [w, d] : digits) {
    const auto v = digit_word_value(w);
    EXPECT_EQ(v ? static_cast<int>(*v) : -1, d) << w;
  }
}

TEST(spoken, calendar_table) {
  const std::pair<const char*, unsigned> months[] = {{"January", 1}, {"march", 3}, {"MAR", 3}, {"Sept", 9},
                                                     {"sep", 9},     {"may", 5},   {"ma", 0},  {"marches", 0}};
  for (const auto& [w, m] : months) EXPECT_EQ(month_number(w), m) << w;
  EXPECT_EQ(month_name(12), "December");
  EXPECT_EQ(month_name(0), "");
  EXPECT_EQ(weekday_name(0), "Sunday");
  EXPECT_EQ(weekday_name(7), "");
  EXPECT_EQ(weekday_number("friday"), 5u);
  EXPECT_EQ(weekday_number("Monday"), 1u);
  EXPECT_FALSE(weekday_number("fri"));
}

TEST(spoken, function_word_table) {
  struct row {
    const char* word;
    bool closed_class, common, query, conversation;
  };
  const row rows[] = {
      {"the", true, true, true, true},          {"them", true, true, true, true},
      {"what", false, true, true, true},        {"please", false, true, true, true},
      {"explain", false, false, true, false},   {"time", false, false, true, false},
      {"not", false, false, false, true},       {"guys", false, false, false, true},
      {"timer", false, false, false, false},    {"refund", false, false, false, false},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(is_function_word(r.word, function_words::closed_class), r.closed_class) << r.word;
    EXPECT_EQ(is_function_word(r.word, function_words::common), r.common) << r.word;
    EXPECT_EQ(is_function_word(r.word, function_words::query), r.query) << r.word;
    EXPECT_EQ(is_function_word(r.word, function_words::conversation), r.conversation) << r.word;
  }
  EXPECT_TRUE(is_hesitation("umm"));
  EXPECT_TRUE(is_hesitation("mhm"));
  EXPECT_FALSE(is_hesitation("please"));
}

TEST(spoken, contraction_table) {
  const std::pair<const char*, std::vector<std::string>> rows[] = {
      {"what's", {"what", "is"}},  {"whats", {"what", "is"}},    {"it's", {"it", "is"}},
      {"let's", {"let", "us"}},    {"can't", {"can", "not"}},    {"cant", {"can", "not"}},
      {"won't", {"will", "not"}},  {"shan't", {"shall", "not"}}, {"don't", {"do", "not"}},
      {"mustn't", {"must", "not"}}, {"i'm", {"i", "am"}},        {"im", {"i", "am"}},
      {"they're", {"they", "are"}}, {"we'll", {"we", "will"}},   {"you've", {"you", "have"}},
      {"she'd", {"she", "would"}}, {"gonna", {"going", "to"}},   {"u", {"you"}},
      {"pls", {"please"}},         {"france's", {"france"}},     {"rock'n'roll", {"rocknroll"}},
      {"'quoted'", {"quoted"}},    {"o'clock", {"oclock"}},      {"timer", {"timer"}},
      {"'", {}},
  };
  for (const auto& [word, want] : rows) EXPECT_EQ(expand_contraction(word), want) << word;
}

}  // namespace
}  // namespace parley::text
