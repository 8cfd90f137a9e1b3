// barge_in_detector: deterministic decisions over scripted timestamps (no threads, no sockets).
#include "parley/net/barge_in.hpp"

#include <gtest/gtest.h>

namespace parley::net {
namespace {

constexpr int k_rate = 16000;
time_point at_ms(double ms) { return time_point{} + from_ms(ms); }
std::int64_t media_ms(double ms) { return ms_to_samples(ms); }

TEST(barge_in, speech_while_playing_interrupts_after_the_minimum_duration) {
  barge_in_detector d({.enabled = true, .min_speech_ms = 200, .playout_slack_ms = 0});
  d.on_audio_sent(3, 2 * k_rate, k_rate, at_ms(0));  // 2 s of reply audio
  d.on_speech_started(media_ms(1000));
  EXPECT_FALSE(d.poll(at_ms(100), media_ms(1100))) << "100 ms of speech: not yet";
  auto g = d.poll(at_ms(210), media_ms(1210));
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, 3u);
  EXPECT_FALSE(d.poll(at_ms(300), media_ms(1400))) << "one decision per onset";
}

TEST(barge_in, short_noise_does_not_interrupt) {
  barge_in_detector d({.enabled = true, .min_speech_ms = 200, .playout_slack_ms = 0});
  d.on_audio_sent(1, k_rate, k_rate, at_ms(0));
  d.on_speech_started(media_ms(100));
  d.on_speech_stopped(media_ms(220));  // a 120 ms cough
  EXPECT_FALSE(d.poll(at_ms(500), media_ms(600)));
  EXPECT_FALSE(d.poll(at_ms(700), media_ms(800)));
}

TEST(barge_in, a_stopped_but_long_enough_onset_still_counts) {
  barge_in_detector d({.enabled = true, .min_speech_ms = 200, .playout_slack_ms = 0});
  d.on_audio_sent(1, 4 * k_rate, k_rate, at_ms(0));
  d.on_speech_started(media_ms(100));
  d.on_speech_stopped(media_ms(400));  // audio ran ahead of real time: start and stop seen together
  EXPECT_EQ(d.poll(at_ms(50), media_ms(900)), 1u);
}

TEST(barge_in, nothing_to_interrupt_when_no_reply_plays) {
  barge_in_detector d({.enabled = true, .min_speech_ms = 100, .playout_slack_ms = 0});
  d.on_speech_started(0);
  EXPECT_FALSE(d.poll(at_ms(500), media_ms(500)));
}

TEST(barge_in, disabled_never_interrupts) {
  barge_in_detector d({.enabled = false, .min_speech_ms = 0, .playout_slack_ms = 0});
  d.on_audio_sent(1, k_rate, k_rate, at_ms(0));
  d.on_speech_started(0);
  EXPECT_FALSE(d.poll(at_ms(500), media_ms(500)));
}

TEST(barge_in, without_reports_playback_is_estimated_in_real_time) {
  barge_in_detector d({.enabled = true, .min_speech_ms = 0, .playout_slack_ms = 100});
  d.on_audio_sent(2, k_rate, k_rate, at_ms(0));  // 1 s of audio, all generated
  d.on_reply_done(2);
  EXPECT_TRUE(d.playing(at_ms(900)));
  EXPECT_EQ(d.played_samples(at_ms(600)), static_cast<std::uint64_t>(k_rate / 2));  // 600 − 100 slack
  EXPECT_FALSE(d.playing(at_ms(1200))) << "1 s of audio + 100 ms slack has passed";
  d.on_speech_started(media_ms(5000));
  EXPECT_FALSE(d.poll(at_ms(1300), media_ms(5100)));
}

TEST(barge_in, playout_reports_decide_when_playback_ends) {
  barge_in_detector d({.enabled = true, .min_speech_ms = 0, .playout_slack_ms = 0});
  d.on_audio_sent(4, k_rate, k_rate, at_ms(0));
  d.on_reply_done(4);
  EXPECT_TRUE(d.on_playout(4, 4000));
  EXPECT_FALSE(d.on_playout(3, 100)) << "older generation ignored";
  EXPECT_EQ(d.played_samples(at_ms(10000)), 4000u) << "reports win over the wall-clock estimate";
  EXPECT_TRUE(d.playing(at_ms(10000))) << "the client is behind (a jitter buffer, a paused tab)";
  EXPECT_TRUE(d.on_playout(4, k_rate));
  EXPECT_FALSE(d.playing(at_ms(10000)));
  EXPECT_TRUE(d.on_playout(4, 10 * k_rate));
  EXPECT_EQ(d.played_samples(at_ms(0)), static_cast<std::uint64_t>(k_rate)) << "clamped to what was sent";
}

TEST(barge_in, interrupted_generation_stops_playing_and_ignores_late_audio) {
  barge_in_detector d({.enabled = true, .min_speech_ms = 0, .playout_slack_ms = 0});
  d.on_audio_sent(5, k_rate, k_rate, at_ms(0));
  d.on_playout(5, 1000);
  d.on_interrupted(5, at_ms(100));
  EXPECT_FALSE(d.playing(at_ms(100)));
  EXPECT_EQ(d.sent_samples(), 1000u) << "what was played is all that counts now";
  d.on_audio_sent(4, 500, k_rate, at_ms(120));  // late audio of an older generation
  EXPECT_EQ(d.generation(), 5u);
  d.on_audio_sent(6, 800, k_rate, at_ms(200));  // the next reply
  EXPECT_EQ(d.generation(), 6u);
  EXPECT_TRUE(d.playing(at_ms(200)));
}

}  // namespace
}  // namespace parley::net
