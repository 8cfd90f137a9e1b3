// audio/vad — voice activity detection with the WebRTC VAD (webrtc-audio-processing 0.3).
//
// Role: classifies 16 kHz input frames as speech or not; the endpointer builds speech start/end
// (and t_speech_end, the reference point of TTFA) on top of it. It is the GMM-based WebRTC VAD
// run through webrtc::AudioProcessing's voice_detection(), in 10 ms steps.
// Aggressiveness (how hard it rejects non-speech; = the WebRTC VAD mode):
//   0 -> VoiceDetection::kHighLikelihood     (mode 0, "quality": keeps the most speech)
//   1 -> VoiceDetection::kModerateLikelihood (mode 1, "low bitrate")
//   2 -> VoiceDetection::kLowLikelihood      (mode 2, "aggressive"; the default)
//   3 -> VoiceDetection::kVeryLowLikelihood  (mode 3, "very aggressive")
// Behaviour to know (measured in tests/audio/vad_test.cpp):
//  - digital silence is never speech;
//  - the detector adapts its noise model, so the first ~100 ms of a new steady noise floor (e.g.
//    white noise at -50 dBFS after silence) can read as speech before it is rejected; at
//    aggressiveness 0-1 low pink noise (-50 dBFS) also triggers occasional ~100 ms bursts, at 2-3
//    it does not;
//  - after speech stops it keeps saying speech for a hangover of up to hangover_ms() (WebRTC's
//    overhang: 140 ms at aggressiveness 0-1, 90 ms at 2-3). The last voiced frame therefore lies
//    up to that long after the true end of speech; an endpointer estimating t_speech_end should
//    subtract it. Onsets are not delayed (first voiced frame within 20 ms of speech start).
// Threading: one per session, not thread-safe; movable (move only while idle).
// Ownership: owns its webrtc::AudioProcessing instance; frames are only read during a call.
// Cost: ~4 us of CPU per 20 ms frame, ~0.02% of a core per stream (bench/micro/audio_bench.cpp).
// Units: frames of 10, 20 or 30 ms at 16 kHz (160, 320 or 480 samples).
//
//   auto vad = parley::audio::webrtc_vad::create({.aggressiveness = 2});
//   if (!vad) return vad.error();
//   framer.push(chunk, [&](auto frame) { if (vad->is_speech(frame)) on_voiced(frame); });
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "parley/audio/frontend.hpp"
#include "parley/core/error.hpp"

namespace parley::audio {

struct vad_config {
  int aggressiveness = 2;  // 0 (least) .. 3 (most aggressive at rejecting non-speech)
};

class webrtc_vad {
 public:
  /// 16 kHz only. invalid_argument for aggressiveness outside 0..3; engine_failure if WebRTC
  /// refuses to initialise.
  static result<webrtc_vad> create(vad_config config = {});


  /// Classifies one frame of 10, 20 or 30 ms at 16 kHz (internally in 10 ms steps). Returns a
  /// p_speech-like value: the fraction of 10 ms sub-frames voiced (0, 1/3, 0.5, 2/3, 1).
  /// Wrong frame length -> errc::invalid_argument; a WebRTC failure -> errc::engine_failure.
  result<double> speech_fraction(std::span<const std::int16_t> frame);

  /// speech_fraction(frame) >= 0.5; false on error.
  bool is_speech(std::span<const std::int16_t> frame);

  /// Forgets the adapted noise model and hangover: the next frame is classified as by a new VAD.
  void reset();

  int aggressiveness() const { return aggressiveness_; }
  /// The longest the VAD keeps saying speech after speech stops: 140 ms at aggressiveness 0-1,
  /// 90 ms at 2-3 (kOverHangMax2 in webrtc's vad_core.c: 14 or 9 steps of 10 ms).
  int hangover_ms() const { return frontend_.hangover_ms(); }

 private:
  explicit webrtc_vad(frontend fe);

  int aggressiveness_;
  frontend frontend_;  // every processing stage off: only its VAD
  std::vector<std::int16_t> scratch_;  // the frontend works in place; callers' frames are const
};

}  // namespace parley::audio
