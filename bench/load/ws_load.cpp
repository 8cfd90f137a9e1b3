// `parley bench --target ws://HOST:PORT/ws`: the load client's flags and its run — the sessions'
// ramp, the idle phase, the overall deadline and the server probes around it (see ws_load.hpp).
#include "bench/load/ws_load.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "bench/load/load_report.hpp"
#include "bench/load/load_run.hpp"
#include "bench/load/load_session.hpp"
#include "bench/load/server_probe.hpp"
#include "parley/apps/cli_flags.hpp"
#include "parley/apps/commands.hpp"

namespace parley::load {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using app::exit_bad_input;
using app::exit_usage;
using app::machine_description;
using app::print_error;

void add_ws_load_flags(CLI::App& bench, ws_load_options& o) {
  bench.add_option("--target", o.target,
                   "drive a running server instead: ws://HOST:PORT/ws (parley serve); concurrent WebSocket sessions "
                   "with paced audio (the --manifest files, or a synthetic question), TTFA measured client-side; "
                   "ws://HOST:PORT/v1/media-stream: each session is a phone call (8 kHz mu-law media stream); "
                   "ws://HOST:PORT/v1/realtime: each session speaks the OpenAI Realtime protocol");
  bench.add_option("--sessions", o.sessions, "with --target: concurrent sessions")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  bench.add_option("--ramp-ms", o.ramp_ms, "with --target: connect the sessions evenly over this long")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench.add_option("--turns", o.turns, "with --target: spoken turns per session (0: connect, commit, close)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  bench.add_option("--token", o.token, "with --target: bearer token (default: $PARLEY_TOKEN)");
  bench.add_option("--duration-s", o.duration_s,
                   "with --target: hard bound on the whole run; sessions still running are closed and their turns "
                   "counted as cut")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench.add_option("--idle-s", o.idle_s,
                   "with --target: once every session is connected, stay idle this long before speaking (with "
                   "--server-pid: the memory per idle session is measured then)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench.add_option("--turn-timeout-s", o.turn_timeout_s,
                   "with --target: a turn whose reply has not played out this long after its audio ended is unanswered")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app::add_on_off_flag(bench, "stream-silence", o.stream_silence,
                       "with --target: keep streaming silence between turns, as an open microphone does");
  app::add_on_off_flag(bench, "room-tone", o.room_tone,
                       "with --target: that silence is the room tone of the clip last spoken (its audio before the "
                       "speech, looped: the noise of its condition), not digital zeros");
  bench.add_option("--server-pid", o.server_pid,
                   "with --target on this machine: the server's pid, to report its memory (RSS) per idle session and its "
                   "CPU time per session")
      ->check(CLI::PositiveNumber);
  bench.add_option("--threads", o.threads, "with --target: client I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
}

int ws_load_command(const ws_load_options& options, const app::bench_options& bench) {
  auto target = parse_target(options.target);
  if (!target) return print_error(target.error().message), exit_usage;
  std::string mode = bench.pipeline.mode;
  if (mode != "streaming" && mode != "sequential") {
    return print_error("--mode with --target: streaming or sequential (asked of the server per session)"), exit_usage;
  }
  if (options.sessions < 1 || options.turns < 0 || options.threads < 1) {
    return print_error("--sessions and --threads must be at least 1, --turns at least 0"), exit_usage;
  }

  load_run run{.options = options, .mode = mode, .target = *target};
  run.token = options.token;
  if (run.token.empty()) {
    if (const char* env = std::getenv("PARLEY_TOKEN")) run.token = env;
  }

  // The audio: the manifest's files (each with its true end of speech), or a synthetic question.
  load_outcome outcome;
  if (!bench.manifest.empty()) {
    auto clips = manifest_clips(bench.manifest, bench.limit);
    if (!clips) return print_error(clips.error().message), exit_bad_input;
    run.clips = std::move(*clips);
    outcome.audio_description = std::to_string(run.clips.size()) + " corpus files (" + bench.manifest + ")";
  } else {
    run.clips.push_back(synthetic_clip());
    outcome.audio_description = "a synthetic question (0.5 s silence, 1.2 s voice, 1 s silence)";
  }
  if (run.target.media_stream()) {  // phone calls: the clips as a phone line carries them
    if (auto added = add_telephone_audio(run.clips); !added) return print_error(added.error().message), exit_bad_input;
  }
  const std::string& audio_description = outcome.audio_description;

  {
    asio::io_context resolver_io;
    tcp::resolver resolver(resolver_io);
    boost::system::error_code ec;
    const auto results = resolver.resolve(run.target.host, run.target.port, ec);
    if (ec || results.empty()) {
      return print_error("cannot resolve '" + run.target.host + ":" + run.target.port + "': " + ec.message()), exit_usage;
    }
    run.endpoint = *results.begin();
  }

  std::cout << "machine: " << machine_description() << "\n"
            << "target:  " << options.target << " · " << options.sessions << " sessions × " << options.turns
            << " turn(s) · ramp " << options.ramp_ms << " ms · " << mode << " · " << options.threads
            << " client threads · bound " << options.duration_s << " s\n"
            << "audio:   " << audio_description
            << (run.target.media_stream() ? ", 20 ms 8 kHz mu-law media messages (a phone call) at real-time pace"
                : run.target.realtime()   ? ", 20 ms 24 kHz base64 PCM16 appends (the OpenAI Realtime protocol) at real-time pace"
                                          : ", 20 ms PCM16 frames at real-time pace")
            << (options.stream_silence ? (options.room_tone ? ", room tone between turns" : ", digital silence between turns")
                                       : "") << "\n"
            << std::flush;

  outcome.metrics_before = fetch_metrics(run.endpoint, run.target.host, run.token);
  const auto& metrics_before = outcome.metrics_before;
  auto& rss_idle = outcome.rss_idle_kib;
  if (options.server_pid) {
    outcome.rss_before_kib = proc_status_kib(options.server_pid, "VmRSS");
    outcome.cpu_s = proc_cpu_seconds(options.server_pid);
    if (!outcome.rss_before_kib) std::cerr << "parley: warning: cannot read /proc/" << options.server_pid << "/status\n";
  }

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::unique_ptr<load_session>> sessions;
  sessions.reserve(static_cast<std::size_t>(options.sessions));
  for (int i = 0; i < options.sessions; ++i) sessions.push_back(std::make_unique<load_session>(run, i, io));
  run.t_start = steady_clock::now() + 50ms;
  for (auto& s : sessions) s->start();
  std::vector<std::thread> threads;
  for (int i = 0; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });

  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = steady_clock::now();
  const auto deadline = t0 + from_ms(options.duration_s * 1000.0);
  const auto connect_deadline = run.t_start + from_ms(options.ramp_ms) + k_connect_timeout + k_created_timeout;
  std::optional<time_point> t_all_connected;
  auto t_next_progress = t0;
  while (run.n_alive.load() > 0) {
    const auto now = steady_clock::now();
    if (now >= deadline) {
      outcome.stopped = true;
      for (auto& s : sessions) s->stop();
      break;
    }
    if (options.idle_s > 0 && !run.go.load()) {
      const int n_settled = run.stats.n_connected.load() + run.stats.n_failed.load() + run.stats.n_dropped.load();
      if (!t_all_connected && (n_settled >= options.sessions || now >= connect_deadline)) t_all_connected = now;
      if (t_all_connected && now >= *t_all_connected + from_ms(options.idle_s * 1000.0)) {
        if (options.server_pid) rss_idle = proc_status_kib(options.server_pid, "VmRSS");
        if (bench.progress) {
          if (tty) std::cerr << "\n";
          std::cerr << "idle: " << run.stats.n_connected.load() << " sessions connected and idle for " << options.idle_s
                    << " s" << (rss_idle ? " · server RSS " + format_ms(*rss_idle / 1024.0) + " MiB" : "")
                    << "; speaking now\n";
        }
        run.t_go_ns.store(steady_clock::now().time_since_epoch().count());
        run.go.store(true);
        for (auto& s : sessions) s->wake();
      }
    }
    if (bench.progress && now >= t_next_progress) {
      print_progress(run, to_ms(now - t0) / 1000.0, tty, false);
      t_next_progress = now + (tty ? 1s : 5s);
    }
    std::this_thread::sleep_for(50ms);
  }
  // Every coroutine ends promptly once its socket is closed; bounded anyway.
  const auto t_wait_end = steady_clock::now() + 10s;
  while (run.n_alive.load() > 0 && steady_clock::now() < t_wait_end) std::this_thread::sleep_for(20ms);
  const bool all_ended = run.n_alive.load() == 0;
  if (all_ended) {
    sessions.clear();  // on this thread, while the io threads still run (nothing refers to them)
  }
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();
  if (!all_ended) {
    std::cerr << "parley: warning: " << run.n_alive.load() << " session tasks did not end in time\n";
    for (auto& s : sessions) (void)s.release();  // their pending handlers may still refer to them
  }
  outcome.elapsed_s = to_ms(steady_clock::now() - t0) / 1000.0;
  if (bench.progress) print_progress(run, outcome.elapsed_s, tty, true);

  // The server's own counters, once every connection of this run is closed on its side.
  auto& metrics_after = outcome.metrics_after;
  const auto t_metrics_end = steady_clock::now() + 5s;
  for (;;) {
    metrics_after = fetch_metrics(run.endpoint, run.target.host, run.token);
    const double open_before = metrics_before ? metrics_before->count("parley_ws_sessions") ? metrics_before->at("parley_ws_sessions") : 0 : 0;
    if (!metrics_after || !metrics_after->count("parley_ws_sessions") ||
        metrics_after->at("parley_ws_sessions") <= open_before || steady_clock::now() >= t_metrics_end) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  if (options.server_pid) {
    outcome.rss_end_kib = proc_status_kib(options.server_pid, "VmRSS");
    outcome.rss_peak_kib = proc_status_kib(options.server_pid, "VmHWM");
    const auto cpu_end = proc_cpu_seconds(options.server_pid);
    outcome.cpu_s = outcome.cpu_s && cpu_end ? std::optional(*cpu_end - *outcome.cpu_s) : std::nullopt;
  }
  return report_load(run, outcome, bench.json);
}

}  // namespace parley::load
