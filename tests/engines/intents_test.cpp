// Tests of engines/intents: spoken numbers, the intent handlers (with a manual wall clock), the
// FAQ matcher and its measured threshold, timers firing through announce (real io_context), the
// per-session state, and responder_chat_model's chat_model contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <numeric>
#include <stop_token>
#include <thread>

#include "parley/engines/intents/faq.hpp"
#include "parley/engines/intents/local_responder.hpp"
#include "parley/engines/intents/responder_chat_model.hpp"
#include "parley/engines/intents/spoken_numbers.hpp"
#include "parley/engines/intents/units.hpp"
#include "parley/engines/intents/words.hpp"

namespace parley::intents {
namespace {

using namespace std::chrono_literals;
constexpr auto k_wait = 10s;  // an upper bound for "it happened", never a timing assertion

std::string store_faq_path() { return std::string(PARLEY_SOURCE_DIR) + "/data/faq/store.json"; }

// An io_context on one background thread, like the runtime's.
class io_thread {
 public:
  io_thread() : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~io_thread() {
    work_.reset();
    thread_.join();
  }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

// Tuesday, March 5, 2024, 3:05:09 PM.
constexpr civil_time k_now{2024, 3, 5, 15, 5, 9};

engine::responder_context ctx(std::uint64_t session = 1, std::function<void(std::string)> announce = {}) {
  return {session_id{session}, std::move(announce)};
}

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

// ---------------------------------------------------------------------------------------------
// Intents

class responder_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = local_responder::create({.faq_path = store_faq_path(), .time_of_day = &tod_});
    ASSERT_TRUE(r) << r.error().describe();
    responder_ = *r;
  }
  engine::responder_answer ask(std::string_view text, std::uint64_t session = 1) {
    return responder_->answer(text, ctx(session));
  }

