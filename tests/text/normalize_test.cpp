#include "parley/text/normalize.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "parley/text/utf8.hpp"

namespace parley::text {
namespace {

struct norm_case {
  const char* name;
  std::string_view input;
  std::string_view expected;
};

void PrintTo(const norm_case& c, std::ostream* os) { *os << c.name; }

class normalize_table : public ::testing::TestWithParam<norm_case> {};

TEST_P(normalize_table, speaks_as_expected) {
  const norm_case& c = GetParam();
  EXPECT_EQ(normalize_for_speech(c.input), c.expected) << "input: " << c.input;
}

// clang-format off
const norm_case k_cases[] = {
    // Cardinals, signs, decimals.
    {"small", "I have 12 apples.", "I have twelve apples."},
    {"zero", "0", "zero"},
    {"teens", "It costs 19 cents", "It costs nineteen cents"},
    {"hundreds", "There were 305 people", "There were three hundred five people"},
    {"grouped", "1,234", "one thousand two hundred thirty-four"},
    {"millions", "3,000,000 users", "three million users"},
    {"ungrouped_big", "1234567", "one million two hundred thirty-four thousand five hundred sixty-seven"},
    {"negative", "It is -5 outside", "It is minus five outside"},
    {"unicode_minus", "\u22123 points", "minus three points"},
    {"plus_sign", "a +2 bonus", "a plus two bonus"},
    {"decimal", "Pi is 3.14", "Pi is three point one four"},
    {"leading_point", "about .5 of it", "about point five of it"},
    {"leading_zero", "Agent 007", "Agent zero zero seven"},
    {"list_commas", "1, 2, 3", "one, two, three"},
    {"version", "version 1.2.3", "version one dot two dot three"},
    {"inside_word", "an MP3 file", "an MP3 file"},
    {"sentence_end", "I saw 2.", "I saw two."},
    {"long_digits", "ID 1234567890123456789", "ID one two three four five six seven eight nine zero one two three four five six seven eight nine"},
    // Ordinals, decades, fractions, ranges, phones.
    {"ordinal_1st", "the 1st time", "the first time"},
    {"ordinal_22nd", "on the 22nd floor", "on the twenty-second floor"},
    {"ordinal_3rd", "3rd place", "third place"},
    {"ordinal_11th", "11th hour", "eleventh hour"},
    {"ordinal_101st", "101st", "one hundred first"},
    {"decade", "the 1990s were fun", "the nineteen nineties were fun"},
    {"decade_short", "80s music", "eighties music"},
    {"decade_apostrophe", "'90s kids", "nineties kids"},
    {"fraction_half", "1/2 cup", "one half cup"},
    {"fraction_quarters", "3/4 of them", "three quarters of them"},
    {"fraction_thirds", "2/3", "two thirds"},
    {"vulgar_fraction", "1\u00BD hours", "one and a half hours"},
    {"always_on", "open 24/7", "open twenty-four seven"},
    {"range", "5-10 minutes", "five to ten minutes"},
    {"range_en_dash", "pages 12\u201315", "pages twelve to fifteen"},
    {"year_range", "1990-1995", "nineteen ninety to nineteen ninety-five"},
    {"difference", "7 - 2 = 5", "seven minus two equals five"},
    {"sum", "2 + 2 = 4", "two plus two equals four"},
    {"product", "3 * 4", "three times four"},
    {"dimensions", "1920x1080", "one thousand nine hundred twenty by one thousand eighty"},
    {"phone", "call 555-1234", "call five five five, one two three four"},
    {"phone_long", "1-800-555-0199", "one, eight zero zero, five five five, zero one nine nine"},
    {"phone_area", "(555) 123-4567", "(five five five) one two three, four five six seven"},
    // Years.
    {"year_in", "in 1999", "in nineteen ninety-nine"},
    {"year_since", "since 2010", "since twenty ten"},
    {"year_2000s", "In 2005, it rained.", "In two thousand five, it rained."},
    {"year_2000", "by 2000", "by two thousand"},
    {"year_hundred", "in 1900", "in nineteen hundred"},
    {"year_oh", "in 1905", "in nineteen oh five"},
    {"year_parens", "the tower (1889)", "the tower (eighteen eighty-nine)"},
    {"year_from_to", "from 1990 to 2000", "from nineteen ninety to two thousand"},
    {"year_of", "the summer of 1969", "the summer of nineteen sixty-nine"},
    {"not_year_of", "a population of 1500", "a population of one thousand five hundred"},
    {"not_year_bare", "1999 people", "one thousand nine hundred ninety-nine people"},
    {"year_ad", "1066 AD", "ten sixty-six AD"},
    {"year_quarter", "Q3 2024 revenue", "Q3 twenty twenty-four revenue"},
    {"not_year_count", "in 1500 years", "in one thousand five hundred years"},
    // Times.
    {"time", "5:30", "five thirty"},
    {"time_oh_pm", "5:05 pm", "five oh five p m"},
    {"time_oclock", "12:00", "twelve o'clock"},
    {"time_24h", "17:45", "seventeen forty-five"},
    {"time_hundred", "at 18:00", "at eighteen hundred"},
    {"time_midnight", "0:00", "midnight"},
    {"time_seconds", "5:30:15", "five thirty and fifteen seconds"},
    {"time_am", "at 7am", "at seven a.m."},
    {"time_pm_dots", "at 5 p.m. Then we eat", "at five p m. Then we eat"},
    {"time_am_dots", "at 9:30 a.m. tomorrow", "at nine thirty a.m. tomorrow"},
    {"time_am_end", "Wake me at 6 am.", "Wake me at six a.m."},
    {"time_PM", "5:00 PM", "five p m"},
    // Dates.
    {"iso_date", "2024-03-15", "March fifteenth, twenty twenty-four"},
    {"us_date", "03/15/2024", "March fifteenth, twenty twenty-four"},
    {"eu_date", "15/03/2024", "March fifteenth, twenty twenty-four"},
    {"dotted_date", "15.03.2024", "March fifteenth, twenty twenty-four"},
    {"month_day", "on March 15", "on March fifteenth"},
    {"month_day_year", "March 15, 2024 was sunny", "March fifteenth, twenty twenty-four was sunny"},
    {"month_day_ordinal", "June 1st", "June first"},
    {"month_abbreviation", "Jan. 5", "January fifth"},
    {"day_month", "15 March 2024", "fifteenth of March twenty twenty-four"},
    {"month_year", "in March 2024", "in March twenty twenty-four"},
    {"month_comma_number", "In March, 5 people came", "In March, five people came"},
    // Currency.
    {"dollars", "$5", "five dollars"},
    {"one_dollar", "$1", "one dollar"},
    {"dollars_cents", "$3.50", "three dollars and fifty cents"},
    {"cents_only", "$0.99", "ninety-nine cents"},
    {"one_cent", "$1.01", "one dollar and one cent"},
    {"euros", "\u20AC20", "twenty euros"},
    {"pounds", "\u00A31.50", "one pound and fifty pence"},
    {"yen", "\u00A5500", "five hundred yen"},
    {"euro_suffix", "20\u20AC", "twenty euros"},
    {"code_suffix", "5 USD", "five dollars"},
    {"money_grouped", "$1,000", "one thousand dollars"},
    {"money_scale", "$2.5 billion", "two point five billion dollars"},
    {"money_suffix_scale", "$3M", "three million dollars"},
    {"money_k", "$10k", "ten thousand dollars"},
    {"money_negative", "-$5", "minus five dollars"},
    // Units and percentages.
    {"percent", "50%", "fifty percent"},
    {"percent_decimal", "3.5%", "three point five percent"},
    {"km", "5 km", "five kilometers"},
    {"km_glued", "5km", "five kilometers"},
    {"km_singular", "1 km", "one kilometer"},
    {"kmh", "60 km/h", "sixty kilometers per hour"},
    {"celsius", "20 \u00B0C", "twenty degrees Celsius"},
    {"celsius_glued", "-3\u00B0C", "minus three degrees Celsius"},
    {"fahrenheit", "72\u00B0F", "seventy-two degrees Fahrenheit"},
    {"degrees", "a 90\u00B0 angle", "a ninety degrees angle"},
    {"kilograms", "2.5 kg", "two point five kilograms"},
    {"feet", "6 ft", "six feet"},
    {"gigabytes", "16 GB of RAM", "sixteen gigabytes of RAM"},
    {"minutes", "5 min", "five minutes"},
    {"word_not_unit", "5 minutes", "five minutes"},
    {"times", "3x faster", "three times faster"},
    {"range_units", "5-10 km", "five to ten kilometers"},
    {"per_month", "$12.99/month", "twelve dollars and ninety-nine cents per month"},
    {"ratio", "a 3:1 ratio", "a three to one ratio"},
    // Abbreviations.
    {"doctor", "Dr. Smith is in.", "doctor Smith is in."},
    {"drive", "on Mulholland Dr. tonight", "on Mulholland drive tonight"},
    {"saint", "Visit St. Louis", "Visit saint Louis"},
    {"street", "at 12 Main St.", "at twelve Main street."},
    {"street_mid", "Main St. is closed", "Main street is closed"},
    {"mister", "Mr. and Mrs. Jones", "mister and missus Jones"},
    {"for_example", "fruit, e.g., apples", "fruit, for example, apples"},
    {"that_is", "i.e. now", "that is now"},
    {"etcetera_mid", "cats, dogs, etc. are pets", "cats, dogs, et cetera are pets"},
    {"etcetera_end", "cats, dogs, etc. Then", "cats, dogs, et cetera. Then"},
    {"versus", "cats vs. dogs", "cats versus dogs"},
    {"approx", "approx. 5 km", "approximately five kilometers"},
    {"number_abbrev", "No. 5", "number five"},
    {"no_not_number", "No. I won't.", "No. I won't."},
    {"with", "coffee w/ milk", "coffee with milk"},
    // Symbols.
    {"ampersand", "R&D", "R and D"},
    {"ampersand_spaced", "salt & pepper", "salt and pepper"},
    {"plus_plus", "C++", "C plus plus"},
    {"hash_number", "#1 hit", "number one hit"},
    {"about", "~5 people", "about five people"},
    {"less_than", "if x < 3", "if x less than three"},
    {"plus_minus", "\u00B15%", "plus or minus five percent"},
    // Web.
    {"email", "Mail john.doe@example.com now", "Mail john dot doe at example dot com now"},
    {"email_digits", "bob_42@mail.co.uk", "bob underscore four two at mail dot co dot uk"},
    {"url", "See https://www.example.com/docs/start.", "See example dot com slash docs slash start."},
    {"url_query", "http://example.org/a?b=1 ok", "example dot org slash a ok"},
    {"bare_domain", "Go to parley.dev today", "Go to parley dot dev today"},
    {"not_a_domain", "Node.js rocks", "Node.js rocks"},
    // Typography and pass-through.
    {"curly_quotes", "\u201CHi,\u201D she said \u2014 twice\u2026", "\"Hi,\" she said, twice..."},
    {"apostrophe", "it\u2019s 5", "it's five"},
    {"nbsp", "5\u00A0km", "five kilometers"},
    {"plain", "Hello there, how are you?", "Hello there, how are you?"},
    {"unicode_passthrough", "Caf\u00E9 \u65E5\u672C \U0001F600!", "Caf\u00E9 \u65E5\u672C \U0001F600!"},
    {"empty", "", ""},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(cases, normalize_table, ::testing::ValuesIn(k_cases),
                         [](const ::testing::TestParamInfo<norm_case>& param_info) { return std::string(param_info.param.name); });

TEST(normalize, has_at_least_sixty_table_cases) { EXPECT_GE(std::size(k_cases), 60u); }

TEST(cardinal_words, covers_scales) {
  EXPECT_EQ(cardinal_words(0), "zero");
  EXPECT_EQ(cardinal_words(40), "forty");
  EXPECT_EQ(cardinal_words(1000001), "one million one");
  EXPECT_EQ(cardinal_words(2'000'000'000'000), "two trillion");
  EXPECT_EQ(cardinal_words(18446744073709551615ull),
            "eighteen quintillion four hundred forty-six quadrillion seven hundred forty-four trillion seventy-three "
            "billion seven hundred nine million five hundred fifty-one thousand six hundred fifteen");
}

TEST(ordinal_words, irregular_and_regular) {
  EXPECT_EQ(ordinal_words(1), "first");
  EXPECT_EQ(ordinal_words(2), "second");
  EXPECT_EQ(ordinal_words(12), "twelfth");
  EXPECT_EQ(ordinal_words(20), "twentieth");
  EXPECT_EQ(ordinal_words(58), "fifty-eighth");
  EXPECT_EQ(ordinal_words(100), "one hundredth");
  EXPECT_EQ(ordinal_words(1000000), "one millionth");
}

TEST(year_words, reads_like_years) {
  EXPECT_EQ(year_words(1999), "nineteen ninety-nine");
  EXPECT_EQ(year_words(2000), "two thousand");
  EXPECT_EQ(year_words(2009), "two thousand nine");
  EXPECT_EQ(year_words(2010), "twenty ten");
  EXPECT_EQ(year_words(1800), "eighteen hundred");
  EXPECT_EQ(year_words(999), "nine hundred ninety-nine");
}

TEST(normalize, options_switch_each_family_off) {
  normalize_options off;
  off.numbers = false;
  EXPECT_EQ(normalize_for_speech("I have 12 apples", off), "I have 12 apples");
  EXPECT_EQ(normalize_for_speech("$5", off), "five dollars");  // currency is its own switch
  normalize_options no_money;
  no_money.currency = false;
  EXPECT_EQ(normalize_for_speech("$5", no_money), "$ five");
  normalize_options no_abbr;
  no_abbr.abbreviations = false;
  EXPECT_EQ(normalize_for_speech("Dr. Smith", no_abbr), "Dr. Smith");
  normalize_options day_first;
  day_first.month_first_dates = false;
  EXPECT_EQ(normalize_for_speech("03/04/2024", day_first), "April third, twenty twenty-four");
  EXPECT_EQ(normalize_for_speech("03/04/2024"), "March fourth, twenty twenty-four");
}

TEST(normalize, keeps_invalid_utf8_bytes_and_never_splits_code_points) {
  const std::string bad = std::string("a\xC3") + " 5 \xFF\xFE \xE2\x82";  // truncated é, junk, truncated €
  const std::string out = normalize_for_speech(bad);
  EXPECT_EQ(out, std::string("a\xC3") + " five \xFF\xFE \xE2\x82");
}

TEST(normalize, random_input_never_crashes_and_valid_stays_valid) {
  // Fuzz with a mix of the characters the rules look at.
  const std::string_view alphabet[] = {"1", "2", "0", "9", ".", ",", ":", "-", "/", "$", "\u20AC", "%", " ", "a",
                                       "m", "p", "s", "t", "D", "r", "@", "x", "\u00B0", "C", "\u2013", "(", ")",
                                       "#", "+", "=", "'", "\u00BD", "k", "M", "w", "\u2014", "\n", "e", "g"};
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(alphabet) - 1), length(0, 40);
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    for (std::size_t n = length(rng); n > 0; --n) text += alphabet[pick(rng)];
    const std::string out = normalize_for_speech(text);
    EXPECT_TRUE(is_valid_utf8(out)) << text;
  }
}

}  // namespace
}  // namespace parley::text
