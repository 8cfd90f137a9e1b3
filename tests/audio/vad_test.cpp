#include "parley/audio/vad.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "parley/audio/framer.hpp"
#include "parley/audio/pcm.hpp"
#include "parley/audio/wav.hpp"
#include "signals.hpp"

namespace parley::audio {
namespace {

constexpr std::size_t k_step = 160;  // 10 ms

/// Runs `samples` through a fresh VAD in 20 ms frames; one verdict per frame.
std::vector<bool> classify(std::span<const std::int16_t> samples, int aggressiveness) {
  auto vad = webrtc_vad::create({.aggressiveness = aggressiveness});
  EXPECT_TRUE(vad) << vad.error().describe();
  std::vector<bool> voiced;
  framer f;
  f.push(samples, [&](std::span<const std::int16_t> frame) { voiced.push_back(vad->is_speech(frame)); });
  return voiced;
}

int count_voiced(const std::vector<bool>& v, std::size_t from = 0) {
  int n = 0;
  for (std::size_t i = from; i < v.size(); ++i) n += v[i] ? 1 : 0;
  return n;
}

/// A synthesised utterance at 16 kHz, padded with silence (and optionally noise everywhere),
/// with the spoken region found from its level: 10 ms windows above -45 dBFS.
struct utterance {
  std::vector<std::int16_t> samples;
  double t_speech_begin_ms = 0;
  double t_speech_end_ms = 0;
};

std::optional<utterance> make_utterance(const test::temp_dir& dir, const std::string& tool, const std::string& text,
                                        double pad_ms, std::optional<double> noise_dbfs = std::nullopt) {
  const auto wav = test::synthesize(tool, text, dir.file(tool + ".wav"));
  if (!wav) return std::nullopt;
  auto clip = read_audio_file(*wav);  // flite writes 8 kHz, espeak-ng 22.05 kHz: our resampler
  EXPECT_TRUE(clip) << clip.error().describe();
  if (!clip) return std::nullopt;

  const auto pad = static_cast<std::size_t>(ms_to_samples(pad_ms));
  utterance u;
  u.samples.assign(pad, 0);
  u.samples.insert(u.samples.end(), clip->samples.begin(), clip->samples.end());
  u.samples.insert(u.samples.end(), pad, 0);

  std::optional<std::size_t> first, last;
  for (std::size_t i = 0; i + k_step <= u.samples.size(); i += k_step) {
    if (rms_dbfs(std::span(u.samples).subspan(i, k_step)) > -45.0) {
      if (!first) first = i;
      last = i + k_step;
    }
  }
  EXPECT_TRUE(first.has_value()) << "the synthesised speech is silent";
  if (!first) return std::nullopt;
  u.t_speech_begin_ms = samples_to_ms(static_cast<media_time>(*first));
  u.t_speech_end_ms = samples_to_ms(static_cast<media_time>(*last));

  if (noise_dbfs) {
    const auto noise = test::white_noise(u.samples.size(), *noise_dbfs, 5);
    for (std::size_t i = 0; i < u.samples.size(); ++i) {
      u.samples[i] = static_cast<std::int16_t>(std::clamp(u.samples[i] + noise[i], -32768, 32767));
    }
  }
  return u;
}

struct speech_score {
  double voiced_inside = 0;      // fraction of frames inside the spoken region that are voiced
  int n_voiced_outside = 0;      // voiced frames before begin - margin or after end + hangover + margin
  double first_voiced_ms = -1;   // start of the first voiced frame
  double last_voiced_ms = -1;    // end of the last voiced frame
};

/// Scores one verdict per 20 ms frame against the spoken region of `u`. Voiced frames may lie up
/// to `margin_ms` outside it, and after it also the VAD's documented hangover.
speech_score score(const std::vector<bool>& voiced, const utterance& u, double margin_ms, double hangover_ms,
                   double ignore_before_ms = 0) {
  speech_score s;
  int n_inside = 0, n_voiced_inside = 0;
  for (std::size_t k = 0; k < voiced.size(); ++k) {
    const double t0 = static_cast<double>(k) * k_frame_ms, t1 = t0 + k_frame_ms;
    const bool inside = t0 >= u.t_speech_begin_ms && t1 <= u.t_speech_end_ms;
    n_inside += inside ? 1 : 0;
    n_voiced_inside += inside && voiced[k] ? 1 : 0;
    if (!voiced[k]) continue;
    if (s.first_voiced_ms < 0) s.first_voiced_ms = t0;
    s.last_voiced_ms = t1;
    const bool outside = t1 < u.t_speech_begin_ms - margin_ms || t0 > u.t_speech_end_ms + hangover_ms + margin_ms;
    if (outside && t0 >= ignore_before_ms) ++s.n_voiced_outside;
  }
  s.voiced_inside = n_inside > 0 ? static_cast<double>(n_voiced_inside) / n_inside : 0.0;
  return s;
}

// --- API -------------------------------------------------------------------------------------

TEST(vad, rejects_bad_aggressiveness) {
  for (int a : {-1, 4, 100}) {
    auto vad = webrtc_vad::create({.aggressiveness = a});
    ASSERT_FALSE(vad) << a;
    EXPECT_EQ(vad.error().code, errc::invalid_argument);
  }
  for (int a : {0, 1, 2, 3}) {
    auto vad = webrtc_vad::create({.aggressiveness = a});
    ASSERT_TRUE(vad) << vad.error().describe();
    EXPECT_EQ(vad->aggressiveness(), a);
  }
}

TEST(vad, accepts_only_10_20_30_ms_frames) {
  auto vad = webrtc_vad::create();
  ASSERT_TRUE(vad);
  for (std::size_t n : {160u, 320u, 480u}) {
    auto r = vad->speech_fraction(std::vector<std::int16_t>(n, 0));
    ASSERT_TRUE(r) << n;
    EXPECT_EQ(*r, 0.0);
  }
  for (std::size_t n : {0u, 1u, 159u, 161u, 240u, 640u, 800u}) {
    auto r = vad->speech_fraction(std::vector<std::int16_t>(n, 0));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find(std::to_string(n) + " samples"), std::string::npos) << r.error().message;
    EXPECT_FALSE(vad->is_speech(std::vector<std::int16_t>(n, 0)));
  }
}

TEST(vad, speech_fraction_counts_voiced_10_ms_steps) {
  // A fresh VAD flags the onset of loud noise as speech for its first steps (see vad.hpp):
  // a 30 ms frame of silence, silence, noise gives exactly one voiced step of three.
  auto vad = webrtc_vad::create({.aggressiveness = 0});
  ASSERT_TRUE(vad);
  std::vector<std::int16_t> frame(320, 0);
  const auto noise = test::white_noise(160, -20.0);
  frame.insert(frame.end(), noise.begin(), noise.end());
  auto r = vad->speech_fraction(frame);
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, 1.0 / 3.0, 1e-12);

