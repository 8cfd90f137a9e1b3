#include "parley/obs/timeline.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "obs_test_util.hpp"

namespace parley::obs {
namespace {

TEST(stamp, names_are_the_documented_t_names) {
  EXPECT_EQ(to_string(stamp::speech_end), "t_speech_end");
  EXPECT_EQ(to_string(stamp::turn_end), "t_turn_end");
  EXPECT_EQ(to_string(stamp::asr_final), "t_asr_final");
  EXPECT_EQ(to_string(stamp::llm_request), "t_llm_request");
  EXPECT_EQ(to_string(stamp::llm_first_token), "t_llm_first_token");
  EXPECT_EQ(to_string(stamp::first_segment), "t_first_segment");
  EXPECT_EQ(to_string(stamp::tts_request), "t_tts_request");
  EXPECT_EQ(to_string(stamp::tts_first_audio), "t_tts_first_audio");
  EXPECT_EQ(to_string(stamp::first_audio_out), "t_first_audio_out");
  EXPECT_EQ(to_string(stamp::reply_done), "t_reply_done");
  std::set<std::string_view> names;
  for (const stamp s : all_stamps) names.insert(to_string(s));
  EXPECT_EQ(names.size(), n_stamps);
}

TEST(metric, table_lists_every_metric_in_enum_order_with_its_name) {
  const std::array<std::string_view, n_metrics> expected = {
      "endpoint_delay", "asr_final", "llm_ttft", "llm_ttfs", "tts_ttfb", "ttfa", "overhead"};
  for (std::size_t i = 0; i < n_metrics; ++i) {
    EXPECT_EQ(all_metrics[i].id, static_cast<metric>(i));
    EXPECT_EQ(all_metrics[i].name, expected[i]);
    EXPECT_EQ(to_string(static_cast<metric>(i)), expected[i]);
  }
}

TEST(turn_timeline, first_mark_wins_and_set_overwrites) {
  manual_clock clock;
  turn_timeline t;
  EXPECT_FALSE(t.at(stamp::speech_end));
  const auto t1 = clock.now();
  EXPECT_TRUE(t.mark(stamp::speech_end, t1));
  clock.advance_ms(5);
  EXPECT_FALSE(t.mark(stamp::speech_end, clock.now()));
  EXPECT_EQ(t.at(stamp::speech_end), t1);

  const auto truer = t1 - from_ms(120);
  t.set(stamp::speech_end, truer);
  EXPECT_EQ(t.at(stamp::speech_end), truer);
  EXPECT_TRUE(t.has(stamp::speech_end));
  t.clear(stamp::speech_end);
  EXPECT_FALSE(t.has(stamp::speech_end));
  EXPECT_TRUE(t.mark(stamp::speech_end, t1));
}

TEST(turn_timeline, derives_every_metric_from_a_manual_clock) {
  manual_clock clock;
  const auto t = test::full_turn(clock);
  EXPECT_NEAR(*t.value(metric::endpoint_delay), 300.0, 1e-9);
  EXPECT_NEAR(*t.value(metric::asr_final), 40.0, 1e-9);
  EXPECT_NEAR(*t.value(metric::llm_ttft), 150.0, 1e-9);
  EXPECT_NEAR(*t.value(metric::llm_ttfs), 260.0, 1e-9);
  EXPECT_NEAR(*t.value(metric::tts_ttfb), 120.0, 1e-9);
  EXPECT_NEAR(*t.value(metric::ttfa), 721.0, 1e-9);
  // The three gaps parley adds: 0.5 (→ llm request) + 0.2 (→ tts request) + 0.3 (→ out).
  EXPECT_NEAR(*t.value(metric::overhead), 1.0, 1e-9);
  EXPECT_NEAR(*t.span_ms(stamp::first_audio_out, stamp::reply_done), 2000.0, 1e-9);
}

TEST(turn_timeline, overhead_is_ttfa_minus_the_stages_on_the_critical_path) {
  manual_clock clock;
  const auto t = test::full_turn(clock);
  const double stages = *t.value(metric::endpoint_delay) + *t.value(metric::asr_final) +
                        *t.value(metric::llm_ttfs) + *t.value(metric::tts_ttfb);
  EXPECT_NEAR(*t.value(metric::overhead), *t.value(metric::ttfa) - stages, 1e-9);
  const double gaps = *t.span_ms(stamp::asr_final, stamp::llm_request) +
                      *t.span_ms(stamp::first_segment, stamp::tts_request) +
                      *t.span_ms(stamp::tts_first_audio, stamp::first_audio_out);
  EXPECT_NEAR(*t.value(metric::overhead), gaps, 1e-9);
}

TEST(turn_timeline, a_missing_stamp_makes_each_metric_that_needs_it_absent) {
  manual_clock clock;
  for (const auto& m : all_metrics) {
    if (m.id == metric::overhead) continue;
    for (const stamp s : {m.from, m.to}) {
      auto t = test::full_turn(clock);
      t.clear(s);
      EXPECT_FALSE(t.value(m.id)) << m.name << " without " << to_string(s);
    }
  }
  for (const stamp s :
       {stamp::speech_end, stamp::turn_end, stamp::asr_final, stamp::first_audio_out}) {
    auto t = test::full_turn(clock);
    t.clear(s);
    EXPECT_FALSE(t.value(metric::overhead)) << "overhead without " << to_string(s);
  }
  EXPECT_FALSE(turn_timeline{}.value(metric::ttfa));
}

TEST(turn_timeline, overhead_counts_a_skipped_stage_as_zero) {
  manual_clock clock;
  // A cache hit: no LLM, no TTS. Overhead is everything after the transcript.
  turn_timeline t;
  t.mark(stamp::speech_end, clock.now());
  clock.advance_ms(250);
  t.mark(stamp::turn_end, clock.now());
  clock.advance_ms(30);
  t.mark(stamp::asr_final, clock.now());
  clock.advance_ms(4);
  t.mark(stamp::first_audio_out, clock.now());
  EXPECT_NEAR(*t.value(metric::overhead), 4.0, 1e-9);
  EXPECT_NEAR(*t.value(metric::ttfa), 284.0, 1e-9);

  // LLM but a cached phrase's audio (no TTS stage): only the LLM is subtracted.
  auto llm_only = test::full_turn(clock);
  llm_only.clear(stamp::tts_request);
  llm_only.clear(stamp::tts_first_audio);
  EXPECT_NEAR(*llm_only.value(metric::overhead), 0.5 + 0.2 + 120.0 + 0.3, 1e-9);
}

TEST(turn_timeline, overhead_is_absent_when_a_stage_is_half_stamped) {
  manual_clock clock;
  auto t = test::full_turn(clock);
  t.clear(stamp::first_segment);  // the LLM was asked but never produced a segment
  EXPECT_FALSE(t.value(metric::overhead));
  auto u = test::full_turn(clock);
  u.clear(stamp::tts_request);
  EXPECT_FALSE(u.value(metric::overhead));
}

TEST(turn_timeline, inconsistent_stamps_are_reported_as_they_are) {
  manual_clock clock;
  auto t = test::full_turn(clock);
  // A stage stamped on the wrong path: first audio out before the TTS produced audio.
  t.set(stamp::first_audio_out, *t.at(stamp::tts_first_audio) - from_ms(10));
  EXPECT_NEAR(*t.value(metric::overhead), 0.5 + 0.2 - 10.0, 1e-9);
  EXPECT_LT(*t.value(metric::overhead), 0.0);
}

TEST(turn_timeline, origin_is_speech_end_else_the_earliest_stamp) {
  manual_clock clock;
  turn_timeline t;
  EXPECT_FALSE(t.origin());
  EXPECT_FALSE(t.origin_stamp());
  const auto t0 = clock.now();
  t.mark(stamp::asr_final, t0 + from_ms(50));
  t.mark(stamp::turn_end, t0 + from_ms(10));
  EXPECT_EQ(t.origin_stamp(), stamp::turn_end);
  EXPECT_EQ(t.origin(), t0 + from_ms(10));
  t.mark(stamp::speech_end, t0 + from_ms(20));  // even when later than another stamp
  EXPECT_EQ(t.origin_stamp(), stamp::speech_end);
  EXPECT_EQ(t.origin(), t0 + from_ms(20));
}

TEST(turn_timeline, reply_audio_ms_needs_a_rate) {
  turn_timeline t;
  t.n_output_samples = 24000;
  EXPECT_FALSE(t.reply_audio_ms());
  t.output_rate_hz = 16000;
  EXPECT_DOUBLE_EQ(*t.reply_audio_ms(), 1500.0);
}

}  // namespace
}  // namespace parley::obs
