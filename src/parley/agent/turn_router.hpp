// agent/turn_router — the hybrid router: intent → response cache → local LLM → cloud LLM.
//
// Role: the reply_router the composition root gives every session. Per turn, on a worker when the
// cache lookup may block (Redis, a remote or model embedder), else inline on the session's strand
// (route_inline: two thread hops fewer on the critical path):
//   1. the local responder answers (intents, FAQ) with a confidence, and the transcript is
//      checked for personal data (text/pii);
//   2. unless the intent already wins or the turn holds PII, the response cache is looked up;
//   3. routing::decide() picks the route from those scores and from the LLM tiers' health and
//      recent p95 TTFT (each tier's chat model is wrapped so its TTFT and errors feed its
//      routing::provider_health);
//   4. the session is told the route; a reply spoken in full on a cacheable route comes back
//      through remember() and is stored with its audio (again on the worker).
// Every decision (route and scores) goes into the turn timeline through routed_reply::reason;
// stats() counts turns per route, for hit ratios.
// Threading: route() and remember() may be called from any thread and return at once; the work
// runs on `worker` (a thread pool is right: lookups of different sessions run side by side).
// route_inline() runs on the caller's thread; every part it consults is thread-safe.
// Ownership: create it with std::make_shared (pending work keeps it alive); it holds its parts.
// Errors: a cache that fails (Redis down, corrupt entry) is a miss, never a failed turn.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "parley/agent/reply_router.hpp"
#include "parley/cache/response_cache.hpp"
#include "parley/core/clock.hpp"
#include "parley/engine/chat_model.hpp"
#include "parley/engine/responder.hpp"
#include "parley/routing/policy.hpp"
#include "parley/routing/provider_health.hpp"

namespace parley::agent {

struct turn_router_parts {
  std::shared_ptr<engine::responder> responder;        // optional: intents and FAQ
  std::shared_ptr<cache::response_cache> cache;        // optional
  std::shared_ptr<engine::chat_model> local_llm;       // optional
  std::shared_ptr<engine::chat_model> cloud_llm;       // optional (a fallback chain is one model)
};

struct turn_router_config {
  routing::routing_config policy;
  cache::cache_scope scope;     // whose cache entries this router reads and writes
  std::string fallback_reply =
      "Sorry, I can only help with the time, timers, quick sums, conversions and questions about the store.";
  routing::health_config health;
};

struct turn_router_stats {
  std::uint64_t n_turns = 0;
  std::uint64_t n_intent = 0, n_cache = 0, n_local_llm = 0, n_cloud_llm = 0, n_fallback = 0;
  std::uint64_t n_pii = 0;      // turns whose transcript held personal data
  std::uint64_t n_stored = 0;   // replies stored in the cache
};

class turn_router final : public reply_router, public std::enable_shared_from_this<turn_router> {
 public:
  /// Throws std::invalid_argument (start-up error) when the worker is missing or the policy config
  /// is invalid.
  turn_router(turn_router_parts parts, turn_router_config config, boost::asio::any_io_executor worker,
              const clock& clk = steady_clock_source::instance());
  std::optional<cache::response_cache_stats> cache_stats() const override {
    if (!parts_.cache) return std::nullopt;
    return parts_.cache->stats();
  }

  void route(route_request request, std::function<void(routed_reply)> done) override;
  /// route_now() when nothing can block: no responder or a quick one, and no cache or a quick one
  /// for this router's scope (response_cache::quick: in-process store, n-gram embedder, a small
  /// index). With Redis, a remote or model embedder, or a large index: std::nullopt.
  std::optional<routed_reply> route_inline(const route_request& request) override;
  void remember(std::string query, std::string reply_text, std::shared_ptr<const reply_audio> audio) override;
  void session_ended(session_id session) override;
  std::optional<double> request_confidence(std::string_view text, session_id session) const override;

  /// Decides synchronously on the calling thread (what route() does on the worker). A preemptive
  /// request asks the responder only for its confidence and declines what it would answer.
  routed_reply route_now(const route_request& request);

  turn_router_stats stats() const;
  const routing::provider_health* local_health() const { return local_health_.get(); }
  const routing::provider_health* cloud_health() const { return cloud_health_.get(); }

 private:
  routed_reply route_preemptive(const route_request& request);
  routing::route_decision decide(const std::string& query, std::string intent, double intent_confidence, bool pii,
                                 bool cache_lookup_allowed, std::optional<cache::cached_reply>& cached,
                                 routed_reply& out);
  routing::llm_tier_state tier_state(const std::shared_ptr<engine::chat_model>& model,
                                     routing::provider_health* health);

  turn_router_parts parts_;
  turn_router_config config_;
  boost::asio::any_io_executor worker_;
  std::shared_ptr<routing::provider_health> local_health_, cloud_health_;
  std::shared_ptr<engine::chat_model> local_measured_, cloud_measured_;  // parts' models, measured
  struct counters {
    std::atomic<std::uint64_t> n_turns{0}, n_intent{0}, n_cache{0}, n_local_llm{0}, n_cloud_llm{0}, n_fallback{0},
        n_pii{0}, n_stored{0};
  };
  std::shared_ptr<counters> counters_ = std::make_shared<counters>();
};

}  // namespace parley::agent