  // Half of a 20 ms frame voiced is speech (the threshold is >= 0.5).
  vad->reset();
  std::vector<std::int16_t> half(160, 0);
  half.insert(half.end(), noise.begin(), noise.end());
  r = vad->speech_fraction(half);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0.5);
  vad->reset();
  EXPECT_TRUE(vad->is_speech(half));
}

TEST(vad, reset_forgets_the_adapted_noise_model) {
  const auto noise = test::white_noise(16000, -40.0, 9);
  const auto fresh = classify(noise, 2);
  ASSERT_GT(count_voiced(fresh), 0) << "a fresh VAD should take the noise onset for speech";

  auto vad = webrtc_vad::create({.aggressiveness = 2});
  ASSERT_TRUE(vad);
  auto run = [&] {
    std::vector<bool> v;
    framer f;
    f.push(noise, [&](std::span<const std::int16_t> frame) { v.push_back(vad->is_speech(frame)); });
    return v;
  };
  const auto adapted = run();
  EXPECT_EQ(adapted, fresh);
  const auto without_reset = run();  // the noise model has adapted: no onset burst
  EXPECT_LT(count_voiced(without_reset), count_voiced(fresh));
  vad->reset();
  EXPECT_EQ(run(), fresh);
}

TEST(vad, survives_a_move) {
  auto vad = webrtc_vad::create();
  ASSERT_TRUE(vad);
  webrtc_vad moved = std::move(*vad);
  EXPECT_TRUE(moved.speech_fraction(std::vector<std::int16_t>(320, 0)));
}

// --- silence and noise -----------------------------------------------------------------------

TEST(vad, digital_silence_is_never_speech) {
  const std::vector<std::int16_t> silence(16000 * 3, 0);
  for (int a = 0; a <= 3; ++a) EXPECT_EQ(count_voiced(classify(silence, a)), 0) << "aggressiveness " << a;
}

TEST(vad, low_steady_noise_is_not_speech) {
  // White noise at -50 dBFS at every aggressiveness; pink noise at -50 dBFS from the default (2)
  // up: at 0-1 its low-frequency swells trigger occasional bursts (printed, see vad.hpp).
  constexpr std::size_t warm_up_frames = 10;  // 200 ms to learn a new noise floor
  const std::size_t n = 16000 * 10;
  struct noise { const char* name; std::vector<std::int16_t> samples; int min_aggressiveness; };
  for (const auto& [name, samples, min_a] : {noise{"white", test::white_noise(n, -50.0, 21), 0},
                                             noise{"pink", test::pink_noise(n, -50.0, 22), 2}}) {
    for (int a = 0; a <= 3; ++a) {
      const auto voiced = classify(samples, a);
      std::printf("[ info ] %s noise -50 dBFS, aggressiveness %d: %d of %zu frames voiced (%d after 200 ms)\n", name, a,
                  count_voiced(voiced), voiced.size(), count_voiced(voiced, warm_up_frames));
      if (a < min_a) continue;
      EXPECT_EQ(count_voiced(voiced, warm_up_frames), 0) << name << " aggressiveness " << a;
      EXPECT_LE(count_voiced(voiced), static_cast<int>(warm_up_frames)) << name << " aggressiveness " << a;
    }
  }
}

