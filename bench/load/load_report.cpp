// The load client's progress line, summary and JSON report (see load_report.hpp).
#include "bench/load/load_report.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "parley/apps/commands.hpp"
#include "parley/obs/json.hpp"
#include "parley/obs/waterfall.hpp"

namespace parley::load {

using app::exit_failure;
using app::exit_ok;
using app::machine_description;
using app::print_error;

std::string format_ms(double ms) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(ms < 10 ? 1 : 0);
  out << ms;
  return out.str();
}

void print_progress(const load_run& run, double elapsed_s, bool tty, bool final_line) {
  const auto& s = run.stats;
  const auto ttfa = s.ttfa.summary();
  std::ostringstream line;
  line << "load " << static_cast<int>(elapsed_s) << " s · " << s.n_connected.load() << "/" << run.options.sessions
       << " connected";
  if (s.n_failed.load() || s.n_dropped.load()) line << " (" << s.n_failed.load() << " failed, " << s.n_dropped.load() << " dropped)";
  line << " · turns " << s.n_answered.load() << "/"
       << static_cast<std::uint64_t>(run.options.sessions) * static_cast<std::uint64_t>(run.options.turns)
       << " answered";
  if (ttfa.n) line << " · ttfa p50 " << format_ms(ttfa.p50) << " p99 " << format_ms(ttfa.p99) << " ms";
  line << " · late frames " << s.n_late_frames.load() << " · errors " << s.n_error_events.load();
  if (tty) {
    std::cerr << "\r" << line.str() << "\033[K" << (final_line ? "\n" : "") << std::flush;
  } else {
    std::cerr << line.str() << "\n";
  }
}

