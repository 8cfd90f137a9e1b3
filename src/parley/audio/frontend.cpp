#include "parley/audio/frontend.hpp"

#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "parley/core/clock.hpp"

namespace parley::audio {
namespace {

constexpr std::size_t k_step_samples = k_input_rate_hz / 100;  // the 10 ms unit WebRTC works in
constexpr std::size_t k_floor_steps = 150;                       // the noise floor looks back 1.5 s
constexpr double k_floor_quantile = 0.10;

// Mean power of a step in dB (full scale 16-bit = 90.3 dB; digital silence = -90 dB).
double level_db(const std::int16_t* samples, std::size_t n) {
  double energy = 0.0;
  for (std::size_t i = 0; i < n; ++i) energy += static_cast<double>(samples[i]) * samples[i];
  return 10.0 * std::log10(energy / static_cast<double>(n) + 1e-9);
}

// Aggressiveness 0..3 -> Likelihood. webrtc's VoiceDetectionImpl maps these to VAD modes
// kHighLikelihood=0 .. kVeryLowLikelihood=3, so aggressiveness equals the WebRTC VAD mode.
constexpr std::array<webrtc::VoiceDetection::Likelihood, 4> k_likelihood_by_aggressiveness = {
    webrtc::VoiceDetection::kHighLikelihood, webrtc::VoiceDetection::kModerateLikelihood,
    webrtc::VoiceDetection::kLowLikelihood, webrtc::VoiceDetection::kVeryLowLikelihood};

constexpr std::array<webrtc::NoiseSuppression::Level, 4> k_ns_levels = {
    webrtc::NoiseSuppression::kLow, webrtc::NoiseSuppression::kModerate, webrtc::NoiseSuppression::kHigh,
    webrtc::NoiseSuppression::kVeryHigh};

}  // namespace

struct frontend::impl {
  std::unique_ptr<webrtc::AudioProcessing> apm;
  webrtc::AudioFrame frame;  // reused: ~8 KB, kept off the caller's stack
  frontend_config config;
  // The level gate's history: the last k_floor_steps step levels (a ring), and the same levels
  // kept sorted, so the floor (a quantile) is read off directly instead of selected every step.
  std::array<float, k_floor_steps> levels{};
  std::array<float, k_floor_steps> sorted_levels{};
  std::size_t n_levels = 0;
  std::size_t next_level = 0;
  // The same for the raw input's levels, and the slow average of the raw level of gated speech.
  std::array<float, k_floor_steps> raw_levels{};
  double speech_db = 0.0;
  bool heard_speech = false;

  /// Records a cleaned step's level; true when it stands snr_gate_db above the noise floor.
  bool above_floor(const std::int16_t* samples) {
    const auto level = static_cast<float>(level_db(samples, k_step_samples));
    const auto sorted_begin = sorted_levels.begin();
    if (n_levels == k_floor_steps) {  // the oldest level leaves the window
      const auto end = sorted_begin + static_cast<std::ptrdiff_t>(n_levels);
      const auto gone = std::lower_bound(sorted_begin, end, levels[next_level]);
      std::copy(gone + 1, end, gone);
      --n_levels;
    }
    const auto end = sorted_begin + static_cast<std::ptrdiff_t>(n_levels);
    const auto at = std::upper_bound(sorted_begin, end, level);
    std::copy_backward(at, end, end + 1);
    *at = level;
    ++n_levels;
    levels[next_level] = level;
    next_level = (next_level + 1) % k_floor_steps;
    const auto k = static_cast<std::size_t>(k_floor_quantile * static_cast<double>(n_levels - 1));
    return level > sorted_levels[k] + config.snr_gate_db;
  }

  /// (Re)initialises the chain (which also resets its state): 16 kHz mono, 10 ms VAD frames.
  /// Returns the first non-zero webrtc error code.
  int configure() {
    constexpr auto mono = webrtc::AudioProcessing::kMono;
    int err = apm->Initialize(k_input_rate_hz, k_input_rate_hz, k_input_rate_hz, mono, mono, mono);
    // 10 ms: in 0.3 the VAD reads frame_size_ms of one 10 ms capture block, so larger sizes
    // would read past it.
    auto* vd = apm->voice_detection();
    if (err == 0) err = vd->set_frame_size_ms(10);
    if (err == 0) err = vd->set_likelihood(k_likelihood_by_aggressiveness[static_cast<std::size_t>(config.vad_aggressiveness)]);
    if (err == 0) err = vd->Enable(true);
    if (err == 0) err = apm->high_pass_filter()->Enable(config.high_pass);
    if (err == 0 && config.noise_suppression) {
      err = apm->noise_suppression()->set_level(k_ns_levels[static_cast<std::size_t>(config.noise_suppression_level)]);
    }
    if (err == 0) err = apm->noise_suppression()->Enable(config.noise_suppression);
    if (err == 0 && config.gain_control) err = apm->gain_control()->set_mode(webrtc::GainControl::kFixedDigital);
    if (err == 0 && config.gain_control) err = apm->gain_control()->set_compression_gain_db(12);
    if (err == 0) err = apm->gain_control()->Enable(config.gain_control);
    return err;
  }