  manual_time_of_day tod_{k_now};
  std::shared_ptr<local_responder> responder_;
};

struct intent_case {
  const char* text;
  const char* intent;
  const char* reply_has;  // a substring of the reply
};

TEST_F(responder_test, answers_each_intent_with_the_right_value) {
  const intent_case cases[] = {
      // time and date (Tuesday, March 5, 2024, 3:05 PM)
      {"what time is it", "time.now", "3:05 PM"},
      {"what's the time", "time.now", "3:05 PM"},
      {"hey can you tell me the time please", "time.now", "3:05 PM"},
      {"do you know what time it is right now", "time.now", "3:05 PM"},
      {"what's the date today", "date.today", "Tuesday, March 5, 2024"},
      {"what is today's date", "date.today", "March 5, 2024"},
      {"what was the date yesterday", "date.today", "Monday, March 4, 2024"},
      {"what's tomorrow's date", "date.today", "Wednesday, March 6, 2024"},
      {"what day is it", "date.weekday", "Tuesday"},
      {"what day of the week is it", "date.weekday", "Tuesday"},
      {"what day is it tomorrow", "date.weekday", "Wednesday"},
      {"what day is the day after tomorrow", "date.weekday", "Thursday"},
      {"is it friday today", "date.weekday", "No, today is Tuesday"},
      {"is today tuesday", "date.weekday", "Yes, today is Tuesday"},
      {"what month is it", "date.today", "March"},
      {"what year is it", "date.today", "2024"},
      // arithmetic
      {"what is twelve times eight", "math.arithmetic", "12 times 8 is 96"},
      {"what's two plus two", "math.arithmetic", "is 4."},
      {"what is a hundred and five plus two", "math.arithmetic", "105 plus 2 is 107"},
      {"what is one thousand minus three hundred and fifty", "math.arithmetic", "is 650"},
      {"what is a hundred divided by four", "math.arithmetic", "is 25"},
      {"what is ten divided by three", "math.arithmetic", "about 3.33"},
      {"what's seven squared", "math.arithmetic", "7 squared is 49"},
      {"what is the square root of sixty four", "math.arithmetic", "is 8"},
      {"what is twenty percent of eighty", "math.arithmetic", "is 16"},
      {"what is two to the power of ten", "math.arithmetic", "is 1,024"},
      {"what is two and a half times four", "math.arithmetic", "2.5 times 4 is 10"},
      {"what's two plus three times four", "math.arithmetic", "is 14"},
      {"add seventeen and twenty five", "math.arithmetic", "17 plus 25 is 42"},
      {"subtract nine from fifty", "math.arithmetic", "50 minus 9 is 41"},
      {"multiply six by seven", "math.arithmetic", "is 42"},
      {"what is 12 x 12", "math.arithmetic", "is 144"},
      {"what is half of ninety", "math.arithmetic", "is 45"},
      {"what is five minus eight", "math.arithmetic", "is minus 3"},
      {"calculate three point five times two", "math.arithmetic", "is 7"},
      {"what is ten divided by zero", "math.arithmetic", "can't divide by zero"},
      // conversions
      {"how many minutes are in a day", "units.convert", "There are 1,440 minutes in a day."},
      {"how many seconds are in an hour", "units.convert", "There are 3,600 seconds in an hour."},
      {"how many hours are in a week", "units.convert", "168 hours"},
      {"how many days are in three weeks", "units.convert", "21 days in 3 weeks"},
      {"convert five kilometers to miles", "units.convert", "5 kilometers is about 3.11 miles"},
      {"how many miles is ten kilometers", "units.convert", "10 kilometers is about 6.21 miles"},
      {"what is a hundred miles in kilometers", "units.convert", "100 miles is about 160.93 kilometers"},
      {"how many pounds is ten kilograms", "units.convert", "about 22.05 pounds"},
      {"convert two hundred grams to ounces", "units.convert", "7.05 ounces"},
      {"what is one hundred degrees fahrenheit in celsius", "units.convert", "37.8 degrees Celsius"},
      {"what's thirty degrees celsius in fahrenheit", "units.convert", "86 degrees Fahrenheit"},
      {"what is twenty degrees in fahrenheit", "units.convert", "68 degrees Fahrenheit"},
      {"how many cups are in a liter", "units.convert", "about 4.23 cups in a liter"},
      {"how many feet are in a mile", "units.convert", "5,280 feet in a mile"},
      {"how many inches in a foot", "units.convert", "12 inches in a foot"},
      {"how many ounces in a pound", "units.convert", "16 ounces in a pound"},
      {"how many tablespoons in a cup", "units.convert", "16 tablespoons in a cup"},
      {"how many ounces are in a cup", "units.convert", "8 fluid ounces in a cup"},
      {"how many grams are in a kilogram", "units.convert", "1,000 grams in a kilogram"},
      {"how many hours in two days", "units.convert", "48 hours in 2 days"},
      {"convert sixty miles per hour to kilometers per hour", "units.convert", "96.56 kilometers per hour"},
      {"how many kilometers is a marathon of twenty six point two miles", "units.convert", "42.16 kilometers"},
      {"how many seconds are in an hour and a half", "units.convert", "5,400 seconds"},
      {"how many kilograms is a mile", "units.convert", "can't convert"},
      // social and control
      {"hello", "greeting", "Hello"},
      {"hi there", "greeting", "Hello"},
      {"good morning", "greeting", "Good morning"},
      {"how are you", "greeting", "doing well"},
      {"thank you", "thanks", "welcome"},
      {"thanks a lot", "thanks", "welcome"},
      {"goodbye", "goodbye", "Goodbye"},
      {"ok thanks bye", "goodbye", "Goodbye"},
      {"good night", "goodbye", "Good night"},
      {"that's all for now", "goodbye", "Goodbye"},
      {"stop", "control.stop", "Okay"},
      {"stop talking", "control.stop", "Okay"},
      {"be quiet", "control.stop", "Okay"},
      {"shut up", "control.stop", "Okay"},
      {"cancel", "control.cancel", "Okay"},
      {"never mind", "control.cancel", "Okay"},
      {"forget it", "control.cancel", "Okay"},
      {"repeat that", "control.repeat", ""},
      {"can you say that again", "control.repeat", ""},
      {"what can you do", "help", "timers"},
      {"yes", "ack.yes", "Okay"},
      {"yes please", "ack.yes", "Okay"},
      {"sure", "ack.yes", "Okay"},
      {"no", "ack.no", "Okay"},
      {"no thanks", "ack.no", "Okay"},
      {"nope", "ack.no", "Okay"},
  };
  for (const auto& c : cases) {
    const auto a = ask(c.text);
    EXPECT_EQ(a.intent, c.intent) << c.text << " → " << a.reply;
    EXPECT_NE(a.reply.find(c.reply_has), std::string::npos) << c.text << " → " << a.reply;
    EXPECT_GE(a.confidence, 0.75) << c.text;
    EXPECT_LE(a.confidence, 1.0) << c.text;
  }
}

TEST_F(responder_test, time_formats) {
  tod_.set({2024, 3, 5, 0, 7, 0});
  EXPECT_NE(ask("what time is it").reply.find("12:07 AM"), std::string::npos);
  tod_.set({2024, 3, 5, 12, 0, 0});
  EXPECT_NE(ask("what time is it").reply.find("12:00 PM"), std::string::npos);
  auto r24 = local_responder::create({.time_of_day = &tod_, .use_24_hour_clock = true});
  ASSERT_TRUE(r24);
  tod_.set({2024, 3, 5, 21, 9, 0});
  EXPECT_EQ((*r24)->answer("what time is it", ctx()).reply, "It's 21:09.");
  tod_.set({2024, 12, 31, 23, 59, 0});
  EXPECT_NE(ask("what's the date tomorrow").reply.find("Wednesday, January 1, 2025"), std::string::npos);
}

TEST_F(responder_test, open_questions_score_below_one_half) {
  for (const char* text :
       {"why is the sky blue", "tell me a joke", "book a table for two", "what's the weather like tomorrow",
        "who won the game last night", "what is the capital of france", "write me a poem about the sea",
        "what time is it in tokyo", "how do i make pancakes", "what is the meaning of life",
        "explain quantum physics", "how far away is the moon", "play some jazz", "who wrote hamlet",
        "what day does the new movie come out", "can you recommend a good book", "i feel sad today",
        "what's the best way to learn french", "how many people live in london", "set an alarm for seven",
        "i don't have time", "what's the weather", "who are you"}) {
    const auto a = ask(text);
    EXPECT_LT(a.confidence, 0.5) << text << " → " << a.intent << " " << a.confidence << " " << a.reply;
  }
  EXPECT_EQ(ask("").intent, "");
  EXPECT_EQ(ask("").confidence, 0.0);
  EXPECT_EQ(ask("?!").reply, "");
}

TEST_F(responder_test, unexplained_words_lower_the_confidence) {
  const double clean = ask("what time is it").confidence;
  const double one_extra = ask("what time is it in london").confidence;
  const double other_meaning = ask("what time does the match start").confidence;
  EXPECT_GT(clean, one_extra);
  EXPECT_GT(one_extra, other_meaning);
  EXPECT_LT(other_meaning, 0.5);
  // "what time do you open" is the store's hours, not the clock.
  EXPECT_EQ(ask("what time do you open").intent, "faq.hours");
  EXPECT_EQ(ask("cancel my order").intent, "faq.cancel_order");
  EXPECT_EQ(ask("what is twelve times").intent, "math.arithmetic");
  EXPECT_LT(ask("what is twelve times").confidence, ask("what is twelve times eight").confidence);
}

// ---------------------------------------------------------------------------------------------
// FAQ

struct faq_case {
  const char* text;
  const char* entry;  // "" = must not match
};

// Paraphrases written for this test (not the file's variants), and off-topic questions.
const faq_case k_faq_cases[] = {
    {"when do you open", "hours"},
    {"until what time are you open", "hours"},
    {"when do you close today", "hours"},
    {"are you guys open on saturday", "hours"},
    {"what are your hours", "hours"},
    {"is the store open late on fridays", "hours"},
    {"what time does the shop shut", "hours"},
    {"are you open on easter", "holiday_hours"},
    {"what are your hours over christmas", "holiday_hours"},
    {"will the shop be open on the bank holiday", "holiday_hours"},
    {"are you closed on thanksgiving", "holiday_hours"},
    {"can you deliver my order on a sunday", "weekend_delivery"},
    {"do you do deliveries on saturdays", "weekend_delivery"},
    {"will you deliver at the weekend", "weekend_delivery"},
    {"how many days will shipping take", "shipping_time"},
    {"how long does it take to deliver", "shipping_time"},
    {"what's the delivery time for standard shipping", "shipping_time"},
    {"how quickly will you ship my items", "shipping_time"},
    {"what does delivery cost", "shipping_cost"},
    {"do you offer free shipping", "shipping_cost"},
    {"is there a fee for shipping", "shipping_cost"},
    {"how much do you charge for express delivery", "shipping_cost"},
    {"do you deliver outside the country", "international_shipping"},
    {"can you ship my order to another country", "international_shipping"},
    {"do you offer international delivery", "international_shipping"},
    {"do you ship worldwide", "international_shipping"},
    {"i want to return something i bought", "returns"},
    {"how do refunds work", "returns"},
    {"can i send back an item i don't like", "returns"},
    {"what's your refund policy", "returns"},
    {"can i bring back a product without a receipt", "returns"},
    {"i can't remember my password", "password_reset"},
    {"how can i recover my password", "password_reset"},
    {"i cannot sign in", "password_reset"},
    {"help me reset my login", "password_reset"},
    {"where's my package", "order_status"},
    {"can you tell me where my parcel is", "order_status"},
    {"i want to track my order", "order_status"},
    {"my order hasn't arrived", "order_status"},
    {"i need to cancel an order i just placed", "cancel_order"},
    {"how can i cancel my purchase", "cancel_order"},
    {"can i still cancel the order", "cancel_order"},
    {"how do i get in touch with you", "contact"},
    {"what number can i call", "contact"},
    {"can i speak with customer support", "contact"},
    {"is there an email address i can write to", "contact"},
    {"can i pay by credit card", "payment_methods"},
    {"do you accept mastercard", "payment_methods"},
    {"what ways can i pay", "payment_methods"},
    {"do you take cash", "payment_methods"},
    {"what's the address of the store", "location"},
    {"where can i find your shop", "location"},
    {"where exactly are you", "location"},
    {"where can i park", "location"},
    {"what time do you close on sundays", "hours"},
    {"how early do you open", "hours"},
    {"are you open right now", "hours"},
    {"opening times please", "hours"},
    {"will you be open on christmas eve", "holiday_hours"},
    {"do you have special hours on holidays", "holiday_hours"},
    {"is delivery available on saturday", "weekend_delivery"},
    {"do you deliver sundays", "weekend_delivery"},
    {"how long is standard delivery", "shipping_time"},
    {"how many business days does shipping take", "shipping_time"},
    {"how much is delivery", "shipping_cost"},
    {"what's the shipping fee", "shipping_cost"},
    {"is delivery free over fifty dollars", "shipping_cost"},
    {"can i order from abroad", "international_shipping"},
    {"do you deliver to the uk", "international_shipping"},
    {"how do i return a gift", "returns"},
    {"can i exchange shoes for a different size", "returns"},
    {"i'd like a refund", "returns"},
    {"i don't remember my login details", "password_reset"},
    {"my account is locked", "password_reset"},
    {"reset password", "password_reset"},
    {"has my package been shipped", "order_status"},
    {"track my parcel", "order_status"},
    {"when is my order coming", "order_status"},
    {"cancel my order please", "cancel_order"},
    {"i changed my mind can i cancel my order", "cancel_order"},
    {"how can i reach you", "contact"},
    {"i need to talk to a human", "contact"},
    {"what's your customer service number", "contact"},
    {"can i use apple pay", "payment_methods"},
    {"do you take american express", "payment_methods"},
    {"is paypal accepted", "payment_methods"},
    {"where is your shop located", "location"},
    {"how do i find the store", "location"},
    {"is there a car park", "location"},
    // off-topic and open questions
    {"why is the sky blue", ""},
    {"tell me a joke", ""},
    {"book a table for two", ""},
    {"what's the weather like tomorrow", ""},
    {"who won the football game last night", ""},
    {"play some music", ""},
    {"what is the capital of france", ""},
    {"how do i make pancakes", ""},
    {"recommend a good movie", ""},
    {"what is the meaning of life", ""},
    {"how tall is mount everest", ""},
    {"translate hello into spanish", ""},
    {"who is the president of the united states", ""},
    {"how far is the moon", ""},
    {"call my mother", ""},
    {"what's the best pizza place nearby", ""},
    {"write me a poem about cats", ""},
    {"how do airplanes fly", ""},
    {"what's the latest news", ""},
    {"remind me to buy milk", ""},
    {"how long is a marathon", ""},
    {"what time does the football match start", ""},
    {"how much does a tesla cost", ""},
    {"can you order me a taxi", ""},
    {"where is the eiffel tower", ""},
    {"is it going to rain today", ""},
    {"how do i cook rice", ""},
    {"what's your favorite color", ""},
    {"do you like dogs", ""},
    {"how long do cats live", ""},
    {"how long does it take to boil an egg", ""},
    {"what's the price of bitcoin", ""},
    {"where do penguins live", ""},
    {"when is the next full moon", ""},
    {"how do i open a bank account", ""},
    {"can you help me with my homework", ""},
    {"how much sleep do i need", ""},
    {"when does the train leave", ""},
    {"how fast can a cheetah run", ""},
    {"what's a good name for a dog", ""},
    {"do you dream", ""},
    {"what's the score of the game", ""},
    {"how do vaccines work", ""},
    {"who invented the telephone", ""},
    {"what is the speed of light", ""},
    {"how do i change a flat tire", ""},
    {"what should i cook for dinner", ""},
    {"send a message to john", ""},
    {"what is the population of canada", ""},
    {"how many calories are in an apple", ""},
};

struct faq_rates {
  double hit = 0;        // paraphrases matched to their entry at or above the threshold
  double wrong = 0;      // paraphrases matched to another entry at or above it
  double false_hit = 0;  // off-topic questions at or above it
};

faq_rates measure(const faq_index& faq, double threshold) {
  double n_pos = 0, n_neg = 0;
  faq_rates r;
  for (const auto& c : k_faq_cases) {
    const auto m = faq.match(c.text);
    const bool above = m && m->score >= threshold;
    if (*c.entry) {
      ++n_pos;
      if (above && m->entry->id == c.entry) ++r.hit;
      else if (above) ++r.wrong;
    } else {
      ++n_neg;
      if (above) ++r.false_hit;
    }
  }
  r.hit /= n_pos;
  r.wrong /= n_pos;
  r.false_hit /= n_neg;
  return r;
}

TEST(faq, loads_the_store_file) {
  auto faq = faq_index::load(store_faq_path());
  ASSERT_TRUE(faq) << faq.error().describe();
  EXPECT_GE(faq->entries().size(), 8u);
  EXPECT_EQ(faq->topic(), "the store");
  for (const char* id : {"hours", "weekend_delivery", "returns", "shipping_time", "shipping_cost", "password_reset",
                         "order_status", "contact", "payment_methods"}) {
    EXPECT_TRUE(std::any_of(faq->entries().begin(), faq->entries().end(), [&](const auto& e) { return e.id == id; }))
        << id;
  }
  // Every variant finds its own entry.
  for (const auto& e : faq->entries()) {
    for (const auto& q : e.questions) {
      auto m = faq->match(q);
      ASSERT_TRUE(m) << q;
      EXPECT_EQ(m->entry->id, e.id) << q;
    }
  }
}

TEST(faq, measured_threshold_separates_paraphrases_from_off_topic_questions) {
  auto faq = faq_index::load(store_faq_path());
  ASSERT_TRUE(faq);
  // The sweep that chose k_default_faq_threshold (printed for the record).
  std::printf("FAQ threshold sweep over %zu labelled questions:\n  threshold  hit  wrong  false-hit\n",
              std::size(k_faq_cases));
  for (double t = 0.20; t <= 0.801; t += 0.05) {
    const auto r = measure(*faq, t);
    std::printf("  %.2f      %.2f  %.2f   %.2f%s\n", t, r.hit, r.wrong, r.false_hit,
                std::fabs(t - k_default_faq_threshold) < 1e-9 ? "   <- default" : "");
  }
  const auto r = measure(*faq, k_default_faq_threshold);
  std::printf("at %.2f: hit rate %.3f, wrong-entry rate %.3f, false-hit rate %.3f\n", k_default_faq_threshold, r.hit,
              r.wrong, r.false_hit);
  EXPECT_GE(r.hit, 0.85);
  EXPECT_LE(r.wrong, 0.05);
  EXPECT_LE(r.false_hit, 0.05);
  // Misses, for the record.
  for (const auto& c : k_faq_cases) {
    const auto m = faq->match(c.text);
    const bool above = m && m->score >= k_default_faq_threshold;
    const bool ok = *c.entry ? above && m->entry->id == c.entry : !above;
    if (!ok) {
      std::printf("  miss: \"%s\" (want %s) → %s %.2f\n", c.text, *c.entry ? c.entry : "none",
                  m ? m->entry->id.c_str() : "-", m ? m->score : 0.0);
    }
  }
}

TEST_F(responder_test, faq_answers_through_the_responder_with_calibrated_confidence) {
  const auto a = ask("can i get my money back");
  EXPECT_EQ(a.intent, "faq.returns");
  EXPECT_GE(a.confidence, 0.5);
  EXPECT_NE(a.reply.find("30 days"), std::string::npos);
  EXPECT_EQ(ask("where's my parcel").intent, "faq.order_status");
  EXPECT_EQ(ask("do you deliver on sundays").intent, "faq.weekend_delivery");
  EXPECT_EQ(ask("i forgot my password").intent, "faq.password_reset");
  const auto off = ask("why is the sky blue");
  EXPECT_LT(off.confidence, 0.5);
}

TEST(faq, reports_bad_files_clearly) {
  auto missing = faq_index::load("/nonexistent/faq.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  auto not_json = faq_index::parse("{ nope", "test.json");
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().code, errc::unsupported_format);
  auto no_entries = faq_index::parse(R"({"topic": "x"})");
  ASSERT_FALSE(no_entries);
  EXPECT_EQ(no_entries.error().code, errc::invalid_argument);
  auto no_answer = faq_index::parse(R"({"entries": [{"id": "a", "questions": ["q"]}]})");
  ASSERT_FALSE(no_answer);
  EXPECT_NE(no_answer.error().message.find("answer"), std::string::npos);
  auto twice = faq_index::parse(
      R"({"entries": [{"id": "a", "questions": ["q"], "answer": "x"}, {"id": "a", "questions": ["r"], "answer": "y"}]})");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
  auto wrong_format = faq_index::parse(R"({"format": "other/2", "entries": []})");
  ASSERT_FALSE(wrong_format);
  EXPECT_EQ(wrong_format.error().code, errc::unsupported_format);
  auto bad = local_responder::create({.faq_path = "/nonexistent/faq.json"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::not_found);
  auto bad_zone = local_responder::create({.timezone = "Mars/Olympus"});
  ASSERT_FALSE(bad_zone);
}

TEST(faq, file_synonyms_extend_the_built_in_ones) {
  const char* json = R"({
    "entries": [
      {"id": "vouchers", "questions": ["do you sell gift vouchers"], "answer": "Yes, in any amount."},
      {"id": "hours", "questions": ["when are you open"], "answer": "9 to 5."}
    ],
    "synonyms": [["voucher", "coupon", "gift card"]]
  })";
  auto faq = faq_index::parse(json);
  ASSERT_TRUE(faq) << faq.error().describe();
  auto m = faq->match("do you sell coupons");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->entry->id, "vouchers");
  auto g = faq->match("do you have gift cards");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->entry->id, "vouchers");
  EXPECT_GT(g->score, 0.3);
  const auto terms = faq->analyse("when do you close");
  EXPECT_EQ(terms, (std::vector<std::string>{"#hours"}));
}