int report_load(const load_run& run, const load_outcome& outcome, const std::string& json_path) {
  const auto& options = run.options;
  const auto& mode = run.mode;
  const auto& audio_description = outcome.audio_description;
  const double elapsed_s = outcome.elapsed_s;
  const auto& metrics_before = outcome.metrics_before;
  const auto& metrics_after = outcome.metrics_after;
  const auto& rss_before = outcome.rss_before_kib;
  const auto& rss_idle = outcome.rss_idle_kib;
  const auto& rss_end = outcome.rss_end_kib;
  const auto& rss_peak = outcome.rss_peak_kib;
  const auto& s = run.stats;
  nlohmann::json report;
  report["machine"] = machine_description();
  report["target"] = options.target;
  report["config"] = {{"sessions", options.sessions}, {"turns", options.turns},         {"ramp_ms", options.ramp_ms},
                      {"mode", mode},                 {"threads", options.threads},     {"duration_s", options.duration_s},
                      {"idle_s", options.idle_s},     {"stream_silence", options.stream_silence}, {"room_tone", options.room_tone},
                      {"audio", audio_description},   {"elapsed_s", elapsed_s}};
  report["client"] = {{"ttfa", obs::to_json(s.ttfa.summary())}, {"send_lag", obs::to_json(s.send_lag.summary())}};
  report["server"] = obs::to_json(s.server);
  const std::uint64_t n_expected = static_cast<std::uint64_t>(options.sessions) * static_cast<std::uint64_t>(options.turns);
  report["counts"] = {{"sessions_connected", s.n_connected.load()},  {"sessions_failed", s.n_failed.load()},
                      {"sessions_dropped", s.n_dropped.load()},      {"sessions_finished", s.n_finished.load()},
                      {"turns_expected", n_expected},                {"turns_spoken", s.n_turns.load()},
                      {"turns_answered", s.n_answered.load()},       {"turns_completed", s.n_completed.load()},
                      {"turns_unanswered", s.n_unanswered.load()},   {"turns_interrupted", s.n_interrupted.load()},
                      {"turns_cut", s.n_cut.load()},                 {"extra_replies", s.n_extra_replies.load()},
                      {"frames_sent", s.n_frames_sent.load()},       {"late_frames", s.n_late_frames.load()},
                      {"audio_frames_received", s.n_audio_frames_in.load()},
                      {"playout_reports_sent", s.n_progress_sent.load()},
                      {"turn_metrics", s.n_turn_metrics.load()},     {"error_events", s.n_error_events.load()}};
  report["errors"] = nlohmann::json::object();
  report["failures"] = nlohmann::json::object();
  for (const auto& [code, n] : s.errors_by_code) report["errors"][code] = n;
  for (const auto& [reason, n] : s.failures) report["failures"][reason] = n;

  // Server counters: deltas over this run.
  std::uint64_t server_dropped_input = 0;
  std::string server_line = "unavailable (/metrics did not answer)";
  if (metrics_before && metrics_after) {
    auto delta = [&](const char* name) {
      const double b = metrics_before->count(name) ? metrics_before->at(name) : 0.0;
      const double a = metrics_after->count(name) ? metrics_after->at(name) : 0.0;
      return static_cast<std::uint64_t>(std::max(0.0, a - b));
    };
    const auto dropped = delta("parley_input_chunks_dropped_total");
    const auto limited = delta("parley_input_rate_limited_chunks_total");
    const auto slow = delta("parley_ws_slow_client_drops_total");
    const auto stale = delta("parley_ws_stale_frames_dropped_total");
    const auto turns = delta("parley_turns_total");
    server_dropped_input = dropped + limited;
    report["server_counters"] = {{"input_chunks_dropped", dropped}, {"input_rate_limited_chunks", limited},
                                 {"slow_client_drops", slow},       {"stale_frames_dropped", stale},
                                 {"turns", turns}};
    server_line = std::to_string(dropped) + " input chunks dropped · " + std::to_string(limited) + " rate-limited · " +
                  std::to_string(slow) + " slow-client drops · " + std::to_string(stale) + " stale frames · " +
                  std::to_string(turns) + " turns";
  }
  std::string memory_line;
  if (rss_before) {
    report["memory"]["server_rss_before_kib"] = *rss_before;
    memory_line = "server RSS " + format_ms(*rss_before / 1024.0) + " MiB before";
    if (rss_idle && s.n_connected.load() > 0) {
      const double per_session = (*rss_idle - *rss_before) / s.n_connected.load();
      report["memory"]["server_rss_idle_kib"] = *rss_idle;
      report["memory"]["per_idle_session_kib"] = per_session;
      memory_line += " · " + format_ms(*rss_idle / 1024.0) + " MiB with " + std::to_string(s.n_connected.load()) +
                     " idle sessions = " + format_ms(per_session) + " KiB per idle session";
    }
    if (rss_end) report["memory"]["server_rss_end_kib"] = *rss_end;
    if (rss_peak) report["memory"]["server_rss_peak_kib"] = *rss_peak;
    if (rss_end) memory_line += " · " + format_ms(*rss_end / 1024.0) + " MiB after";
    if (rss_peak) memory_line += " (peak " + format_ms(*rss_peak / 1024.0) + " MiB)";
  }

  if (outcome.cpu_s && s.n_connected.load() > 0) {
    const double per_session = *outcome.cpu_s / s.n_connected.load();
    report["cpu"] = {{"server_cpu_s", *outcome.cpu_s}, {"per_session_s", per_session}};
    memory_line += std::string(memory_line.empty() ? "" : "\ncpu:      ") + "server " + format_ms(*outcome.cpu_s) +
                   " s CPU over the run = " + format_ms(per_session * 1000.0) + " ms per session";
  }
  const auto lag = s.send_lag.summary();
  std::cout << "\nsessions: " << s.n_connected.load() << " connected · " << s.n_failed.load() << " failed · "
            << s.n_dropped.load() << " dropped · " << s.n_finished.load() << " finished cleanly\n"
            << "turns:    " << n_expected << " planned · " << s.n_turns.load() << " spoken · " << s.n_answered.load()
            << " answered · " << s.n_completed.load() << " played out · " << s.n_unanswered.load() << " unanswered · "
            << s.n_interrupted.load() << " interrupted · " << s.n_cut.load() << " cut by --duration-s · "
            << s.n_extra_replies.load() << " extra replies\n"
            << "audio:    " << s.n_frames_sent.load() << " frames sent · " << s.n_late_frames.load() << " late (> "
            << k_late_ms << " ms behind schedule; worst " << format_ms(lag.max) << " ms) · "
            << s.n_audio_frames_in.load() << " reply frames received\n"
            << "server:   " << server_line << "\n"
            << "errors:   " << s.n_error_events.load() << " error events";
  for (const auto& [code, n] : s.errors_by_code) std::cout << " · " << code << " " << n;
  for (const auto& [reason, n] : s.failures) std::cout << "\n          session " << reason << ": " << n;
  std::cout << "\n";
  if (!memory_line.empty()) std::cout << "memory:   " << memory_line << "\n";
  obs::metric_set client;
  client.at("ttfa").merge(s.ttfa);
  client.at("send_lag").merge(s.send_lag);
  std::cout << "\nclient-side (ms; ttfa from the true end of speech to the first reply audio received)\n"
            << obs::render_summary_table(client) << "\nserver-side, from " << s.n_turn_metrics.load()
            << " turn.metrics events (ms)\n"
            << obs::render_summary_table(s.server);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << report.dump(2) << "\n";
    if (!out) return print_error("cannot write report '" + json_path + "'"), exit_failure;
    std::cout << "report: " << json_path << "\n";
  }
  const bool ok = !outcome.stopped && s.n_failed.load() == 0 && s.n_dropped.load() == 0 && s.n_error_events.load() == 0 &&
                  s.n_unanswered.load() == 0 && s.n_answered.load() == n_expected && server_dropped_input == 0;
  return ok ? exit_ok : exit_failure;
}

}  // namespace parley::load
