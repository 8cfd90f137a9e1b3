#include "parley/audio/pcm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "signals.hpp"

namespace parley::audio {
namespace {

TEST(pcm, int16_to_float_is_exact_and_normalised) {
  EXPECT_EQ(to_float(std::int16_t{0}), 0.0f);
  EXPECT_EQ(to_float(std::int16_t{-32768}), -1.0f);
  EXPECT_EQ(to_float(std::int16_t{16384}), 0.5f);
  EXPECT_EQ(to_float(std::int16_t{32767}), 32767.0f / 32768.0f);
}

TEST(pcm, every_int16_round_trips_through_float) {
  for (int s = -32768; s <= 32767; ++s) {
    const auto v = static_cast<std::int16_t>(s);
    ASSERT_EQ(to_int16(to_float(v)), v) << s;
  }
}

TEST(pcm, float_to_int16_rounds_and_clips) {
  EXPECT_EQ(to_int16(0.5f), 16384);
  EXPECT_EQ(to_int16(-0.5f), -16384);
  EXPECT_EQ(to_int16(1.0f / 32768.0f * 0.6f), 1);   // rounds to nearest, not toward zero
  EXPECT_EQ(to_int16(-1.0f / 32768.0f * 0.6f), -1);
  EXPECT_EQ(to_int16(1.0f), 32767);                  // +full scale clips
  EXPECT_EQ(to_int16(1.5f), 32767);
  EXPECT_EQ(to_int16(-1.0f), -32768);
  EXPECT_EQ(to_int16(-7.0f), -32768);
  EXPECT_EQ(to_int16(std::numeric_limits<float>::infinity()), 32767);
  EXPECT_EQ(to_int16(-std::numeric_limits<float>::infinity()), -32768);
  EXPECT_EQ(to_int16(std::numeric_limits<float>::quiet_NaN()), 0);
}

TEST(pcm, vector_conversions_match_the_scalar_ones) {
  const std::vector<float> f = {0.0f, 0.25f, -0.25f, 2.0f, -2.0f};
  EXPECT_EQ(to_int16(f), (std::vector<std::int16_t>{0, 8192, -8192, 32767, -32768}));
  const std::vector<std::int16_t> s = {0, 8192, -32768};
  EXPECT_EQ(to_float(s), (std::vector<float>{0.0f, 0.25f, -1.0f}));
}

TEST(pcm, downmix_int16_averages_each_frame) {
  const std::vector<std::int16_t> stereo = {100, 200, -1, 0, 32767, 32767, -32768, -32768, 1000, -1000};
  EXPECT_EQ(downmix_to_mono(stereo, 2), (std::vector<std::int16_t>{150, -1, 32767, -32768, 0}));

  const std::vector<std::int16_t> three = {3, 6, 9, -3, -3, -3, 7};  // trailing partial frame dropped
  EXPECT_EQ(downmix_to_mono(three, 3), (std::vector<std::int16_t>{6, -3}));

  EXPECT_EQ(downmix_to_mono(three, 1), three);
  EXPECT_TRUE(downmix_to_mono(three, 0).empty());
  EXPECT_TRUE(downmix_to_mono(three, -2).empty());
}

TEST(pcm, downmix_float_averages_each_frame) {
  const std::vector<float> quad = {1.0f, 0.0f, 0.0f, 0.0f, 0.5f, 0.5f, -0.5f, -0.5f};
  EXPECT_EQ(downmix_to_mono(quad, 4), (std::vector<float>{0.25f, 0.0f}));
  EXPECT_EQ(downmix_to_mono(quad, 1), quad);
}

TEST(pcm, rms_and_dbfs) {
  const std::vector<std::int16_t> square(320, -32768);
  EXPECT_DOUBLE_EQ(rms(square), 1.0);
  EXPECT_NEAR(rms_dbfs(square), 0.0, 1e-9);

  const auto tone = test::sine(1000.0, 16000, 16000, 0.5);  // rms 0.5/sqrt(2): -9.03 dBFS
  EXPECT_NEAR(rms(tone), 0.5 / std::sqrt(2.0), 1e-3);
  EXPECT_NEAR(rms_dbfs(tone), -9.03, 0.02);

  EXPECT_NEAR(rms_dbfs(test::white_noise(16000, -50.0)), -50.0, 0.05);

  const std::vector<std::int16_t> zeros(320, 0);
  EXPECT_EQ(rms(zeros), 0.0);
  EXPECT_EQ(rms_dbfs(zeros), k_silence_dbfs);
  EXPECT_EQ(rms_dbfs({}), k_silence_dbfs);
}

TEST(pcm, rate_validation) {
  EXPECT_TRUE(is_valid_rate_hz(8000));
  EXPECT_TRUE(is_valid_rate_hz(k_min_rate_hz));
  EXPECT_TRUE(is_valid_rate_hz(k_max_rate_hz));
  EXPECT_FALSE(is_valid_rate_hz(0));
  EXPECT_FALSE(is_valid_rate_hz(-16000));
  EXPECT_FALSE(is_valid_rate_hz(k_max_rate_hz + 1));
}

}  // namespace
}  // namespace parley::audio
