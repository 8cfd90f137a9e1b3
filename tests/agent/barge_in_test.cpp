// playout_clock and barge_in_gate: deterministic decisions over scripted timestamps.
#include "parley/agent/barge_in.hpp"

#include <gtest/gtest.h>

namespace parley::agent {
namespace {

constexpr int k_rate = 16000;
time_point at_ms(double ms) { return time_point{} + from_ms(ms); }
std::int64_t media_ms(double ms) { return ms_to_samples(ms); }

// Feeds 20 ms frames from `from_ms` to `to_ms`, voiced or not.
void feed(barge_in_gate& g, double from_ms, double to_ms, bool voiced) {
  for (double t = from_ms + 20; t <= to_ms + 1e-9; t += 20) g.on_frame(media_ms(t), media_ms(20), voiced);
}

TEST(barge_in, speech_interrupts_once_after_the_minimum_duration) {
  barge_in_gate g({.enabled = true, .min_speech_ms = 200});
  feed(g, 0, 1000, false);
  feed(g, 1000, 1100, true);
  EXPECT_FALSE(g.poll()) << "100 ms of speech: not yet";
  EXPECT_EQ(g.onset(), media_ms(1000));
  feed(g, 1100, 1200, true);
  EXPECT_TRUE(g.poll());
  feed(g, 1200, 1400, true);
  EXPECT_FALSE(g.poll()) << "one decision per onset";
}

TEST(barge_in, short_noise_does_not_interrupt) {
  barge_in_gate g({.enabled = true, .min_speech_ms = 200});
  feed(g, 0, 120, true);  // a 120 ms cough
  feed(g, 120, 1000, false);
  EXPECT_FALSE(g.poll());
  EXPECT_FALSE(g.onset()) << "the silence after it closed the onset";
}

TEST(barge_in, short_gaps_stay_within_one_onset_and_long_ones_start_again) {
  barge_in_gate g({.enabled = true, .min_speech_ms = 200, .max_gap_ms = 150});
  feed(g, 0, 120, true);
  feed(g, 120, 220, false);  // 100 ms between two words
  feed(g, 220, 320, true);
  EXPECT_TRUE(g.poll()) << "220 ms voiced in one onset";
  barge_in_gate h({.enabled = true, .min_speech_ms = 200, .max_gap_ms = 150});
  feed(h, 0, 120, true);
  feed(h, 120, 400, false);  // a pause: the first sound was a cough
  feed(h, 400, 520, true);
  EXPECT_FALSE(h.poll());
}

TEST(barge_in, disabled_never_interrupts) {
  barge_in_gate g({.enabled = false, .min_speech_ms = 0});
  feed(g, 0, 500, true);
  EXPECT_FALSE(g.poll());
}

TEST(playout_clock, nothing_plays_before_audio_is_sent) {
  playout_clock c(0.0);
  EXPECT_FALSE(c.playing(at_ms(500)));
  EXPECT_EQ(c.played(at_ms(500)), 0u);
  EXPECT_FALSE(c.estimated_end());
}

TEST(playout_clock, without_reports_playback_is_estimated_in_real_time) {
  playout_clock c(100.0);
  c.on_sent(k_rate, k_rate, at_ms(0));  // 1 s of audio, all generated
  c.on_generated();
  EXPECT_TRUE(c.playing(at_ms(900)));
  EXPECT_EQ(c.played(at_ms(600)), static_cast<std::uint64_t>(k_rate / 2));  // 600 − 100 slack
  EXPECT_FALSE(c.playing(at_ms(1200))) << "1 s of audio + 100 ms slack has passed";
  EXPECT_EQ(*c.estimated_end(), at_ms(1100));
}

TEST(playout_clock, a_reply_still_generating_is_playing) {
  playout_clock c(0.0);
  c.on_sent(100, k_rate, at_ms(0));
  EXPECT_TRUE(c.playing(at_ms(10000))) << "more audio may come";
}

TEST(playout_clock, reports_decide_when_playback_ends) {
  playout_clock c(0.0);
  c.on_sent(k_rate, k_rate, at_ms(0));
  c.on_generated();
  c.on_report(4000);
  EXPECT_EQ(c.played(at_ms(10000)), 4000u) << "reports win over the wall-clock estimate";
  EXPECT_TRUE(c.playing(at_ms(10000))) << "the sink is behind (a jitter buffer, a paused tab)";
  c.on_report(3000);
  EXPECT_EQ(c.played(at_ms(0)), 4000u) << "a lower report is ignored";
  c.on_report(k_rate);
  EXPECT_FALSE(c.playing(at_ms(10000)));
  c.on_report(10 * k_rate);
  EXPECT_EQ(c.played(at_ms(0)), static_cast<std::uint64_t>(k_rate)) << "clamped to what was sent";
}

TEST(playout_clock, a_stopped_reply_keeps_what_was_heard_and_plays_no_more) {
  playout_clock c(0.0);
  c.on_sent(k_rate, k_rate, at_ms(0));
  c.on_report(1000);
  c.stop(at_ms(100));
  EXPECT_FALSE(c.playing(at_ms(100)));
  EXPECT_EQ(c.sent(), 1000u) << "what was played is all that counts now";
  c.on_sent(500, k_rate, at_ms(120));  // late audio
  c.on_report(1500);
  EXPECT_EQ(c.played(at_ms(200)), 1000u);
}

}  // namespace
}  // namespace parley::agent
