// The functional core of budgets and fillers: budget_watch decisions and filler_player pacing,
// driven by a manual clock (no threads, no sleeps).
#include <gtest/gtest.h>

#include <cmath>

#include "parley/agent/budget.hpp"
#include "parley/agent/filler.hpp"

namespace parley::agent {
namespace {

// ---- budget_watch ----------------------------------------------------------------------------

TEST(budget_watch, a_slow_first_token_breaches_once_and_asks_for_one_filler) {
  manual_clock clk;
  budget_watch w({.llm_ttft_ms = 800}, {});
  EXPECT_FALSE(w.next_deadline());
  const auto t0 = clk.now();
  w.llm_requested(t0);
  ASSERT_TRUE(w.next_deadline());
  EXPECT_EQ(*w.next_deadline(), t0 + from_ms(800));
  clk.advance_ms(799);
  EXPECT_TRUE(w.poll(clk.now()).empty());
  clk.advance_ms(1);
  const auto breaches = w.poll(clk.now());
  ASSERT_EQ(breaches.size(), 1u);
  EXPECT_EQ(breaches[0].stage, "llm_ttft");
  EXPECT_EQ(breaches[0].t_deadline, t0 + from_ms(800));
  ASSERT_TRUE(breaches[0].filler);
  EXPECT_EQ(*breaches[0].filler, filler_kind::waiting);
  EXPECT_FALSE(w.next_deadline()) << "each budget breaches at most once";
  clk.advance_ms(5000);
  EXPECT_TRUE(w.poll(clk.now()).empty());
  EXPECT_EQ(w.n_fillers(), 1u);
}

TEST(budget_watch, a_first_token_in_time_disarms_the_budget) {
  manual_clock clk;
  budget_watch w({.llm_ttft_ms = 800}, {});
  w.llm_requested(clk.now());
  clk.advance_ms(300);
  EXPECT_TRUE(w.poll(clk.now()).empty());
  w.first_token();
  EXPECT_FALSE(w.next_deadline());
  clk.advance_ms(5000);
  EXPECT_TRUE(w.poll(clk.now()).empty());
}

TEST(budget_watch, a_late_token_polled_with_its_own_time_is_still_a_breach) {
  manual_clock clk;
  budget_watch w({.llm_ttft_ms = 800}, {});
  w.llm_requested(clk.now());
  clk.advance_ms(900);  // the timer has not run yet; the token arrives first
  const auto breaches = w.poll(clk.now());
  w.first_token();
  ASSERT_EQ(breaches.size(), 1u);
  EXPECT_EQ(breaches[0].stage, "llm_ttft");
}

TEST(budget_watch, no_filler_once_reply_audio_started_or_when_disabled) {
  manual_clock clk;
  budget_watch started({.llm_ttft_ms = 100}, {});
  started.llm_requested(clk.now());
  started.reply_audio_started();
  budget_watch disabled({.llm_ttft_ms = 100}, {.enabled = false});
  disabled.llm_requested(clk.now());
  clk.advance_ms(200);
  for (auto* w : {&started, &disabled}) {
    const auto b = w->poll(clk.now());
    ASSERT_EQ(b.size(), 1u) << "the breach is noted either way";
    EXPECT_FALSE(b[0].filler);
  }
}

TEST(budget_watch, a_long_tool_call_announces_itself_and_a_later_breach_gets_no_second_filler) {
  manual_clock clk;
  budget_watch w({.llm_ttft_ms = 800, .tool_call_ms = 300}, {});
  w.llm_requested(clk.now());
  clk.advance_ms(100);
  w.tool_started(clk.now());
  EXPECT_EQ(*w.next_deadline(), clk.now() + from_ms(300));
  clk.advance_ms(300);
  auto b = w.poll(clk.now());
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].stage, "tool_call");
  ASSERT_TRUE(b[0].filler);
  EXPECT_EQ(*b[0].filler, filler_kind::tool);
  clk.advance_ms(400);  // 800 ms since the request: the model's budget too
  b = w.poll(clk.now());
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].stage, "llm_ttft");
  EXPECT_FALSE(b[0].filler) << "at most one filler per reply";
}

TEST(budget_watch, the_model_budget_running_out_during_a_tool_call_says_let_me_check) {
  manual_clock clk;
  budget_watch w({.llm_ttft_ms = 800, .tool_call_ms = 5000}, {});
  w.llm_requested(clk.now());
  clk.advance_ms(500);
  w.tool_started(clk.now());
  clk.advance_ms(300);
  const auto b = w.poll(clk.now());
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].stage, "llm_ttft");
  ASSERT_TRUE(b[0].filler);
  EXPECT_EQ(*b[0].filler, filler_kind::tool);
}

TEST(budget_watch, a_quick_tool_call_disarms_its_budget_and_both_due_together_come_oldest_first) {
  manual_clock clk;
  budget_watch quick({.llm_ttft_ms = 0, .tool_call_ms = 300}, {});
  quick.tool_started(clk.now());
  quick.tool_finished();
  EXPECT_FALSE(quick.next_deadline());

  budget_watch both({.llm_ttft_ms = 800, .tool_call_ms = 300}, {});
  const auto t0 = clk.now();
  both.llm_requested(t0);
  clk.advance_ms(100);
  both.tool_started(clk.now());  // tool deadline at 400 ms, model's at 800 ms
  clk.advance_ms(2000);
  const auto b = both.poll(clk.now());
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].stage, "tool_call");
  EXPECT_TRUE(b[0].filler);
  EXPECT_EQ(b[1].stage, "llm_ttft");
  EXPECT_FALSE(b[1].filler);
}

