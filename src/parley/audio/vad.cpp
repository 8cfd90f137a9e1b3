#include "parley/audio/vad.hpp"

#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

#include <array>
#include <string>

#include "parley/core/clock.hpp"

namespace parley::audio {
namespace {

constexpr std::size_t k_step_samples = k_input_rate_hz / 100;  // the 10 ms unit WebRTC works in

// Aggressiveness 0..3 -> Likelihood. webrtc's VoiceDetectionImpl maps these to VAD modes
// kHighLikelihood=0 .. kVeryLowLikelihood=3, so aggressiveness equals the WebRTC VAD mode.
constexpr std::array<webrtc::VoiceDetection::Likelihood, 4> k_likelihood_by_aggressiveness = {
    webrtc::VoiceDetection::kHighLikelihood, webrtc::VoiceDetection::kModerateLikelihood,
    webrtc::VoiceDetection::kLowLikelihood, webrtc::VoiceDetection::kVeryLowLikelihood};

}  // namespace

struct webrtc_vad::impl {
  std::unique_ptr<webrtc::AudioProcessing> apm;
  webrtc::AudioFrame frame;  // reused: ~8 KB, kept off the caller's stack
  webrtc::VoiceDetection::Likelihood likelihood = webrtc::VoiceDetection::kLowLikelihood;

  /// (Re)initialises the processing chain (which also resets the VAD state) with only the VAD
  /// enabled, 16 kHz mono, 10 ms VAD frames. Returns the first non-zero webrtc error code.
  int configure() {
    constexpr auto mono = webrtc::AudioProcessing::kMono;
    int err = apm->Initialize(k_input_rate_hz, k_input_rate_hz, k_input_rate_hz, mono, mono, mono);
    webrtc::VoiceDetection* vd = apm->voice_detection();
    // 10 ms: in 0.3 the VAD reads frame_size_ms of one 10 ms capture block, so larger sizes
    // would read past it.
    if (err == 0) err = vd->set_frame_size_ms(10);
    if (err == 0) err = vd->set_likelihood(likelihood);
    if (err == 0) err = vd->Enable(true);
    return err;
  }

  /// Runs one 10 ms step; returns 1 voiced, 0 not voiced, < 0 a webrtc error code.
  int classify_step(const std::int16_t* samples) {
    frame.UpdateFrame(0, 0, samples, k_step_samples, k_input_rate_hz, webrtc::AudioFrame::kNormalSpeech,
                      webrtc::AudioFrame::kVadUnknown, 1);
    const int err = apm->ProcessStream(&frame);
    if (err != 0) return err < 0 ? err : -err;
    return apm->voice_detection()->stream_has_voice() ? 1 : 0;
  }
};

webrtc_vad::webrtc_vad(int aggressiveness, std::unique_ptr<impl> state)
    : aggressiveness_(aggressiveness), impl_(std::move(state)) {}
webrtc_vad::webrtc_vad(webrtc_vad&&) noexcept = default;
webrtc_vad& webrtc_vad::operator=(webrtc_vad&&) noexcept = default;
webrtc_vad::~webrtc_vad() = default;

result<webrtc_vad> webrtc_vad::create(vad_config config) {
  if (config.aggressiveness < 0 || config.aggressiveness > 3) {
    return make_error(errc::invalid_argument,
                      "vad: aggressiveness must be 0..3, got " + std::to_string(config.aggressiveness));
  }
  webrtc::Config apm_config;
  // The experimental AGC is on by default in 0.3; parley uses none of the gain control.
  apm_config.Set<webrtc::ExperimentalAgc>(new webrtc::ExperimentalAgc(false));
  auto state = std::make_unique<impl>();
  state->apm.reset(webrtc::AudioProcessing::Create(apm_config));
  if (!state->apm) return make_error(errc::engine_failure, "vad: webrtc::AudioProcessing::Create failed");
  state->likelihood = k_likelihood_by_aggressiveness[static_cast<std::size_t>(config.aggressiveness)];
  if (const int err = state->configure(); err != 0) {
    return make_error(errc::engine_failure, "vad: webrtc AudioProcessing setup failed with error " + std::to_string(err));
  }
  return webrtc_vad(config.aggressiveness, std::move(state));
}

result<double> webrtc_vad::speech_fraction(std::span<const std::int16_t> frame) {
  const std::size_t n_steps = frame.size() / k_step_samples;
  if (frame.size() % k_step_samples != 0 || n_steps < 1 || n_steps > 3) {
    return make_error(errc::invalid_argument, "vad: a frame must be 10, 20 or 30 ms at 16 kHz (160, 320 or 480 samples), got " +
                                                  std::to_string(frame.size()) + " samples");
  }
  if (!impl_) return make_error(errc::internal, "vad: used after being moved from");
  int n_voiced = 0;
  for (std::size_t i = 0; i < n_steps; ++i) {
    const int voiced = impl_->classify_step(frame.data() + i * k_step_samples);
    if (voiced < 0) return make_error(errc::engine_failure, "vad: webrtc ProcessStream failed with error " + std::to_string(voiced));
    n_voiced += voiced;
  }
  return static_cast<double>(n_voiced) / static_cast<double>(n_steps);
}

bool webrtc_vad::is_speech(std::span<const std::int16_t> frame) {
  const auto fraction = speech_fraction(frame);
  return fraction && *fraction >= 0.5;
}

void webrtc_vad::reset() {
  if (impl_) (void)impl_->configure();
}

}  // namespace parley::audio
