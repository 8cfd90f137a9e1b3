#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "parley/agent/turn_end.hpp"

namespace parley::agent {
namespace {

struct ending_case {
  const char* text;
  text_ending ending;
  const char* rule;
};

void expect_cases(const std::vector<ending_case>& cases) {
  for (const auto& c : cases) {
    const auto a = classify_ending(c.text);
    EXPECT_EQ(a.ending, c.ending) << '"' << c.text << "\" → " << to_string(a.ending) << " (" << a.rule << ")";
    EXPECT_EQ(a.rule, std::string_view(c.rule)) << '"' << c.text << '"';
  }
}

constexpr auto U = text_ending::unfinished;
constexpr auto C = text_ending::complete;
constexpr auto N = text_ending::neutral;

TEST(turn_end_rules, empty_text) {
  expect_cases({{"", text_ending::empty, ""},
                {"   ", text_ending::empty, ""},
                {"<sil> [noise]", text_ending::empty, ""},
                {"?!", text_ending::empty, ""}});
}

TEST(turn_end_rules, conjunctions) {
  expect_cases({{"set a timer for ten minutes and", U, "conjunction"},
                {"is it open or", U, "conjunction"},
                {"I ordered shoes but", U, "conjunction"},
                {"remind me if", U, "conjunction"},
                {"is it bigger than", U, "conjunction"},
                {"I think so", N, ""}});
}

TEST(turn_end_rules, prepositions_and_particles) {
  expect_cases({{"set a timer for", U, "preposition"},
                {"what is the capital of", U, "preposition"},
                {"I want to", U, "preposition"},
                {"do you ship to", U, "preposition"},
                {"what is the weather in", U, "preposition"},
                {"is the store open on", U, "preposition"},
                {"how do I log in", N, ""},        // particle verb
                {"turn the lights on", N, ""},     // its object precedes
                {"is the heating on", N, ""}});
}

TEST(turn_end_rules, articles_and_possessives) {
  expect_cases({{"where is the", U, "article"},
                {"set a", U, "article"},
                {"can I get an", U, "article"},
                {"where is my", U, "possessive"},
                {"what are your", U, "possessive"},
                {"where is my order", N, ""},
                {"call her", N, ""}});  // "her" is as often an object
}

TEST(turn_end_rules, auxiliaries_need_a_subject_before_them_to_close) {
  expect_cases({{"what is", U, "auxiliary"},
                {"what's", U, "auxiliary"},          // contraction split
                {"how much does", U, "auxiliary"},
                {"where can", U, "auxiliary"},
                {"yes it is", N, ""},
                {"yes I can", N, ""},
                {"it's", N, ""},
                {"what should I do", N, ""},
                {"what do you have", N, ""},
                {"I don't", N, ""}});
}

TEST(turn_end_rules, modal_followed_by_its_subject) {
  expect_cases({{"can you", U, "modal_subject"},
                {"how do I", U, "modal_subject"},
                {"how much does it", U, "modal_subject"},
                {"is there", U, "modal_subject"},
                {"could you please", U, "modal_subject"},
                {"what time is it", N, ""},   // "is it" closes a question
                {"how are you", N, ""}});
}

TEST(turn_end_rules, question_words_and_subject) {
  expect_cases({{"do you know where", U, "wh_word"},
                {"tell me what", U, "wh_word"},
                {"I want to know how", U, "wh_word"},
                {"what", N, ""},  // a lone "what?" is a reply, not an unfinished question
                {"why", N, ""},
                {"and then I", U, "subject"}});
}

TEST(turn_end_rules, verbs_that_need_an_object) {
  expect_cases({{"can you tell me", U, "verb_me"},
                {"remind me", U, "verb_me"},
                {"let's", U, "verb_me"},  // "let us"
                {"please set", U, "verb_object"},
                {"I need to reset", U, "verb_object"},
                {"I want", U, "verb_object"},
                {"I'm all set", N, ""},
                {"the timer is set", N, ""},
                {"can you help me", N, ""},
                {"can I return", U, "verb_object"},   // a yes/no question whose verb needs an object
                {"do you accept", U, "verb_object"},
                {"what do you accept", N, ""},        // its object is in front
                {"do you deliver on weekends", N, ""},
                {"are you open", N, ""}});
}

TEST(turn_end_rules, subordinate_clause_without_its_main_clause) {
  expect_cases({{"if it rains tomorrow", U, "subordinate"},
                {"when my timer goes off", U, "subordinate"},
                {"when does the store close", N, ""},   // a question, not a subordinate clause
                {"if it rains tomorrow should I bring an umbrella", N, ""},
                {"when my timer goes off play some music", N, ""}});
}

TEST(turn_end_rules, two_word_phrases) {
  expect_cases({{"I'd like", U, "phrase"},
                {"I would love", U, "phrase"},
                {"how many", U, "phrase"},
                {"how long", U, "phrase"},
                {"what time", U, "phrase"},
                {"what kind", U, "phrase"}});
}

TEST(turn_end_rules, arithmetic_operators) {
  expect_cases({{"what is twelve plus", U, "operator"},
                {"what is one hundred divided", U, "operator"},
                {"what is twelve times", U, "operator"},
                {"what is two point", U, "operator"},
                {"what is twelve times eight", N, ""},
                {"what is two plus two", N, ""}});
}

TEST(turn_end_rules, digits_still_being_read) {
  expect_cases({{"the number is five two", U, "digits"},
                {"my order number is five two seven one", U, "digits"},
                {"my pin is four", U, "digits"},           // one digit right after a cue
                {"call extension 5", U, "digits"},
                {"my code is 5275", U, "digits"},
                {"set a timer for five", N, ""},             // one digit, no cue
                {"what is 52", N, ""},
                {"oh", N, ""}});
}

TEST(turn_end_rules, hesitation) {
  expect_cases({{"I want the um", U, "filler"},
                {"what about uh", U, "filler"},
                {"hmm", U, "filler"},
                {"um", U, "filler"}});
}

TEST(turn_end_rules, complete_control_and_politeness) {
  expect_cases({{"stop", C, "control"},
                {"Stop.", C, "control"},
                {"cancel", C, "control"},
                {"thank you", C, "control"},
                {"never mind", C, "control"},
                {"no thanks", C, "control"},
                {"what time is it please", C, "politeness"},
                {"that's great thanks", C, "politeness"},
                {"ok thank you", C, "politeness"},
                {"stop the music", N, ""}});
}

TEST(turn_end_rules, typed_text_punctuation_and_case) {
  expect_cases({{"What time is it?", N, ""},
                {"Set a timer FOR", U, "preposition"},
                {"what\xE2\x80\x99s", U, "auxiliary"},  // typographic apostrophe
                {"and,", U, "conjunction"}});
}

// ----- the policy: thresholds, responder, cap ---------------------------------------------------

constexpr turn_end_config k_config{.complete_silence_ms = 200.0, .default_silence_ms = 500.0,
                                   .unfinished_silence_ms = 1100.0, .max_silence_ms = 1500.0,
                                   .p_complete_threshold = 0.8};

TEST(turn_end_policy, required_silence_follows_the_ending) {
  const turn_end_policy policy(k_config);
  EXPECT_EQ(policy.required_silence_ms("set a timer for", std::nullopt), 1100.0);
  EXPECT_EQ(policy.required_silence_ms("stop", std::nullopt), 200.0);
  EXPECT_EQ(policy.required_silence_ms("tell me a joke", std::nullopt), 500.0);
  EXPECT_EQ(policy.required_silence_ms("", std::nullopt), 500.0);
}

TEST(turn_end_policy, ends_exactly_at_the_required_silence) {
  const turn_end_policy policy(k_config);
  EXPECT_FALSE(policy.decide("tell me a joke", std::nullopt, 499.9).ended);
  EXPECT_TRUE(policy.decide("tell me a joke", std::nullopt, 500.0).ended);
  EXPECT_FALSE(policy.decide("set a timer for", std::nullopt, 1000.0).ended);
  EXPECT_TRUE(policy.decide("set a timer for", std::nullopt, 1100.0).ended);
  EXPECT_FALSE(policy.decide("stop", std::nullopt, -50.0).ended);  // negative silence counts as 0
}

TEST(turn_end_policy, a_confident_responder_makes_neutral_text_complete) {
  const turn_end_policy policy(k_config);
  auto d = policy.decide("what time is it", 0.95, 250.0);
  EXPECT_TRUE(d.ended);
  EXPECT_EQ(d.ending, text_ending::complete);
  EXPECT_EQ(d.reason, "responder");
  EXPECT_EQ(d.required_silence_ms, 200.0);

  d = policy.decide("what time is it", 0.8, 0.0);  // at the threshold counts
  EXPECT_EQ(d.required_silence_ms, 200.0);
  d = policy.decide("what time is it", 0.79, 0.0);
  EXPECT_EQ(d.required_silence_ms, 500.0);
  EXPECT_EQ(d.ending, text_ending::neutral);
  d = policy.decide("what time is it", std::numeric_limits<double>::quiet_NaN(), 0.0);  // NaN: no responder
  EXPECT_EQ(d.required_silence_ms, 500.0);
}

TEST(turn_end_policy, an_unfinished_ending_wins_over_the_responder) {
  const turn_end_policy policy(k_config);
  const auto d = policy.decide("set a timer for ten minutes and", 0.95, 600.0);
  EXPECT_FALSE(d.ended);
  EXPECT_EQ(d.ending, text_ending::unfinished);
  EXPECT_EQ(d.reason, "conjunction");
  EXPECT_EQ(d.required_silence_ms, 1100.0);
}

TEST(turn_end_policy, the_hard_cap_bounds_every_silence) {
  turn_end_config c = k_config;
  c.max_silence_ms = 900.0;  // below the unfinished silence (validate() refuses it; decide() still caps)
  const turn_end_policy policy(c);
  const auto d = policy.decide("the number is five two", std::nullopt, 900.0);
  EXPECT_EQ(d.required_silence_ms, 900.0);
  EXPECT_TRUE(d.ended);
}

// ----- presets and validation ---------------------------------------------------------------------

TEST(turn_end_presets, parse_names_and_reject_others) {
  EXPECT_EQ(*parse_turn_taking("quick"), turn_taking::quick);
  EXPECT_EQ(*parse_turn_taking(" Conversational "), turn_taking::conversational);
  EXPECT_EQ(*parse_turn_taking("PATIENT"), turn_taking::patient);
  for (const char* bad : {"", "fast", "quick-ish", "patient2"}) {
    const auto r = parse_turn_taking(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("quick, conversational or patient"), std::string::npos);
  }
  for (auto p : {turn_taking::quick, turn_taking::conversational, turn_taking::patient})
    EXPECT_EQ(*parse_turn_taking(to_string(p)), p);
}

TEST(turn_end_presets, every_preset_is_valid_and_ordered_from_quick_to_patient) {
  const auto q = turn_end_config::preset(turn_taking::quick);
  const auto c = turn_end_config::preset(turn_taking::conversational);
  const auto p = turn_end_config::preset(turn_taking::patient);
  for (const auto& cfg : {q, c, p}) EXPECT_TRUE(validate(cfg).has_value());
  EXPECT_LE(q.complete_silence_ms, c.complete_silence_ms);
  EXPECT_LE(c.complete_silence_ms, p.complete_silence_ms);
  EXPECT_LE(q.default_silence_ms, c.default_silence_ms);
  EXPECT_LE(c.default_silence_ms, p.default_silence_ms);
  EXPECT_LT(q.unfinished_silence_ms, c.unfinished_silence_ms);
  EXPECT_LT(c.unfinished_silence_ms, p.unfinished_silence_ms);
  EXPECT_LE(q.max_silence_ms, c.max_silence_ms);
  EXPECT_LE(c.max_silence_ms, p.max_silence_ms);
  // The default policy is the conversational preset.
  EXPECT_EQ(turn_end_policy().config().unfinished_silence_ms, c.unfinished_silence_ms);
  EXPECT_EQ(turn_end_config{}.default_silence_ms, c.default_silence_ms);
  EXPECT_EQ(turn_end_config{}.complete_silence_ms, c.complete_silence_ms);
}

TEST(turn_end_presets, each_preset_on_the_same_table) {
  // text, responder, then the decision each preset takes after 400 ms and after 1000 ms of silence.
  struct row {
    const char* text;
    std::optional<double> p;
    bool quick_400, conv_400, patient_400, quick_1000, conv_1000, patient_1000;
  };
  const std::vector<row> rows = {
      {"stop", std::nullopt, true, true, true, true, true, true},
      {"what time is it", 0.95, true, true, true, true, true, true},
      {"what time is it", 0.6, true, true, false, true, true, true},   // responder unsure: default
      {"tell me a joke", std::nullopt, true, true, false, true, true, true},
      {"set a timer for", std::nullopt, false, false, false, true, true, false},
      {"my number is five two", std::nullopt, false, false, false, true, true, false},
  };
  const turn_end_policy quick(turn_end_config::preset(turn_taking::quick));
  const turn_end_policy conv(turn_end_config::preset(turn_taking::conversational));
  const turn_end_policy patient(turn_end_config::preset(turn_taking::patient));
  for (const auto& r : rows) {
    EXPECT_EQ(quick.decide(r.text, r.p, 400).ended, r.quick_400) << r.text;
    EXPECT_EQ(conv.decide(r.text, r.p, 400).ended, r.conv_400) << r.text;
    EXPECT_EQ(patient.decide(r.text, r.p, 400).ended, r.patient_400) << r.text;
    EXPECT_EQ(quick.decide(r.text, r.p, 1000).ended, r.quick_1000) << r.text;
    EXPECT_EQ(conv.decide(r.text, r.p, 1000).ended, r.conv_1000) << r.text;
    EXPECT_EQ(patient.decide(r.text, r.p, 1000).ended, r.patient_1000) << r.text;
  }
}

TEST(turn_end_presets, validate_names_the_bad_field) {
  turn_end_config c = k_config;
  c.default_silence_ms = std::nan("");
  EXPECT_NE(validate(c).error().message.find("default_silence_ms"), std::string::npos);
  c = k_config;
  c.p_complete_threshold = 1.5;
  EXPECT_NE(validate(c).error().message.find("p_complete_threshold"), std::string::npos);
  c = k_config;
  c.unfinished_silence_ms = 300.0;  // below the default
  EXPECT_NE(validate(c).error().message.find("complete <= default <= unfinished <= max"), std::string::npos);
  c = k_config;
  c.complete_silence_ms = 0.0;
  EXPECT_FALSE(validate(c).has_value());
  c = k_config;
  c.merge_window_ms = 0.0;  // merging off
  EXPECT_TRUE(validate(c).has_value());
  c.merge_max_heard_ms = -1.0;
  EXPECT_NE(validate(c).error().message.find("merge_max_heard_ms"), std::string::npos);
}

TEST(backchannel, listening_noises_are_backchannels_requests_and_answers_are_not) {
  for (const char* text : {"uh huh", "uh-huh", "mm hmm", "Mhm.", "yeah", "yeah yeah", "okay", "OK.", "right", "i see",
                           "oh i see", "got it", "um", "alright"}) {
    EXPECT_TRUE(is_backchannel(text)) << text;
  }
  for (const char* text : {"", "yes", "no", "stop", "wait", "okay stop", "yeah what time is it", "i", "see you",
                           "right now please"}) {
    EXPECT_FALSE(is_backchannel(text)) << text;
  }
}

}  // namespace
}  // namespace parley::agent
