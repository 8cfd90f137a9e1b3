#include "parley/audio/pcm.hpp"

#include <algorithm>
#include <cmath>

namespace parley::audio {
namespace {

template <class T, class Average>
std::vector<T> downmix(std::span<const T> interleaved, int n_channels, Average average) {
  if (n_channels < 1) return {};
  if (n_channels == 1) return {interleaved.begin(), interleaved.end()};
  const auto n_ch = static_cast<std::size_t>(n_channels);
  std::vector<T> mono(interleaved.size() / n_ch);
  for (std::size_t i = 0; i < mono.size(); ++i) mono[i] = average(interleaved.subspan(i * n_ch, n_ch));
  return mono;
}

}  // namespace

std::int16_t to_int16(float x) {
  if (std::isnan(x)) return 0;
  const float scaled = std::nearbyint(x * 32768.0f);
  return static_cast<std::int16_t>(std::clamp(scaled, -32768.0f, 32767.0f));
}

std::vector<float> to_float(std::span<const std::int16_t> samples) {
  std::vector<float> out(samples.size());
  std::transform(samples.begin(), samples.end(), out.begin(), [](std::int16_t s) { return to_float(s); });
  return out;
}

std::vector<std::int16_t> to_int16(std::span<const float> samples) {
  std::vector<std::int16_t> out(samples.size());
  std::transform(samples.begin(), samples.end(), out.begin(), [](float x) { return to_int16(x); });
  return out;
}

std::vector<std::int16_t> downmix_to_mono(std::span<const std::int16_t> interleaved, int n_channels) {
  return downmix(interleaved, n_channels, [](std::span<const std::int16_t> frame) {
    std::int64_t sum = 0;
    for (std::int16_t s : frame) sum += s;
    // The mean of int16 values always fits int16; round half away from zero.
    return static_cast<std::int16_t>(std::lround(static_cast<double>(sum) / static_cast<double>(frame.size())));
  });
}

std::vector<float> downmix_to_mono(std::span<const float> interleaved, int n_channels) {
  return downmix(interleaved, n_channels, [](std::span<const float> frame) {
    double sum = 0.0;
    for (float x : frame) sum += x;
    return static_cast<float>(sum / static_cast<double>(frame.size()));
  });
}

double rms(std::span<const std::int16_t> samples) {
  if (samples.empty()) return 0.0;
  double sum_sq = 0.0;
  for (std::int16_t s : samples) sum_sq += static_cast<double>(s) * s;
  return std::sqrt(sum_sq / static_cast<double>(samples.size())) / 32768.0;
}

double rms_dbfs(std::span<const std::int16_t> samples) {
  const double level = rms(samples);
  if (level <= 0.0) return k_silence_dbfs;
  return std::max(k_silence_dbfs, 20.0 * std::log10(level));
}

}  // namespace parley::audio
