// server_metrics: the /metrics page written by prometheus-cpp (HELP, TYPE, samples, labels,
// summaries from obs::histogram), counters copied at scrape time, labelled counts in place.
#include "parley/net/server_metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::net {
namespace {

bool has(const std::string& page, const std::string& needle) { return page.find(needle) != std::string::npos; }

TEST(server_metrics, counter_and_gauge_families) {
  server_metrics m;
  m.n_turns.fetch_add(42);
  m.n_active_sessions.fetch_add(3);
  const auto page = m.scrape({.ready = true});
  EXPECT_TRUE(has(page, "# HELP parley_turns_total User turns completed\n# TYPE parley_turns_total counter\n"
                        "parley_turns_total 42\n"))
      << page;
  EXPECT_TRUE(has(page, "# HELP parley_ws_sessions Realtime WebSocket sessions open now\n"
                        "# TYPE parley_ws_sessions gauge\nparley_ws_sessions 3\n"));
  EXPECT_TRUE(has(page, "# TYPE parley_ready gauge\nparley_ready 1\n"));
  EXPECT_TRUE(has(m.scrape({.ready = false}), "parley_ready 0\n"));
}

TEST(server_metrics, counters_follow_their_atomics_from_scrape_to_scrape) {
  server_metrics m;
  m.n_http_requests.fetch_add(5);
  EXPECT_TRUE(has(m.scrape({}), "parley_http_requests_total 5\n"));
  m.n_http_requests.fetch_add(2);
  EXPECT_TRUE(has(m.scrape({}), "parley_http_requests_total 7\n"));
  EXPECT_TRUE(has(m.scrape({}), "parley_http_requests_total 7\n")) << "a scrape does not count twice";
  m.n_bytes_in.fetch_add(12345678901);
  m.n_messages_out_binary.fetch_add(9);
  const auto page = m.scrape({.n_input_lane_yields = 4, .n_input_lane_queued = 2});
  EXPECT_TRUE(has(page, "parley_ws_bytes_total{direction=\"in\"} 12345678901\n")) << page;
  EXPECT_TRUE(has(page, "parley_ws_bytes_total{direction=\"out\"} 0\n"));
  EXPECT_TRUE(has(page, "parley_ws_messages_total{direction=\"out\",kind=\"binary\"} 9\n"));
  EXPECT_TRUE(has(page, "parley_input_lane_yields_total 4\n"));
  EXPECT_TRUE(has(page, "parley_input_lane_queued 2\n"));
}

TEST(server_metrics, every_family_is_listed_before_its_first_sample) {
  server_metrics m;
  const auto page = m.scrape({});
  EXPECT_TRUE(has(page, "# HELP parley_interrupts_total Replies interrupted, by reason\n"
                        "# TYPE parley_interrupts_total counter\n"));
  EXPECT_TRUE(has(page, "# TYPE parley_turns_by_route_total counter\n"));
  EXPECT_FALSE(has(page, "parley_interrupts_total{"));
  // Every protocol error code, zeros included.
  for (std::size_t i = 0; i < n_wire_errcs; ++i) {
    const auto code = std::string(to_string(static_cast<wire_errc>(i)));
    EXPECT_TRUE(has(page, "parley_protocol_errors_total{code=\"" + code + "\"} 0\n")) << code;
  }
}

TEST(server_metrics, labelled_counts_and_escaped_label_values) {
  server_metrics m;
  m.count_error(wire_errc::invalid_json);
  m.count_error(wire_errc::invalid_json);
  m.count_interrupt("barge_in");
  m.count_interrupt("a\"b\\c\nd");
  obs::turn_timeline t;
  t.route = "intent";
  t.add_note(obs::note_name::asr_confidence, 0.25);
  m.count_turn(t);
  m.count_turn(obs::turn_timeline{});  // no route: "none"
  const auto page = m.scrape({});
  EXPECT_TRUE(has(page, "parley_protocol_errors_total{code=\"invalid_json\"} 2\n")) << page;
  EXPECT_EQ(m.n_protocol_errors.load(), 2u);
  EXPECT_TRUE(has(page, "parley_interrupts_total{reason=\"barge_in\"} 1\n"));
  EXPECT_TRUE(has(page, "parley_interrupts_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n"));
  EXPECT_TRUE(has(page, "parley_turns_by_route_total{route=\"intent\"} 1\n"));
  EXPECT_TRUE(has(page, "parley_turns_by_route_total{route=\"none\"} 1\n"));
  EXPECT_TRUE(has(page, "parley_turns_total 2\n"));
  EXPECT_TRUE(has(page, "parley_asr_confidence_count 1\n")) << "only the spoken turn has a confidence";
  EXPECT_TRUE(has(page, "parley_asr_confidence_sum 0.25\n")) << page;
}

TEST(server_metrics, summary_has_quantiles_sum_and_count) {
  server_metrics m;
  for (int i = 1; i <= 100; ++i) m.time_to_interrupt.record(i);
  const auto page = m.scrape({});
  const std::string name = "parley_barge_in_time_to_interrupt_milliseconds";
  EXPECT_TRUE(has(page, "# HELP " + name +
                            " User speech start (arrival of its first audio) to the interrupt message leaving the server\n"
                            "# TYPE " + name + " summary\n"));
  for (const char* q : {"0.5", "0.9", "0.95", "0.99"}) {
    EXPECT_TRUE(has(page, name + "{quantile=\"" + q + "\"} ")) << q;
  }
  EXPECT_TRUE(has(page, name + "{quantile=\"0.5\"} 50") || has(page, name + "{quantile=\"0.5\"} 49")) << page;
  EXPECT_TRUE(has(page, name + "_sum 5050\n"));
  EXPECT_TRUE(has(page, name + "_count 100\n"));
}

TEST(server_metrics, per_turn_summaries_exist_for_every_metric_and_report_nan_while_empty) {
  server_metrics m;
  const auto page = m.scrape({});
  for (const auto& metric : obs::all_metrics) {
    const std::string name = "parley_turn_" + std::string(metric.name) + "_milliseconds";
    EXPECT_TRUE(has(page, "# HELP " + name + " Per-turn " + std::string(metric.name) + " (docs/latency.md)\n# TYPE " +
                              name + " summary\n"))
        << name;
    EXPECT_TRUE(has(page, name + "_count 0\n")) << name;
  }
  // NaN as prometheus-cpp spells it; Prometheus reads NaN in any case.
  EXPECT_TRUE(has(page, "parley_turn_ttfa_milliseconds{quantile=\"0.5\"} Nan\n")) << page;
}

}  // namespace
}  // namespace parley::net
