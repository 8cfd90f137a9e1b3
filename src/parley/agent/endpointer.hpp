// agent/endpointer — decides when the user's turn starts and ends, from per-frame VAD decisions.
//
// Role: the silence endpointer. Speech *starts* once `min_speech_ms` of voiced frames arrive
// without a longer break than `onset_gap_ms`; the turn *ends* when `silence_ms` of unvoiced audio
// follow the last voiced frame. Plain synchronous code fed with media timestamps (the "functional
// core", DESIGN §5): no clocks, no threads, so it is tested deterministically with scripted frames.
// Threading: one per session, used on the session strand only.
// Units: media_time in samples on the 16 kHz input timeline; config in milliseconds.
//
//   endpointer ep({.silence_ms = 400});
//   for (frame : frames) switch (auto d = ep.on_frame(t, n, vad.is_speech(frame)); d.kind) { ... }
#pragma once

#include <algorithm>

#include "parley/core/clock.hpp"

namespace parley::agent {

struct endpointer_config {
  double silence_ms = 400.0;    // trailing silence that ends the turn
  double min_speech_ms = 60.0;  // voiced audio needed before speech counts as started
  double onset_gap_ms = 40.0;   // an unvoiced gap longer than this while starting resets the onset
  /// How long the VAD keeps saying "speech" after speech stops (audio::webrtc_vad::hangover_ms()).
  /// The true speech end is taken to be that much before the last voiced frame's end, and the
  /// silence threshold is counted from there, so the turn ends `silence_ms` after the real end.
  double vad_hangover_ms = 0.0;
};

struct endpoint_decision {
  enum class kind { none, speech_started, turn_ended };
  kind what = kind::none;
  media_time t_speech_start = 0;  // first voiced sample of the turn (valid for both decisions)
  media_time t_speech_end = 0;    // estimated end of speech (turn_ended only)
};

class endpointer {
 public:
  explicit endpointer(endpointer_config config = {});

  /// One classified frame covering [t_start, t_start + n_samples).
  endpoint_decision on_frame(media_time t_start, media_time n_samples, bool voiced);
  /// The input ended at `t_end`: a turn in progress ends now (its speech end is the last voiced frame).
  endpoint_decision on_end_of_input(media_time t_end);

  bool in_speech() const { return state_ == state::speech; }
  /// In a turn, the silence since its (estimated) end of speech up to media time `t_now` (ms): what
  /// the turn-ending threshold is compared with. 0 outside speech.
  double trailing_silence_ms(media_time t_now) const {
    return in_speech() ? std::max(0.0, samples_to_ms(t_now - speech_end())) : 0.0;
  }
  /// Voiced audio so far in the current turn (ms), 0 outside speech.
  double voiced_ms() const { return in_speech() ? samples_to_ms(n_voiced_) : 0.0; }
  /// The trailing silence that ends the current turn from the next frame on (content-aware
  /// endpointing re-decides it from each partial transcript, turn_end.hpp). It reverts to
  /// config().silence_ms when the turn ends. Non-positive values count as 0.
  void set_silence_ms(double ms) { silence_ms_ = ms > 0.0 ? ms : 0.0; }
  double silence_ms() const { return silence_ms_; }
  const endpointer_config& config() const { return config_; }

 private:
  enum class state { silence, onset, speech };
  endpoint_decision end_turn();
  media_time speech_end() const;

  endpointer_config config_;
  double silence_ms_ = config_.silence_ms;  // of the current turn
  state state_ = state::silence;
  media_time t_onset_ = 0;       // first voiced sample of the candidate/current turn
  media_time t_last_voiced_ = 0; // end of the last voiced frame
  media_time n_voiced_ = 0;      // voiced samples in the candidate/current turn
};

}  // namespace parley::agent
