// Tests of engines/intents' word-level pieces: utterance words, spoken numbers (the intents'
// options of text::read_number), units and the wall-clock calendar.
#include <gtest/gtest.h>

#include <cmath>

#include "parley/engines/intents/spoken_numbers.hpp"
#include "parley/engines/intents/units.hpp"
#include "parley/engines/intents/words.hpp"

#include "intents_test_util.hpp"

namespace parley::intents {
namespace {

// ---------------------------------------------------------------------------------------------
// Words and numbers

TEST(words, normalise_asr_and_typed_text) {
  EXPECT_EQ(to_words("What's the time?"), (std::vector<std::string>{"what", "is", "the", "time"}));
  EXPECT_EQ(to_words("today's date"), (std::vector<std::string>{"today", "date"}));
  EXPECT_EQ(to_words("I can't log-in"), (std::vector<std::string>{"i", "can", "not", "log", "in"}));
  EXPECT_EQ(to_words("1,440 minutes"), (std::vector<std::string>{"1440", "minutes"}));
  EXPECT_EQ(to_words("20% of 3.5"), (std::vector<std::string>{"20", "percent", "of", "3.5"}));
  EXPECT_EQ(to_words("10km"), (std::vector<std::string>{"10", "km"}));
  EXPECT_EQ(to_words("5 + 3"), (std::vector<std::string>{"5", "plus", "3"}));
  EXPECT_EQ(to_words("it\xE2\x80\x99s ok"), (std::vector<std::string>{"it", "is", "ok"}));
  EXPECT_TRUE(to_words("  ?! ").empty());
  EXPECT_EQ(stem("shipping"), "ship");
  EXPECT_EQ(stem("deliveries"), stem("delivery"));
  EXPECT_EQ(stem("closed"), stem("close"));
  EXPECT_EQ(stem("refunds"), "refund");
}

struct number_case {
  const char* text;
  double value;
};

TEST(spoken_numbers, parse_spelled_out_and_digits) {
  const number_case cases[] = {
      {"zero", 0},
      {"one", 1},
      {"seven", 7},
      {"twelve", 12},
      {"nineteen", 19},
      {"twenty", 20},
      {"twenty one", 21},
      {"twenty-one", 21},
      {"ninety nine", 99},
      {"a hundred", 100},
      {"one hundred", 100},
      {"a hundred and five", 105},
      {"three hundred forty two", 342},
      {"twelve hundred", 1200},
      {"a thousand", 1000},
      {"two thousand and ten", 2010},
      {"one thousand two hundred thirty four", 1234},
      {"five hundred thousand", 500000},
      {"a million", 1e6},
      {"three million five hundred thousand", 3.5e6},
      {"two billion", 2e9},
      {"two and a half", 2.5},
      {"one and a quarter", 1.25},
      {"a half", 0.5},
      {"half", 0.5},
      {"three quarters", 0.75},
      {"two thirds", 2.0 / 3.0},
      {"a third", 1.0 / 3.0},
      {"four and three quarters", 4.75},
      {"one point five", 1.5},
      {"three point one four", 3.14},
      {"point five", 0.5},
      {"minus seven", -7},
      {"negative twelve", -12},
      {"a dozen", 12},
      {"42", 42},
      {"3.5", 3.5},
      {"1,440", 1440},
      {"5 thousand", 5000},
      {"2 and a half", 2.5},
      {"ten point 5", 10.5},
      {"nought", 0},
  };
  for (const auto& c : cases) {
    auto v = parse_spoken_number(c.text);
    ASSERT_TRUE(v.has_value()) << c.text;
    EXPECT_NEAR(*v, c.value, 1e-9) << c.text;
  }
  EXPECT_GE(std::size(cases), 25u);
}

TEST(spoken_numbers, rejects_what_is_not_one_number) {
  for (const char* text : {"", "a", "and", "timer", "twenty twenty", "five five", "one two three", "hundred",
                           "a timer", "two and", "thousand"}) {
    EXPECT_FALSE(parse_spoken_number(text).has_value()) << text;
  }
}

TEST(spoken_numbers, stop_before_words_that_do_not_continue_the_number) {
  const auto words = to_words("add two and three");
  auto n = parse_number_at(words, 1);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->value, 2);
  EXPECT_EQ(n->end, 2u);  // "and three" is not part of it
  const auto timer = to_words("set a timer for five minutes");
  EXPECT_FALSE(parse_number_at(timer, 1));  // "a timer"
  auto five = parse_number_at(timer, 4);
  ASSERT_TRUE(five);
  EXPECT_EQ(five->value, 5);
  EXPECT_EQ(five->end, 5u);
  const auto hundred = to_words("a hundred and five plus two");
  auto h = parse_number_at(hundred, 0);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->value, 105);
  EXPECT_EQ(h->end, 4u);
}

