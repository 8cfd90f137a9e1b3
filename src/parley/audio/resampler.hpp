// audio/resampler — sample-rate conversion of mono int16 audio (libsoxr, "HQ" 20-bit quality).
//
// Role: brings any input (browser mic at 48 kHz, files, TTS voices at 8/22.05 kHz) to the rate a
// consumer needs (16 kHz for VAD/ASR, the client's rate for playout).
// Tuning: linear phase, so output sample n lies exactly at input time n / out_rate_hz and media
// time stays true; small DFT blocks, so a stream fed 20 ms chunks holds back only ~15 ms at
// 48k->16k and 44.1k->16k (~50 ms at 8k->16k); no dither, so digital silence stays silent.
// Threading: a `resampler` is a per-stream object, not thread-safe; move it between threads only
// when idle. `resample()` is reentrant.
// Ownership: `process`/`flush` return fresh vectors; input spans are only read during the call.
// Cancellation: none needed; each call is bounded by its input size. reset() drops held audio.
// Units: rates in Hz; sample counts are mono samples.
//
//   auto rs = parley::audio::resampler::create(48000, 16000);
//   if (!rs) return rs.error();
//   for (auto chunk : mic_chunks) consume(rs->process(chunk));   // whatever is ready now
//   consume(rs->flush());                                        // the held-back tail
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::audio {

class resampler {
 public:
  /// Fails with errc::invalid_argument for rates outside [k_min_rate_hz, k_max_rate_hz].
  /// Equal rates make a pass-through that copies.
  static result<resampler> create(int in_rate_hz, int out_rate_hz);

  resampler(resampler&&) noexcept;
  resampler& operator=(resampler&&) noexcept;
  ~resampler();

  /// Feeds `samples` (at in_rate_hz) and returns every output sample that is ready (at out_rate_hz).
  /// Ends a stream only with flush(); an empty span is a no-op.
  std::vector<std::int16_t> process(std::span<const std::int16_t> samples);

  /// Ends the stream: returns the held-back tail and resets, so the next process() starts a new
  /// stream. Over a whole stream, n_out == round(n_in * out_rate_hz / in_rate_hz).
  std::vector<std::int16_t> flush();

  /// Drops any held-back audio and starts a new stream.
  void reset();

  int in_rate_hz() const { return in_rate_hz_; }
  int out_rate_hz() const { return out_rate_hz_; }

 private:
  struct impl;
  resampler(int in_rate_hz, int out_rate_hz, std::unique_ptr<impl> state);

  int in_rate_hz_;
  int out_rate_hz_;
  std::unique_ptr<impl> impl_;  // null for a pass-through (equal rates) or a moved-from object
};

/// One-shot conversion of a whole signal; identical to one resampler's process() + flush().
/// Fails with errc::invalid_argument for rates outside [k_min_rate_hz, k_max_rate_hz].
result<std::vector<std::int16_t>> resample(std::span<const std::int16_t> samples, int in_rate_hz,
                                           int out_rate_hz);

}  // namespace parley::audio
