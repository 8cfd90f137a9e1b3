// engines/intents/responder_chat_model — a responder behind the chat_model interface.
//
// Role: lets a scored, synchronous engine::responder (the local responder: time, timers, sums,
// FAQ...) stand where the pipeline expects a chat model, e.g. when no LLM is configured. The
// reply of the last user message is streamed word by word when its confidence reaches the
// threshold; otherwise a short, honest fallback reply is streamed instead.
// Threading: stream() returns at once; one task posted on the executor computes the answer and
// delivers every token and then on_done, back to back (no artificial delay), so callbacks for one
// request never overlap. answer() runs on that task (it may set timers, announced later through
// request.context.announce).
// Cancellation: the stop token is checked before answering and before every token; once stop is
// requested nothing more is delivered and on_done gets errc::cancelled. on_done is called exactly
// once, and nothing after it.
//
//   auto local = local_responder::create({...});
//   engine_set engines{asr, std::make_shared<responder_chat_model>(*local, responder_chat_config{
//                                           .executor = io.get_executor()}), tts};
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parley/engine/chat_model.hpp"
#include "parley/engine/responder.hpp"

namespace parley::intents {

/// What the local responder says to what it cannot answer: what it can do, naming the FAQ's topic
/// ("the store"); `faq_topic` "" (no FAQ): the intents alone.
std::string fallback_reply_for(std::string_view faq_topic);

struct responder_chat_config {
  double threshold = 0.5;  // answers below this confidence get the fallback reply
  std::string fallback_reply = fallback_reply_for("the store");
  boost::asio::any_io_executor executor;  // required: runs every request
};

class responder_chat_model final : public engine::chat_model {
 public:
  /// Throws std::invalid_argument when the responder or the executor is missing (start-up error).
  responder_chat_model(std::shared_ptr<engine::responder> responder, responder_chat_config config);

  std::string name() const override { return "responder:" + responder_->name(); }
  engine::chat_caps caps() const override { return {true, "responder-" + responder_->name()}; }
  void stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) override;

  std::uint64_t n_requests() const { return counters_->n_requests.load(); }
  /// Requests answered with the fallback reply.
  std::uint64_t n_fallbacks() const { return counters_->n_fallbacks.load(); }

 private:
  struct counters {
    std::atomic<std::uint64_t> n_requests{0};
    std::atomic<std::uint64_t> n_fallbacks{0};
  };
  std::shared_ptr<engine::responder> responder_;
  responder_chat_config config_;
  std::shared_ptr<counters> counters_ = std::make_shared<counters>();  // shared with running requests
};

/// Splits text into word tokens, each with its leading spaces ("It's", " 3:05", " PM."); the
/// tokens concatenate back to the text.
std::vector<std::string> split_words(std::string_view text);

}  // namespace parley::intents
