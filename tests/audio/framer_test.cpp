#include "parley/audio/framer.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

namespace parley::audio {
namespace {

std::vector<std::int16_t> ramp(std::size_t n) {
  std::vector<std::int16_t> v(n);
  std::iota(v.begin(), v.end(), std::int16_t{0});
  return v;
}

TEST(framer, default_frame_is_20_ms_at_16_khz) {
  EXPECT_EQ(k_frame_samples, 320u);
  EXPECT_EQ(framer().frame_samples(), 320u);
}

TEST(framer, keeps_the_remainder_across_pushes) {
  framer f;
  const auto input = ramp(1000);
  std::vector<std::vector<std::int16_t>> frames;
  auto collect = [&](std::span<const std::int16_t> fr) { frames.emplace_back(fr.begin(), fr.end()); };

  f.push(std::span(input).first(700), collect);
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_EQ(f.remainder().size(), 60u);
  EXPECT_EQ(f.n_frames_emitted(), 2);

  f.push(std::span(input).subspan(700, 100), collect);  // 160 pending, still no frame
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_EQ(f.remainder().size(), 160u);

  f.push(std::span(input).subspan(800), collect);  // 360 -> one frame + 40
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(f.remainder().size(), 40u);
  EXPECT_EQ(f.n_frames_emitted(), 3);
  for (std::size_t k = 0; k < frames.size(); ++k) {
    ASSERT_EQ(frames[k].size(), 320u);
    EXPECT_EQ(frames[k].front(), static_cast<std::int16_t>(k * 320));
    EXPECT_EQ(frames[k].back(), static_cast<std::int16_t>(k * 320 + 319));
  }
  EXPECT_EQ(f.remainder().front(), 960);
  EXPECT_EQ(f.remainder().back(), 999);
}

TEST(framer, random_chunks_give_the_same_frames_as_the_whole_stream) {
  const auto input = ramp(20000);
  for (std::size_t frame_samples : {1u, 160u, 320u, 333u}) {
    framer f(frame_samples);
    std::vector<std::int16_t> concatenated;
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> chunk_size(0, 900);
    for (std::size_t pos = 0; pos < input.size();) {
      const std::size_t n = std::min(chunk_size(rng), input.size() - pos);
      f.push(std::span(input).subspan(pos, n), [&](std::span<const std::int16_t> fr) {
        ASSERT_EQ(fr.size(), frame_samples);
        concatenated.insert(concatenated.end(), fr.begin(), fr.end());
      });
      pos += n;
    }
    const std::size_t n_full = input.size() / frame_samples;
    EXPECT_EQ(f.n_frames_emitted(), static_cast<std::int64_t>(n_full)) << frame_samples;
    EXPECT_EQ(f.remainder().size(), input.size() % frame_samples) << frame_samples;
    EXPECT_TRUE(std::equal(concatenated.begin(), concatenated.end(), input.begin())) << frame_samples;
    EXPECT_EQ(concatenated.size(), n_full * frame_samples);
  }
}

TEST(framer, whole_frames_inside_a_chunk_are_not_copied) {
  framer f;
  const auto input = ramp(700);
  std::vector<const std::int16_t*> starts;
  f.push(input, [&](std::span<const std::int16_t> fr) { starts.push_back(fr.data()); });
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0], input.data());
  EXPECT_EQ(starts[1], input.data() + 320);
}

TEST(framer, reset_drops_the_remainder_and_the_count) {
  framer f;
  const auto input = ramp(500);
  int n_calls = 0;
  auto count = [&](std::span<const std::int16_t>) { ++n_calls; };
  f.push(input, count);
  f.reset();
  EXPECT_EQ(f.n_frames_emitted(), 0);
  EXPECT_TRUE(f.remainder().empty());
  f.push(std::span(input).first(300), count);  // 180 old samples would have completed a frame
  EXPECT_EQ(n_calls, 1);
  EXPECT_EQ(f.remainder().size(), 300u);
}

TEST(framer, zero_frame_size_is_treated_as_one) {
  framer f(0);
  EXPECT_EQ(f.frame_samples(), 1u);
  int n_calls = 0;
  f.push(ramp(5), [&](std::span<const std::int16_t>) { ++n_calls; });
  EXPECT_EQ(n_calls, 5);
}

}  // namespace
}  // namespace parley::audio
