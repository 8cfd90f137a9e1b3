#include <algorithm>
#include <map>
#include <mutex>
#include <cmath>
#include <numbers>
#include <random>

#include "parley/engines/mock/mock_engines.hpp"
#include "parley/engines/mock/timed_job.hpp"

namespace parley::mock {
namespace {

// One segment: first chunk after the sampled TTFB, then one chunk per chunk_ms * realtime_factor.
class synth_job final : public detail::timed_job {
 public:
  synth_job(const synthesizer_config& config, std::size_t n_samples, engine::synthesizer_events events,
            std::stop_token stop, std::uint64_t seed, std::atomic<std::uint64_t>& n_chunks_sent)
      : timed_job(config.executor, std::move(stop)),
        config_(config),
        n_samples_(n_samples),
        chunk_samples_(std::max<std::size_t>(1, static_cast<std::size_t>(config.chunk_ms * config.sample_rate_hz / 1000.0))),
        events_(std::move(events)),
        rng_(seed),
        n_chunks_sent_(n_chunks_sent) {}

  void start() {
    watch_stop();
    after(config_.ttfb.sample(rng_), [this] { send_next(); });
  }

 private:
  void send_next() {
    const double gap_ms = config_.chunk_ms * config_.realtime_factor;
    do {
      if (stop_requested()) return on_stopped();
      const std::size_t n = std::min(chunk_samples_, n_samples_ - sent_);
      const auto pcm = speechlike_pcm(n, config_.sample_rate_hz, sent_);
      sent_ += n;
      n_chunks_sent_.fetch_add(1, std::memory_order_relaxed);
      if (events_.on_audio) events_.on_audio(pcm);
    } while (gap_ms <= 0.0 && sent_ < n_samples_);
    if (sent_ >= n_samples_) return finish({});
    after(gap_ms, [this] { send_next(); });
  }

  void on_stopped() override { finish(make_error(errc::cancelled, "synthesis cancelled")); }

  void finish(status s) {
    if (done_) return;
    done_ = true;
    release_stop();
    if (events_.on_done) events_.on_done(std::move(s));
    events_ = {};
  }

  synthesizer_config config_;
  std::size_t n_samples_;
  std::size_t chunk_samples_;
  engine::synthesizer_events events_;
  std::mt19937_64 rng_;
  std::atomic<std::uint64_t>& n_chunks_sent_;
  std::size_t sent_ = 0;
  bool done_ = false;
};

}  // namespace

namespace {

// Two seconds of the voice: a whole number of 4 Hz syllable envelopes, so it loops without a click.
constexpr double k_voice_loop_s = 2.0;

std::vector<std::int16_t> make_voice_loop(int rate_hz) {
  // Five harmonics of a slowly gliding ~120 Hz voice, shaped by a 4 Hz "syllable" envelope.
  const auto n = static_cast<std::size_t>(k_voice_loop_s * rate_hz);
  std::vector<std::int16_t> pcm(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate_hz;
    const double f0 = 120.0 + 15.0 * std::sin(2.0 * std::numbers::pi * t / k_voice_loop_s);
    double v = 0.0;
    for (int h = 1; h <= 5; ++h) v += std::sin(2.0 * std::numbers::pi * f0 * h * t) / h;
    const double envelope = std::pow(std::sin(std::numbers::pi * 4.0 * t), 2.0);
    pcm[i] = static_cast<std::int16_t>(std::lround(6000.0 * envelope * v));
  }
  return pcm;
}

// The loop is computed once per rate: a mock provider must not spend the CPU that a remote one
// would spend elsewhere (it would distort every benchmark run on the same machine).
const std::vector<std::int16_t>& voice_loop(int rate_hz) {
  static std::mutex mutex;
  static std::map<int, std::vector<std::int16_t>> loops;
  std::lock_guard lock(mutex);
  auto it = loops.find(rate_hz);
  if (it == loops.end()) it = loops.emplace(rate_hz, make_voice_loop(rate_hz)).first;
  return it->second;
}

}  // namespace

std::vector<std::int16_t> speechlike_pcm(std::size_t n_samples, int rate_hz, std::size_t offset_samples) {
  const auto& loop = voice_loop(rate_hz);
  std::vector<std::int16_t> pcm;
  pcm.reserve(n_samples);
  std::size_t at = offset_samples % loop.size();
  while (pcm.size() < n_samples) {  // whole runs of the loop: a copy, not a modulo per sample
    const std::size_t n = std::min(n_samples - pcm.size(), loop.size() - at);
    pcm.insert(pcm.end(), loop.begin() + static_cast<std::ptrdiff_t>(at), loop.begin() + static_cast<std::ptrdiff_t>(at + n));
    at = 0;
  }
  return pcm;
}

mock_synthesizer::mock_synthesizer(synthesizer_config config) : config_(std::move(config)) {}

double mock_synthesizer::audio_ms_for(std::string_view text) const {
  return std::max(250.0, static_cast<double>(text.size()) * config_.ms_per_char);
}

void mock_synthesizer::synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) {
  const auto index = n_requests_.fetch_add(1);
  const auto n_samples = static_cast<std::size_t>(audio_ms_for(text) * config_.sample_rate_hz / 1000.0);
  auto job = std::make_shared<synth_job>(config_, n_samples, std::move(events), std::move(stop),
                                         config_.seed * 1000003 + index, n_chunks_);
  job->start();
}

}  // namespace parley::mock
