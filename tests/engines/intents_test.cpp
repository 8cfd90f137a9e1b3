// Tests of engines/intents' local responder: the intent handlers (with a manual wall clock), the
// per-session state, timers firing through announce (real io_context) and the domain phrases.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "parley/engines/intents/local_responder.hpp"

#include "intents_test_util.hpp"

namespace parley::intents {
namespace {

// ---------------------------------------------------------------------------------------------
// Intents


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

// Content-aware endpointing asks the responder about every partial transcript: confidence() says
// what answer() would, and does nothing (no timer set, no session created, no state changed).
TEST(timers, confidence_answers_without_acting) {
  io_thread io;
  manual_clock clk;
  auto r = local_responder::create({.executor = io.executor(), .clk = &clk});
  ASSERT_TRUE(r);
  auto& responder = **r;
  const auto p = responder.confidence("set a timer for five minutes", session_id{3});
  ASSERT_TRUE(p);
  EXPECT_TRUE(responder.timers(session_id{3}).empty()) << "asking set no timer";
  EXPECT_EQ(*responder.confidence("", session_id{3}), 0.0);
  EXPECT_LT(*responder.confidence("set a timer for", session_id{3}), *p);
  const auto a = responder.answer("set a timer for five minutes", ctx(3));
  EXPECT_DOUBLE_EQ(a.confidence, *p) << "the confidence answer() reports";
  EXPECT_EQ(responder.timers(session_id{3}).size(), 1u);
  // The session's state is read, never written: a follow-up is judged in context, twice alike.
  const auto cancel = responder.confidence("cancel it", session_id{3});
  EXPECT_EQ(responder.confidence("cancel it", session_id{3}), cancel);
  EXPECT_EQ(responder.timers(session_id{3}).size(), 1u);
}

// Words the recognizer is unsure of are not acted on: the responder asks, and "yes" sets the
// timer it asked about. Typed text (no recognizer confidence) and sure words are acted on at once.
TEST(timers, doubtful_words_are_confirmed_before_a_timer_is_set) {
  io_thread io;
  auto r = local_responder::create({.executor = io.executor()});
  ASSERT_TRUE(r);
  auto& responder = **r;
  auto heard = [](std::uint64_t session, double confidence) {
    auto c = ctx(session);
    c.asr_confidence = confidence;
    return c;
  };
  const double doubtful = k_default_min_asr_confidence / 2;
  const auto asked = responder.answer("set a timer for five minutes", heard(1, doubtful));
  EXPECT_EQ(asked.intent, "timer.set");
  EXPECT_EQ(asked.reply, "Did you want me to set a timer for 5 minutes?");
  EXPECT_TRUE(responder.timers(session_id{1}).empty()) << "nothing set on a guess";
  const auto yes = responder.answer("yes", heard(1, 0.9));
  EXPECT_EQ(yes.reply, "Okay, timer set for 5 minutes.");
  ASSERT_EQ(responder.timers(session_id{1}).size(), 1u);
  EXPECT_EQ(responder.timers(session_id{1})[0].duration, std::chrono::minutes(5));

  // "no" drops the question: a later "yes" sets nothing.
  responder.answer("set a timer for ten minutes", heard(2, doubtful));
  EXPECT_EQ(responder.answer("no", heard(2, 0.9)).reply, "Okay.");
  EXPECT_EQ(responder.answer("yes", heard(2, 0.9)).intent, "ack.yes");
  EXPECT_TRUE(responder.timers(session_id{2}).empty());

  // Cancelling is confirmed the same way; until "yes", the timer runs.
  EXPECT_EQ(responder.answer("cancel the timer", heard(1, doubtful)).reply, "Did you want me to cancel a timer?");
  EXPECT_EQ(responder.timers(session_id{1}).size(), 1u);
  EXPECT_EQ(responder.answer("yes please", heard(1, 0.9)).intent, "timer.cancel");
  EXPECT_TRUE(responder.timers(session_id{1}).empty());

  EXPECT_EQ(responder.answer("set a timer for five minutes", heard(3, 0.9)).reply, "Okay, timer set for 5 minutes.");
  EXPECT_EQ(responder.answer("set a timer for five minutes", ctx(4)).reply, "Okay, timer set for 5 minutes.");
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

}  // namespace
}  // namespace parley::intents
