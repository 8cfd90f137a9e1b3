#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parley/agent/endpointer.hpp"

namespace parley::agent {
namespace {

using kind = endpoint_decision::kind;
constexpr media_time k_frame = 320;  // 20 ms

// Feeds a script of frames: 'S' voiced, '.' unvoiced, one character per 20 ms frame.
std::vector<endpoint_decision> feed(endpointer& ep, const std::string& script, media_time t0 = 0) {
  std::vector<endpoint_decision> out;
  media_time t = t0;
  for (char c : script) {
    auto d = ep.on_frame(t, k_frame, c == 'S');
    if (d.what != kind::none) out.push_back(d);
    t += k_frame;
  }
  return out;
}

TEST(endpointer, starts_after_min_speech_and_ends_after_silence) {
  endpointer ep({.silence_ms = 400, .min_speech_ms = 60, .onset_gap_ms = 40});
  // 5 silent frames, 10 voiced, 25 silent (500 ms).
  const auto d = feed(ep, std::string(5, '.') + std::string(10, 'S') + std::string(25, '.'));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].what, kind::speech_started);
  EXPECT_EQ(d[0].t_speech_start, 5 * k_frame);
  EXPECT_EQ(d[1].what, kind::turn_ended);
  EXPECT_EQ(d[1].t_speech_start, 5 * k_frame);
  EXPECT_EQ(d[1].t_speech_end, 15 * k_frame);
  EXPECT_FALSE(ep.in_speech());
}

TEST(endpointer, decides_exactly_when_the_silence_threshold_is_reached) {
  endpointer ep({.silence_ms = 400});
  auto d = feed(ep, std::string(10, 'S') + std::string(19, '.'));  // 380 ms of silence: not yet
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(ep.in_speech());
  d = feed(ep, ".", 29 * k_frame);  // the 20th silent frame: 400 ms
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].what, kind::turn_ended);
}

TEST(endpointer, a_pause_shorter_than_the_threshold_keeps_the_turn) {
  endpointer ep({.silence_ms = 400});
  const auto d = feed(ep, std::string(10, 'S') + std::string(15, '.') + std::string(10, 'S') + std::string(20, '.'));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].what, kind::turn_ended);
  EXPECT_EQ(d[1].t_speech_end, 35 * k_frame);  // the end of the second stretch of speech
}

// Content-aware endpointing sets the current turn's silence as words come; the next turn starts
// from the configured one again.
TEST(endpointer, the_current_turn_silence_can_be_changed_and_reverts_after_the_turn) {
  endpointer ep({.silence_ms = 400});
  auto d = feed(ep, std::string(10, 'S'));
  ASSERT_EQ(d.size(), 1u);
  ep.set_silence_ms(1000);
  d = feed(ep, std::string(35, '.'), 10 * k_frame);  // 700 ms: would have ended at 400
  EXPECT_TRUE(d.empty());
  ep.set_silence_ms(200);  // now past it: the next frame ends the turn
  d = feed(ep, ".", 45 * k_frame);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].what, kind::turn_ended);
  EXPECT_EQ(ep.silence_ms(), 400.0);
  d = feed(ep, std::string(10, 'S') + std::string(19, '.'), 46 * k_frame);  // 380 ms: not yet
  EXPECT_EQ(d.size(), 1u);
}

TEST(endpointer, a_pause_longer_than_the_threshold_splits_turns) {
  endpointer ep({.silence_ms = 300});
  const auto d = feed(ep, std::string(10, 'S') + std::string(20, '.') + std::string(10, 'S') + std::string(20, '.'));
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].what, kind::speech_started);
  EXPECT_EQ(d[1].what, kind::turn_ended);
  EXPECT_EQ(d[2].what, kind::speech_started);
  EXPECT_EQ(d[3].what, kind::turn_ended);
}

TEST(endpointer, clicks_shorter_than_min_speech_are_ignored) {
  endpointer ep({.min_speech_ms = 60, .onset_gap_ms = 40});
  const auto d = feed(ep, "S...S...SS...." + std::string(30, '.'));
  EXPECT_TRUE(d.empty());
  EXPECT_FALSE(ep.in_speech());
}

TEST(endpointer, onset_tolerates_a_short_gap) {
  endpointer ep({.min_speech_ms = 60, .onset_gap_ms = 40});
  const auto d = feed(ep, "SS.S");  // 20 ms gap inside the onset
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].what, kind::speech_started);
  EXPECT_EQ(d[0].t_speech_start, 0);
}

TEST(endpointer, end_of_input_ends_a_turn_in_progress) {
  endpointer ep;
  feed(ep, std::string(10, 'S') + "..");
  const auto d = ep.on_end_of_input(12 * k_frame);
  EXPECT_EQ(d.what, kind::turn_ended);
  EXPECT_EQ(d.t_speech_end, 10 * k_frame);
  EXPECT_EQ(ep.on_end_of_input(12 * k_frame).what, kind::none);  // nothing left to end
}

TEST(endpointer, end_of_input_during_onset_is_not_a_turn) {
  endpointer ep({.min_speech_ms = 100});
  feed(ep, "SS");
  EXPECT_EQ(ep.on_end_of_input(2 * k_frame).what, kind::none);
}

TEST(endpointer, counts_the_silence_from_the_speech_end_before_the_vad_hangover) {
  endpointer ep({.silence_ms = 400, .vad_hangover_ms = 100});
  // The VAD says voiced for 100 ms after speech truly stopped at frame 10.
  auto d = feed(ep, std::string(15, 'S') + std::string(14, '.'));  // 280 ms of VAD silence: 380 since the end
  ASSERT_EQ(d.size(), 1u);
  d = feed(ep, ".", 29 * k_frame);  // 300 ms of VAD silence: 400 ms since the estimated end
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].what, kind::turn_ended);
  EXPECT_EQ(d[0].t_speech_end, 15 * k_frame - ms_to_samples(100));
}

TEST(endpointer, counts_voiced_time) {
  endpointer ep;
  feed(ep, std::string(10, 'S') + "...." + std::string(5, 'S'));
  EXPECT_DOUBLE_EQ(ep.voiced_ms(), 300.0);
}

}  // namespace
}  // namespace parley::agent
