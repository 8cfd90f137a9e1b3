// Test signals and fixtures for the audio tests: tones, noise, a Goertzel detector, a temporary
// directory, raw file helpers and text-to-speech via the flite / espeak-ng command-line tools.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::audio::test {

inline double from_dbfs(double dbfs) { return std::pow(10.0, dbfs / 20.0); }

/// A sine of peak amplitude `peak` (1.0 = full scale), as floats.
inline std::vector<float> sine_f(double freq_hz, int rate_hz, std::size_t n, double peak = 0.5) {
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>(peak * std::sin(2.0 * std::numbers::pi * freq_hz * static_cast<double>(i) / rate_hz));
  }
  return out;
}

inline std::vector<std::int16_t> sine(double freq_hz, int rate_hz, std::size_t n, double peak = 0.5) {
  std::vector<std::int16_t> out(n);
  const auto f = sine_f(freq_hz, rate_hz, n, peak);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int16_t>(std::lround(f[i] * 32767.0));
  return out;
}

inline std::vector<std::int16_t> scale_to_dbfs(const std::vector<double>& x, double target_dbfs) {
  double sum_sq = 0.0;
  for (double v : x) sum_sq += v * v;
  const double gain = from_dbfs(target_dbfs) * 32768.0 / std::sqrt(sum_sq / static_cast<double>(x.size()));
  std::vector<std::int16_t> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = static_cast<std::int16_t>(std::lround(x[i] * gain));
  return out;
}

/// Gaussian white noise at an RMS level of `dbfs`.
inline std::vector<std::int16_t> white_noise(std::size_t n, double dbfs, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> x(n);
  for (double& v : x) v = dist(rng);
  return scale_to_dbfs(x, dbfs);
}

/// Pink (1/f) noise at an RMS level of `dbfs` (Paul Kellet's filter over white noise).
inline std::vector<std::int16_t> pink_noise(std::size_t n, double dbfs, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, 1.0);
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  std::vector<double> x(n);
  for (double& v : x) {
    const double w = dist(rng);
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.96900 * b2 + w * 0.1538520;
    b3 = 0.86650 * b3 + w * 0.3104856;
    b4 = 0.55000 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.0168980;
    v = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return scale_to_dbfs(x, dbfs);
}

/// Relative power of `freq_hz` in `x` (Goertzel), normalised by the block length.
inline double goertzel_power(std::span<const std::int16_t> x, int rate_hz, double freq_hz) {
  const double coeff = 2.0 * std::cos(2.0 * std::numbers::pi * freq_hz / rate_hz);
  double s1 = 0.0, s2 = 0.0;
  for (std::int16_t v : x) {
    const double s0 = v / 32768.0 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double n = static_cast<double>(x.size());
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n);
}

/// Sign changes from negative to non-negative: one per period of a clean tone.
inline int count_rising_zero_crossings(std::span<const std::int16_t> x) {
  int n = 0;
  for (std::size_t i = 1; i < x.size(); ++i) n += (x[i - 1] < 0 && x[i] >= 0) ? 1 : 0;
  return n;
}

/// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("parley_audio_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Checks that `r` failed with `code` and a one-line message that names `path`.
template <class T>
::testing::AssertionResult failed_with(const result<T>& r, errc code, const std::string& path) {
  if (r.has_value()) return ::testing::AssertionFailure() << "expected " << to_string(code) << ", got success";
  const auto& e = r.error();
  if (e.code != code) return ::testing::AssertionFailure() << "expected " << to_string(code) << ", got " << e.describe();
  if (e.message.find(path) == std::string::npos) return ::testing::AssertionFailure() << "message does not name the file: " << e.message;
  if (e.message.find('\n') != std::string::npos) return ::testing::AssertionFailure() << "message is not one line: " << e.message;
  return ::testing::AssertionSuccess() << e.describe();
}

/// Synthesises `text` into a WAV with `tool` ("flite" or "espeak-ng"); nullopt if the tool is
/// missing or fails.
inline std::optional<std::string> synthesize(const std::string& tool, const std::string& text, const std::string& wav_path) {
  if (std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) != 0) return std::nullopt;
  const std::string cmd = tool == "flite" ? "flite -t '" + text + "' -o '" + wav_path + "'"
                                          : tool + " -w '" + wav_path + "' '" + text + "'";
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) return std::nullopt;
  return wav_path;
}

}  // namespace parley::audio::test
