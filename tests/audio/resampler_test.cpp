#include "parley/audio/resampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "parley/audio/pcm.hpp"
#include "signals.hpp"

namespace parley::audio {
namespace {

using test::sine;

TEST(resampler, rejects_bad_rates) {
  for (auto [in, out] : {std::pair{0, 16000}, {16000, 0}, {-8000, 16000}, {999, 16000}, {16000, k_max_rate_hz + 1}}) {
    auto rs = resampler::create(in, out);
    ASSERT_FALSE(rs) << in << "->" << out;
    EXPECT_EQ(rs.error().code, errc::invalid_argument);
    EXPECT_FALSE(resample(std::vector<std::int16_t>(10), in, out));
  }
}

TEST(resampler, output_length_follows_the_rate_ratio) {
  struct rates { int in_hz, out_hz; };
  for (auto [in_hz, out_hz] : {rates{44100, 16000}, {48000, 16000}, {8000, 16000}, {22050, 16000}, {16000, 24000},
                               {16000, 8000}}) {
    for (std::size_t n_in : {1u, 441u, 12345u, 96000u}) {
      auto out = resample(std::vector<std::int16_t>(n_in, 1000), in_hz, out_hz);
      ASSERT_TRUE(out) << out.error().describe();
      const double expected = static_cast<double>(n_in) * out_hz / in_hz;
      EXPECT_NEAR(static_cast<double>(out->size()), expected, 1.0) << in_hz << "->" << out_hz << " n=" << n_in;
    }
  }
}

TEST(resampler, extreme_ratios_work) {
  auto up = resample(std::vector<std::int16_t>(1000, 1000), k_min_rate_hz, k_max_rate_hz);  // 1 s
  ASSERT_TRUE(up) << up.error().describe();
  EXPECT_NEAR(static_cast<double>(up->size()), 768000.0, 1.0);
  auto down = resample(*up, k_max_rate_hz, k_min_rate_hz);
  ASSERT_TRUE(down) << down.error().describe();
  EXPECT_NEAR(static_cast<double>(down->size()), 1000.0, 1.0);
}

TEST(resampler, a_1_khz_tone_stays_1_khz_from_44k1_to_16k) {
  const auto in = sine(1000.0, 44100, 44100, 0.5);  // 1 s
  auto out = resample(in, 44100, 16000);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 16000u);
  // Skip the edges (filter ramp-in/out) and look at 0.5 s in the middle.
  const auto mid = std::span<const std::int16_t>(*out).subspan(4000, 8000);
  EXPECT_NEAR(test::count_rising_zero_crossings(mid), 500, 1);
  const double p_1k = test::goertzel_power(mid, 16000, 1000.0);
  for (double other_hz : {500.0, 900.0, 1100.0, 2000.0, 3000.0}) {
    EXPECT_GT(p_1k, 1000.0 * test::goertzel_power(mid, 16000, other_hz)) << other_hz;
  }
  EXPECT_NEAR(rms_dbfs(mid), rms_dbfs(in), 0.1);  // passband gain ~ 1
}

TEST(resampler, removes_content_above_the_new_nyquist) {
  const auto in = sine(12000.0, 48000, 48000, 0.5);  // above 8 kHz: must not alias into 16 kHz output
  auto out = resample(in, 48000, 16000);
  ASSERT_TRUE(out);
  EXPECT_LT(rms_dbfs(std::span<const std::int16_t>(*out).subspan(2000, 12000)), -80.0);
}

TEST(resampler, streaming_in_random_chunks_equals_one_shot) {
  const auto in = test::white_noise(48000 * 2, -20.0, 3);
  for (auto [in_hz, out_hz] : {std::pair{48000, 16000}, {8000, 16000}, {44100, 16000}}) {
    auto one_shot = resample(in, in_hz, out_hz);
    ASSERT_TRUE(one_shot);
    auto rs = resampler::create(in_hz, out_hz);
    ASSERT_TRUE(rs);
    std::vector<std::int16_t> streamed;
    std::mt19937 rng(11);
    std::uniform_int_distribution<std::size_t> chunk_size(0, 2000);  // includes empty chunks
    for (std::size_t pos = 0; pos < in.size();) {
      const std::size_t n = std::min(chunk_size(rng), in.size() - pos);
      const auto out = rs->process(std::span(in).subspan(pos, n));
      streamed.insert(streamed.end(), out.begin(), out.end());
      pos += n;
    }
    const auto tail = rs->flush();
    streamed.insert(streamed.end(), tail.begin(), tail.end());
    EXPECT_EQ(streamed, *one_shot) << in_hz << "->" << out_hz;
  }
}

TEST(resampler, flush_starts_a_new_stream) {
  const auto in = sine(440.0, 48000, 4800);
  auto rs = resampler::create(48000, 16000);
  ASSERT_TRUE(rs);
  auto first = rs->process(in);
  auto first_tail = rs->flush();
  first.insert(first.end(), first_tail.begin(), first_tail.end());
  auto second = rs->process(in);
  auto second_tail = rs->flush();
  second.insert(second.end(), second_tail.begin(), second_tail.end());
  EXPECT_EQ(first.size(), 1600u);
  EXPECT_EQ(first, second);
  EXPECT_TRUE(rs->flush().empty());
}

TEST(resampler, reset_drops_held_back_audio) {
  const auto in = test::white_noise(4800, -10.0, 5);
  auto fresh = resample(in, 48000, 16000);
  ASSERT_TRUE(fresh);
  auto rs = resampler::create(48000, 16000);
  ASSERT_TRUE(rs);
  (void)rs->process(sine(1000.0, 48000, 2000));  // part of this is still held back
  rs->reset();
  auto out = rs->process(in);
  auto tail = rs->flush();
  out.insert(out.end(), tail.begin(), tail.end());
  EXPECT_EQ(out, *fresh);
}

TEST(resampler, holds_back_little_when_streaming_20_ms_chunks) {
  // Low latency: in steady state the output lags the input by less than one 20 ms chunk.
  for (int in_hz : {48000, 44100}) {
    auto rs = resampler::create(in_hz, 16000);
    ASSERT_TRUE(rs);
    const auto chunk = sine(300.0, in_hz, static_cast<std::size_t>(in_hz / 50));
    double max_lag_ms = 0.0;
    std::size_t n_in = 0, n_out = 0;
    for (int k = 0; k < 100; ++k) {
      n_in += chunk.size();
      n_out += rs->process(chunk).size();
      const double lag_ms = (static_cast<double>(n_in) / in_hz - static_cast<double>(n_out) / 16000) * 1000.0;
      if (k >= 5) max_lag_ms = std::max(max_lag_ms, lag_ms);
    }
    EXPECT_LT(max_lag_ms, 20.0) << in_hz;
  }
}

TEST(resampler, digital_silence_stays_silent) {
  auto out = resample(std::vector<std::int16_t>(44100, 0), 44100, 16000);
  ASSERT_TRUE(out);
  for (std::int16_t s : *out) ASSERT_EQ(s, 0);  // no dither
}

TEST(resampler, equal_rates_copy) {
  const auto in = test::white_noise(1000, -10.0);
  auto rs = resampler::create(16000, 16000);
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->process(in), in);
  EXPECT_TRUE(rs->flush().empty());
  auto one_shot = resample(in, 16000, 16000);
  ASSERT_TRUE(one_shot);
  EXPECT_EQ(*one_shot, in);
}

TEST(resampler, empty_input_gives_empty_output) {
  auto out = resample({}, 48000, 16000);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->empty());
}

TEST(resampler, survives_a_move) {
  auto rs = resampler::create(48000, 16000);
  ASSERT_TRUE(rs);
  resampler moved = std::move(*rs);
  EXPECT_EQ(moved.in_rate_hz(), 48000);
  auto out = moved.process(sine(440.0, 48000, 48000));
  auto tail = moved.flush();
  EXPECT_EQ(out.size() + tail.size(), 16000u);
}

}  // namespace
}  // namespace parley::audio
