// The load client's room tone (bench/load/room_tone): between turns it streams the background of the clip
// it last spoke, looped, and never a sample of the speech itself; digital zeros when the clip has
// no background.
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "bench/load/room_tone.hpp"

namespace {

using parley::media_time;
using parley::load::next_room_tone_frame;
using parley::load::room_samples_before;

constexpr media_time k_frame = 320;  // 20 ms at 16 kHz

TEST(room_tone, is_the_audio_before_the_speech_less_a_margin_in_whole_frames) {
  // Speech at 500 ms: 450 ms of background = 7200 samples = 22.5 frames, so 22 frames.
  EXPECT_EQ(room_samples_before(500.0, 48'000), 22 * k_frame);
  // Exactly whole frames: speech at 370 ms leaves 320 ms = 16 frames.
  EXPECT_EQ(room_samples_before(370.0, 48'000), 16 * k_frame);
  // Speech at once (or within the margin): no room tone.
  EXPECT_EQ(room_samples_before(0.0, 48'000), 0);
  EXPECT_EQ(room_samples_before(60.0, 48'000), 0);  // 10 ms: less than a frame
  // A clip shorter than its speech start (a bad manifest) is never read past its end.
  EXPECT_EQ(room_samples_before(2000.0, 1000), 3 * k_frame);
}

TEST(room_tone, loops_the_background_frame_by_frame_and_never_reaches_the_speech) {
  // Three frames of background (values 0..959), then "speech" (-1) that must never be sent.
  std::vector<std::int16_t> clip(3 * k_frame + 500, -1);
  std::iota(clip.begin(), clip.begin() + 3 * k_frame, std::int16_t{0});
  const auto room = std::span<const std::int16_t>(clip).first(static_cast<std::size_t>(3 * k_frame + 100));
  media_time pos = 0;
  for (int i = 0; i < 7; ++i) {  // frames 0, 1, 2, 0, 1, 2, 0
    const auto frame = next_room_tone_frame(room, pos);
    ASSERT_EQ(frame.size(), static_cast<std::size_t>(k_frame));
    const auto first = static_cast<std::int16_t>((i % 3) * k_frame);
    EXPECT_EQ(frame.front(), first) << "frame " << i;
    EXPECT_EQ(frame.back(), first + k_frame - 1) << "frame " << i;
    for (auto s : frame) ASSERT_GE(s, 0) << "a speech sample in room tone frame " << i;
  }
}

TEST(room_tone, is_digital_silence_when_the_clip_has_no_background) {
  std::vector<std::int16_t> clip(200, 1234);  // less than a frame
  media_time pos = 0;
  for (auto room : {std::span<const std::int16_t>{}, std::span<const std::int16_t>(clip)}) {
    const auto frame = next_room_tone_frame(room, pos);
    ASSERT_EQ(frame.size(), static_cast<std::size_t>(k_frame));
    for (auto s : frame) EXPECT_EQ(s, 0);
  }
}

TEST(room_tone, a_shorter_background_after_a_longer_one_starts_over) {
  // A session moves to its next clip with its loop position where the last clip left it.
  std::vector<std::int16_t> clip(2 * k_frame, 7);
  media_time pos = 5 * k_frame;  // beyond this clip's background
  const auto frame = next_room_tone_frame(clip, pos);
  EXPECT_EQ(frame.data(), clip.data());
  EXPECT_EQ(pos, k_frame);
}

}  // namespace
