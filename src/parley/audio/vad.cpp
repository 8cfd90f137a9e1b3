#include "parley/audio/vad.hpp"

namespace parley::audio {

webrtc_vad::webrtc_vad(frontend fe) : aggressiveness_(fe.config().vad_aggressiveness), frontend_(std::move(fe)) {}

result<webrtc_vad> webrtc_vad::create(vad_config config) {
  auto fe = frontend::create({.high_pass = false,
                              .noise_suppression = false,
                              .gain_control = false,
                              .vad_aggressiveness = config.aggressiveness,
                              .snr_gate_db = 0.0});  // the bare verdict
  if (!fe) return fe.error();
  return webrtc_vad(std::move(*fe));
}

result<double> webrtc_vad::speech_fraction(std::span<const std::int16_t> frame) {
  scratch_.assign(frame.begin(), frame.end());
  return frontend_.process(scratch_);
}

bool webrtc_vad::is_speech(std::span<const std::int16_t> frame) {
  const auto fraction = speech_fraction(frame);
  return fraction && *fraction >= 0.5;
}

void webrtc_vad::reset() { frontend_.reset(); }

}  // namespace parley::audio
