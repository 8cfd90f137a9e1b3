#include "parley/engines/intents/responder_chat_model.hpp"

#include <boost/asio/post.hpp>
#include <exception>
#include <stdexcept>

#include "parley/core/log.hpp"

namespace parley::intents {

std::string fallback_reply_for(std::string_view faq_topic) {
  if (faq_topic.empty()) return "Sorry, I can only help with the time, timers, quick sums and conversions.";
  return "Sorry, I can only help with the time, timers, quick sums, conversions and questions about " +
         std::string(faq_topic) + ".";
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && text[j] == ' ') ++j;
    while (j < text.size() && text[j] != ' ') ++j;
    tokens.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return tokens;
}

responder_chat_model::responder_chat_model(std::shared_ptr<engine::responder> responder, responder_chat_config config)
    : responder_(std::move(responder)), config_(std::move(config)) {
  if (!responder_) throw std::invalid_argument("responder_chat_model: no responder");
  if (!config_.executor) throw std::invalid_argument("responder_chat_model: no executor");
}

void responder_chat_model::stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) {
  counters_->n_requests.fetch_add(1, std::memory_order_relaxed);
  // The task owns everything it needs: the model may be destroyed while requests are queued.
  boost::asio::post(config_.executor, [responder = responder_, counters = counters_, threshold = config_.threshold,
                                       fallback = config_.fallback_reply, request = std::move(request),
                                       events = std::move(events), stop = std::move(stop)]() mutable {
    bool done = false;
    auto finish = [&](status s) {
      if (done) return;
      done = true;
      if (events.on_done) events.on_done(std::move(s));
    };
    try {
      if (stop.stop_requested()) return finish(make_error(errc::cancelled, "reply cancelled"));
      const engine::responder_answer a = responder->answer(request.last_user_text(), request.context);
      std::string reply = a.reply;
      if (a.confidence < threshold) {
        counters->n_fallbacks.fetch_add(1, std::memory_order_relaxed);
        reply = fallback;
      }
      for (const std::string& token : split_words(reply)) {
        if (stop.stop_requested()) return finish(make_error(errc::cancelled, "reply cancelled"));
        if (events.on_token) events.on_token(token);
      }
      finish({});
    } catch (const std::exception& e) {
      PARLEY_LOG(warn, "responder chat model: " << e.what());
      finish(make_error(errc::engine_failure, std::string("the local responder failed: ") + e.what()));
    } catch (...) {
      finish(make_error(errc::engine_failure, "the local responder failed"));
    }
  });
}

}  // namespace parley::intents
