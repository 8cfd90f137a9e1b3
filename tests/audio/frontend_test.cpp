#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "parley/audio/frontend.hpp"
#include "parley/audio/pcm.hpp"
#include "parley/audio/wav.hpp"
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
  // A DC offset (a cheap microphone's) is gone after the filter settles.
  auto fe3 = frontend::create({.high_pass = true, .noise_suppression = false});
  const auto dc = run(*fe3, std::vector<std::int16_t>(16000 * 2, 3000));
  EXPECT_LT(rms_dbfs(last_second(dc)), -60.0);
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

// A voice-like signal: harmonics of 150 Hz, under a 4 Hz syllable envelope or steady.
std::vector<double> voice_like(std::size_t n, bool syllables) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / 16000.0;
    double x = 0;
    for (int h = 1; h <= 8; ++h) x += std::sin(2 * std::numbers::pi * 150.0 * h * t) / h;
    v[i] = syllables ? x * (0.3 + 0.7 * std::pow(std::sin(std::numbers::pi * 4.0 * t), 2)) : x;
  }
  return v;
}

// 1.5 s of pink noise at -40 dBFS, then the voice-like signal `above_db` (RMS) over it for 1 s: the
// fraction of the voice's 20 ms frames the front-end (no suppression: levels stay as they are)
// calls voiced.
double voiced_fraction(double above_db, double gate_db, bool syllables = true) {
  const std::size_t lead = 16000 * 3 / 2, voiced = 16000;
  auto noise = pink_noise(lead + voiced, -40.0, 3);
  const auto voice = test::scale_to_dbfs(voice_like(voiced, syllables), -40.0 + above_db);
  for (std::size_t i = 0; i < voiced; ++i) {
    noise[lead + i] = static_cast<std::int16_t>(std::clamp(noise[lead + i] + voice[i], -32768, 32767));
  }
  auto fe = frontend::create({.high_pass = false, .noise_suppression = false, .snr_gate_db = gate_db});
  EXPECT_TRUE(fe);
  int n_voiced = 0, n = 0;
  for (std::size_t i = 0; i + 320 <= noise.size(); i += 320) {
    const auto v = fe->process(std::span<std::int16_t>(noise).subspan(i, 320));
    if (i >= lead) n_voiced += *v >= 0.5, ++n;
  }
  return static_cast<double>(n_voiced) / n;
}

TEST(frontend_gate, keeps_voice_that_stands_out_of_the_noise_floor) {
  EXPECT_GT(voiced_fraction(20.0, 8.0), 0.8);
  EXPECT_GT(voiced_fraction(20.0, 0.0), 0.8);
}

TEST(frontend_gate, drops_voiced_steps_that_do_not_stand_out_of_the_floor) {
  // A steady voice as loud as the noise (3 dB over it together): the VAD alone hears it; an 8 dB
  // gate does not let it through, a 2 dB one does.
  EXPECT_GT(voiced_fraction(0.0, 0.0, false), 0.8) << "the bare VAD should hear a voice-like signal";
  EXPECT_LT(voiced_fraction(0.0, 8.0, false), 0.15);
  EXPECT_GT(voiced_fraction(0.0, 2.0, false), 0.8);
}

TEST(frontend_gate, ends_speech_on_time_in_ten_db_noise) {
  // Real speech (flite) in pink noise 10 dB below it: with the gate no frame after the words end
  // is voiced, and the words themselves still are.
  test::temp_dir dir;
  const auto wav = test::synthesize("flite", "what are your opening hours", dir.file("q.wav"));
  if (!wav) GTEST_SKIP() << "flite is not installed";
  auto clip = read_audio_file(*wav);
  ASSERT_TRUE(clip);
  const std::size_t lead = 8000, tail = 16000 * 3 / 2;
  std::vector<std::int16_t> speech(lead, 0);
  speech.insert(speech.end(), clip->samples.begin(), clip->samples.end());
  const std::size_t speech_end = speech.size();
  speech.resize(speech_end + tail, 0);
  const double speech_dbfs = rms_dbfs(std::span<const std::int16_t>(clip->samples));
  const auto noise = pink_noise(speech.size(), speech_dbfs - 10.0, 7);
  for (std::size_t i = 0; i < speech.size(); ++i) {
    speech[i] = static_cast<std::int16_t>(std::clamp(speech[i] + noise[i], -32768, 32767));
  }
  auto fe = frontend::create();  // the defaults: high-pass, noise suppression high, gate 8 dB
  ASSERT_TRUE(fe);
  EXPECT_EQ(fe->hangover_ms(), 0) << "the gate drops the VAD's own overhang";
  int n_speech = 0, n_speech_voiced = 0, n_after_voiced = 0;
  for (std::size_t i = 0; i + 320 <= speech.size(); i += 320) {
    const bool voiced = *fe->process(std::span<std::int16_t>(speech).subspan(i, 320)) >= 0.5;
    if (i >= lead && i + 320 <= speech_end) n_speech += 1, n_speech_voiced += voiced;
    if (i >= speech_end + 16000 / 10) n_after_voiced += voiced;  // from 100 ms after the words
  }
  EXPECT_GT(n_speech_voiced, n_speech / 3) << n_speech_voiced << " of " << n_speech;
  EXPECT_EQ(n_after_voiced, 0);
  // The SNR it estimates is near the 10 dB mixed in (speech level is that of its voiced steps).
  EXPECT_GT(fe->snr_db(), 5.0);
  EXPECT_LT(fe->snr_db(), k_asr_denoise_below_snr_db) << "a session's recognizer would hear the cleaned audio";
}

TEST(frontend_gate, estimates_a_high_snr_for_clean_speech_and_none_before_speech) {
  test::temp_dir dir;
  const auto wav = test::synthesize("flite", "what time is it", dir.file("q.wav"));
  if (!wav) GTEST_SKIP() << "flite is not installed";
  auto clip = read_audio_file(*wav);
  ASSERT_TRUE(clip);
  auto fe = frontend::create();
  ASSERT_TRUE(fe);
  std::vector<std::int16_t> silence(320, 0);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(fe->process(silence));
  EXPECT_TRUE(std::isinf(fe->snr_db())) << "no speech heard yet";
  std::vector<std::int16_t> speech = clip->samples;
  speech.resize(speech.size() / 320 * 320);
  for (std::size_t i = 0; i < speech.size(); i += 320) ASSERT_TRUE(fe->process(std::span<std::int16_t>(speech).subspan(i, 320)));
  EXPECT_GT(fe->snr_db(), 40.0) << "clean speech after digital silence";
  EXPECT_TRUE(std::isinf(frontend::create({.snr_gate_db = 0.0})->snr_db())) << "no estimate without the gate";
}

TEST(frontend_gate, is_off_at_zero_and_validated) {
  auto off = frontend::create({.snr_gate_db = 0.0});
  ASSERT_TRUE(off);
  EXPECT_EQ(off->hangover_ms(), 90) << "without the gate the endpointer corrects for the VAD's overhang";
  EXPECT_EQ(frontend::create({.snr_gate_db = 41.0}).error().code, errc::invalid_argument);
  EXPECT_EQ(frontend::create({.snr_gate_db = std::nan("")}).error().code, errc::invalid_argument);
}

}  // namespace
}  // namespace parley::audio
