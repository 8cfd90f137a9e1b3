// audio/frontend — the 16 kHz input path before VAD decisions and ASR: WebRTC audio processing.
//
// Role: one `frontend` per session cleans each input frame in place — high-pass filter (removes
// rumble and DC), noise suppression, gain control (fixed digital gain with a limiter; the 0.3
// adaptive mode did not raise quiet speech in our tests) — and classifies
// it with the WebRTC VAD, all in one webrtc::AudioProcessing instance (Debian's
// webrtc-audio-processing 0.3). Each stage can be switched off; with all off it is the bare VAD
// (see vad.hpp, which is built on it).
// Threading: not thread-safe; one per session, used on the session strand. Movable.
// A level gate (snr_gate_db) then keeps only the voiced steps that stand out of the noise floor.
// Units: 16 kHz mono PCM16 frames of 10, 20 or 30 ms; the verdict is the fraction of voiced
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

/// Below this input SNR (frontend::snr_db) a session's recognizer hears the cleaned audio instead
/// of the raw input (chosen with parley_asr_bench --denoise auto; docs/benchmarks.md).
inline constexpr double k_asr_denoise_below_snr_db = 25.0;

struct frontend_config {
  bool high_pass = true;           // high-pass filter (~80 Hz)
  bool noise_suppression = true;   // stationary noise suppression
  int noise_suppression_level = 2; // 0 low, 1 moderate, 2 high (default: fixes endpointing at 20 dB SNR), 3 very high
  bool gain_control = false;       // digital gain: +12 dB through a limiter (quiet microphones)
  int vad_aggressiveness = 2;      // 0 (least) .. 3 (most aggressive at rejecting non-speech)
  /// Level gate on the VAD: a 10 ms step counts as voiced only if the VAD says so *and* its level
  /// after cleaning is this many dB above the noise floor (the 10th percentile of the last 1.5 s
  /// of step levels). In 10 dB SNR noise the VAD alone keeps hearing speech in the noise after
  /// the words end; the gate stops that, and it also drops the VAD's own hangover, so
  /// hangover_ms() is 0 with it. <= 0: off (the bare VAD verdict).
  double snr_gate_db = 8.0;
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
  /// Forgets the adapted noise model, gain, VAD state and level history.
  void reset();
  /// The input's signal-to-noise ratio as heard so far, in dB: the level of recent speech (a slow
  /// average of the raw level of steps that passed the gate) less the raw noise floor (10th
  /// percentile of the last 1.5 s). +infinity before any speech, or with the gate off. The
  /// session uses it to decide, per turn, whether the recognizer hears the cleaned audio.
  double snr_db() const;
  const frontend_config& config() const { return config_; }
  /// How long the verdict keeps saying "speech" after speech stops: WebRTC's built-in overhang,
  /// or 0 with the level gate (the overhang's steps are at the noise floor, so the gate drops them).
  int hangover_ms() const {
    if (config_.snr_gate_db > 0.0) return 0;
    return config_.vad_aggressiveness <= 1 ? 140 : 90;
  }

 private:
  struct impl;
  frontend(frontend_config config, std::unique_ptr<impl> state);
  frontend_config config_;
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::audio
