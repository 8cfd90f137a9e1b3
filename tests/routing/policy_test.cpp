#include "parley/routing/policy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <ostream>
#include <string>

namespace parley::routing {
namespace {

// Shorthands for the table.
llm_tier_state up(std::optional<double> p95 = std::nullopt) { return {true, true, p95}; }
llm_tier_state sick(std::optional<double> p95 = std::nullopt) { return {true, false, p95}; }
llm_tier_state none() { return {false, true, std::nullopt}; }
cache_candidate sim(double similarity, double threshold = 0.9) { return {false, similarity, threshold}; }
cache_candidate exact() { return {true, 0.0, 0.9}; }

routing_config cfg(privacy_policy p = privacy_policy::pii_local_only, llm_order o = llm_order::local_first,
                   double budget_ms = 800.0, double threshold = 0.6) {
  routing_config c;
  c.intent_threshold = threshold;
  c.privacy = p;
  c.llm_first_token_budget_ms = budget_ms;
  c.order = o;
  return c;
}

struct policy_case {
  const char* name;
  route_inputs in;
  routing_config config;
  route expected;
  bool cacheable;
  bool lookup_allowed;
};

void PrintTo(const policy_case& c, std::ostream* os) { *os << c.name; }

class policy_table : public ::testing::TestWithParam<policy_case> {};

TEST_P(policy_table, decides) {
  const policy_case& c = GetParam();
  const route_decision d = decide(c.in, c.config);
  EXPECT_EQ(to_string(d.chosen), to_string(c.expected)) << d.reason;
  EXPECT_EQ(d.cacheable, c.cacheable) << d.reason;
  EXPECT_EQ(d.cache_lookup_allowed, c.lookup_allowed) << d.reason;
  EXPECT_FALSE(d.reason.empty());
  EXPECT_EQ(d.reason.find('\n'), std::string::npos);
  // Invariants whatever the row: PII is never cached, never served from the cache, and never
  // sent to the cloud under pii_local_only.
  if (c.in.pii) {
    EXPECT_FALSE(d.cacheable);
    EXPECT_FALSE(d.cache_lookup_allowed);
    EXPECT_NE(d.chosen, route::cache);
    if (c.config.privacy == privacy_policy::pii_local_only) { EXPECT_NE(d.chosen, route::cloud_llm); }
  }
  if (d.chosen == route::intent || d.chosen == route::cache || d.chosen == route::fallback) {
    EXPECT_FALSE(d.cacheable);
  }
}

using P = privacy_policy;
using O = llm_order;
using R = route;
const auto no_cache = std::nullopt;

// clang-format off
const policy_case k_cases[] = {
  // 1. Intent handler.
  {"intent_above", {"time.now", 0.92, no_cache, false, up(), up()}, cfg(), R::intent, false, true},
  {"intent_at_threshold_tie", {"time.now", 0.6, no_cache, false, up(), up()}, cfg(), R::intent, false, true},
  {"intent_just_below", {"time.now", 0.5999, no_cache, false, up(), up()}, cfg(), R::local_llm, true, true},
  {"intent_beats_exact_cache", {"time.now", 0.9, exact(), false, up(), up()}, cfg(), R::intent, false, true},
  {"intent_with_pii", {"timer.set", 0.95, no_cache, true, up(), up()}, cfg(), R::intent, false, false},
  {"intent_with_pii_no_llms", {"timer.set", 0.95, no_cache, true, none(), none()}, cfg(), R::intent, false, false},
  {"intent_empty_name_ignored", {"", 0.99, no_cache, false, up(), up()}, cfg(), R::local_llm, true, true},
  {"intent_nan_confidence", {"time.now", std::nan(""), no_cache, false, up(), up()}, cfg(), R::local_llm, true, true},
  {"intent_threshold_zero", {"faq.hours", 0.0, no_cache, false, up(), up()}, cfg(P::pii_local_only, O::local_first, 800, 0.0), R::intent, false, true},
  {"intent_threshold_one_needs_one", {"faq.hours", 0.99, no_cache, false, up(), up()}, cfg(P::pii_local_only, O::local_first, 800, 1.0), R::local_llm, true, true},
  {"intent_threshold_one_at_one", {"faq.hours", 1.0, no_cache, false, up(), up()}, cfg(P::pii_local_only, O::local_first, 800, 1.0), R::intent, false, true},
  {"intent_below_then_fallback", {"time.now", 0.3, no_cache, false, none(), none()}, cfg(), R::fallback, false, true},
  // 2. Response cache.
  {"cache_exact", {"", 0.0, exact(), false, up(), up()}, cfg(), R::cache, false, true},
  {"cache_similar_above", {"", 0.0, sim(0.95), false, up(), up()}, cfg(), R::cache, false, true},
  {"cache_similar_tie", {"", 0.0, sim(0.9), false, up(), up()}, cfg(), R::cache, false, true},
  {"cache_similar_below", {"", 0.0, sim(0.8999), false, up(), up()}, cfg(), R::local_llm, true, true},
  {"cache_per_entry_threshold", {"", 0.0, sim(0.80, 0.75), false, up(), up()}, cfg(), R::cache, false, true},
  {"cache_nan_similarity", {"", 0.0, sim(std::nan("")), false, up(), up()}, cfg(), R::local_llm, true, true},
  {"cache_negative_similarity", {"", 0.0, sim(-0.5), false, none(), up()}, cfg(), R::cloud_llm, true, true},
  {"cache_hit_no_llms", {"", 0.0, sim(0.97), false, none(), none()}, cfg(), R::cache, false, true},
  {"cache_below_intent_below", {"faq.x", 0.4, sim(0.97), false, up(), up()}, cfg(), R::cache, false, true},
  {"cache_pii_exact_not_served", {"", 0.0, exact(), true, up(), up()}, cfg(), R::local_llm, false, false},
  {"cache_pii_similar_not_served", {"", 0.0, sim(0.99), true, none(), none()}, cfg(), R::fallback, false, false},
  {"cache_pii_allow_cloud_not_served", {"", 0.0, exact(), true, none(), up()}, cfg(P::allow_cloud), R::cloud_llm, false, false},
  // 3. LLM tiers, local first (issue 6 order).
  {"local_first_both_up", {"", 0.0, no_cache, false, up(), up()}, cfg(), R::local_llm, true, true},
  {"local_first_only_cloud", {"", 0.0, no_cache, false, none(), up()}, cfg(), R::cloud_llm, true, true},
  {"local_first_local_unhealthy", {"", 0.0, no_cache, false, sick(), up()}, cfg(), R::cloud_llm, true, true},
  {"local_first_only_local", {"", 0.0, no_cache, false, up(), none()}, cfg(), R::local_llm, true, true},
  {"local_first_local_slow_cloud_fast", {"", 0.0, no_cache, false, up(1500.0), up(400.0)}, cfg(), R::cloud_llm, true, true},
  {"local_first_local_slow_cloud_unknown", {"", 0.0, no_cache, false, up(1500.0), up()}, cfg(), R::cloud_llm, true, true},
  {"local_first_local_slow_cloud_slower", {"", 0.0, no_cache, false, up(1500.0), up(2000.0)}, cfg(), R::local_llm, true, true},
  {"local_first_local_at_budget", {"", 0.0, no_cache, false, up(800.0), up(100.0)}, cfg(), R::local_llm, true, true},
  {"local_first_local_slow_pii_stays", {"", 0.0, no_cache, true, up(1500.0), up(100.0)}, cfg(), R::local_llm, false, false},
  {"local_first_local_slow_pii_allow_cloud", {"", 0.0, no_cache, true, up(1500.0), up(100.0)}, cfg(P::allow_cloud), R::cloud_llm, false, false},
  {"local_first_local_slow_cloud_sick", {"", 0.0, no_cache, false, up(1500.0), sick(100.0)}, cfg(), R::local_llm, true, true},
  // 3. LLM tiers, cloud first: budget awareness.
  {"cloud_first_both_up", {"", 0.0, no_cache, false, up(), up()}, cfg(P::pii_local_only, O::cloud_first), R::cloud_llm, true, true},
  {"cloud_first_within_budget", {"", 0.0, no_cache, false, up(300.0), up(500.0)}, cfg(P::pii_local_only, O::cloud_first), R::cloud_llm, true, true},
  {"cloud_first_at_budget_tie", {"", 0.0, no_cache, false, up(300.0), up(800.0)}, cfg(P::pii_local_only, O::cloud_first), R::cloud_llm, true, true},
  {"cloud_first_over_budget", {"", 0.0, no_cache, false, up(300.0), up(800.5)}, cfg(P::pii_local_only, O::cloud_first), R::local_llm, true, true},
  {"cloud_first_over_budget_local_unknown", {"", 0.0, no_cache, false, up(), up(1200.0)}, cfg(P::pii_local_only, O::cloud_first), R::local_llm, true, true},
  {"cloud_first_over_budget_local_slower", {"", 0.0, no_cache, false, up(3000.0), up(1200.0)}, cfg(P::pii_local_only, O::cloud_first), R::cloud_llm, true, true},
  {"cloud_first_over_budget_no_local", {"", 0.0, no_cache, false, none(), up(1200.0)}, cfg(P::pii_local_only, O::cloud_first), R::cloud_llm, true, true},
  {"cloud_first_over_budget_local_sick", {"", 0.0, no_cache, false, sick(100.0), up(1200.0)}, cfg(P::pii_local_only, O::cloud_first), R::cloud_llm, true, true},
  {"cloud_first_bigger_budget", {"", 0.0, no_cache, false, up(300.0), up(1200.0)}, cfg(P::pii_local_only, O::cloud_first, 1500.0), R::cloud_llm, true, true},
  {"cloud_first_cloud_unhealthy", {"", 0.0, no_cache, false, up(), sick(200.0)}, cfg(P::pii_local_only, O::cloud_first), R::local_llm, true, true},
  {"cloud_first_cloud_unavailable", {"", 0.0, no_cache, false, up(), none()}, cfg(P::pii_local_only, O::cloud_first), R::local_llm, true, true},
  // PII × policy × availability.
  {"pii_local_only_both_up", {"", 0.0, no_cache, true, up(), up()}, cfg(P::pii_local_only, O::cloud_first), R::local_llm, false, false},
  {"pii_local_only_cloud_only", {"", 0.0, no_cache, true, none(), up()}, cfg(), R::fallback, false, false},
  {"pii_local_only_local_sick", {"", 0.0, no_cache, true, sick(), up()}, cfg(), R::fallback, false, false},
  {"pii_allow_cloud_cloud_only", {"", 0.0, no_cache, true, none(), up()}, cfg(P::allow_cloud), R::cloud_llm, false, false},
  {"pii_allow_cloud_cloud_first", {"", 0.0, no_cache, true, up(), up()}, cfg(P::allow_cloud, O::cloud_first), R::cloud_llm, false, false},
  {"pii_allow_cloud_local_first", {"", 0.0, no_cache, true, up(), up()}, cfg(P::allow_cloud), R::local_llm, false, false},
  {"pii_allow_cloud_cloud_sick", {"", 0.0, no_cache, true, none(), sick()}, cfg(P::allow_cloud), R::fallback, false, false},
  {"pii_allow_cloud_over_budget", {"", 0.0, no_cache, true, up(200.0), up(1000.0)}, cfg(P::allow_cloud, O::cloud_first), R::local_llm, false, false},
  {"pii_local_only_local_ok", {"", 0.0, no_cache, true, up(), none()}, cfg(), R::local_llm, false, false},
  // 4. Fallback.
  {"fallback_nothing", {"", 0.0, no_cache, false, none(), none()}, cfg(), R::fallback, false, true},
  {"fallback_all_sick", {"", 0.0, no_cache, false, sick(), sick()}, cfg(), R::fallback, false, true},
  {"fallback_cloud_first_all_sick", {"", 0.0, no_cache, false, sick(), sick()}, cfg(P::allow_cloud, O::cloud_first), R::fallback, false, true},
  {"fallback_cache_miss", {"", 0.0, sim(0.2), false, none(), none()}, cfg(), R::fallback, false, true},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(cases, policy_table, ::testing::ValuesIn(k_cases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(policy, reason_carries_the_scores) {
  route_inputs in{"time.now", 0.92, std::nullopt, false, up(), up()};
  EXPECT_EQ(decide(in, cfg()).reason, "intent time.now 0.92 >= 0.60");

  in = {"faq.hours", 0.41, sim(0.93, 0.90), false, up(), up()};
  EXPECT_EQ(decide(in, cfg()).reason, "intent faq.hours 0.41 < 0.60; cache similarity 0.93 >= 0.90");

  in = {"", 0.0, std::nullopt, false, up(300.0), up(1200.0)};
  const auto d = decide(in, cfg(P::pii_local_only, O::cloud_first));
  EXPECT_EQ(d.reason,
            "intent (none) 0.00 < 0.60; cache miss; cloud_llm p95 1200 ms > budget 800 ms, local_llm p95 300 ms");
  EXPECT_TRUE(d.over_budget_switch);

  in = {"", 0.0, std::nullopt, true, none(), up()};
  const auto f = decide(in, cfg());
  EXPECT_EQ(f.reason,
            "intent (none) 0.00 < 0.60; cache skipped (pii); local llm unavailable; cloud llm excluded (pii, "
            "pii_local_only); no llm can take the turn");
  EXPECT_TRUE(f.pii_kept_local);
}

TEST(policy, flags) {
  route_inputs in{"", 0.0, std::nullopt, false, up(), sick()};
  auto d = decide(in, cfg(P::pii_local_only, O::cloud_first));
  EXPECT_TRUE(d.cloud_unhealthy_skipped);
  EXPECT_FALSE(d.pii_kept_local);
  EXPECT_FALSE(d.over_budget_switch);
  in.pii = true;
  d = decide(in, cfg(P::pii_local_only, O::cloud_first));
  EXPECT_TRUE(d.pii_kept_local);
  EXPECT_FALSE(d.cloud_unhealthy_skipped);  // excluded by policy first
  in.cloud_llm = none();
  d = decide(in, cfg());
  EXPECT_FALSE(d.pii_kept_local);  // nothing to keep away from
}

TEST(policy, pre_route_agrees_with_decide) {
  const routing_config c = cfg();
  for (bool pii : {false, true}) {
    for (double conf : {0.0, 0.59, 0.6, 0.9}) {
      const auto pre = pre_route("time.now", conf, pii, c);
      const auto d = decide({"time.now", conf, std::nullopt, pii, up(), up()}, c);
      EXPECT_EQ(pre.intent_wins, d.chosen == route::intent);
      EXPECT_EQ(pre.cache_lookup_allowed, !pii && d.chosen != route::intent);
    }
  }
  EXPECT_FALSE(pre_route("", 1.0, false, c).intent_wins);
}

TEST(policy, exhaustive_invariants) {
  // Every combination of the inputs' discrete values keeps the policy's promises.
  const llm_tier_state tiers[] = {none(), up(), sick(), up(100.0), up(5000.0), sick(100.0)};
  const std::optional<cache_candidate> caches[] = {std::nullopt, exact(), sim(0.95), sim(0.5)};
  int n = 0;
  for (auto privacy : {P::pii_local_only, P::allow_cloud})
    for (auto order : {O::local_first, O::cloud_first})
      for (double conf : {0.0, 0.6, 0.9})
        for (const auto& cache : caches)
          for (bool pii : {false, true})
            for (const auto& local : tiers)
              for (const auto& cloud : tiers) {
                const route_inputs in{"x", conf, cache, pii, local, cloud};
                const routing_config c = cfg(privacy, order);
                const route_decision d = decide(in, c);
                ++n;
                if (conf >= 0.6) {
                  EXPECT_EQ(d.chosen, route::intent);
                  continue;
                }
                if (pii) {
                  EXPECT_NE(d.chosen, route::cache);
                  EXPECT_FALSE(d.cacheable);
                  if (privacy == P::pii_local_only) { EXPECT_NE(d.chosen, route::cloud_llm); }
                } else if (cache && (cache->exact || cache->similarity >= cache->threshold)) {
                  EXPECT_EQ(d.chosen, route::cache);
                }
                if (d.chosen == route::local_llm) { EXPECT_TRUE(local.available && local.healthy); }
                if (d.chosen == route::cloud_llm) { EXPECT_TRUE(cloud.available && cloud.healthy); }
                const bool any_llm = (local.available && local.healthy) ||
                                     (cloud.available && cloud.healthy && !(pii && privacy == P::pii_local_only));
                if (d.chosen == route::fallback) { EXPECT_FALSE(any_llm); }
                if (any_llm) { EXPECT_NE(d.chosen, route::fallback); }
              }
  EXPECT_EQ(n, 2 * 2 * 3 * 4 * 2 * 6 * 6);
}

TEST(policy, parse_privacy_policy) {
  EXPECT_EQ(*parse_privacy_policy("pii_local_only"), P::pii_local_only);
  EXPECT_EQ(*parse_privacy_policy(" PII-Local-Only "), P::pii_local_only);
  EXPECT_EQ(*parse_privacy_policy("local"), P::pii_local_only);
  EXPECT_EQ(*parse_privacy_policy("allow_cloud"), P::allow_cloud);
  EXPECT_EQ(*parse_privacy_policy("Allow-Cloud"), P::allow_cloud);
  const auto bad = parse_privacy_policy("whatever");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::invalid_argument);
  EXPECT_NE(bad.error().message.find("pii_local_only"), std::string::npos);
  EXPECT_FALSE(parse_privacy_policy(""));
  for (auto p : {P::pii_local_only, P::allow_cloud}) EXPECT_EQ(*parse_privacy_policy(to_string(p)), p);
}

TEST(policy, parse_llm_order) {
  EXPECT_EQ(*parse_llm_order("local_first"), O::local_first);
  EXPECT_EQ(*parse_llm_order("CLOUD"), O::cloud_first);
  EXPECT_FALSE(parse_llm_order("fastest"));
  for (auto o : {O::local_first, O::cloud_first}) EXPECT_EQ(*parse_llm_order(to_string(o)), o);
}

TEST(policy, to_string_routes) {
  EXPECT_EQ(to_string(route::intent), "intent");
  EXPECT_EQ(to_string(route::cache), "cache");
  EXPECT_EQ(to_string(route::local_llm), "local_llm");
  EXPECT_EQ(to_string(route::cloud_llm), "cloud_llm");
  EXPECT_EQ(to_string(route::fallback), "fallback");
}

TEST(policy, validate_config) {
  EXPECT_TRUE(validate(routing_config{}));
  EXPECT_FALSE(validate(cfg(P::pii_local_only, O::local_first, 800.0, 1.5)));
  EXPECT_FALSE(validate(cfg(P::pii_local_only, O::local_first, 800.0, -0.1)));
  EXPECT_FALSE(validate(cfg(P::pii_local_only, O::local_first, 800.0, std::nan(""))));
  EXPECT_FALSE(validate(cfg(P::pii_local_only, O::local_first, 0.0)));
  EXPECT_FALSE(validate(cfg(P::pii_local_only, O::local_first, std::numeric_limits<double>::infinity())));
  EXPECT_TRUE(validate(cfg(P::allow_cloud, O::cloud_first, 1.0, 0.0)));
}

}  // namespace
}  // namespace parley::routing