TEST(budget_watch, zero_turns_a_budget_off_and_bad_values_are_rejected) {
  manual_clock clk;
  budget_watch w({.llm_ttft_ms = 0, .tool_call_ms = 0}, {});
  w.llm_requested(clk.now());
  w.tool_started(clk.now());
  EXPECT_FALSE(w.next_deadline());
  EXPECT_TRUE(validate(latency_budgets{}, filler_policy{}));
  EXPECT_FALSE(validate(latency_budgets{.llm_ttft_ms = -1}, filler_policy{}));
  EXPECT_FALSE(validate(latency_budgets{}, filler_policy{.lead_ms = std::nan("")}));
}

TEST(finished_breaches, stages_over_budget_once_the_turn_is_complete) {
  manual_clock clk;
  obs::turn_timeline t;
  const auto t0 = clk.now();
  t.mark(obs::stamp::speech_end, t0);
  t.mark(obs::stamp::turn_end, t0 + from_ms(400));
  t.mark(obs::stamp::asr_final, t0 + from_ms(450));
  t.mark(obs::stamp::tts_request, t0 + from_ms(900));
  t.mark(obs::stamp::tts_first_audio, t0 + from_ms(1200));
  t.mark(obs::stamp::first_audio_out, t0 + from_ms(1201));
  const auto b = finished_breaches({.asr_final_ms = 100, .tts_ttfb_ms = 200, .ttfa_ms = 1000}, t);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], "tts_ttfb");
  EXPECT_EQ(b[1], "ttfa");
  EXPECT_TRUE(finished_breaches({}, t).empty()) << "off by default";
  t.add_note(obs::note_name::budget_breach, std::string("ttfa"));
  EXPECT_EQ(finished_breaches({.ttfa_ms = 1000}, t).size(), 0u) << "never noted twice";
}

// ---- fillers ---------------------------------------------------------------------------------

std::vector<std::int16_t> word_audio(std::size_t silence_before, std::size_t voiced, std::size_t silence_after) {
  std::vector<std::int16_t> pcm(silence_before, 0);
  for (std::size_t i = 0; i < voiced; ++i) pcm.push_back(static_cast<std::int16_t>(i % 2 ? 3000 : -3000));
  pcm.insert(pcm.end(), silence_after, 0);
  return pcm;
}

TEST(filler_clip, words_are_trimmed_and_joined_with_exact_boundaries) {
  // 16 kHz: 10 ms margin = 160 samples, 60 ms gap = 960 samples.
  const std::vector<std::vector<std::int16_t>> words = {word_audio(3200, 4800, 3200), word_audio(100, 8000, 50)};
  auto clip = join_words("One moment.", 16000, words);
  ASSERT_TRUE(clip) << clip.error().describe();
  ASSERT_EQ(clip->n_words(), 2u);
  EXPECT_EQ(clip->word_ends[0], 160u + 4800 + 160);
  EXPECT_EQ(clip->word_ends[1], clip->word_ends[0] + 960 + 100 + 8000 + 50);
  EXPECT_EQ(clip->word_ends.back(), clip->pcm.size());
  EXPECT_EQ(clip->pcm[clip->word_ends[0]], 0) << "the pause between words";
  EXPECT_FALSE(join_words("x", 16000, {word_audio(100, 0, 100)}));
  EXPECT_FALSE(join_words("x", 16000, {}));
  EXPECT_FALSE(join_words("x", 0, words));
}

std::shared_ptr<const filler_bank> test_bank() {
  // Three words of 200 ms each (3200 samples at 16 kHz), no pauses: word ends at 200/400/600 ms.
  filler_clip clip{"one two three", 16000, std::vector<std::int16_t>(9600, 1000), {3200, 6400, 9600}};
  return std::make_shared<const filler_bank>(filler_bank{clip, clip});
}

TEST(filler_player, sends_word_by_word_at_playout_pace_ahead_by_the_lead) {
  manual_clock clk;
  filler_player p(test_bank(), filler_kind::waiting, 50.0);
  EXPECT_FALSE(p.next_word(clk.now())) << "not started";
  const auto t0 = clk.now();
  p.start(t0);
  auto w = p.next_word(clk.now());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->begin, 0u);
  EXPECT_EQ(w->end, 3200u);
  EXPECT_EQ(p.samples(*w).size(), 3200u);
  EXPECT_FALSE(p.next_word(clk.now())) << "one word at a time";
  EXPECT_EQ(*p.next_due(), t0 + from_ms(150));  // 200 ms word − 50 ms lead
  clk.advance_ms(149);
  EXPECT_FALSE(p.next_word(clk.now()));
  clk.advance_ms(1);
  w = p.next_word(clk.now());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->begin, 3200u);
  EXPECT_EQ(*p.t_end(), t0 + from_ms(400));
  clk.advance_ms(1000);  // late: the last word is due, and only it
  w = p.next_word(clk.now());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->end, 9600u);
  EXPECT_TRUE(p.done());
  EXPECT_FALSE(p.next_due());
  EXPECT_FALSE(p.cut()) << "nothing left to cut";
}

TEST(filler_player, a_cut_stops_at_the_word_boundary_reached) {
  manual_clock clk;
  filler_player p(test_bank(), filler_kind::tool, 50.0);
  const auto t0 = clk.now();
  p.start(t0);
  ASSERT_TRUE(p.next_word(clk.now()));
  clk.advance_ms(100);  // the reply is ready mid-word
  EXPECT_TRUE(p.cut());
  EXPECT_TRUE(p.done());
  EXPECT_FALSE(p.next_word(clk.now() + from_ms(1000)));
  EXPECT_EQ(p.n_words_sent(), 1u);
  EXPECT_EQ(p.n_samples_sent(), 3200u);
  EXPECT_EQ(*p.t_end(), t0 + from_ms(200)) << "the word being heard ends, then the reply plays";
}

}  // namespace
}  // namespace parley::agent
