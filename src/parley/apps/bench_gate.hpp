// apps/bench_gate — the regression gate of `parley bench`: a baseline recorded from several runs
// (each tracked figure's median and a tolerance from the spread between the runs), and the check
// of one run against it.
//
// Role: pure functions over bench reports (the JSON `parley bench --json` writes: mode → metric →
// {n, p50, p90, p95, p99, mean}). Tracked figures, each "larger is worse":
//   <mode>.<metric>.<p50|p95|p99>  for ttfa and overhead, per mode run
//   ratio.ttfa_<p50|p95>           streaming over sequential TTFA, when both modes ran
// A baseline may list only some of them (a CI gate keeps the ratios, which do not depend on the
// machine); the check looks at exactly what the baseline lists.
// Tolerance: max(min_tolerance, 2 × the largest relative distance of a run from the median), so a
// figure that moved between identical runs gets room for that noise, and a steady one is held to
// min_tolerance (default 10 %).
// Threading: pure. Units: ms, and plain ratios.
//
//   auto baseline = record_gate({report1, report2, report3});
//   auto verdict = check_gate(baseline, report4);  // verdict.ok, verdict.rows
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::app {

inline constexpr double k_default_gate_tolerance = 0.10;

/// The tracked figures of one bench report.
std::map<std::string, double> tracked_figures(const nlohmann::json& report);

/// A baseline from `reports` (at least 2: the tolerance comes from their spread), in the form
/// {"gate": {"runs": N, "min_tolerance": t, "tracked": {name: {"value", "tolerance", "runs": [...]}}}}.
/// Errors: fewer than 2 reports, or a figure missing from one of them.
result<nlohmann::json> record_gate(const std::vector<nlohmann::json>& reports,
                                   double min_tolerance = k_default_gate_tolerance);

struct gate_row {
  std::string name;
  double baseline = 0.0;
  double tolerance = 0.0;
  double limit = 0.0;                // baseline × (1 + tolerance)
  std::optional<double> now;         // not measured in this run: a failure
  bool ok = false;
};

struct gate_verdict {
  bool ok = false;
  std::vector<gate_row> rows;
};

/// `report` against `baseline` (record_gate's form). Errors: a baseline without tracked figures.
result<gate_verdict> check_gate(const nlohmann::json& baseline, const nlohmann::json& report);

/// The verdict as a table for the terminal.
std::string render_gate(const gate_verdict& verdict);

}  // namespace parley::app
