// audio/frontend — the 16 kHz input path before VAD decisions and ASR: WebRTC audio processing.
//
// Role: one `frontend` per session cleans each input frame in place — high-pass filter (removes
// rumble and DC), noise suppression, gain control (fixed digital gain with a limiter; the 0.3
// adaptive mode did not raise quiet speech in our tests) — and classifies
// it with the WebRTC VAD, all in one webrtc::AudioProcessing instance (Debian's
// webrtc-audio-processing 0.3). Each stage can be switched off; with all off it is the bare VAD
// (see vad.hpp, which is built on it).
// Threading: not thread-safe; one per session, used on the session strand. Movable.
// Units: 16 kHz mono PCM16 frames of 10, 20 or 30 ms; the VAD verdict is the fraction of voiced
// 10 ms steps in the frame.
//
//   auto fe = audio::frontend::create({.noise_suppression = true});
//   auto voiced = fe->process(frame);   // frame is cleaned in place
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "parley/core/error.hpp"

namespace parley::audio {

struct frontend_config {
  bool high_pass = true;           // high-pass filter (~80 Hz)
  bool noise_suppression = true;   // stationary noise suppression
  int noise_suppression_level = 2; // 0 low, 1 moderate, 2 high (default: fixes endpointing at 20 dB SNR), 3 very high
  bool gain_control = false;       // digital gain: +12 dB through a limiter (quiet microphones)
  int vad_aggressiveness = 2;      // 0 (least) .. 3 (most aggressive at rejecting non-speech)
};

class frontend {
 public:
  static result<frontend> create(frontend_config config = {});
  frontend(frontend&&) noexcept;
  frontend& operator=(frontend&&) noexcept;
  ~frontend();

  /// Cleans one frame (10, 20 or 30 ms at 16 kHz) in place; returns the fraction of its 10 ms
  /// steps the VAD found voiced. A wrong frame length is errc::invalid_argument (frame untouched).
  result<double> process(std::span<std::int16_t> frame);
  /// Forgets the adapted noise model, gain and VAD state.
  void reset();
  const frontend_config& config() const { return config_; }
  /// How long the VAD keeps saying "speech" after speech stops (WebRTC's built-in overhang).
  int hangover_ms() const { return config_.vad_aggressiveness <= 1 ? 140 : 90; }

 private:
  struct impl;
  frontend(frontend_config config, std::unique_ptr<impl> state);
  frontend_config config_;
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::audio
