#include "parley/routing/provider_health.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace parley::routing {
namespace {

using namespace std::chrono_literals;

struct fixture {
  manual_clock clk;
  provider_health health{clk};
};

TEST(provider_health, starts_healthy_without_data) {
  fixture f;
  EXPECT_TRUE(f.health.healthy());
  EXPECT_EQ(f.health.state(), health_state::healthy);
  EXPECT_FALSE(f.health.p95_ttft_ms());
  EXPECT_EQ(f.health.error_rate(), 0.0);
  EXPECT_FALSE(f.health.should_probe());
}

struct p95_case {
  const char* name;
  std::vector<double> ttfts_ms;
  double expected_ms;
};
void PrintTo(const p95_case& c, std::ostream* os) { *os << c.name; }
class p95_table : public ::testing::TestWithParam<p95_case> {};

TEST_P(p95_table, nearest_rank) {
  manual_clock clk;
  provider_health h(clk, health_config{.window_requests = 100});
  for (double t : GetParam().ttfts_ms) h.record_ttft_ms(t);
  ASSERT_TRUE(h.p95_ttft_ms());
  EXPECT_DOUBLE_EQ(*h.p95_ttft_ms(), GetParam().expected_ms);
}

std::vector<double> one_to(int n) {
  std::vector<double> v;
  for (int i = n; i >= 1; --i) v.push_back(i);  // recorded out of order on purpose
  return v;
}

const p95_case k_p95_cases[] = {
    {"one_sample", {420.0}, 420.0},
    {"two_samples", {100.0, 900.0}, 900.0},
    {"twenty", one_to(20), 19.0},
    {"hundred", one_to(100), 95.0},
    {"ten", one_to(10), 10.0},
    {"all_equal", {300.0, 300.0, 300.0}, 300.0},
    {"negative_clamped", {-5.0}, 0.0},
};
INSTANTIATE_TEST_SUITE_P(cases, p95_table, ::testing::ValuesIn(k_p95_cases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(provider_health, errors_do_not_count_in_p95) {
  fixture f;
  f.health.record_ttft_ms(200.0);
  f.health.record_error(errc::timeout);
  EXPECT_DOUBLE_EQ(*f.health.p95_ttft_ms(), 200.0);
  EXPECT_DOUBLE_EQ(f.health.error_rate(), 0.5);
}

TEST(provider_health, window_by_count) {
  manual_clock clk;
  provider_health h(clk, health_config{.window_requests = 3});
  h.record_ttft_ms(5000.0);
  h.record_ttft_ms(100.0);
  h.record_ttft_ms(100.0);
  EXPECT_DOUBLE_EQ(*h.p95_ttft_ms(), 5000.0);
  h.record_ttft_ms(100.0);  // pushes the slow one out
  EXPECT_DOUBLE_EQ(*h.p95_ttft_ms(), 100.0);
  EXPECT_EQ(h.snapshot().n_requests, 3u);
}

TEST(provider_health, window_by_time) {
  fixture f;  // window 60 s
  f.health.record_ttft_ms(5000.0);
  f.clk.advance(30s);
  f.health.record_ttft_ms(100.0);
  EXPECT_DOUBLE_EQ(*f.health.p95_ttft_ms(), 5000.0);
  f.clk.advance(30s);  // the first is exactly 60 s old: still in
  EXPECT_DOUBLE_EQ(*f.health.p95_ttft_ms(), 5000.0);
  f.clk.advance(1ms);
  EXPECT_DOUBLE_EQ(*f.health.p95_ttft_ms(), 100.0);
  f.clk.advance(31s);
  EXPECT_FALSE(f.health.p95_ttft_ms());
  EXPECT_EQ(f.health.snapshot().n_requests, 0u);
}

TEST(provider_health, cancelled_is_not_an_error) {
  fixture f;
  for (int i = 0; i < 10; ++i) f.health.record_error(errc::cancelled);
  EXPECT_TRUE(f.health.healthy());
  EXPECT_EQ(f.health.snapshot().n_requests, 0u);
}

// Scenario rows: a sequence of outcomes ('o' ok, 'x' error) and whether the breaker is open after.
struct trip_case {
  const char* name;
  const char* outcomes;
  bool healthy_after;
};
void PrintTo(const trip_case& c, std::ostream* os) { *os << c.name; }
class trip_table : public ::testing::TestWithParam<trip_case> {};

TEST_P(trip_table, trips_at_documented_thresholds) {
  fixture f;
  for (const char* p = GetParam().outcomes; *p; ++p) {
    if (*p == 'o') f.health.record_ttft_ms(100.0);
    else f.health.record_error(errc::engine_failure);
    f.clk.advance(10ms);
  }
  EXPECT_EQ(f.health.healthy(), GetParam().healthy_after);
}

const trip_case k_trip_cases[] = {
    {"three_errors_too_few", "xxx", true},
    {"four_errors", "xxxx", false},
    {"half_of_four", "oxox", false},
    {"half_of_four_errors_first", "xxoo", false},  // 2/3 is below min_requests; 2/4 trips
    {"one_of_four", "ooox", true},
    {"two_of_five_ok", "oooxx", true},
    {"three_of_six", "oooxxx", false},
    {"errors_after_many_ok", "oooooooooxxxxx", true},   // 5/14 < 50%
    {"errors_after_many_ok_more", "ooooooooooxxxxxxxxxx", false},  // 10/20
    {"all_ok", "oooooooooooooooooooooooooooo", true},
};
INSTANTIATE_TEST_SUITE_P(cases, trip_table, ::testing::ValuesIn(k_trip_cases),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(provider_health, count_window_forgets_old_errors) {
  manual_clock clk;
  provider_health h(clk, health_config{.window_requests = 4});
  h.record_error(errc::timeout);  // x
  h.record_ttft_ms(1.0);          // xo
  h.record_ttft_ms(1.0);          // xoo
  h.record_ttft_ms(1.0);          // xooo: 1/4
  h.record_error(errc::timeout);  // ooox: 1/4
  EXPECT_TRUE(h.healthy());
  EXPECT_DOUBLE_EQ(h.error_rate(), 0.25);
}

TEST(provider_health, cooldown_then_one_probe_then_close) {
  fixture f;  // cooldown 10 s, probe timeout 10 s
  for (int i = 0; i < 4; ++i) f.health.record_error(errc::timeout);
  EXPECT_EQ(f.health.state(), health_state::open);
  EXPECT_FALSE(f.health.should_probe());
  f.clk.advance(9999ms);
  EXPECT_EQ(f.health.state(), health_state::open);
  EXPECT_FALSE(f.health.should_probe());
  f.clk.advance(1ms);
  EXPECT_EQ(f.health.state(), health_state::probing);
  EXPECT_FALSE(f.health.healthy());
  EXPECT_TRUE(f.health.should_probe());   // one probe
  EXPECT_FALSE(f.health.should_probe());  // and only one
  f.clk.advance(700ms);
  f.health.record_ttft_ms(700.0);  // the probe succeeded
  EXPECT_TRUE(f.health.healthy());
  EXPECT_EQ(f.health.state(), health_state::healthy);
  EXPECT_DOUBLE_EQ(f.health.error_rate(), 0.0);  // old errors forgotten
  EXPECT_DOUBLE_EQ(*f.health.p95_ttft_ms(), 700.0);
  // It takes a fresh run of failures to trip again.
  f.health.record_error(errc::timeout);
  f.health.record_error(errc::timeout);
  EXPECT_TRUE(f.health.healthy());  // 2 of 3
  f.health.record_error(errc::timeout);
  EXPECT_FALSE(f.health.healthy());  // 3 of 4
}

TEST(provider_health, failed_probe_reopens_for_a_new_cooldown) {
  fixture f;
  for (int i = 0; i < 4; ++i) f.health.record_error(errc::unavailable);
  f.clk.advance(10s);
  ASSERT_TRUE(f.health.should_probe());
  f.clk.advance(2s);
  f.health.record_error(errc::timeout);
  EXPECT_EQ(f.health.state(), health_state::open);
  EXPECT_FALSE(f.health.should_probe());
  f.clk.advance(9s);
  EXPECT_FALSE(f.health.should_probe());
  f.clk.advance(1s);
  EXPECT_TRUE(f.health.should_probe());
}

TEST(provider_health, unanswered_probe_is_regranted_after_probe_timeout) {
  manual_clock clk;
  provider_health h(clk, health_config{.cooldown = 5s, .probe_timeout = 3s});
  for (int i = 0; i < 4; ++i) h.record_error(errc::timeout);
  clk.advance(5s);
  EXPECT_TRUE(h.should_probe());
  clk.advance(2999ms);
  EXPECT_FALSE(h.should_probe());
  clk.advance(1ms);
  EXPECT_TRUE(h.should_probe());
  EXPECT_FALSE(h.should_probe());
}

TEST(provider_health, late_success_while_open_closes) {
  fixture f;
  for (int i = 0; i < 4; ++i) f.health.record_error(errc::timeout);
  f.clk.advance(1s);
  f.health.record_ttft_ms(2000.0);  // a request started before the trip answered late
  EXPECT_TRUE(f.health.healthy());
}

TEST(provider_health, custom_thresholds) {
  manual_clock clk;
  provider_health h(clk, health_config{.min_requests = 2, .unhealthy_error_rate = 1.0});
  h.record_error(errc::timeout);
  h.record_ttft_ms(10.0);
  h.record_error(errc::timeout);
  EXPECT_TRUE(h.healthy());  // 2/3 < 100%
  provider_health g(clk, health_config{.min_requests = 2, .unhealthy_error_rate = 1.0});
  g.record_error(errc::timeout);
  EXPECT_TRUE(g.healthy());
  g.record_error(errc::timeout);
  EXPECT_FALSE(g.healthy());
}

TEST(provider_health, snapshot) {
  fixture f;
  f.health.record_ttft_ms(100.0);
  f.health.record_ttft_ms(300.0);
  f.health.record_error(errc::io_error);
  const health_snapshot s = f.health.snapshot();
  EXPECT_EQ(s.state, health_state::healthy);
  EXPECT_EQ(s.n_requests, 3u);
  EXPECT_EQ(s.n_errors, 1u);
  EXPECT_NEAR(s.error_rate, 1.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(*s.p95_ttft_ms, 300.0);
  EXPECT_EQ(to_string(health_state::probing), "probing");
}

TEST(provider_health, concurrent_use_is_safe) {
  manual_clock clk;
  provider_health h(clk);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if ((i + t) % 3 == 0) h.record_error(errc::timeout);
        else h.record_ttft_ms(i % 500);
        (void)h.healthy();
        (void)h.should_probe();
        (void)h.snapshot();
        if (i % 100 == 0) clk.advance(1s);
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto s = h.snapshot();
  EXPECT_LE(s.n_requests, 20u);
}

}  // namespace
}  // namespace parley::routing