// ---------------------------------------------------------------------------------------------
// Per-session state

TEST_F(responder_test, repeat_returns_the_last_reply_of_the_same_session) {
  EXPECT_EQ(ask("repeat that", 1).reply, "I haven't said anything yet.");
  const auto first = ask("what is twelve times eight", 1);
  const auto other = ask("what time is it", 2);
  EXPECT_EQ(ask("say that again", 1).reply, first.reply);
  EXPECT_EQ(ask("repeat that", 2).reply, other.reply);
  // Control replies ("Okay.") do not replace what there is to repeat.
  ask("stop", 1);
  EXPECT_EQ(ask("repeat", 1).reply, first.reply);
  // What another responder said can be recorded.
  responder_->remember_reply(session_id{1}, "The capital of France is Paris.");
  EXPECT_EQ(ask("what did you say", 1).reply, "The capital of France is Paris.");
  responder_->forget_session(session_id{1});
  EXPECT_EQ(ask("repeat that", 1).reply, "I haven't said anything yet.");
}

// ---------------------------------------------------------------------------------------------
// Timers

class announcements {
 public:
  std::function<void(std::string)> sink() {
    return [this](std::string text) {
      std::lock_guard lock(mutex_);
      texts_.push_back(std::move(text));
      cv_.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, k_wait, [&] { return texts_.size() >= n; });
  }
  std::vector<std::string> texts() {
    std::lock_guard lock(mutex_);
    return texts_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> texts_;
};

TEST(timers, fire_through_announce) {
  io_thread io;
  announcements heard;
  auto r = local_responder::create({.executor = io.executor()});
  ASSERT_TRUE(r);
  auto& responder = **r;
  const auto a = responder.answer("set a timer for one second", ctx(7, heard.sink()));
  EXPECT_EQ(a.intent, "timer.set");
  EXPECT_GE(a.confidence, 0.9);
  EXPECT_EQ(a.reply, "Okay, timer set for 1 second.");
  const auto b = responder.answer("start a one second timer called tea", ctx(7, heard.sink()));
  EXPECT_EQ(b.reply, "Okay, tea timer set for 1 second.");
  EXPECT_EQ(responder.timers(session_id{7}).size(), 2u);
  ASSERT_TRUE(heard.wait_for(2));
  auto texts = heard.texts();
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(texts, (std::vector<std::string>{"Your 1 second timer is done.", "Your tea timer is done."}));
  EXPECT_TRUE(responder.timers(session_id{7}).empty());
  // An empty announce: the timer still runs out quietly.
  responder.answer("set a timer for one second", ctx(8));
  for (int i = 0; i < 1000 && !responder.timers(session_id{8}).empty(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(responder.timers(session_id{8}).empty());
}

TEST(timers, parse_durations_and_names) {
  io_thread io;
  manual_clock clk;
  auto r = local_responder::create({.executor = io.executor(), .clk = &clk});
  ASSERT_TRUE(r);
  auto& responder = **r;
  struct timer_case {
    const char* text;
    long long seconds;
    const char* name;
  };
  const timer_case cases[] = {
      {"set a timer for five minutes", 300, ""},
      {"start a ten second timer", 10, ""},
      {"timer for one hour and thirty minutes", 5400, ""},
      {"set a timer for an hour and a half", 5400, ""},
      {"set a timer for half an hour", 1800, ""},
      {"set a timer for a quarter of an hour", 900, ""},
      {"set a timer for two and a half minutes", 150, ""},
      {"set a timer for 1 hour 30 minutes", 5400, ""},
      {"set a timer for one hour thirty", 5400, ""},
      {"set a timer for ninety seconds", 90, ""},
      {"set a pasta timer for twelve minutes", 720, "pasta"},
      {"set a timer for the eggs for six minutes", 360, "eggs"},
      {"set a twenty minute timer called laundry", 1200, "laundry"},
      {"can you please set a timer for a minute and a half", 90, ""},
  };
  std::uint64_t session = 100;
  for (const auto& c : cases) {
    const auto a = responder.answer(c.text, ctx(++session));
    EXPECT_EQ(a.intent, "timer.set") << c.text;
    EXPECT_GE(a.confidence, 0.9) << c.text << " → " << a.reply;
    const auto t = responder.timers(session_id{session});
    ASSERT_EQ(t.size(), 1u) << c.text << " → " << a.reply;
    EXPECT_EQ(t[0].duration.count(), c.seconds) << c.text;
    EXPECT_EQ(t[0].name, c.name) << c.text;
  }
  for (std::uint64_t s = 101; s <= session; ++s) responder.forget_session(session_id{s});
}

TEST(timers, list_and_cancel) {
  io_thread io;
  manual_clock clk;
  auto r = local_responder::create({.executor = io.executor(), .clk = &clk});
  ASSERT_TRUE(r);
  auto& responder = **r;
  auto say = [&](std::string_view text) { return responder.answer(text, ctx(3)); };

  EXPECT_EQ(say("what timers do i have").reply, "You don't have any timers running.");
  EXPECT_EQ(say("cancel the timer").reply, "You don't have any timers running.");
  say("set a timer for five minutes");
  clk.advance(30s);
  auto listed = say("how much time is left on my timer");
  EXPECT_EQ(listed.intent, "timer.list");
  EXPECT_EQ(listed.reply, "Your 5 minute timer has 4 minutes and 30 seconds left.");
  say("set a pasta timer for ten minutes");
  listed = say("what timers do i have");
  EXPECT_EQ(listed.reply,
            "You have 2 timers. Your 5 minute timer has 4 minutes and 30 seconds left, and your pasta timer has 10 "
            "minutes left.");
  // Two timers and no name: ask which.
  auto which = say("cancel the timer");
  EXPECT_EQ(which.intent, "timer.cancel");
  EXPECT_NE(which.reply.find("Which one"), std::string::npos) << which.reply;
  auto answer = say("the pasta one");
  EXPECT_EQ(answer.intent, "timer.cancel");
  EXPECT_EQ(answer.reply, "Okay, I've cancelled your pasta timer.");
  EXPECT_EQ(responder.timers(session_id{3}).size(), 1u);
  // By duration, and a duration that does not exist.
  EXPECT_NE(say("cancel the seven minute timer").reply.find("don't have a 7 minute timer"), std::string::npos);
  EXPECT_EQ(say("cancel the five minute timer").reply, "Okay, I've cancelled your 5 minute timer.");
  EXPECT_TRUE(responder.timers(session_id{3}).empty());
  // All at once.
  say("set a timer for one minute");
  say("set a timer for two minutes");
  say("set a timer for three minutes");
  EXPECT_EQ(say("cancel all timers").reply, "Okay, I've cancelled all 3 timers.");
  EXPECT_TRUE(responder.timers(session_id{3}).empty());
}

TEST(timers, bare_cancel_right_after_a_timer_cancels_it) {
  io_thread io;
  auto r = local_responder::create({.executor = io.executor()});
  ASSERT_TRUE(r);
  auto& responder = **r;
  responder.answer("set a timer for ten minutes", ctx(4));
  const auto a = responder.answer("cancel", ctx(4));
  EXPECT_EQ(a.intent, "timer.cancel");
  EXPECT_EQ(a.reply, "Okay, I've cancelled your 10 minute timer.");
  // With a timer running but another subject in between, cancel means stop talking.
  responder.answer("set a timer for ten minutes", ctx(4));
  responder.answer("what time is it", ctx(4));
  EXPECT_EQ(responder.answer("cancel", ctx(4)).intent, "control.cancel");
  EXPECT_EQ(responder.timers(session_id{4}).size(), 1u);
}

TEST(timers, ask_for_a_missing_duration) {
  io_thread io;
  auto r = local_responder::create({.executor = io.executor()});
  ASSERT_TRUE(r);
  auto& responder = **r;
  const auto a = responder.answer("set a timer", ctx(5));
  EXPECT_EQ(a.intent, "timer.set");
  EXPECT_EQ(a.reply, "For how long?");
  EXPECT_LT(a.confidence, 0.9);
  EXPECT_GE(a.confidence, 0.5);
  const auto b = responder.answer("five minutes", ctx(5));
  EXPECT_EQ(b.intent, "timer.set");
  EXPECT_EQ(b.reply, "Okay, timer set for 5 minutes.");
  // Without the question, a bare duration means nothing.
  EXPECT_LT(responder.answer("five minutes", ctx(6)).confidence, 0.5);
}

TEST(timers, are_bounded) {
  io_thread io;
  auto r = local_responder::create({.executor = io.executor(), .max_timers_per_session = 2});
  ASSERT_TRUE(r);
  auto& responder = **r;
  EXPECT_EQ(responder.answer("set a timer for twenty five hours", ctx(9)).reply,
            "I can only set timers for up to 24 hours.");
  EXPECT_EQ(responder.answer("set a timer for zero seconds", ctx(9)).reply,
            "A timer needs to run for at least one second.");
  responder.answer("set a timer for one minute", ctx(9));
  responder.answer("set a timer for two minutes", ctx(9));
  EXPECT_NE(responder.answer("set a timer for three minutes", ctx(9)).reply.find("as many as I can keep"),
            std::string::npos);
  EXPECT_EQ(responder.timers(session_id{9}).size(), 2u);
  // No executor: timers are refused politely.
  auto none = local_responder::create({});
  ASSERT_TRUE(none);
  const auto a = (*none)->answer("set a timer for five minutes", ctx());
  EXPECT_EQ(a.intent, "timer.set");
  EXPECT_EQ(a.reply, "Sorry, I can't set timers here.");
}

TEST(timers, forgetting_a_session_cancels_its_timers) {
  io_thread io;
  announcements heard;
  auto r = local_responder::create({.executor = io.executor()});
  ASSERT_TRUE(r);
  auto& responder = **r;
  responder.answer("set a timer for one second", ctx(11, heard.sink()));
  responder.answer("set a timer for one second", ctx(12, heard.sink()));
  responder.forget_session(session_id{11});
  ASSERT_TRUE(heard.wait_for(1));
  std::this_thread::sleep_for(1500ms);  // session 11's timer would have fired by now
  EXPECT_EQ(heard.texts().size(), 1u);
}

TEST(timers, a_destroyed_responder_announces_nothing) {
  io_thread io;
  announcements heard;
  {
    auto r = local_responder::create({.executor = io.executor()});
    ASSERT_TRUE(r);
    (*r)->answer("set a timer for one second", ctx(13, heard.sink()));
  }
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(heard.texts().empty());
}

TEST(timers, many_sessions_answer_concurrently) {
  io_thread io;
  auto r = local_responder::create({.faq_path = store_faq_path(), .executor = io.executor()});
  ASSERT_TRUE(r);
  auto responder = *r;
  std::vector<std::thread> threads;
  std::atomic<int> n_ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::uint64_t s = 1000 + static_cast<std::uint64_t>(t);
        if (responder->answer("set a timer for ten minutes", ctx(s)).intent == "timer.set") ++n_ok;
        if (responder->answer("what timers do i have", ctx(s)).intent == "timer.list") ++n_ok;
        if (responder->answer("cancel all timers", ctx(s)).intent == "timer.cancel") ++n_ok;
        if (responder->answer("where is my order", ctx(s)).intent == "faq.order_status") ++n_ok;
        if (responder->answer("repeat that", ctx(s)).intent == "control.repeat") ++n_ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(n_ok.load(), 4 * 50 * 5);
}

TEST_F(responder_test, domain_phrases_cover_intents_and_every_faq_question) {
  const auto phrases = responder_->domain_phrases();
  EXPECT_NE(std::find(phrases.begin(), phrases.end(), "set a timer for five minutes"), phrases.end());
  // Arithmetic: every number word follows every operator somewhere (the LM must expect a number).
  for (const std::string op : {"times", "plus", "minus", "divided by"}) {
    for (const std::string n : {"eight", "twelve", "seventy", "a hundred"}) {
      EXPECT_TRUE(std::any_of(phrases.begin(), phrases.end(), [&](const std::string& p) {
        return p.ends_with(" " + op + " " + n);
      })) << op << " " << n;
    }
  }
  for (const auto& e : responder_->faq()->entries()) {
    for (const auto& q : e.questions) EXPECT_NE(std::find(phrases.begin(), phrases.end(), q), phrases.end()) << q;
  }
  // Every intent phrasing is understood by the responder itself.
  auto plain = local_responder::create({.time_of_day = &tod_});
  ASSERT_TRUE(plain);
  for (std::size_t i = 0; i < phrases.size() - responder_->faq()->entries().size(); ++i) {
    if (std::any_of(responder_->faq()->entries().begin(), responder_->faq()->entries().end(), [&](const auto& e) {
          return std::find(e.questions.begin(), e.questions.end(), phrases[i]) != e.questions.end();
        })) {
      continue;
    }
    EXPECT_GE((*plain)->answer(phrases[i], ctx(50)).confidence, 0.5) << phrases[i];
  }
}

// ---------------------------------------------------------------------------------------------
// responder_chat_model

class scripted_responder final : public engine::responder {
 public:
  scripted_responder(engine::responder_answer a) : answer_(std::move(a)) {}
  std::string name() const override { return "scripted"; }
  engine::responder_answer answer(std::string_view text, const engine::responder_context&) override {
    last_text = std::string(text);
    ++n_calls;
    return answer_;
  }
  std::vector<std::string> domain_phrases() const override { return {}; }
  std::string last_text;
  std::atomic<int> n_calls{0};

 private:
  engine::responder_answer answer_;
};

struct chat_result {
  std::vector<std::string> tokens;
  std::promise<status> done;
  std::atomic<int> n_done{0};
  std::thread::id caller;
  std::atomic<bool> synchronous{false};
};

engine::chat_events events_for(chat_result& out) {
  return {.on_token = [&out](std::string_view t) {
            if (std::this_thread::get_id() == out.caller) out.synchronous = true;
            out.tokens.emplace_back(t);
          },
          .on_done = [&out](status s) {
            if (std::this_thread::get_id() == out.caller) out.synchronous = true;
            if (out.n_done.fetch_add(1) == 0) out.done.set_value(std::move(s));
          }};
}

engine::chat_request user_says(std::string text) {
  engine::chat_request r;
  r.messages.push_back({engine::chat_role::system, "be brief", false});
  r.messages.push_back({engine::chat_role::user, std::move(text), false});
  return r;
}

TEST(responder_chat_model, streams_a_confident_reply_word_by_word) {
  io_thread io;
  manual_time_of_day tod(k_now);
  auto local = local_responder::create({.time_of_day = &tod});
  ASSERT_TRUE(local);
  responder_chat_model model(*local, {.executor = io.executor()});
  EXPECT_EQ(model.name(), "responder:local");
  EXPECT_TRUE(model.caps().streaming);
  chat_result out;
  out.caller = std::this_thread::get_id();
  auto done = out.done.get_future();
  model.stream(user_says("what is twelve times eight"), events_for(out), {});
  ASSERT_EQ(done.wait_for(k_wait), std::future_status::ready);
  EXPECT_TRUE(done.get().has_value());
  EXPECT_EQ(std::accumulate(out.tokens.begin(), out.tokens.end(), std::string()), "12 times 8 is 96.");
  EXPECT_EQ(out.tokens, (std::vector<std::string>{"12", " times", " 8", " is", " 96."}));
  EXPECT_FALSE(out.synchronous);
  EXPECT_EQ(out.n_done.load(), 1);
  EXPECT_EQ(model.n_fallbacks(), 0u);
}

TEST(responder_chat_model, falls_back_below_the_threshold) {
  io_thread io;
  auto scripted = std::make_shared<scripted_responder>(engine::responder_answer{"faq.hours", 0.3, "We open at 9."});
  responder_chat_model model(scripted, {.threshold = 0.5, .fallback_reply = "Sorry, I can't help with that.",
                                        .executor = io.executor()});
  chat_result out;
  auto done = out.done.get_future();
  model.stream(user_says("why is the sky blue"), events_for(out), {});
  ASSERT_EQ(done.wait_for(k_wait), std::future_status::ready);
  EXPECT_TRUE(done.get().has_value());
  EXPECT_EQ(std::accumulate(out.tokens.begin(), out.tokens.end(), std::string()), "Sorry, I can't help with that.");
  EXPECT_EQ(scripted->last_text, "why is the sky blue");
  EXPECT_EQ(model.n_fallbacks(), 1u);
  // The default fallback, with the real local responder.
  auto local = local_responder::create({});
  ASSERT_TRUE(local);
  responder_chat_model plain(*local, {.executor = io.executor()});
  chat_result out2;
  auto done2 = out2.done.get_future();
  plain.stream(user_says("tell me a joke"), events_for(out2), {});
  ASSERT_EQ(done2.wait_for(k_wait), std::future_status::ready);
  EXPECT_EQ(std::accumulate(out2.tokens.begin(), out2.tokens.end(), std::string()),
            responder_chat_config{}.fallback_reply);
}

TEST(responder_chat_model, honours_a_stop_requested_before_it_runs) {
  io_thread io;
  auto scripted = std::make_shared<scripted_responder>(engine::responder_answer{"x", 0.9, "one two three"});
  responder_chat_model model(scripted, {.executor = io.executor()});
  std::stop_source stop;
  stop.request_stop();
  chat_result out;
  auto done = out.done.get_future();
  model.stream(user_says("hi"), events_for(out), stop.get_token());
  ASSERT_EQ(done.wait_for(k_wait), std::future_status::ready);
  const status s = done.get();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, errc::cancelled);
  EXPECT_TRUE(out.tokens.empty());
  EXPECT_EQ(scripted->n_calls.load(), 0);  // nothing was answered (no side effects)
}

TEST(responder_chat_model, stops_within_one_token) {
  io_thread io;
  auto scripted = std::make_shared<scripted_responder>(engine::responder_answer{"x", 0.9, "one two three four five"});
  responder_chat_model model(scripted, {.executor = io.executor()});
  std::stop_source stop;
  chat_result out;
  auto done = out.done.get_future();
  engine::chat_events events = events_for(out);
  auto on_token = events.on_token;
  events.on_token = [&, on_token](std::string_view t) {
    on_token(t);
    stop.request_stop();  // the listener interrupts after the first word
  };
  model.stream(user_says("hi"), std::move(events), stop.get_token());
  ASSERT_EQ(done.wait_for(k_wait), std::future_status::ready);
  const status s = done.get();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, errc::cancelled);
  EXPECT_EQ(out.tokens, (std::vector<std::string>{"one"}));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(out.n_done.load(), 1);
}

TEST(responder_chat_model, refuses_a_missing_executor_or_responder) {
  auto local = local_responder::create({});
  ASSERT_TRUE(local);
  EXPECT_THROW(responder_chat_model(*local, {}), std::invalid_argument);
  io_thread io;
  EXPECT_THROW(responder_chat_model(nullptr, {.executor = io.executor()}), std::invalid_argument);
}

TEST(responder_chat_model, many_concurrent_requests_each_finish_once) {
  io_thread io;
  auto local = local_responder::create({.faq_path = store_faq_path(), .executor = io.executor()});
  ASSERT_TRUE(local);
  auto model = std::make_shared<responder_chat_model>(*local, responder_chat_config{.executor = io.executor()});
  constexpr int n = 64;
  std::vector<std::unique_ptr<chat_result>> results;
  std::vector<std::future<status>> futures;
  std::vector<std::stop_source> stops(n);
  for (int i = 0; i < n; ++i) {
    results.push_back(std::make_unique<chat_result>());
    futures.push_back(results.back()->done.get_future());
    auto request = user_says(i % 2 ? "where is my order" : "what is seven times six");
    request.context = ctx(static_cast<std::uint64_t>(i));
    model->stream(std::move(request), events_for(*results.back()), stops[static_cast<std::size_t>(i)].get_token());
    if (i % 3 == 0) stops[static_cast<std::size_t>(i)].request_stop();
  }
  for (auto& f : futures) ASSERT_EQ(f.wait_for(k_wait), std::future_status::ready);
  for (auto& r : results) EXPECT_EQ(r->n_done.load(), 1);
  EXPECT_EQ(model->n_requests(), static_cast<std::uint64_t>(n));
}

}  // namespace
}  // namespace parley::intents
