#include "parley/routing/policy.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace parley::routing {
namespace {

std::string lower_ascii(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '-' || c == ' ') c = '_';
    out.push_back(c);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string ms0(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

bool intent_passes(std::string_view intent, double confidence, const routing_config& config) {
  return !intent.empty() && confidence >= config.intent_threshold;  // NaN never passes
}

std::string intent_score(std::string_view intent, double confidence, const routing_config& config) {
  std::string s = "intent ";
  s += intent.empty() ? std::string_view("(none)") : intent;
  s += ' ';
  s += fixed2(confidence);
  s += confidence >= config.intent_threshold ? " >= " : " < ";
  s += fixed2(config.intent_threshold);
  return s;
}

std::string p95_text(const llm_tier_state& t) {
  return t.p95_ttft_ms ? "p95 " + ms0(*t.p95_ttft_ms) + " ms" : std::string("p95 n/a");
}

bool over_budget(const llm_tier_state& t, const routing_config& config) {
  return t.p95_ttft_ms && *t.p95_ttft_ms > config.llm_first_token_budget_ms;
}

}  // namespace

std::string_view to_string(route r) {
  switch (r) {
    case route::intent: return "intent";
    case route::cache: return "cache";
    case route::local_llm: return "local_llm";
    case route::cloud_llm: return "cloud_llm";
    case route::fallback: return "fallback";
  }
  return "fallback";
}

std::string_view to_string(privacy_policy p) {
  return p == privacy_policy::allow_cloud ? "allow_cloud" : "pii_local_only";
}

result<privacy_policy> parse_privacy_policy(std::string_view text) {
  const std::string s = lower_ascii(trim(text));
  if (s == "pii_local_only" || s == "local_only" || s == "local") return privacy_policy::pii_local_only;
  if (s == "allow_cloud" || s == "cloud") return privacy_policy::allow_cloud;
  return make_error(errc::invalid_argument,
                    "unknown privacy policy '" + std::string(text.substr(0, 40)) +
                        "' (expected pii_local_only or allow_cloud)");
}

std::string_view to_string(llm_order o) { return o == llm_order::cloud_first ? "cloud_first" : "local_first"; }

result<llm_order> parse_llm_order(std::string_view text) {
  const std::string s = lower_ascii(trim(text));
  if (s == "local_first" || s == "local") return llm_order::local_first;
  if (s == "cloud_first" || s == "cloud") return llm_order::cloud_first;
  return make_error(errc::invalid_argument, "unknown LLM order '" + std::string(text.substr(0, 40)) +
                                                "' (expected local_first or cloud_first)");
}

status validate(const routing_config& config) {
  if (!(config.intent_threshold >= 0.0 && config.intent_threshold <= 1.0))
    return make_error(errc::invalid_argument, "routing.intent_threshold must be in [0, 1]");
  if (!(config.llm_first_token_budget_ms > 0.0) || std::isinf(config.llm_first_token_budget_ms))
    return make_error(errc::invalid_argument, "routing.llm_first_token_budget_ms must be a positive number");
  return {};
}

pre_route_decision pre_route(std::string_view intent, double intent_confidence, bool pii,
                             const routing_config& config) {
  pre_route_decision d;
  d.intent_wins = intent_passes(intent, intent_confidence, config);
  d.cache_lookup_allowed = !pii && !d.intent_wins;
  return d;
}

route_decision decide(const route_inputs& in, const routing_config& config) {
  route_decision d;
  d.cache_lookup_allowed = !in.pii;

  // 1. The local intent handler.
  const std::string intent_part = intent_score(in.intent, in.intent_confidence, config);
  if (intent_passes(in.intent, in.intent_confidence, config)) {
    d.chosen = route::intent;
    d.reason = intent_part;
    return d;
  }

  // 2. The response cache (never on PII turns).
  std::string reason = intent_part;
  if (in.pii) {
    reason += "; cache skipped (pii)";
  } else if (!in.cache) {
    reason += "; cache miss";
  } else {
    const cache_candidate& c = *in.cache;
    if (c.exact) {
      d.chosen = route::cache;
      d.reason = reason + "; cache exact hit";
      return d;
    }
    const bool hit = c.similarity >= c.threshold;  // NaN never hits
    reason += "; cache similarity " + fixed2(c.similarity) + (hit ? " >= " : " < ") + fixed2(c.threshold);
    if (hit) {
      d.chosen = route::cache;
      d.reason = std::move(reason);
      return d;
    }
  }

  // 3. The LLM tiers.
  const bool local_usable = in.local_llm.available && in.local_llm.healthy;
  const bool pii_blocks_cloud = in.pii && config.privacy == privacy_policy::pii_local_only;
  const bool cloud_healthy = in.cloud_llm.available && in.cloud_llm.healthy;
  const bool cloud_usable = cloud_healthy && !pii_blocks_cloud;
  if (in.cloud_llm.available && pii_blocks_cloud) d.pii_kept_local = true;
  if (in.cloud_llm.available && !in.cloud_llm.healthy && !pii_blocks_cloud) d.cloud_unhealthy_skipped = true;

  if (!in.local_llm.available) reason += "; local llm unavailable";
  else if (!in.local_llm.healthy) reason += "; local llm unhealthy";
  if (!in.cloud_llm.available) reason += "; cloud llm unavailable";
  else if (pii_blocks_cloud) reason += "; cloud llm excluded (pii, pii_local_only)";
  else if (!in.cloud_llm.healthy) reason += "; cloud llm unhealthy";

  const bool cloud_preferred = config.order == llm_order::cloud_first;
  const bool preferred_usable = cloud_preferred ? cloud_usable : local_usable;
  const bool other_usable = cloud_preferred ? local_usable : cloud_usable;
  const llm_tier_state& preferred = cloud_preferred ? in.cloud_llm : in.local_llm;
  const llm_tier_state& other = cloud_preferred ? in.local_llm : in.cloud_llm;
  const route preferred_route = cloud_preferred ? route::cloud_llm : route::local_llm;
  const route other_route = cloud_preferred ? route::local_llm : route::cloud_llm;

  if (!preferred_usable && !other_usable) {
    d.chosen = route::fallback;
    d.reason = std::move(reason) + "; no llm can take the turn";
    return d;
  }

  const std::string budget = "budget " + ms0(config.llm_first_token_budget_ms) + " ms";
  route chosen = preferred_usable ? preferred_route : other_route;
  if (preferred_usable && other_usable && over_budget(preferred, config) &&
      (!other.p95_ttft_ms || *other.p95_ttft_ms < *preferred.p95_ttft_ms)) {
    chosen = other_route;
    d.over_budget_switch = true;
    reason += std::string("; ") + std::string(to_string(preferred_route)) + " " + p95_text(preferred) + " > " +
              budget + ", " + std::string(to_string(other_route)) + " " + p95_text(other);
  } else {
    const llm_tier_state& t = chosen == route::local_llm ? in.local_llm : in.cloud_llm;
    reason += std::string("; ") + std::string(to_string(chosen)) + " " + p95_text(t);
    if (t.p95_ttft_ms) reason += (over_budget(t, config) ? " > " : " <= ") + budget;
  }
  d.chosen = chosen;
  d.cacheable = !in.pii;
  d.reason = std::move(reason);
  return d;
}

}  // namespace parley::routing
