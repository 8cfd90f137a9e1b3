#include "parley/obs/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "obs_test_util.hpp"

namespace parley::obs {
namespace {

constexpr double k_tolerance = 0.01;  // the promise: within 1 % of the exact percentile

/// The exact nearest-rank percentile of `sorted`, the definition histogram::percentile follows.
double exact_percentile(const std::vector<double>& sorted, double p) {
  const auto n = static_cast<double>(sorted.size());
  const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(p * n / 100.0)));
  return sorted[rank - 1];
}

void expect_matches_exact(const std::vector<double>& values, const char* what) {
  histogram h;
  for (const double v : values) h.record(v);
  auto sorted = values;
  std::ranges::sort(sorted);
  ASSERT_EQ(h.n(), values.size()) << what;
  EXPECT_EQ(h.min_ms(), sorted.front()) << what;
  EXPECT_EQ(h.max_ms(), sorted.back()) << what;
  double sum = 0;
  for (const double v : values) sum += v;
  EXPECT_NEAR(h.sum_ms(), sum, 1e-9 * std::fabs(sum) + 1e-12) << what;
  for (const double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0}) {
    const double exact = exact_percentile(sorted, p);
    EXPECT_NEAR(h.percentile(p), exact, k_tolerance * std::fabs(exact)) << what << " p" << p;
  }
  const auto s = h.summary();
  EXPECT_EQ(s.n, values.size());
  EXPECT_EQ(s.p50, h.percentile(50));
  EXPECT_EQ(s.p90, h.percentile(90));
  EXPECT_EQ(s.p95, h.percentile(95));
  EXPECT_EQ(s.p99, h.percentile(99));
  EXPECT_NEAR(s.mean, sum / static_cast<double>(values.size()), 1e-9 * std::fabs(sum) + 1e-12);
  EXPECT_EQ(s.min, sorted.front());
  EXPECT_EQ(s.max, sorted.back());
}

TEST(histogram, empty_reports_zeros) {
  histogram h;
  EXPECT_EQ(h.n(), 0u);
  EXPECT_EQ(h.percentile(50), 0.0);
  EXPECT_EQ(h.mean_ms(), 0.0);
  EXPECT_EQ(h.min_ms(), 0.0);
  EXPECT_EQ(h.max_ms(), 0.0);
  const auto s = h.summary();
  EXPECT_EQ(s.n, 0u);
  EXPECT_EQ(s.p99, 0.0);
}

TEST(histogram, percentiles_match_exact_ones_within_one_percent) {
  std::mt19937_64 rng(42);
  std::vector<double> v;

  std::uniform_real_distribution<double> uniform(1.0, 5000.0);
  for (int i = 0; i < 20000; ++i) v.push_back(uniform(rng));
  expect_matches_exact(v, "uniform");

  // Log-normal around 300 ms with a heavy Pareto tail reaching toward an hour.
  v.clear();
  std::lognormal_distribution<double> lognormal(std::log(300.0), 0.8);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  for (int i = 0; i < 20000; ++i) {
    v.push_back(u01(rng) < 0.05 ? std::min(3.6e6, 2000.0 / std::pow(1.0 - u01(rng), 1.0 / 0.7))
                                : lognormal(rng));
  }
  expect_matches_exact(v, "lognormal+tail");

  v.assign(1000, 812.5);
  expect_matches_exact(v, "constant");
  expect_matches_exact({37.25}, "single value");
  v.assign(500, 0.0);
  expect_matches_exact(v, "zeros");

  v.clear();
  std::uniform_real_distribution<double> sub_us(1e-5, 1e-3);  // 10 ns .. 1 µs
  for (int i = 0; i < 10000; ++i) v.push_back(sub_us(rng));
  expect_matches_exact(v, "below 1 us");

  v.clear();
  std::uniform_real_distribution<double> log_range(std::log(1e-3), std::log(3.6e6));  // 1 µs .. 1 h
  for (int i = 0; i < 20000; ++i) v.push_back(std::exp(log_range(rng)));
  expect_matches_exact(v, "log-uniform 1us..1h");

  v.clear();
  for (int i = 0; i < 97; ++i) v.push_back(i % 3 == 0 ? 0.0 : 10.0 + i);  // zeros mixed in
  expect_matches_exact(v, "mixed zeros");
}

TEST(histogram, every_bucket_is_within_the_promised_relative_error) {
  // Record v between two far-away values: the median is then v's bucket midpoint, unclamped.
  const double lo = std::log(1e-3), hi = std::log(3.6e6);
  for (int i = 0; i <= 20000; ++i) {
    const double v = std::exp(lo + (hi - lo) * i / 20000.0);
    histogram h;
    h.record(v / 4);
    h.record(v);
    h.record(v * 4);
    ASSERT_LE(std::fabs(h.percentile(50) - v), histogram::k_max_relative_error * v) << v;
  }
}

