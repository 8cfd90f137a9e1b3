// cache/phrase_cache — fixed phrases synthesized once, spoken from memory.
//
// Role: a synthesizer decorator. At start-up `prewarm()` synthesizes the phrases an assistant says
// again and again (greeting, fillers such as "One moment.", confirmations, fallback replies) with
// the wrapped synthesizer and keeps their audio; afterwards a request for one of them is answered
// from memory — first chunk at once, no TTS work — and anything else goes to the wrapped engine.
// Prewarming also warms the wrapped engine (its first real request is then as fast as the tenth).
// Keys are the text with surrounding whitespace trimmed and inner runs of whitespace collapsed.
// Threading: prewarm() blocks and must finish before sessions start; synthesize() is thread-safe
// (the cache is read-only once warmed). Cached audio is delivered on the given executor.
// Memory: the phrases' PCM (about 32 KB per second of speech at 16 kHz).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "parley/engine/synthesizer.hpp"

namespace parley::cache {

/// The phrases every assistant needs; the responder's fallback reply is added by the caller.
std::vector<std::string> default_fixed_phrases();

class phrase_cache_synthesizer final : public engine::synthesizer {
 public:
  phrase_cache_synthesizer(std::shared_ptr<engine::synthesizer> inner, boost::asio::any_io_executor executor,
                           double chunk_ms = 40.0);
  std::string name() const override { return inner_->name() + "+phrase-cache"; }
  engine::synthesizer_caps caps() const override { return inner_->caps(); }
  void prepare() override { inner_->prepare(); }
  void synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) override;

  /// Synthesizes and stores each phrase (waiting at most `timeout` for each). Fails on the first
  /// phrase the wrapped engine cannot say.
  status prewarm(const std::vector<std::string>& phrases, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool contains(const std::string& text) const;
  std::size_t size() const { return phrases_.size(); }
  std::uint64_t n_hits() const { return n_hits_.load(); }

 private:
  std::shared_ptr<engine::synthesizer> inner_;
  boost::asio::any_io_executor executor_;
  std::size_t chunk_samples_;
  std::map<std::string, std::shared_ptr<const std::vector<std::int16_t>>> phrases_;
  std::atomic<std::uint64_t> n_hits_{0};
};

}  // namespace parley::cache
