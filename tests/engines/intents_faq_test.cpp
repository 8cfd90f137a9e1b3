// Tests of engines/intents' FAQ matcher: the store file, its measured threshold over labelled
// paraphrases and off-topic questions, answers through the responder, bad files, synonyms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "parley/engines/intents/faq.hpp"
#include "parley/engines/intents/local_responder.hpp"

#include "intents_test_util.hpp"

namespace parley::intents {
namespace {

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

TEST_F(responder_test, every_suggestion_is_a_request_it_answers) {
  // What the web page offers a new user to try must work, whatever the FAQ file holds.
  const auto suggestions = responder_->suggestions();
  ASSERT_EQ(suggestions.size(), 8u) << "four intents, four FAQ questions";
  EXPECT_EQ(suggestions.front(), "What time is it?");
  EXPECT_NE(std::find(suggestions.begin(), suggestions.end(), "What are your opening hours?"), suggestions.end());
  for (const auto& s : suggestions) {
    const auto a = ask(s);
    EXPECT_FALSE(a.intent.empty()) << s;
    EXPECT_GE(a.confidence, 0.5) << s;
  }
  auto without_faq = local_responder::create({});
  ASSERT_TRUE(without_faq);
  EXPECT_EQ((*without_faq)->suggestions().size(), 4u) << "no FAQ: the intents alone";
}

TEST(faq, without_the_built_in_intents_only_the_faq_and_the_conversational_basics_answer) {
  // An assistant that is not a general helper (`[knowledge] intents = false`, `--no-intents`).
  manual_time_of_day tod{k_now};
  auto r = local_responder::create({.faq_path = store_faq_path(), .time_of_day = &tod, .builtin_intents = false});
  ASSERT_TRUE(r) << r.error().describe();
  auto& responder = **r;
  for (const char* skill : {"what time is it", "set a timer for five minutes", "what is twelve times eight",
                            "how many pounds is ten kilograms", "what day is it"}) {
    const auto a = responder.answer(skill, ctx());
    // No built-in intent answers; the FAQ may still guess ("what day is it" ~ the holiday hours).
    EXPECT_TRUE(a.intent.empty() || a.intent.starts_with("faq.")) << skill << " → " << a.intent << " (" << a.reply << ")";
  }
  EXPECT_EQ(responder.answer("can i get my money back", ctx()).intent, "faq.returns");
  EXPECT_EQ(responder.answer("hello", ctx()).intent, "greeting");
  const auto help = responder.answer("what can you do", ctx());
  EXPECT_EQ(help.intent, "help");
  EXPECT_EQ(help.reply.find("timer"), std::string::npos) << help.reply;
  EXPECT_NE(help.reply.find("answer questions about"), std::string::npos) << help.reply;
  const auto suggestions = responder.suggestions();
  EXPECT_EQ(suggestions.size(), 4u) << "the FAQ's questions only";
  EXPECT_EQ(std::find(suggestions.begin(), suggestions.end(), "What time is it?"), suggestions.end());
  const auto phrases = responder.domain_phrases();
  EXPECT_EQ(std::find(phrases.begin(), phrases.end(), "set a timer for five minutes"), phrases.end())
      << "the recognizer is not biased towards what the assistant does not do";
  EXPECT_NE(std::find(phrases.begin(), phrases.end(), "hello"), phrases.end());
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

}  // namespace
}  // namespace parley::intents
