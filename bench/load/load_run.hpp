// bench/load/load_run — what the load client's pieces share (internal to bench/load).
//
// Role: the run's parsed target, its clips, and the counters and histograms every session
// reports into (load_stats), bundled as load_run; plus the timing constants of the client.
// Threading: load_run is built on the main thread before the io threads start; afterwards the
// sessions (on their strands) touch only its atomics, histograms and, under `mutex`, its maps,
// and the main thread reads them. Ownership: ws_load_command() owns the load_run; sessions hold
// a reference to it and must end before it does. Units: ms, samples at 16 kHz.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench/load/ws_load.hpp"
#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/obs/histogram.hpp"

namespace parley::load {

using namespace std::chrono_literals;

inline constexpr duration k_frame = std::chrono::milliseconds(20);
inline constexpr double k_late_ms = 20.0;               // a send more than one frame behind schedule is late
inline constexpr int k_progress_every_ticks = 5;        // playout.progress every 100 ms while playing
inline constexpr duration k_connect_timeout = 15s;      // TCP connect, then the WebSocket handshake
inline constexpr duration k_created_timeout = 15s;      // session.update → session.created
inline constexpr duration k_finish_timeout = 15s;       // input_audio_buffer.commit → session.finished
inline constexpr duration k_metrics_grace = 2s;         // reply played out → its turn.metrics
inline constexpr duration k_media_quiet = 1500ms;       // media streams: played out, all marks back, no new audio this long (no response.done on a phone line)
inline constexpr duration k_poll = 100ms;               // safety net of the event waits (they are woken)

struct target_url {
  std::string host;
  std::string port;
  std::string path;  // with any query
  /// The path is /v1/media-stream: each session is a phone call (8 kHz μ-law, docs/transports.md).
  bool media_stream() const { return path.rfind("/v1/media-stream", 0) == 0; }
  /// The path is /v1/realtime: each session speaks the OpenAI Realtime protocol (24 kHz base64
  /// PCM16 in JSON, docs/protocol.md).
  bool realtime() const { return path.rfind("/v1/realtime", 0) == 0; }
};

/// ws://HOST:PORT/PATH (an IPv6 host in brackets; no port: 80; no path: /ws); wss:// is refused.
result<target_url> parse_target(const std::string& url);

struct clip {
  std::string name;
  std::shared_ptr<const std::vector<std::int16_t>> pcm;  // 16 kHz mono
  media_time speech_end_sample = 0;                      // the true end of speech in it
  media_time room_samples = 0;  // its background before the speech starts (the room tone), in whole frames
  std::shared_ptr<const std::vector<std::uint8_t>> mulaw;  // media streams: the clip at 8 kHz, μ-law
};

/// Adds each clip's 8 kHz μ-law form (a phone line's), resampled once.
result<void> add_telephone_audio(std::vector<clip>& clips);

/// Without a manifest: 500 ms of silence, 1.2 s of speech-like voice, 1 s of silence.
clip synthetic_clip();

/// The first `limit` (0: all) entries of the manifest at `path`, each file read once.
/// Errors: the manifest's or an audio file's (bad input).
result<std::vector<clip>> manifest_clips(const std::string& path, int limit);

struct load_stats {
  std::atomic<int> n_connected{0};      // session.created received
  std::atomic<int> n_failed{0};         // could not connect, upgrade or start
  std::atomic<int> n_dropped{0};        // the connection ended before the session was done
  std::atomic<int> n_done{0};           // sessions whose coroutines are over (any outcome)
  std::atomic<int> n_finished{0};       // session.finished received after the commit
  std::atomic<std::uint64_t> n_turns{0};           // utterances whose audio was fully sent
  std::atomic<std::uint64_t> n_answered{0};        // a reply's first audio arrived (a TTFA sample)
  std::atomic<std::uint64_t> n_completed{0};       // ... and it played to the end (or was interrupted)
  std::atomic<std::uint64_t> n_unanswered{0};      // no finished reply within --turn-timeout-s
  std::atomic<std::uint64_t> n_interrupted{0};     // the measured reply was interrupted
  std::atomic<std::uint64_t> n_extra_replies{0};   // replies to something else (a split utterance)
  std::atomic<std::uint64_t> n_cut{0};             // turns not done when --duration-s ran out
  std::atomic<std::uint64_t> n_frames_sent{0};
  std::atomic<std::uint64_t> n_late_frames{0};     // sent more than k_late_ms behind schedule
  std::atomic<std::uint64_t> n_audio_frames_in{0};
  std::atomic<std::uint64_t> n_audio_bytes_in{0};
  std::atomic<std::uint64_t> n_turn_metrics{0};
  std::atomic<std::uint64_t> n_error_events{0};
  std::atomic<std::uint64_t> n_progress_sent{0};     // playout.progress, or the marks echoed on a media stream
  obs::histogram ttfa;      // client-side, from the true end of speech
  obs::histogram send_lag;  // how late each audio frame was sent against its schedule
  obs::metric_set server;   // every metrics_ms value of turn.metrics

  std::mutex mutex;
  std::map<std::string, std::uint64_t> errors_by_code;   // error events
  std::map<std::string, std::uint64_t> failures;         // failed/dropped sessions, by reason

  void count(std::map<std::string, std::uint64_t>& m, const std::string& key) {
    std::lock_guard lock(mutex);
    ++m[key];
  }
};

struct load_run {
  const ws_load_options& options;
  std::string mode;
  target_url target;
  boost::asio::ip::tcp::endpoint endpoint;
  std::string token;
  std::vector<clip> clips;
  time_point t_start{};
  std::atomic<bool> go{false};          // --idle-s: every session may start speaking
  std::atomic<std::int64_t> t_go_ns{0};
  std::atomic<int> n_alive{0};          // coroutines still running
  load_stats stats;
};

}  // namespace parley::load
