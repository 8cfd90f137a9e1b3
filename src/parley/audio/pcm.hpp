// audio/pcm — the PCM vocabulary: sample conversion, down-mixing and level measurement.
//
// Role: small pure functions every other audio component builds on. parley's canonical sample is
// a signed 16-bit integer; floats are normalised so that 1.0 is full scale (int16 32768).
// Threading: pure functions, safe to call from any thread.
// Ownership: functions returning a vector allocate it; span arguments are only read.
// Units: sample rates in Hz; levels as linear RMS (1.0 = full scale) or dBFS, where 0 dBFS is the
// RMS of a full-scale square wave (a full-scale sine reads -3.01 dBFS).
//
//   auto mono = parley::audio::downmix_to_mono(stereo_interleaved, 2);
//   double level_db = parley::audio::rms_dbfs(mono);
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parley::audio {

/// Sample rates parley accepts anywhere (files, resampler, writer); outside this is bad input.
inline constexpr int k_min_rate_hz = 1000;
inline constexpr int k_max_rate_hz = 768000;
constexpr bool is_valid_rate_hz(int rate_hz) { return rate_hz >= k_min_rate_hz && rate_hz <= k_max_rate_hz; }

/// The level reported for digital silence (and the floor of every dBFS value).
inline constexpr double k_silence_dbfs = -120.0;

/// int16 -> float in [-1, 1): s / 32768. Exact; to_int16(to_float(s)) == s.
constexpr float to_float(std::int16_t s) { return static_cast<float>(s) * (1.0f / 32768.0f); }

/// float -> int16: scales by 32768, rounds to nearest and clips to [-32768, 32767]; NaN -> 0.
std::int16_t to_int16(float x);

std::vector<float> to_float(std::span<const std::int16_t> samples);
std::vector<std::int16_t> to_int16(std::span<const float> samples);

/// Averages each frame of `n_channels` interleaved samples into one mono sample (rounded for
/// int16). A trailing partial frame is dropped. n_channels < 1 gives an empty result;
/// n_channels == 1 is a copy.
std::vector<std::int16_t> downmix_to_mono(std::span<const std::int16_t> interleaved, int n_channels);
std::vector<float> downmix_to_mono(std::span<const float> interleaved, int n_channels);

/// Root mean square, 1.0 = full scale. An empty block is 0.
double rms(std::span<const std::int16_t> samples);
/// 20*log10(rms), floored at k_silence_dbfs (digital silence and empty blocks read as the floor).
double rms_dbfs(std::span<const std::int16_t> samples);

}  // namespace parley::audio
