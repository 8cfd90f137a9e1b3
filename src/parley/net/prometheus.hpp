// net/prometheus — a small writer of the Prometheus text exposition format (version 0.0.4).
//
// Role: renders counters, gauges and obs::histogram summaries for `GET /metrics`. Debian bookworm
// packages no prometheus-cpp, so parley writes the format itself: `# HELP`, `# TYPE`, then the
// samples. Histograms are exported as Prometheus *summaries*: quantiles 0.5, 0.9, 0.95 and 0.99
// (from obs::histogram, within 0.78 % of the exact value), plus `_sum` and `_count`, all over
// the whole life of the process (not a sliding window).
// Threading: a writer is a local value; build one per scrape.
// Units: metric names carry their unit (`_milliseconds`, `_bytes`, `_total`).
//
//   prometheus_writer w;
//   w.counter("parley_turns_total", "Turns completed", 42);
//   w.summary("parley_turn_ttfa_milliseconds", "Time to first audio", ttfa_histogram);
//   respond(w.str());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/obs/histogram.hpp"

namespace parley::net {

using label_set = std::vector<std::pair<std::string, std::string>>;

class prometheus_writer {
 public:
  /// HELP and TYPE lines; call once per metric family before its samples.
  void family(std::string_view name, std::string_view help, std::string_view type);
  /// One sample line: name{labels} value.
  void sample(std::string_view name, const label_set& labels, double value);

  /// A whole family with one sample each.
  void counter(std::string_view name, std::string_view help, double value);
  void gauge(std::string_view name, std::string_view help, double value);
  /// A summary family from a histogram: quantiles 0.5/0.9/0.95/0.99, _sum, _count.
  void summary(std::string_view name, std::string_view help, const obs::histogram& h);

  const std::string& str() const { return out_; }
  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

 private:
  std::string out_;
};

/// Escapes a label value (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

}  // namespace parley::net