TEST(histogram, out_of_range_values_keep_exact_min_max_and_nan_is_ignored) {
  histogram h;
  h.record(-2.0);
  h.record(1e-9);
  h.record(5e6);  // above ~70 min
  h.record(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(h.n(), 3u);
  EXPECT_EQ(h.min_ms(), -2.0);
  EXPECT_EQ(h.max_ms(), 5e6);
  EXPECT_EQ(h.percentile(100), 5e6);
  EXPECT_GE(h.percentile(0), -2.0);
  EXPECT_LE(h.percentile(0), 1e-9);
  EXPECT_EQ(h.percentile(250), h.percentile(100));  // p is clamped to [0, 100]
  EXPECT_EQ(h.percentile(-5), h.percentile(0));
}

TEST(histogram, merge_equals_recording_everything_in_one) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(std::log(200.0), 1.0);
  histogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    const double v = d(rng);
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  const auto s = a.summary(), t = all.summary();
  EXPECT_EQ(s.n, t.n);
  EXPECT_EQ(s.p50, t.p50);
  EXPECT_EQ(s.p99, t.p99);
  EXPECT_EQ(s.min, t.min);
  EXPECT_EQ(s.max, t.max);
  EXPECT_NEAR(s.mean, t.mean, 1e-9 * t.mean);
  EXPECT_EQ(b.n(), 5000u - 1667u);  // the source is unchanged
  histogram empty;
  a.merge(empty);
  EXPECT_EQ(a.n(), 5000u);
}

TEST(histogram, reset_empties_it) {
  histogram h;
  for (int i = 1; i <= 100; ++i) h.record(i);
  h.reset();
  EXPECT_EQ(h.n(), 0u);
  EXPECT_EQ(h.summary().max, 0.0);
  h.record(3.0);
  EXPECT_EQ(h.n(), 1u);
  EXPECT_EQ(h.min_ms(), 3.0);
  EXPECT_EQ(h.percentile(50), 3.0);
}

void record_concurrently_and_check(int n_threads, int n_per_thread) {
  histogram h;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < n_threads; ++t) {
      threads.emplace_back([&h, t, n_per_thread] {
        for (int i = 0; i < n_per_thread; ++i) h.record(static_cast<double>(1 + (i + t) % 1000));
      });
    }
  }
  EXPECT_EQ(h.n(), static_cast<std::uint64_t>(n_threads) * n_per_thread);
  // Integer values: the double sum is exact. Each thread sums whole cycles of 1..1000.
  EXPECT_EQ(h.sum_ms(), n_threads * (n_per_thread / 1000) * (1000.0 * 1001.0 / 2));
  EXPECT_EQ(h.min_ms(), 1.0);
  EXPECT_EQ(h.max_ms(), 1000.0);
  EXPECT_EQ(h.percentile(100), 1000.0);
  EXPECT_NEAR(h.percentile(50), 500.0, 500.0 * k_tolerance);
}

TEST(histogram, concurrent_recording_from_four_threads_loses_nothing) {
  record_concurrently_and_check(4, 100000);
}

TEST(histogram, concurrent_recording_from_more_threads_than_stripes_loses_nothing) {
  record_concurrently_and_check(24, 20000);  // threads share stripes
}

TEST(metric_set, records_every_present_metric_of_a_turn) {
  manual_clock clock;
  metric_set metrics;
  EXPECT_EQ(metrics.find("ttfa"), nullptr);
  auto t = test::full_turn(clock);
  metrics.record(t);
  t.clear(stamp::llm_first_token);  // no llm_ttft for this one
  metrics.record(t);
  for (const auto& m : all_metrics) {
    const histogram* h = metrics.find(m.name);
    ASSERT_NE(h, nullptr) << m.name;
    EXPECT_EQ(h->n(), m.id == metric::llm_ttft ? 1u : 2u) << m.name;
  }
  EXPECT_NEAR(metrics.find("ttfa")->max_ms(), 721.0, 1e-9);
}

TEST(metric_set, llm_ttft_counts_only_turns_an_llm_answered) {
  // Found: turns the local responder answered added llm_ttft 0.00 to the percentiles.
  manual_clock clock;
  metric_set metrics;
  auto t = test::full_turn(clock);
  for (const auto* route : {"intent", "cache", "fallback", "llm", "local_llm", "cloud_llm"}) {
    t.route = route;
    metrics.record(t);
  }
  EXPECT_EQ(metrics.find("llm_ttft")->n(), 3u);
  EXPECT_EQ(metrics.find("ttfa")->n(), 6u);
  EXPECT_EQ(metrics.find("llm_ttfs")->n(), 6u) << "the responder's time to its first segment still counts";
}

TEST(metric_set, creates_on_demand_and_lists_standard_metrics_first) {
  metric_set metrics;
  metrics.record("zeta_custom", 1.0);
  metrics.record("ttfa", 800.0);
  metrics.record("alpha_custom", 2.0);
  metrics.record("endpoint_delay", 300.0);
  histogram& h = metrics.at("ttfa");
  EXPECT_EQ(&h, &metrics.at("ttfa"));
  const auto rows = metrics.summaries();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].name, "endpoint_delay");
  EXPECT_EQ(rows[1].name, "ttfa");
  EXPECT_EQ(rows[2].name, "alpha_custom");
  EXPECT_EQ(rows[3].name, "zeta_custom");
  EXPECT_EQ(rows[1].summary.p50, 800.0);
  metrics.reset();
  EXPECT_EQ(metrics.find("ttfa")->n(), 0u);
}

TEST(metric_set, is_safe_to_feed_from_many_threads) {
  manual_clock clock;
  const auto turn = test::full_turn(clock);
  metric_set metrics;
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        metrics.record(turn);
        metrics.record("custom_" + std::to_string(i % 7), 1.0);
      }
    });
  }
  threads.clear();
  EXPECT_EQ(metrics.find("ttfa")->n(), 8000u);
  EXPECT_EQ(metrics.summaries().size(), n_metrics + 7);
}

}  // namespace
}  // namespace parley::obs