TEST(vad, higher_aggressiveness_rejects_more_of_loud_noise) {
  const auto noise = test::pink_noise(16000 * 5, -25.0, 31);
  std::vector<int> n_voiced;
  for (int a = 0; a <= 3; ++a) n_voiced.push_back(count_voiced(classify(noise, a)));
  std::printf("[ info ] pink noise -25 dBFS voiced frames by aggressiveness 0..3: %d %d %d %d of 250\n", n_voiced[0],
              n_voiced[1], n_voiced[2], n_voiced[3]);
  EXPECT_GE(n_voiced[0], n_voiced[1]);
  EXPECT_GE(n_voiced[1], n_voiced[2]);
  EXPECT_GE(n_voiced[2], n_voiced[3]);
  EXPECT_GT(n_voiced[0], n_voiced[3]);
}

// --- real (synthesised) speech ---------------------------------------------------------------

struct tts_case {
  const char* tool;
  const char* text;
};

class vad_speech : public ::testing::TestWithParam<tts_case> {
 protected:
  test::temp_dir dir_;
};

TEST_P(vad_speech, voiced_frames_fall_inside_the_spoken_region) {
  constexpr double margin_ms = 40.0;  // two 20 ms frames of slack around the measured region
  const auto [tool, text] = GetParam();
  const auto u = make_utterance(dir_, tool, text, 700.0);
  if (!u) GTEST_SKIP() << tool << " is not installed";
  for (int a = 0; a <= 3; ++a) {
    const auto vad = webrtc_vad::create({.aggressiveness = a});
    ASSERT_TRUE(vad);
    const double hangover_ms = vad->hangover_ms();
    const auto s = score(classify(u->samples, a), *u, margin_ms, hangover_ms);
    std::printf("[ info ] %s, aggressiveness %d: speech %.0f..%.0f ms, voiced %.0f..%.0f ms (onset %+.0f, end %+.0f ms), "
                "%.0f%% of speech frames voiced, %d voiced frames outside\n", tool, a, u->t_speech_begin_ms,
                u->t_speech_end_ms, s.first_voiced_ms, s.last_voiced_ms, s.first_voiced_ms - u->t_speech_begin_ms,
                s.last_voiced_ms - u->t_speech_end_ms, 100.0 * s.voiced_inside, s.n_voiced_outside);
    EXPECT_GE(s.voiced_inside, 0.85) << "aggressiveness " << a;
    EXPECT_EQ(s.n_voiced_outside, 0) << "aggressiveness " << a;
    EXPECT_NEAR(s.first_voiced_ms, u->t_speech_begin_ms, margin_ms) << "aggressiveness " << a;
    EXPECT_GE(s.last_voiced_ms, u->t_speech_end_ms - margin_ms) << "aggressiveness " << a;
    EXPECT_LE(s.last_voiced_ms, u->t_speech_end_ms + hangover_ms + margin_ms) << "aggressiveness " << a;
  }
}

TEST_P(vad_speech, speech_over_low_noise_is_found_and_the_noise_is_not) {
  const auto [tool, text] = GetParam();
  const auto u = make_utterance(dir_, tool, text, 1000.0, -50.0);
  if (!u) GTEST_SKIP() << tool << " is not installed";
  const auto s = score(classify(u->samples, 2), *u, 40.0, 90.0, 200.0);
  std::printf("[ info ] %s over -50 dBFS white noise, aggressiveness 2: %.0f%% of speech frames voiced, %d voiced frames "
              "outside (after 200 ms)\n", tool, 100.0 * s.voiced_inside, s.n_voiced_outside);
  EXPECT_GE(s.voiced_inside, 0.85);
  EXPECT_EQ(s.n_voiced_outside, 0);
}

INSTANTIATE_TEST_SUITE_P(tts, vad_speech,
                         ::testing::Values(tts_case{"flite", "what is the weather like in paris tomorrow"},
                                           tts_case{"espeak-ng", "please set a timer for ten minutes"}),
                         [](const auto& p) { return std::string(p.param.tool) == "flite" ? "flite" : "espeak_ng"; });

}  // namespace
}  // namespace parley::audio
