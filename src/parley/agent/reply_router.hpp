// agent/reply_router — decides, per user turn, where the reply comes from.
//
// Role: the session asks its router once per committed user turn. The answer is one of: a whole
// reply text (a local intent handler, or the honest fallback reply), a cached reply with its
// audio (spoken as is: no LLM, no TTS), or a chat model to stream the reply from (the local or the
// cloud LLM). After a reply the router allowed to be cached has been spoken in full, the session
// hands its text and audio back through remember(). agent/turn_router is the implementation
// (intent → response cache → local LLM → cloud LLM, with PII and budget rules); tests may fake it.
// Threading: route() and remember() may be called from any thread and return at once; `done` is
// called exactly once, on any thread (the session hops back to its strand), unless the router is
// destroyed first. route_inline() answers at once on the caller's thread when the router can
// decide without blocking (the session tries it first). Nothing in a routed_reply is shared
// mutable state.
// Cancellation: a turn interrupted while routing simply ignores the late answer (the generation
// fence); routing itself is short (microseconds to a few milliseconds) and not cancelled.
//
//   router->route({.query = text, .context = ctx}, [](agent::routed_reply r) { ... });
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/cache/response_cache.hpp"
#include "parley/engine/chat_model.hpp"
#include "parley/engine/responder.hpp"

namespace parley::agent {

/// Reply audio kept whole (a cached reply): PCM16 mono at `sample_rate_hz`.
using reply_audio = cache::reply_audio;

struct route_request {
  std::string query;                  // the user's turn (final transcript or typed text)
  engine::responder_context context;  // the asking session (timers announce through it)
  /// A preemptive reply (the user may not have finished): nothing may act on it. A router answers
  /// only a route that runs no action (the cache, an LLM without tools, the fallback) and
  /// otherwise declines with an empty `route`; it counts nothing.
  bool preemptive = false;
};

struct routed_reply {
  std::string route;   // "intent", "cache", "local_llm", "cloud_llm", "fallback"; "" = declined (preemptive)
  std::string reason;  // one line with the scores that decided, for the turn timeline
  /// A whole reply to speak (intent, fallback, cache). Empty for the LLM routes.
  std::string text;
  /// Cache hit with audio: sent out as is, no TTS. Null otherwise.
  std::shared_ptr<const reply_audio> audio;
  /// LLM routes: the model to stream the reply from. Null otherwise.
  std::shared_ptr<engine::chat_model> model;
  bool cacheable = false;         // remember() the reply when it was spoken in full
  bool pii = false;               // the query holds personal data (never cached, redacted in traces)
  bool cache_hit = false;
  double cache_similarity = 0.0;  // the best cache match's similarity (0 when none)
};

class reply_router {
 public:
  virtual ~reply_router() = default;
  virtual void route(route_request request, std::function<void(routed_reply)> done) = 0;
  /// Decides on the calling thread when that cannot block (every part it would consult is
  /// in-process and takes microseconds), saving the session two thread hops on the critical path;
  /// std::nullopt: it could block, call route(). The default never decides inline.
  virtual std::optional<routed_reply> route_inline(const route_request&) { return std::nullopt; }
  /// A reply spoken in full on a cacheable route: store its text and audio (audio may be null).
  virtual void remember(std::string query, std::string reply_text, std::shared_ptr<const reply_audio> audio) = 0;
  /// The session closed: per-session state behind the router (e.g. its timers) can go.
  virtual void session_ended(session_id) {}
  /// How sure the local tier is that `text` (a partial transcript) is a complete request it can
  /// answer, asked without answering (engine::responder::confidence); content-aware endpointing
  /// uses it (turn_end.hpp). Runs on the session strand, so only a quick answer is given; none
  /// (the default): the text rules decide alone.
  virtual std::optional<double> request_confidence(std::string_view /*text*/, session_id /*session*/) const {
    return std::nullopt;
  }
  /// The response cache's counters, when this router has one (`parley serve`'s /metrics).
  virtual std::optional<cache::response_cache_stats> cache_stats() const { return std::nullopt; }
};

}  // namespace parley::agent
