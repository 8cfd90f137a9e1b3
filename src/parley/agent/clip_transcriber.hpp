// agent/clip_transcriber — one recorded utterance through the recognizer, as a session hears it.
//
// Role: `parley transcribe FILE` and the server's POST /v1/audio/transcriptions both score what a
// user would get from a live session: the same front-end (high-pass, noise suppression, VAD), the
// endpointer's speech onset, and there the input's SNR decides between the audio as it came and
// the noise-suppressed copy (session_options::recognizer_denoised_below_snr_db). Until the onset
// both copies are held; then the recognizer gets the session's pre-roll of the chosen one and
// everything after it. The whole clip is one utterance (no endpointing inside it).
// Threading: transcribe_clip() blocks the calling thread until the recognizer's final transcript
// (or `wait`); call it off any io thread. The recognizer is shared and thread-safe (engine/).
// Cancellation: a stop request abandons the utterance (errc::cancelled) within one 20 ms frame of
// front-end work, or at once while waiting for the recognizer.
// Units: 16 kHz samples in, seconds and dB out.
//
//   auto heard = agent::transcribe_clip(*asr, clip.samples, {.frontend = config.frontend});
//   if (heard) std::cout << heard->heard.text << '\n';
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>

#include "parley/audio/frontend.hpp"
#include "parley/core/error.hpp"
#include "parley/engine/recognizer.hpp"

namespace parley::agent {

struct clip_transcriber_options {
  audio::frontend_config frontend;
  /// The recognizer always hears the noise-suppressed audio (else only below the SNR below).
  bool denoised = false;
  double denoise_below_snr_db = audio::k_asr_denoise_below_snr_db;
  double preroll_ms = 300.0;  // the audio before the onset the recognizer still gets (session_options)
  /// Bound on the wait for the recognizer's final transcript after the clip was fed.
  std::chrono::milliseconds wait{std::chrono::seconds(120)};
};

struct clip_transcription {
  engine::recognized heard;      // text "" when nothing recognisable was said
  bool speech_found = false;     // the endpointer saw speech start somewhere in the clip
  bool heard_denoised = false;   // the recognizer heard the noise-suppressed copy
  std::optional<double> snr_db;  // the input's SNR at the onset (nullopt without one)
  double duration_s = 0.0;       // the clip's length
};

/// Transcribes `samples` (16 kHz mono). Errors: the recognizer's or the front-end's
/// (engine_failure, invalid_argument), timeout after `wait`, cancelled on `stop`.
result<clip_transcription> transcribe_clip(engine::recognizer& asr, std::span<const std::int16_t> samples,
                                           const clip_transcriber_options& options, std::stop_token stop = {});

}  // namespace parley::agent
