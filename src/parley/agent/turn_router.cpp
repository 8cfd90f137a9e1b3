#include "parley/agent/turn_router.hpp"

#include <boost/asio/post.hpp>
#include <stdexcept>

#include "parley/text/pii.hpp"

namespace parley::agent {

namespace {

// Wraps a chat model so that every request's time to first token, or its failure, feeds the
// provider's health (which the policy reads as the tier's p95 TTFT and health).
class measured_chat_model final : public engine::chat_model {
 public:
  measured_chat_model(std::shared_ptr<engine::chat_model> inner, std::shared_ptr<routing::provider_health> health,
                      const clock& clk)
      : inner_(std::move(inner)), health_(std::move(health)), clock_(clk) {}

  std::string name() const override { return inner_->name(); }
  void forget_session(session_id session) override { inner_->forget_session(session); }
  engine::chat_caps caps() const override { return inner_->caps(); }

  void stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) override {
    struct probe {
      time_point t_request;
      bool first = true;
    };
    auto state = std::make_shared<probe>(probe{clock_.now()});
    engine::chat_events measured{
        .on_token =
            [state, health = health_, &clk = clock_, on_token = std::move(events.on_token)](std::string_view token) {
              if (state->first) {
                state->first = false;
                health->record_ttft_ms(std::chrono::duration<double, std::milli>(clk.now() - state->t_request).count());
              }
              if (on_token) on_token(token);
            },
        .on_done =
            [state, health = health_, on_done = std::move(events.on_done)](status done) {
              if (!done && state->first) health->record_error(done.error().code);  // cancelled is ignored
              if (on_done) on_done(std::move(done));
            },
        .on_progress = std::move(events.on_progress)};
    inner_->stream(std::move(request), std::move(measured), std::move(stop));
  }

 private:
  std::shared_ptr<engine::chat_model> inner_;
  std::shared_ptr<routing::provider_health> health_;
  const clock& clock_;
};

}  // namespace

turn_router::turn_router(turn_router_parts parts, turn_router_config config, boost::asio::any_io_executor worker,
                         const clock& clk)
    : parts_(std::move(parts)), config_(std::move(config)), worker_(std::move(worker)) {
  if (!worker_) throw std::invalid_argument("turn_router: a worker executor is required");
  if (auto s = routing::validate(config_.policy); !s) throw std::invalid_argument(s.error().describe());
  if (parts_.local_llm) {
    local_health_ = std::make_shared<routing::provider_health>(clk, config_.health);
    local_measured_ = std::make_shared<measured_chat_model>(parts_.local_llm, local_health_, clk);
  }
  if (parts_.cloud_llm) {
    cloud_health_ = std::make_shared<routing::provider_health>(clk, config_.health);
    cloud_measured_ = std::make_shared<measured_chat_model>(parts_.cloud_llm, cloud_health_, clk);
  }
}

routing::llm_tier_state turn_router::tier_state(const std::shared_ptr<engine::chat_model>& model,
                                                routing::provider_health* health) {
  if (!model || health == nullptr) return {};
  return {.available = true,
          .healthy = health->healthy() || health->should_probe(),
          .p95_ttft_ms = health->p95_ttft_ms()};
}

// The cache (when allowed) and the LLM tiers' state, then the policy's decision; fills the reply's
// reason, privacy, cacheability and similarity, and hands back the cached entry found.
routing::route_decision turn_router::decide(const std::string& query, std::string intent, double intent_confidence,
                                            bool pii, bool cache_lookup_allowed,
                                            std::optional<cache::cached_reply>& cached, routed_reply& out) {
  routing::route_inputs in{.intent = std::move(intent), .intent_confidence = intent_confidence, .pii = pii};
  if (cache_lookup_allowed && parts_.cache) {
    auto found = parts_.cache->lookup(query, config_.scope);
    if (found.kind != cache::match_kind::miss || found.similarity > 0.0) {
      in.cache = routing::cache_candidate{found.kind == cache::match_kind::exact, found.similarity, found.threshold};
    }
    cached = std::move(found.reply);
  }
  in.local_llm = tier_state(local_measured_, local_health_.get());
  in.cloud_llm = tier_state(cloud_measured_, cloud_health_.get());
  auto decision = routing::decide(in, config_.policy);
  out.reason = decision.reason;
  out.pii = pii;
  out.cacheable = decision.cacheable && parts_.cache != nullptr;
  if (in.cache) out.cache_similarity = in.cache->exact ? 1.0 : in.cache->similarity;
  return decision;
}

