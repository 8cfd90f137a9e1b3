// audio/framer — cuts a stream of 16 kHz samples into fixed frames (default 20 ms = 320 samples).
//
// Role: input audio arrives in chunks of any size (WebSocket messages, file blocks, resampler
// output); VAD, the endpointer and ASR want equal frames. The framer hands out every complete
// frame and keeps the remainder for the next push, so no sample is lost or repeated.
// Threading: one per stream, not thread-safe.
// Ownership: the span passed to `on_frame` is valid only during that call (it points into the
// caller's chunk or the framer's own buffer); copy it to keep it.
// Units: sizes in samples; frame k covers media time [k * frame_samples, (k + 1) * frame_samples).
//
//   parley::audio::framer f;                       // 20 ms at 16 kHz
//   f.push(chunk, [&](std::span<const std::int16_t> frame) { vad.is_speech(frame); });
//   media_time t_next = f.n_frames_emitted() * f.frame_samples();
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "parley/core/clock.hpp"

namespace parley::audio {

inline constexpr int k_frame_ms = 20;
inline constexpr std::size_t k_frame_samples = static_cast<std::size_t>(k_input_rate_hz / 1000 * k_frame_ms);

class framer {
 public:
  /// `frame_samples` < 1 is treated as 1.
  explicit framer(std::size_t frame_samples = k_frame_samples)
      : frame_samples_(std::max<std::size_t>(1, frame_samples)) {
    pending_.reserve(frame_samples_);
  }

  /// Appends `samples` and calls `on_frame(std::span<const std::int16_t>)` once per completed
  /// frame, in order. Frames wholly inside `samples` are passed without copying.
  template <class OnFrame>
  void push(std::span<const std::int16_t> samples, OnFrame&& on_frame) {
    if (!pending_.empty()) {  // complete the frame started by earlier pushes
      const std::size_t n_take = std::min(frame_samples_ - pending_.size(), samples.size());
      pending_.insert(pending_.end(), samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(n_take));
      samples = samples.subspan(n_take);
      if (pending_.size() < frame_samples_) return;
      emit(std::span<const std::int16_t>(pending_), on_frame);
      pending_.clear();
    }
    while (samples.size() >= frame_samples_) {
      emit(samples.first(frame_samples_), on_frame);
      samples = samples.subspan(frame_samples_);
    }
    pending_.assign(samples.begin(), samples.end());
  }

  /// The samples waiting for the next frame (fewer than frame_samples()).
  std::span<const std::int16_t> remainder() const { return pending_; }
  std::size_t frame_samples() const { return frame_samples_; }
  std::int64_t n_frames_emitted() const { return n_frames_emitted_; }

  /// Drops the remainder and restarts the frame count.
  void reset() {
    pending_.clear();
    n_frames_emitted_ = 0;
  }

 private:
  template <class OnFrame>
  void emit(std::span<const std::int16_t> frame, OnFrame& on_frame) {
    ++n_frames_emitted_;
    on_frame(frame);
  }

  std::size_t frame_samples_;
  std::vector<std::int16_t> pending_;
  std::int64_t n_frames_emitted_ = 0;
};

}  // namespace parley::audio
