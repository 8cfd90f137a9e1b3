// routing/policy — the per-turn router policy: which tier answers this turn (DESIGN §1, issue 6).
//
// Role: a pure function from what the shell already knows about a turn (the local responder's
// best intent and confidence, the response cache's best match, whether the transcript holds PII,
// the state of the local and cloud LLM tiers) to a route plus a one-line reason with the scores,
// which goes into the turn timeline. Order, first that applies wins:
//   1. intent     the local intent handler, when its confidence >= intent_threshold;
//   2. cache      the response cache, when its best match is exact or its similarity >= the
//                 match's own threshold; never on a PII turn (PII turns are never looked up);
//   3. an LLM     the preferred tier (config.llm_order: local first by default, as in issue 6),
//                 else the other tier. A tier is usable when available and healthy; the cloud
//                 tier is not usable on a PII turn under privacy_policy::pii_local_only.
//                 Budget awareness: when the preferred tier's recent p95 TTFT exceeds
//                 llm_first_token_budget_ms and the other tier is usable and not known to be
//                 slower (its p95 unknown or lower), the other tier takes the turn. With
//                 cloud_first this is "when the cloud chain is slower than the budget, prefer
//                 local"; with local_first the cloud is used only when the local LLM is missing,
//                 unhealthy or over budget while the cloud is faster.
//   4. fallback   no LLM can take the turn: the local responder's honest short fallback reply.
// A reply may be stored in the cache (`cacheable`) only when an LLM wrote it and the turn holds
// no PII. Thresholds are compared with >=: a score exactly at its threshold passes.
// Two steps for the shell: pre_route() before the cache lookup (skip the lookup when the intent
// already wins or the turn holds PII), then decide() with everything known.
// Threading: pure functions on value types. Units: milliseconds (`_ms`), scores in [0, 1].
//
//   auto pre = routing::pre_route(answer.intent, answer.confidence, pii, config);
//   routing::route_inputs in{answer.intent, answer.confidence, {}, pii, local_state, cloud_state};
//   if (pre.cache_lookup_allowed) in.cache = cache.best_match(text);
//   auto d = routing::decide(in, config);   // d.chosen, d.reason → timeline
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "parley/core/error.hpp"

namespace parley::routing {

enum class route { intent, cache, local_llm, cloud_llm, fallback };
std::string_view to_string(route r);

/// pii_local_only (the default): a turn with PII never leaves the machine (no cloud LLM).
/// allow_cloud: PII turns may go to the cloud (they are still never cached).
enum class privacy_policy { pii_local_only, allow_cloud };
std::string_view to_string(privacy_policy p);
/// "pii_local_only" / "local_only" / "local", "allow_cloud" / "cloud" (case-insensitive).
result<privacy_policy> parse_privacy_policy(std::string_view text);

/// Which LLM tier is tried first when both can take the turn.
enum class llm_order { local_first, cloud_first };
std::string_view to_string(llm_order o);
/// "local_first" / "local", "cloud_first" / "cloud" (case-insensitive).
result<llm_order> parse_llm_order(std::string_view text);

struct routing_config {
  double intent_threshold = 0.6;                        // in [0, 1]
  privacy_policy privacy = privacy_policy::pii_local_only;
  double llm_first_token_budget_ms = 800.0;             // > 0
  llm_order order = llm_order::local_first;
};

/// ok, or invalid_argument naming the bad field (thresholds outside [0, 1], budget <= 0, NaN).
status validate(const routing_config& config);

/// The best match the response cache found.
struct cache_candidate {
  bool exact = false;       // normalised-key match: a hit whatever the similarity
  double similarity = 0.0;  // cosine similarity of the semantic match, in [-1, 1]
  double threshold = 1.0;   // the entry's (or its class's) similarity threshold
};

struct llm_tier_state {
  bool available = false;             // configured and loaded
  bool healthy = true;                // see provider_health::healthy() / should_probe()
  std::optional<double> p95_ttft_ms;  // recent p95 time to first token; nullopt: no data yet
};

struct route_inputs {
  std::string intent;             // local responder's best intent; "" when nothing matched
  double intent_confidence = 0.0; // in [0, 1]
  std::optional<cache_candidate> cache;  // nullopt: no cache, not looked up, or nothing found
  bool pii = false;               // text::contains_pii(transcript)
  llm_tier_state local_llm, cloud_llm;
};

struct route_decision {
  route chosen = route::fallback;
  bool cache_lookup_allowed = true;  // false on a PII turn
  bool cacheable = false;            // may the reply be stored (LLM routes without PII)
  bool pii_kept_local = false;       // the cloud tier was excluded by the privacy policy
  bool over_budget_switch = false;   // the preferred LLM tier was passed over for its p95 TTFT
  bool cloud_unhealthy_skipped = false;  // an available cloud tier was skipped as unhealthy
  std::string reason;  // one line with the scores, e.g. "intent time.now 0.92 >= 0.60"
};

/// The first, cheap step: whether the intent already wins and whether the cache may be
/// looked up at all. decide() reaches the same verdicts.
struct pre_route_decision {
  bool intent_wins = false;
  bool cache_lookup_allowed = true;  // false on PII turns and when the intent wins
};
pre_route_decision pre_route(std::string_view intent, double intent_confidence, bool pii,
                             const routing_config& config);

route_decision decide(const route_inputs& in, const routing_config& config);

}  // namespace parley::routing
