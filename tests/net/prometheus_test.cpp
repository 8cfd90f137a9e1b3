// prometheus_writer: the text exposition format (HELP, TYPE, samples, labels, summaries).
#include "parley/net/prometheus.hpp"

#include <gtest/gtest.h>

namespace parley::net {
namespace {

TEST(prometheus, counter_and_gauge_families) {
  prometheus_writer w;
  w.counter("parley_turns_total", "Turns completed", 42);
  w.gauge("parley_ws_sessions", "Open sessions", 3);
  EXPECT_EQ(w.str(),
            "# HELP parley_turns_total Turns completed\n# TYPE parley_turns_total counter\nparley_turns_total 42\n"
            "# HELP parley_ws_sessions Open sessions\n# TYPE parley_ws_sessions gauge\nparley_ws_sessions 3\n");
}

TEST(prometheus, labels_are_escaped) {
  prometheus_writer w;
  w.family("m", "help with \\ and\nnewline", "counter");
  w.sample("m", {{"code", "a\"b\\c\nd"}, {"x", "y"}}, 1.5);
  EXPECT_EQ(w.str(), "# HELP m help with \\\\ and\\nnewline\n# TYPE m counter\nm{code=\"a\\\"b\\\\c\\nd\",x=\"y\"} 1.5\n");
}

TEST(prometheus, summary_has_quantiles_sum_and_count) {
  obs::histogram h;
  for (int i = 1; i <= 100; ++i) h.record(i);
  prometheus_writer w;
  w.summary("parley_turn_ttfa_milliseconds", "TTFA", h);
  const auto& s = w.str();
  EXPECT_NE(s.find("# TYPE parley_turn_ttfa_milliseconds summary\n"), std::string::npos);
  for (const char* q : {"0.5", "0.9", "0.95", "0.99"}) {
    EXPECT_NE(s.find(std::string("parley_turn_ttfa_milliseconds{quantile=\"") + q + "\"} "), std::string::npos) << q;
  }
  EXPECT_NE(s.find("parley_turn_ttfa_milliseconds_sum 5050\n"), std::string::npos);
  EXPECT_NE(s.find("parley_turn_ttfa_milliseconds_count 100\n"), std::string::npos);
}

TEST(prometheus, empty_summary_reports_nan_quantiles) {
  obs::histogram h;
  prometheus_writer w;
  w.summary("x_milliseconds", "x", h);
  EXPECT_NE(w.str().find("x_milliseconds{quantile=\"0.5\"} NaN\n"), std::string::npos);
  EXPECT_NE(w.str().find("x_milliseconds_count 0\n"), std::string::npos);
}

}  // namespace
}  // namespace parley::net
