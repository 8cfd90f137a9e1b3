// routing/speech_fallback — a recognizer and a synthesizer over an ordered chain of speech
// providers (e.g. a cloud or second-server recognizer, then the embedded one), with fallback.
//
// Role: each utterance (recognizer) or text segment (synthesizer) goes to the first provider whose
// provider_health is healthy (or grants a probe); the last provider is always eligible. Each
// provider's health is fed: record_ttft_ms() with its time to the final transcript (after
// finish()) or to its first audio, record_error() when it fails or runs past the budget.
//   fallback_recognizer  keeps a copy of the utterance's audio (at most max_utterance_s). When the
//       provider fails, or gives no final transcript within budget_ms of finish(), it is cancelled
//       and the next one gets the whole utterance at once. The session never hears a partial of a
//       provider that was abandoned (partials come only from the provider in use).
//   fallback_synthesizer  when the provider fails, or gives no audio within budget_ms of the
//       request, the next one speaks the text. When it fails after some audio was delivered, the
//       next one speaks only the words not yet heard: the text is cut at the first word boundary
//       past the share of it the delivered audio covers (at ms_per_char), so no word is ever
//       repeated — at worst the word being spoken is lost. Audio of every provider is resampled to
//       the first provider's rate (caps()).
// Threading: shared and thread-safe. Streams and requests run their decisions on a strand of the
// configured executor; callbacks to the caller come from that strand, never concurrently. As the
// engine interfaces say: after recognizer_stream::cancel() returns no callback runs; a stopped
// synthesis ends with on_done(cancelled) promptly.
// Units: milliseconds; samples at caps().sample_rate_hz.
//
//   auto asr = routing::fallback_recognizer::create(
//       {.executor = io.get_executor(), .budget_ms = 1500},
//       {{"cloud", cloud_asr, cloud_health}, {"embedded", pocketsphinx, embedded_health}});
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engine/recognizer.hpp"
#include "parley/engine/synthesizer.hpp"
#include "parley/routing/provider_health.hpp"

namespace parley::routing {

/// What became of one utterance or segment: for metrics and logs.
struct speech_outcome {
  std::string served_by;     // the provider whose result was used ("" when none)
  bool fell_back = false;    // a provider before it failed or ran past the budget
  double lost_ms = 0.0;      // time from the first try to the fallback's start (0 without one)
  std::string why;           // the first failure, when it fell back
};

struct speech_fallback_config {
  boost::asio::any_io_executor executor;  // the strands of streams and requests, and their timers
  /// Recognizer: final transcript within this after finish(); synthesizer: first audio within
  /// this after the request. Past it the next provider takes over. 0: no budget (failures only).
  double budget_ms = 0.0;
  double max_utterance_s = 120.0;  // recognizer: audio kept for a fallback
  double ms_per_char = 65.0;       // synthesizer: speaking rate for the words-heard estimate
  std::function<void(const speech_outcome&)> on_outcome;  // any thread; may be empty
};

template <class Engine>
struct speech_provider {
  std::string name;
  std::shared_ptr<Engine> engine;
  std::shared_ptr<provider_health> health;
};

class fallback_recognizer final : public engine::recognizer {
 public:
  /// Errors (invalid_argument): no provider, a provider without an engine or health, no executor,
  /// providers with different input rates.
  static result<std::shared_ptr<fallback_recognizer>> create(speech_fallback_config config,
                                                             std::vector<speech_provider<engine::recognizer>> chain);
  std::string name() const override;
  engine::recognizer_caps caps() const override;
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override;
  std::optional<double> backlog_ms() const override;
  void prepare() override;  // every provider's

  struct shared;

 private:
  explicit fallback_recognizer(std::shared_ptr<shared> state) : state_(std::move(state)) {}
  std::shared_ptr<shared> state_;
};

class fallback_synthesizer final : public engine::synthesizer {
 public:
  /// Errors (invalid_argument): no provider, a provider without an engine or health, no executor.
  static result<std::shared_ptr<fallback_synthesizer>> create(speech_fallback_config config,
                                                              std::vector<speech_provider<engine::synthesizer>> chain);
  std::string name() const override;
  engine::synthesizer_caps caps() const override;
  void synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) override;
  void prepare() override;  // every provider's

  struct shared;

 private:
  explicit fallback_synthesizer(std::shared_ptr<shared> state) : state_(std::move(state)) {}
  std::shared_ptr<shared> state_;
};

/// The part of `text` still to speak after `heard_share` (0..1) of it was heard: from the first
/// word boundary at or after that share of its characters ("" when none is left). Pure.
std::string words_not_yet_heard(std::string_view text, double heard_share);

}  // namespace parley::routing
