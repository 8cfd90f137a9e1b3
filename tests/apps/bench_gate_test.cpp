// apps/bench_gate: the baseline's medians and tolerances, and the check of a run against it.
#include "parley/apps/bench_gate.hpp"

#include <gtest/gtest.h>

namespace parley::app {
namespace {

using nlohmann::json;

json report(double ttfa_stream_p50, double ttfa_seq_p50, double overhead_p99 = 0.5) {
  const auto m = [](double p50) { return json{{"n", 10}, {"p50", p50}, {"p90", p50 * 1.2}, {"p95", p50 * 1.3}, {"p99", p50 * 1.5}, {"mean", p50}}; };
  return {{"streaming", {{"ttfa", m(ttfa_stream_p50)}, {"overhead", m(overhead_p99 / 1.5)}}},
          {"sequential", {{"ttfa", m(ttfa_seq_p50)}, {"overhead", m(overhead_p99 / 1.5)}}}};
}

TEST(bench_gate, tracks_ttfa_and_overhead_per_mode_and_the_streaming_ratio) {
  const auto figures = tracked_figures(report(250, 1000));
  EXPECT_DOUBLE_EQ(figures.at("streaming.ttfa.p50"), 250);
  EXPECT_DOUBLE_EQ(figures.at("sequential.ttfa.p95"), 1300);
  EXPECT_DOUBLE_EQ(figures.at("streaming.overhead.p99"), 0.5);
  EXPECT_DOUBLE_EQ(figures.at("ratio.ttfa_p50"), 0.25);
  EXPECT_DOUBLE_EQ(figures.at("ratio.ttfa_p95"), 0.25);
  EXPECT_FALSE(tracked_figures(json{{"streaming", {{"ttfa", {{"p50", 1}}}}}}).contains("ratio.ttfa_p50"))
      << "no ratio without both modes";
}

TEST(bench_gate, the_baseline_is_the_median_with_room_for_the_noise_between_runs) {
  const auto baseline = record_gate({report(240, 1000), report(250, 1000), report(270, 1000)});
  ASSERT_TRUE(baseline) << baseline.error().message;
  const auto& t = (*baseline)["gate"]["tracked"];
  EXPECT_DOUBLE_EQ(t["streaming.ttfa.p50"]["value"], 250);
  EXPECT_NEAR(t["streaming.ttfa.p50"]["tolerance"].get<double>(), 2 * 20.0 / 250, 1e-9) << "twice the largest distance from the median";
  EXPECT_DOUBLE_EQ(t["sequential.ttfa.p50"]["tolerance"], k_default_gate_tolerance) << "a steady figure gets the minimum";
  EXPECT_EQ((*baseline)["gate"]["runs"], 3);
  EXPECT_FALSE(record_gate({report(250, 1000)})) << "one run has no spread";
}

TEST(bench_gate, a_run_within_the_tolerance_passes_and_a_worse_one_fails_naming_the_figure) {
  const auto baseline = json::parse(R"({"gate": {"tracked": {"ratio.ttfa_p50": {"value": 0.25, "tolerance": 0.2}}}})");
  auto same = check_gate(baseline, report(280, 1000));  // 0.28 ≤ 0.30
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->ok);
  EXPECT_EQ(same->rows.size(), 1u) << "only what the baseline lists is checked";
  auto worse = check_gate(baseline, report(400, 1000));  // 0.40 > 0.30: streaming lost its lead
  ASSERT_TRUE(worse);
  EXPECT_FALSE(worse->ok);
  EXPECT_NE(render_gate(*worse).find("ratio.ttfa_p50"), std::string::npos);
  EXPECT_NE(render_gate(*worse).find("WORSE"), std::string::npos);
  auto missing = check_gate(baseline, json{{"streaming", {{"ttfa", {{"p50", 1}}}}}});
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->ok) << "a tracked figure the run did not measure fails";
  EXPECT_FALSE(check_gate(json::object(), report(1, 1))) << "a baseline without figures is an error";
}

}  // namespace
}  // namespace parley::app
