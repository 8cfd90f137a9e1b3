#include <boost/asio/post.hpp>
#include <mutex>
#include <random>
#include <sstream>

#include "parley/core/clock.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/engines/mock/timed_job.hpp"

namespace parley::mock {
namespace {

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(std::move(w));
  return words;
}

// One utterance. Partials are delivered synchronously from feed() (the caller's strand); the final
// transcript is delivered after the finalisation delay on the job's strand. A mutex around the
// callbacks makes cancel() a hard barrier: no callback runs after it returns.
// Owns the stream's stop source; a base so it is constructed before timed_job, which needs its token.
struct stop_owner {
  std::stop_source stop_source_;
};

class mock_stream final : public engine::recognizer_stream, private stop_owner, public detail::timed_job {
 public:
  mock_stream(const recognizer_config& config, engine::recognized transcript, engine::recognizer_events events,
              latency_dist finalize, std::uint64_t seed)
      : timed_job(config.executor, stop_source_.get_token()),
        config_(config),
        finalize_(finalize),
        transcript_(std::move(transcript)),
        words_(words_of(transcript_.text)),
        events_(std::move(events)),
        rng_(seed) {}

  ~mock_stream() override { stop_source_.request_stop(); }

  void feed(std::span<const std::int16_t> samples) override {
    fed_ms_ += samples_to_ms(static_cast<media_time>(samples.size()));
    if (config_.partial_every_ms <= 0.0 || words_.empty()) return;
    const auto n_words = std::min(words_.size(), static_cast<std::size_t>(fed_ms_ / config_.partial_every_ms));
    if (n_words <= n_partial_words_) return;
    n_partial_words_ = n_words;
    std::string partial;
    for (std::size_t i = 0; i < n_words; ++i) partial += (i ? " " : "") + words_[i];
    const double stability = static_cast<double>(n_words) / static_cast<double>(words_.size());
    std::lock_guard lock(mutex_);
    if (events_.on_partial) events_.on_partial(std::move(partial), stability);
  }

  void finish() override {
    watch_stop();
    after(finalize_.sample(rng_), [this] { deliver(transcript_); });
  }

  void cancel() override {
    stop_source_.request_stop();
    std::lock_guard lock(mutex_);
    events_ = {};
  }

 private:
  void on_stopped() override { release_stop(); }

  void deliver(result<engine::recognized> final) {
    release_stop();
    std::lock_guard lock(mutex_);
    if (events_.on_final) events_.on_final(std::move(final));
    events_ = {};
  }

  recognizer_config config_;
  latency_dist finalize_;  // this utterance's: config.finalize, or its finalize_ms entry
  engine::recognized transcript_;
  std::vector<std::string> words_;
  std::mutex mutex_;
  engine::recognizer_events events_;
  std::mt19937_64 rng_;
  double fed_ms_ = 0.0;
  std::size_t n_partial_words_ = 0;
};

}  // namespace

mock_recognizer::mock_recognizer(recognizer_config config) : config_(std::move(config)) {}

engine::recognizer_caps mock_recognizer::caps() const {
  return {k_input_rate_hz, true, config_.partial_every_ms > 0.0};
}

result<std::unique_ptr<engine::recognizer_stream>> mock_recognizer::open(engine::recognizer_events events) {
  const auto index = n_opened_.fetch_add(1);
  engine::recognized transcript;
  if (!config_.transcripts.empty()) transcript.text = config_.transcripts[index % config_.transcripts.size()];
  if (!config_.confidences.empty()) transcript.confidence = config_.confidences[index % config_.confidences.size()];
  // The stream is owned by the caller but its pending timer needs shared ownership: the job keeps
  // a shared_ptr to itself while waiting. We hand out a unique_ptr facade over the shared job.
  const latency_dist finalize = config_.finalize_ms.empty()
                                    ? config_.finalize
                                    : latency_dist::fixed(config_.finalize_ms[index % config_.finalize_ms.size()]);
  auto job = std::make_shared<mock_stream>(config_, std::move(transcript), std::move(events), finalize, index + 7);
  struct owner final : engine::recognizer_stream {
    explicit owner(std::shared_ptr<mock_stream> s) : stream(std::move(s)) {}
    ~owner() override { stream->cancel(); }
    void feed(std::span<const std::int16_t> samples) override { stream->feed(samples); }
    void finish() override { stream->finish(); }
    void cancel() override { stream->cancel(); }
    std::shared_ptr<mock_stream> stream;
  };
  return std::unique_ptr<engine::recognizer_stream>(std::make_unique<owner>(std::move(job)));
}

}  // namespace parley::mock
