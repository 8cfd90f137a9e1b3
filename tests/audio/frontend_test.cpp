#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "parley/audio/frontend.hpp"
#include "parley/audio/pcm.hpp"
#include "signals.hpp"

namespace parley::audio {
namespace {

using test::pink_noise;
using test::sine;
using test::white_noise;

// Runs a whole signal through the front-end in 20 ms frames; returns the processed signal.
std::vector<std::int16_t> run(frontend& fe, std::vector<std::int16_t> pcm) {
  for (std::size_t i = 0; i + 320 <= pcm.size(); i += 320) {
    EXPECT_TRUE(fe.process(std::span<std::int16_t>(pcm).subspan(i, 320)));
  }
  return pcm;
}

std::span<const std::int16_t> last_second(const std::vector<std::int16_t>& pcm) {
  return std::span<const std::int16_t>(pcm).last(16000);
}

TEST(frontend, noise_suppression_lowers_steady_noise) {
  auto fe = frontend::create({.high_pass = false, .noise_suppression = true, .noise_suppression_level = 2});
  ASSERT_TRUE(fe);
  const auto noise = white_noise(16000 * 3, -30.0);
  const auto out = run(*fe, noise);
  // After the suppressor has learned the noise, the last second is at least 10 dB quieter.
  EXPECT_LT(rms_dbfs(last_second(out)), rms_dbfs(last_second(noise)) - 10.0);
}

TEST(frontend, with_every_stage_off_the_audio_is_untouched) {
  auto fe = frontend::create({.high_pass = false, .noise_suppression = false, .gain_control = false});
  ASSERT_TRUE(fe);
  const auto noise = pink_noise(16000, -20.0);
  EXPECT_EQ(run(*fe, noise), noise);
}

TEST(frontend, high_pass_removes_rumble_and_keeps_voice_band) {
  auto fe = frontend::create({.high_pass = true, .noise_suppression = false});
  ASSERT_TRUE(fe);
  const auto rumble = run(*fe, sine(30.0, 16000, 16000 * 2, 0.3));
  auto fe2 = frontend::create({.high_pass = true, .noise_suppression = false});
  const auto tone = run(*fe2, sine(1000.0, 16000, 16000 * 2, 0.3));
  EXPECT_LT(rms_dbfs(last_second(rumble)), rms_dbfs(last_second(sine(30.0, 16000, 16000, 0.3))) - 6.0);
  EXPECT_NEAR(rms_dbfs(last_second(tone)), rms_dbfs(last_second(sine(1000.0, 16000, 16000, 0.3))), 1.0);
}

TEST(frontend, gain_control_raises_a_quiet_voice_band_signal) {
  auto fe = frontend::create({.high_pass = false, .noise_suppression = false, .gain_control = true});
  ASSERT_TRUE(fe);
  // A quiet voice-like signal (harmonics of 150 Hz, 4 Hz syllable envelope): the AGC adapts only
  // while the VAD hears voice.
  std::vector<std::int16_t> quiet(16000 * 6);
  for (std::size_t i = 0; i < quiet.size(); ++i) {
    const double t = static_cast<double>(i) / 16000.0;
    double v = 0;
    for (int h = 1; h <= 6; ++h) v += std::sin(2 * std::numbers::pi * 150.0 * h * t) / h;
    quiet[i] = static_cast<std::int16_t>(200.0 * v * std::pow(std::sin(std::numbers::pi * 4.0 * t), 2));
  }
  const auto out = run(*fe, quiet);
  EXPECT_GT(rms_dbfs(last_second(out)), rms_dbfs(last_second(quiet)) + 6.0);
}

TEST(frontend, rejects_bad_config_and_frames) {
  EXPECT_EQ(frontend::create({.vad_aggressiveness = 4}).error().code, errc::invalid_argument);
  EXPECT_EQ(frontend::create({.noise_suppression_level = -1}).error().code, errc::invalid_argument);
  auto fe = frontend::create();
  ASSERT_TRUE(fe);
  std::vector<std::int16_t> odd(100, 7);
  EXPECT_EQ(fe->process(odd).error().code, errc::invalid_argument);
  EXPECT_EQ(odd, std::vector<std::int16_t>(100, 7)) << "a rejected frame is left as it was";
}

TEST(frontend, reports_silence_as_unvoiced) {
  auto fe = frontend::create();
  ASSERT_TRUE(fe);
  std::vector<std::int16_t> silence(320);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(*fe->process(silence), 0.0);
}

}  // namespace
}  // namespace parley::audio
