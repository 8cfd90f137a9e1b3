// engines/mock — scripted engines with realistic timing, for tests, benchmarks and demos.
//
// Role: stand-ins for ASR, LLM and TTS providers whose latency follows a profile (see
// latency_profile.hpp) and whose output is real: the recognizer returns given transcripts, the
// chat model streams a multi-sentence reply token by token, the synthesizer produces real PCM of
// plausible duration. They are NEVER the default engines; the composition root picks them only
// when asked (`--engines mock`) or while no real engine is built.
// Threading: every engine is shared and thread-safe; each request runs on its own strand of the
// executor given in the config, waiting on timers (no thread is blocked while "the provider
// thinks"), so hundreds of concurrent sessions cost almost nothing.
// Cancellation: stop requests cancel pending waits at once (see timed_job.hpp).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "parley/engine/chat_model.hpp"
#include "parley/engine/recognizer.hpp"
#include "parley/engine/synthesizer.hpp"
#include "parley/engines/mock/latency_profile.hpp"

namespace parley::mock {

// ---------------------------------------------------------------------------------------------
struct recognizer_config {
  boost::asio::any_io_executor executor;
  /// Transcript of utterance i is transcripts[i % size()]; empty list: every utterance is "".
  std::vector<std::string> transcripts;
  /// Confidence of utterance i's transcript is confidences[i % size()]; empty: none (nullopt).
  std::vector<double> confidences;
  latency_dist finalize = latency_dist::fixed(0.0);  // finish() → on_final
  /// When not empty, utterance i finalises after finalize_ms[i % size()] ms instead (tests that
  /// need transcripts to arrive in a given order).
  std::vector<double> finalize_ms;
  /// Emit partials revealing one more word per this much fed audio (0: no partials).
  double partial_every_ms = 300.0;
};

class mock_recognizer final : public engine::recognizer {
 public:
  explicit mock_recognizer(recognizer_config config);
  std::string name() const override { return "mock"; }
  engine::recognizer_caps caps() const override;
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override;
  std::uint64_t n_utterances() const { return n_opened_.load(); }
  /// What backlog_ms() answers (tests of overload admission); negative: nullopt (the default).
  void set_backlog_ms(double ms) { backlog_ms_.store(ms); }
  std::optional<double> backlog_ms() const override {
    const double ms = backlog_ms_.load();
    return ms < 0.0 ? std::nullopt : std::optional<double>(ms);
  }

 private:
  recognizer_config config_;
  std::atomic<std::uint64_t> n_opened_{0};
  std::atomic<double> backlog_ms_{-1.0};
};

// ---------------------------------------------------------------------------------------------
/// Builds the reply text for a request (default: default_mock_reply of the last user message).
using reply_fn = std::function<std::string(const engine::chat_request&)>;

/// A deterministic three-sentence reply that echoes the question.
std::string default_mock_reply(std::string_view user_text);

/// Splits text into BPE-like pieces (words with their leading space, punctuation apart, long
/// words in pieces of at most 5 bytes — which may split a UTF-8 character, as real tokenizers do).
std::vector<std::string> split_into_tokens(std::string_view text);

struct chat_config {
  boost::asio::any_io_executor executor;
  llm_profile profile = llm_profile::zero();
  reply_fn reply;            // empty: default_mock_reply
  std::uint64_t seed = 1;    // for the latency draws
};

class mock_chat_model final : public engine::chat_model {
 public:
  explicit mock_chat_model(chat_config config);
  std::string name() const override { return "mock:" + config_.profile.name; }
  engine::chat_caps caps() const override { return {true, "mock-" + config_.profile.name}; }
  void stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) override;

  std::uint64_t n_requests() const { return n_requests_.load(); }
  std::uint64_t n_tokens_sent() const { return n_tokens_.load(); }

 private:
  chat_config config_;
  std::atomic<std::uint64_t> n_requests_{0};
  std::atomic<std::uint64_t> n_tokens_{0};
};

// ---------------------------------------------------------------------------------------------
struct synthesizer_config {
  boost::asio::any_io_executor executor;
  latency_dist ttfb = latency_dist::fixed(0.0);  // request → first chunk
  double realtime_factor = 0.0;  // compute time / audio time for every later chunk (0: instant)
  int sample_rate_hz = 16000;
  double chunk_ms = 40.0;        // audio per delivered chunk
  double ms_per_char = 62.0;     // speaking rate: ~16 characters (≈ 3 words) per second
  std::uint64_t seed = 2;
};

class mock_synthesizer final : public engine::synthesizer {
 public:
  explicit mock_synthesizer(synthesizer_config config);
  std::string name() const override { return "mock"; }
  engine::synthesizer_caps caps() const override { return {config_.sample_rate_hz, true}; }
  void synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) override;

  /// Duration of the audio this synthesizer produces for `text`.
  double audio_ms_for(std::string_view text) const;
  std::uint64_t n_chunks_sent() const { return n_chunks_.load(); }
  std::uint64_t n_requests() const { return n_requests_.load(); }

 private:
  synthesizer_config config_;
  std::atomic<std::uint64_t> n_requests_{0};
  std::atomic<std::uint64_t> n_chunks_{0};
};

/// Speech-like PCM (a voiced harmonic tone with a syllable-rate envelope), deterministic.
std::vector<std::int16_t> speechlike_pcm(std::size_t n_samples, int rate_hz, std::size_t offset_samples = 0);

}  // namespace parley::mock
