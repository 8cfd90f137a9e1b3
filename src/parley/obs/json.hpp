// obs/json — the JSON edge of obs: turn traces and metric reports.
//
// Role: converts the native obs types to JSON for the JSONL trace (trace.hpp) and for the
// `parley bench` report. Nothing inside parley reads this JSON back; the format is documented in
// docs/latency.md.
// Threading: pure functions of their argument (metric_set is read under its own lock).
// Units: every time in the JSON is in milliseconds, except origin_steady_ns.
//
// A trace object (one per turn; absent stamps and metrics are null, keys always present):
//   {"session": 1, "turn": 3, "generation": 4, "mode": "streaming", "route": "llm",
//    "flags": {"cache_hit": false, "fallback": false, "hedge": false, "filler": false,
//              "interrupted": false},
//    "transcript": "...", "reply": "...", "n_segments": 2, "n_output_samples": 35200,
//    "output_rate_hz": 16000, "reply_audio_ms": 2200.0,
//    "origin": "t_speech_end", "origin_steady_ns": 123456789000,
//    "stamps_ms": {"t_speech_end": 0.0, "t_turn_end": 300.0, ..., "t_reply_done": null},
//    "metrics_ms": {"endpoint_delay": 300.0, ..., "overhead": 0.4},
//    "notes": [{"name": "budget_breach", "value": "llm_ttft"}]}
//
// A metric report (the per-mode object of the `parley bench` JSON report):
//   {"ttfa": {"n": 20, "p50": 812.0, "p90": 901.2, "p95": 950.3, "p99": 990.1, "mean": 830.4}, ...}
#pragma once

#include <nlohmann/json.hpp>

#include "parley/obs/histogram.hpp"
#include "parley/obs/timeline.hpp"

namespace parley::obs {

/// One turn as a trace object. Stamps are ms relative to origin() (t_speech_end, else the
/// earliest stamp); origin_steady_ns is that origin's steady-clock value (comparable only within
/// one process run).
nlohmann::json to_json(const turn_timeline& t);

/// {"n", "p50", "p90", "p95", "p99", "mean"}: the shape of one metric in a report.
nlohmann::json to_json(const histogram_summary& s);

/// {"<metric name>": to_json(summary), ...} for every histogram in the set.
nlohmann::json to_json(const metric_set& metrics);

}  // namespace parley::obs
