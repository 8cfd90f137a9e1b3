// turn_counters (flags and budget breaches per turn) and the waterfall's filler row.
#include <gtest/gtest.h>

#include "obs_test_util.hpp"
#include "parley/obs/counters.hpp"
#include "parley/obs/json.hpp"
#include "parley/obs/waterfall.hpp"

namespace parley::obs {
namespace {

turn_timeline with_filler(manual_clock& clock) {
  auto t = test::full_turn(clock);
  const auto request = *t.at(stamp::llm_request);
  t.mark(stamp::filler_start, request + from_ms(100));
  t.mark(stamp::filler_end, request + from_ms(700));
  t.flags.filler = true;
  t.add_note(note_name::budget_breach, std::string("llm_ttft"));
  t.add_note(note_name::filler, std::string("One moment."));
  return t;
}

TEST(turn_counters, counts_flags_and_breaches_by_stage) {
  manual_clock clock;
  turn_counters c;
  EXPECT_EQ(c.snapshot(), (std::map<std::string, std::uint64_t>{{"turns", 0}}));
  c.record(with_filler(clock));
  auto hedged = test::full_turn(clock);
  hedged.flags.hedge = true;
  hedged.add_note(note_name::hedge_won, 1.0);
  hedged.add_note(note_name::budget_breach, std::string("llm_ttft"));
  hedged.add_note(note_name::budget_breach, std::string("ttfa"));
  c.record(hedged);
  c.record(test::full_turn(clock));
  EXPECT_EQ(c.get("turns"), 3u);
  EXPECT_EQ(c.get("filler"), 1u);
  EXPECT_EQ(c.get("hedge"), 1u);
  EXPECT_EQ(c.get("hedge_won"), 1u);
  EXPECT_EQ(c.get("fallback"), 0u);
  EXPECT_EQ(c.get("budget_breach.llm_ttft"), 2u);
  EXPECT_EQ(c.get("budget_breach.ttfa"), 1u);
  EXPECT_FALSE(c.snapshot().contains("fallback")) << "absent until it happens";
}

TEST(waterfall, a_filler_gets_its_own_row_and_a_turn_without_one_does_not) {
  manual_clock clock;
  const auto plain = render_waterfall(test::full_turn(clock));
  EXPECT_EQ(plain.find("filler"), std::string::npos) << plain;
  const auto t = with_filler(clock);
  const auto picture = render_waterfall(t);
  EXPECT_NE(picture.find("\nfiller "), std::string::npos) << picture;
  EXPECT_NE(picture.find("░"), std::string::npos) << picture;
  EXPECT_NE(picture.find("600 ms"), std::string::npos) << "the filler's duration" << picture;
  EXPECT_NE(picture.find("· filler"), std::string::npos) << picture;
}

TEST(json, filler_stamps_and_notes_are_in_the_trace) {
  manual_clock clock;
  const auto j = to_json(with_filler(clock));
  EXPECT_NEAR(j["stamps_ms"]["t_filler_start"].get<double>(), 300 + 40 + 0.5 + 100, 1e-9);
  EXPECT_NEAR(j["stamps_ms"]["t_filler_end"].get<double>(), 300 + 40 + 0.5 + 700, 1e-9);
  EXPECT_TRUE(j["flags"]["filler"].get<bool>());
  ASSERT_EQ(j["notes"].size(), 2u);
  EXPECT_EQ(j["notes"][0]["name"], "budget_breach");
  EXPECT_EQ(j["notes"][0]["value"], "llm_ttft");
  const auto plain = to_json(test::full_turn(clock));
  EXPECT_TRUE(plain["stamps_ms"]["t_filler_start"].is_null());
}

}  // namespace
}  // namespace parley::obs