TEST(spoken_numbers, format_for_speech) {
  EXPECT_EQ(format_number(1440), "1,440");
  EXPECT_EQ(format_number(1234567), "1,234,567");
  EXPECT_EQ(format_number(96), "96");
  EXPECT_EQ(format_number(0), "0");
  EXPECT_EQ(format_number(-5), "minus 5");
  EXPECT_EQ(format_number(2.5), "2.5");
  bool rounded = false;
  EXPECT_EQ(format_number(10.0 / 3.0, 2, &rounded), "3.33");
  EXPECT_TRUE(rounded);
  EXPECT_EQ(format_number(1.0 / 3.0), "0.333");
  EXPECT_EQ(format_number(0.05), "0.05");
  EXPECT_EQ(format_number(1000.5), "1,000.5");
}

TEST(units, convert_exactly) {
  EXPECT_NEAR(convert(1, *find_unit("mile"), *find_unit("kilometer")), 1.609344, 1e-9);
  EXPECT_NEAR(convert(100, *find_unit("degree Celsius"), *find_unit("degree Fahrenheit")), 212, 1e-9);
  EXPECT_NEAR(convert(-40, *find_unit("degree Fahrenheit"), *find_unit("degree Celsius")), -40, 1e-9);
  EXPECT_NEAR(convert(1, *find_unit("day"), *find_unit("minute")), 1440, 1e-9);
  EXPECT_NEAR(convert(1, *find_unit("kilogram"), *find_unit("pound")), 2.20462, 1e-5);
}

TEST(time_of_day, calendar_and_zones) {
  EXPECT_EQ(weekday_name(weekday_of(k_now)), "Tuesday");
  EXPECT_EQ(add_days({2024, 2, 28, 9, 0, 0}, 1), (civil_time{2024, 2, 29, 9, 0, 0}));  // leap year
  EXPECT_EQ(add_days({2024, 12, 31, 9, 0, 0}, 1), (civil_time{2025, 1, 1, 9, 0, 0}));
  EXPECT_EQ(add_days({2024, 3, 1, 9, 0, 0}, -1), (civil_time{2024, 2, 29, 9, 0, 0}));
  for (const char* zone : {"", "local", "UTC", "UTC+02:00", "UTC-5", "+05:30", "GMT", "Z"}) {
    EXPECT_TRUE(system_time_of_day::create(zone)) << zone;
  }
  for (const char* zone : {"Europe/Paris", "UTC+25", "nonsense", "+5:99"}) {
    auto z = system_time_of_day::create(zone);
    ASSERT_FALSE(z) << zone;
    EXPECT_EQ(z.error().code, errc::invalid_argument);
  }
  // A fixed offset is the UTC time shifted by it.
  auto utc = system_time_of_day::create("UTC");
  auto plus2 = system_time_of_day::create("UTC+02:00");
  const civil_time a = (*utc)->now();
  const civil_time b = (*plus2)->now();
  const int minutes_a = a.hour * 60 + a.minute;
  const int minutes_b = b.hour * 60 + b.minute;
  const int diff = ((minutes_b - minutes_a) % 1440 + 1440) % 1440;
  EXPECT_TRUE(diff == 120 || diff == 121) << diff;  // (the minute may turn between the reads)
}

}  // namespace
}  // namespace parley::intents