routed_reply turn_router::route_now(const route_request& request) {
  if (request.preemptive) return route_preemptive(request);
  const auto answer = parts_.responder ? parts_.responder->answer(request.query, request.context)
                                       : engine::responder_answer{};
  const bool pii = text::contains_pii(request.query);
  const auto pre = routing::pre_route(answer.intent, answer.confidence, pii, config_.policy);
  std::optional<cache::cached_reply> cached;
  routed_reply out;
  const auto decision = decide(request.query, answer.intent, answer.confidence, pii, pre.cache_lookup_allowed,
                               cached, out);
  out.route = std::string(routing::to_string(decision.chosen));

  auto& c = *counters_;
  c.n_turns.fetch_add(1, std::memory_order_relaxed);
  if (pii) c.n_pii.fetch_add(1, std::memory_order_relaxed);
  switch (decision.chosen) {
    case routing::route::intent:
      c.n_intent.fetch_add(1, std::memory_order_relaxed);
      out.text = answer.reply;
      break;
    case routing::route::local_llm:
      c.n_local_llm.fetch_add(1, std::memory_order_relaxed);
      out.model = local_measured_;
      break;
    case routing::route::cloud_llm:
      c.n_cloud_llm.fetch_add(1, std::memory_order_relaxed);
      out.model = cloud_measured_;
      break;
    case routing::route::cache:
      if (cached && !cached->text.empty()) {
        c.n_cache.fetch_add(1, std::memory_order_relaxed);
        out.cache_hit = true;
        out.text = cached->text;
        out.audio = cached->audio;
        break;
      }
      // A hit whose entry could not be read: say so honestly instead.
      out.route = std::string(routing::to_string(routing::route::fallback));
      out.reason += " (cached entry unreadable)";
      [[fallthrough]];
    case routing::route::fallback:
      c.n_fallback.fetch_add(1, std::memory_order_relaxed);
      out.text = config_.fallback_reply;
      break;
  }
  return out;
}

// Before the user has finished: the same decision where nothing acts. The responder is only asked
// how sure it is (an intent may set a timer; and it answers in microseconds anyway), so a text it
// would answer is declined, as is a model that may call tools. Nothing is counted.
routed_reply turn_router::route_preemptive(const route_request& request) {
  routed_reply out;
  double intent_confidence = 0.0;
  if (parts_.responder) {
    const auto p = request_confidence(request.query, request.context.session);
    if (!p || *p >= config_.policy.intent_threshold) return out;  // the local tier would act, or cannot say
    intent_confidence = *p;
  }
  const bool pii = text::contains_pii(request.query);
  std::optional<cache::cached_reply> cached;
  const auto decision = decide(request.query, "", intent_confidence, pii, !pii, cached, out);
  switch (decision.chosen) {
    case routing::route::intent: return {};
    case routing::route::local_llm: out.model = local_measured_; break;
    case routing::route::cloud_llm: out.model = cloud_measured_; break;
    case routing::route::cache:
      if (!cached || cached->text.empty()) return {};
      out.cache_hit = true;
      out.text = cached->text;
      out.audio = cached->audio;
      break;
    case routing::route::fallback: out.text = config_.fallback_reply; break;
  }
  if (out.model && out.model->caps().calls_tools) return {};
  out.route = std::string(routing::to_string(decision.chosen));
  return out;
}

void turn_router::route(route_request request, std::function<void(routed_reply)> done) {
  boost::asio::post(worker_, [self = shared_from_this(), request = std::move(request), done = std::move(done)] {
    done(self->route_now(request));
  });
}

std::optional<routed_reply> turn_router::route_inline(const route_request& request) {
  if (parts_.responder && !parts_.responder->quick()) return std::nullopt;
  if (parts_.cache && !parts_.cache->quick(config_.scope)) return std::nullopt;
  return route_now(request);
}

void turn_router::remember(std::string query, std::string reply_text, std::shared_ptr<const reply_audio> audio) {
  if (!parts_.cache) return;
  boost::asio::post(worker_, [self = shared_from_this(), query = std::move(query), text = std::move(reply_text),
                              audio = std::move(audio)]() mutable {
    cache::cached_reply reply;
    reply.reply_class = cache::response_cache::classify(query, text);
    reply.text = std::move(text);
    reply.audio = std::move(audio);
    if (self->parts_.cache->store(query, self->config_.scope, std::move(reply))) {
      self->counters_->n_stored.fetch_add(1, std::memory_order_relaxed);
    }
  });
}

std::optional<double> turn_router::request_confidence(std::string_view text, session_id session) const {
  if (!parts_.responder || !parts_.responder->quick()) return std::nullopt;
  return parts_.responder->confidence(text, session);
}

void turn_router::session_ended(session_id session) {
  if (parts_.responder) parts_.responder->forget_session(session);
  if (parts_.local_llm) parts_.local_llm->forget_session(session);  // e.g. its KV cache
  if (parts_.cloud_llm) parts_.cloud_llm->forget_session(session);
}

turn_router_stats turn_router::stats() const {
  const auto& c = *counters_;
  return {c.n_turns.load(),     c.n_intent.load(),   c.n_cache.load(), c.n_local_llm.load(),
          c.n_cloud_llm.load(), c.n_fallback.load(), c.n_pii.load(),   c.n_stored.load()};
}

}  // namespace parley::agent
