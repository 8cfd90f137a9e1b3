// bench/load/load_report — what the load client prints and writes about a run.
//
// Role: the progress line while the run goes on, and at the end the summary on stdout (sessions,
// turns, audio, the server's counters, errors, memory, the client- and server-side percentile
// tables) and the JSON report (--json); the run's exit code follows from the same numbers.
// Threading: the main thread of ws_load_command(); it reads the run's atomics while the sessions
// may still write them (progress), and everything once they are over (the report).
// Units: ms for latencies, KiB for memory (printed in MiB), counter deltas as counts.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "bench/load/load_run.hpp"

namespace parley::load {

/// What the run measured outside load_stats: how it went, and the server's counters and memory.
struct load_outcome {
  std::string audio_description;  // what the sessions spoke
  double elapsed_s = 0.0;
  bool stopped = false;           // --duration-s ran out before every session was done
  std::optional<std::map<std::string, double>> metrics_before, metrics_after;  // the server's /metrics
  std::optional<double> rss_before_kib, rss_idle_kib, rss_end_kib, rss_peak_kib;  // --server-pid
  std::optional<double> cpu_s;  // --server-pid: the server's CPU time (user + system) over the run
};

/// A latency in ms as the summary prints it (one decimal below 10, none above).
std::string format_ms(double ms);

/// The one-line progress on stderr: rewritten in place on a terminal, one line each call otherwise.
void print_progress(const load_run& run, double elapsed_s, bool tty, bool final_line);

/// Prints the summary, writes the JSON report to `json_path` (when not empty) and returns the
/// exit code: 0 when every planned turn was answered with no error, no failed or dropped session
/// and no input dropped by the server; 4 otherwise or when the report cannot be written.
int report_load(const load_run& run, const load_outcome& outcome, const std::string& json_path);

}  // namespace parley::load