  /// Runs one 10 ms step in place; returns 1 voiced, 0 not voiced, < 0 a webrtc error code.
  int process_step(std::int16_t* samples) {
    const double raw_db = level_db(samples, k_step_samples);
    raw_levels[next_level] = static_cast<float>(raw_db);  // same slot as the cleaned level below
    frame.UpdateFrame(0, 0, samples, k_step_samples, k_input_rate_hz, webrtc::AudioFrame::kNormalSpeech,
                      webrtc::AudioFrame::kVadUnknown, 1);
    const int err = apm->ProcessStream(&frame);
    if (err != 0) return err < 0 ? err : -err;
    std::copy_n(frame.data_, k_step_samples, samples);
    const bool voiced = apm->voice_detection()->stream_has_voice();
    if (config.snr_gate_db <= 0.0) return voiced ? 1 : 0;
    const bool loud = above_floor(samples);  // every step feeds the floor, voiced or not
    if (voiced && loud) {
      speech_db = heard_speech ? speech_db + 0.1 * (raw_db - speech_db) : raw_db;
      heard_speech = true;
    }
    return voiced && loud ? 1 : 0;
  }
};

frontend::frontend(frontend_config config, std::unique_ptr<impl> state) : config_(config), impl_(std::move(state)) {}
frontend::frontend(frontend&&) noexcept = default;
frontend& frontend::operator=(frontend&&) noexcept = default;
frontend::~frontend() = default;

result<frontend> frontend::create(frontend_config config) {
  if (config.vad_aggressiveness < 0 || config.vad_aggressiveness > 3) {
    return make_error(errc::invalid_argument,
                      "vad: aggressiveness must be 0..3, got " + std::to_string(config.vad_aggressiveness));
  }
  if (config.noise_suppression_level < 0 || config.noise_suppression_level > 3) {
    return make_error(errc::invalid_argument,
                      "noise suppression level must be 0..3, got " + std::to_string(config.noise_suppression_level));
  }
  if (!std::isfinite(config.snr_gate_db) || config.snr_gate_db > 40.0) {
    return make_error(errc::invalid_argument,
                      "level gate must be at most 40 dB above the noise floor (0 or less: off), got " +
                          std::to_string(config.snr_gate_db));
  }
  webrtc::Config apm_config;
  // The experimental (analog) AGC is on by default in 0.3; parley only ever uses the digital one.
  apm_config.Set<webrtc::ExperimentalAgc>(new webrtc::ExperimentalAgc(false));
  auto state = std::make_unique<impl>();
  state->apm.reset(webrtc::AudioProcessing::Create(apm_config));
  if (!state->apm) return make_error(errc::engine_failure, "audio front-end: webrtc::AudioProcessing::Create failed");
  state->config = config;
  if (const int err = state->configure(); err != 0) {
    return make_error(errc::engine_failure, "audio front-end: webrtc setup failed with error " + std::to_string(err));
  }
  return frontend(config, std::move(state));
}

result<double> frontend::process(std::span<std::int16_t> frame) {
  const std::size_t n_steps = frame.size() / k_step_samples;
  if (frame.size() % k_step_samples != 0 || n_steps < 1 || n_steps > 3) {
    return make_error(errc::invalid_argument, "vad: a frame must be 10, 20 or 30 ms at 16 kHz (160, 320 or 480 samples), got " +
                                                  std::to_string(frame.size()) + " samples");
  }
  if (!impl_) return make_error(errc::internal, "audio front-end: used after being moved from");
  int n_voiced = 0;
  for (std::size_t i = 0; i < n_steps; ++i) {
    const int voiced = impl_->process_step(frame.data() + i * k_step_samples);
    if (voiced < 0) return make_error(errc::engine_failure, "audio front-end: webrtc ProcessStream failed with error " + std::to_string(voiced));
    n_voiced += voiced;
  }
  return static_cast<double>(n_voiced) / static_cast<double>(n_steps);
}

void frontend::reset() {
  if (!impl_) return;
  (void)impl_->configure();
  impl_->n_levels = 0;
  impl_->next_level = 0;
  impl_->heard_speech = false;
}

double frontend::snr_db() const {
  if (!impl_ || !impl_->heard_speech || impl_->n_levels == 0) return std::numeric_limits<double>::infinity();
  std::array<float, k_floor_steps> sorted{};
  std::copy_n(impl_->raw_levels.begin(), impl_->n_levels, sorted.begin());
  const auto k = static_cast<std::ptrdiff_t>(k_floor_quantile * static_cast<double>(impl_->n_levels - 1));
  std::nth_element(sorted.begin(), sorted.begin() + k, sorted.begin() + static_cast<std::ptrdiff_t>(impl_->n_levels));
  return impl_->speech_db - sorted[static_cast<std::size_t>(k)];
}

}  // namespace parley::audio
