// bench/load/ws_load — the WebSocket load client: `parley bench --target ws://HOST:PORT/ws`.
//
// Role: drives N concurrent realtime sessions (docs/protocol.md) against a running `parley serve`,
// as N people talking to it: each session connects (bearer token if given), sends
// `session.update`, then plays its turns' audio as a live microphone — 20 ms PCM16 frames at
// real-time pace, from the corpus manifest's files or, without a manifest, a synthetic
// speech-like question — reads every server event and the reply audio, "plays" the reply in
// real time and reports it with `playout.progress`, and waits for the reply to finish playing
// before the next turn. After the last turn it commits the input, waits for `session.finished`
// and closes normally.
// Measures, client-side: TTFA from the TRUE end of speech in the audio it sent (the manifest's
// `speech_end_ms`; docs/latency.md §4: the wall time at which the frame holding that sample was
// sent, less the part of the frame after it) to the arrival of the reply's first audio frame;
// how far each frame's send fell behind its schedule (a send more than one frame late counts as
// late: the client never skips a frame, it catches up as a microphone buffer would); error
// events by code, failed connections and dropped connections. Server-side: every metric of the
// `turn.metrics` events (overhead, ttfa, endpoint_delay...) and, over HTTP from the same host,
// the counters of /metrics that say whether the server dropped input (before/after deltas).
// With --server-pid (loopback), the server's RSS before connecting and with every session
// connected and idle (--idle-s), hence the memory per idle session.
// Threading: a few io threads (--threads, default 2) run every session: each session lives on
// one strand with one reader and ONE writer coroutine (audio, progress reports, commit and close
// are all written by the writer, which is paced by a per-session timer). Not a thread per session.
// Lifetime: ws_load_command() returns when every session is done or the overall --duration-s
// bound has passed (sessions still running are then closed and their turns counted as cut).
// Units: ms for latencies, samples at 16 kHz on the input side.
//
// The pieces (library parley_load, linked into the `parley` CLI): ws_load.cpp (flags, the run:
// ramp, idle phase, deadline), load_session.{hpp,cpp} (one WebSocket session), clips.cpp (the
// audio it speaks), room_tone.{hpp,cpp} (what it streams between turns), server_probe.{hpp,cpp}
// (/metrics and /proc of the server), load_report.cpp (progress line, summary, JSON report).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace parley::app {
struct bench_options;
}

namespace parley::load {

struct ws_load_options {
  std::string target;           // ws://HOST:PORT/PATH ("" = the in-process bench)
  int sessions = 10;            // concurrent WebSocket sessions
  double ramp_ms = 5000.0;      // connections spread evenly over this
  int turns = 1;                // spoken turns per session
  std::string token;            // bearer token ("" = $PARLEY_TOKEN, else none)
  double duration_s = 300.0;    // hard bound on the whole run
  double idle_s = 0.0;          // once every session is connected: stay idle this long before speaking
  double turn_timeout_s = 30.0; // a turn whose reply has not finished playing by then is unanswered
  bool stream_silence = true;   // keep streaming silence between turns (an open microphone)
  bool room_tone = true;        // that silence is the clip's own background (its audio before the speech), looped; false: digital zeros
  int server_pid = 0;           // the server's pid (same machine): report its RSS
  int threads = 2;              // client io threads
};

/// Adds the load client's flags (--target, --sessions, ...) to `bench`.
void add_ws_load_flags(CLI::App& bench, ws_load_options& options);

/// Runs the load. From `bench` it takes manifest, limit, json, progress and the mode
/// (streaming | sequential, asked of the server per session). Exit codes of apps/commands.hpp:
/// 0 every turn answered with no error, 1 usage, 2 bad manifest/audio, 4 errors, failed or
/// dropped sessions, unanswered turns or input dropped by the server.
int ws_load_command(const ws_load_options& options, const app::bench_options& bench);

}  // namespace parley::load
