// Micro-benchmarks of the audio front-end: the cost of one 20 ms frame through the whole
// front-end and through the VAD alone, resampling the browser's 48 kHz microphone to 16 kHz, and
// framing. `x_realtime` is seconds of audio handled per second of CPU (50 frames of 20 ms are one
// second of audio).
#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "parley/audio/framer.hpp"
#include "parley/audio/frontend.hpp"
#include "parley/audio/resampler.hpp"
#include "parley/audio/vad.hpp"

namespace {

using namespace parley::audio;

/// A speech-like test signal: a 120 Hz harmonic buzz, syllable-rate (4 Hz) bursts, low noise.
std::vector<std::int16_t> voiced_signal(int rate_hz, double seconds) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 30.0);
  std::vector<std::int16_t> out(static_cast<std::size_t>(rate_hz * seconds));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double t = static_cast<double>(i) / rate_hz;
    double buzz = 0.0;
    for (int h = 1; h <= 20; ++h) buzz += std::sin(2.0 * std::numbers::pi * 120.0 * h * t) / h;
    const double envelope = std::max(0.0, std::sin(2.0 * std::numbers::pi * 4.0 * t));
    out[i] = static_cast<std::int16_t>(std::lround(3000.0 * envelope * buzz + noise(rng)));
  }
  return out;
}

void set_realtime_counter(benchmark::State& state, double audio_seconds_per_iteration) {
  state.counters["x_realtime"] =
      benchmark::Counter(audio_seconds_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_vad_20ms_frame(benchmark::State& state) {
  const auto signal = voiced_signal(16000, 10.0);
  auto vad = webrtc_vad::create({.aggressiveness = static_cast<int>(state.range(0))});
  if (!vad) {
    state.SkipWithError(vad.error().message.c_str());
    return;
  }
  std::size_t pos = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(vad->speech_fraction(std::span(signal).subspan(pos, k_frame_samples)));
    pos = (pos + k_frame_samples + k_frame_samples > signal.size()) ? 0 : pos + k_frame_samples;
  }
  state.SetItemsProcessed(state.iterations());
  set_realtime_counter(state, 0.020);
}
BENCHMARK(BM_vad_20ms_frame)->Arg(0)->Arg(2)->Arg(3);

// The whole front-end on one 20 ms frame: arg 0 = default (high-pass + noise suppression high +
// VAD), 1 = VAD only, 2 = high-pass + VAD, 3 = noise suppression + VAD (no high-pass).
void BM_frontend_20ms_frame(benchmark::State& state) {
  const auto signal = voiced_signal(16000, 10.0);
  frontend_config config;
  config.high_pass = state.range(0) == 0 || state.range(0) == 2;
  config.noise_suppression = state.range(0) == 0 || state.range(0) == 3;
  auto fe = frontend::create(config);
  if (!fe) {
    state.SkipWithError(fe.error().message.c_str());
    return;
  }
  std::vector<std::int16_t> frame(k_frame_samples);
  std::size_t pos = 0;
  for (auto _ : state) {
    std::copy_n(signal.begin() + static_cast<std::ptrdiff_t>(pos), k_frame_samples, frame.begin());
    benchmark::DoNotOptimize(fe->process(frame));
    pos = (pos + k_frame_samples + k_frame_samples > signal.size()) ? 0 : pos + k_frame_samples;
  }
  state.SetItemsProcessed(state.iterations());
  set_realtime_counter(state, 0.020);
}
BENCHMARK(BM_frontend_20ms_frame)->Arg(0)->Arg(1)->Arg(2)->Arg(3);

void BM_resampler_48k_to_16k(benchmark::State& state) {
  const auto chunk_ms = static_cast<int>(state.range(0));
  const auto signal = voiced_signal(48000, 1.0);
  const auto chunk = std::span(signal).first(static_cast<std::size_t>(48 * chunk_ms));
  auto rs = resampler::create(48000, 16000);
  if (!rs) {
    state.SkipWithError(rs.error().message.c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(rs->process(chunk));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(chunk.size()));  // input samples
  set_realtime_counter(state, chunk_ms / 1000.0);
}
BENCHMARK(BM_resampler_48k_to_16k)->Arg(10)->Arg(20)->Arg(100);

void BM_framer(benchmark::State& state) {
  const auto chunk_samples = static_cast<std::size_t>(state.range(0));
  const auto signal = voiced_signal(16000, 1.0);
  const auto chunk = std::span(signal).first(chunk_samples);
  framer f;
  std::int64_t sum = 0;
  for (auto _ : state) {
    f.push(chunk, [&](std::span<const std::int16_t> frame) { sum += frame[0]; });
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(chunk_samples));
  set_realtime_counter(state, static_cast<double>(chunk_samples) / 16000.0);
}
BENCHMARK(BM_framer)->Arg(100)->Arg(320)->Arg(1000)->Arg(4096);

}  // namespace
