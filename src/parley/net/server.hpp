// net/server — the realtime HTTP + WebSocket server (`parley serve`).
//
// Role: one listening socket on Boost.Beast with Asio C++20 coroutines. Routes:
//   GET /         the web client (static files from `web_root`; `/` is index.html)
//   GET /ws       the realtime session (protocol v1, docs/protocol.md): one agent::session per
//                 connection, its events mapped to protocol events, barge-in, playout tracking
//   GET /metrics  Prometheus text exposition (see server_metrics.hpp for what is exported)
//   GET /healthz  200 while the process serves HTTP
//   GET /readyz   200 once engines are loaded and warmed (set_engines()), 503 before and while stopping
// Security: the WebSocket upgrade is refused before it happens — 401 without a valid token
// (`Authorization: Bearer T`, or `?access_token=T` for browsers, which cannot set headers on a
// WebSocket): the static bearer token, or an HS256 JWT signed with the configured secret
// (jwt_auth.hpp); the body says why, the log only at debug — 403 for an Origin not in the
// allowlist, 503 when not ready or full. TLS (https/wss) when a certificate and key are configured:
// TLS 1.2 or newer, the TLS handshake bounded by handshake_timeout_s.
// Limits: max message size (larger → close 1009), a bounded send queue per connection (a client
// that does not read is dropped once it holds max_send_queue_bytes), input rate limit (audio
// faster than max_input_speed × real time is dropped with a rate_limited error), WebSocket
// ping/pong with an idle timeout, handshake and HTTP read timeouts.
// Pieces: listener.hpp (accept loop), http_session.hpp (one HTTP connection; tls.hpp for TLS),
// http_routes.hpp (the routes), ws_transport.hpp (one WebSocket: reader, writer, close),
// session_bridge.hpp (protocol v1 ↔ agent::session), server_metrics.hpp, http_util.hpp;
// server_state.hpp is the state they share.
// Threading: runs on the executor given to start() (an io_context with one thread per core);
// each connection lives on its own strand, with one reader and ONE writer coroutine; each agent
// session has its own strand and posts its events onto the connection's. Every public member is
// safe from any thread; stop() must not be called from an io_context thread (it waits).
// Shutdown (stop()): stop accepting, readyz → 503, every session's input ends (turns in flight
// finish and are sent) until drain_timeout_s, then every WebSocket is closed with 1001 (going away).
// Ownership: start() returns the server; destroy it (after stop()) before the io_context stops.
// Units: sizes in bytes, times in seconds (config) or ms (metrics).
//
//   auto srv = net::server::start(rt.executor(), {.host = "127.0.0.1", .port = 8080});
//   srv->set_engines(engines);           // readyz turns 200
//   ...                                  // on SIGINT:
//   srv->stop();
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parley/agent/session.hpp"
#include "parley/core/error.hpp"
#include "parley/engine/engine_set.hpp"

namespace parley::net {

struct server_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see server::port())
  std::string web_root;       // static files for GET /; "" = a built-in placeholder page
  /// Required bearer token for /ws (and /metrics when metrics_need_token); "" = no authentication.
  std::string bearer_token;
  /// HS256 JWT secret (raw bytes); when set, a valid JWT is accepted as well as bearer_token.
  /// Never logged. jwt_audience: when set, the token's `aud` must contain it.
  std::string jwt_secret;
  std::string jwt_audience;
  double jwt_leeway_s = 30.0;  // clock skew allowed on `exp` and `nbf`
  /// PEM certificate chain and private key: both set → the server speaks only TLS (https, wss).
  std::string tls_cert_file;
  std::string tls_key_file;
  bool metrics_need_token = false;
  /// Allowed Origin header values for /ws (e.g. "http://localhost:8080"); "*" allows any; "self"
  /// allows the server's own pages (Origin = http(s):// + the request's Host). An empty list allows
  /// any. Requests without an Origin header (non-browser clients) are allowed.
  std::vector<std::string> allowed_origins;
  /// Host names /ws and /metrics answer to besides IP addresses and localhost (a name that resolves
  /// to this server but is not listed is a DNS-rebinding page: 403). "*" allows any name.
  std::vector<std::string> allowed_hosts;

  std::size_t max_message_bytes = 256 * 1024;       // one client WebSocket message; over → close 1009 (≥ 1)
  std::size_t max_send_queue_bytes = 4 * 1024 * 1024;  // per connection; over → connection dropped
  std::size_t max_sessions = 1000;                  // concurrent WebSocket sessions; over → 503 (atomic)
  /// Overload admission (overload_gate.hpp): a new session gets 503 (Retry-After) and /readyz
  /// answers 503 while the recognizer is more than this far behind the live audio, until it is
  /// back under half of it. 0: off.
  double max_asr_backlog_ms = 2000.0;
  /// Open TCP connections (WebSocket ones included); one over it is closed as soon as accepted.
  /// 0: the file-descriptor limit (raised to its hard limit at start) less a reserve for engines,
  /// files and outgoing connections (a quarter, at most 256).
  std::size_t max_connections = 0;
  /// POST /v1/audio/transcriptions and /v1/audio/speech answered at once (audio_api.hpp); over →
  /// 503 (atomic). 0: the two endpoints are off (404).
  std::size_t max_audio_requests = 4;
  std::size_t max_upload_bytes = 25 * 1024 * 1024;  // one transcription upload (OpenAI's limit); over → 413
  double max_input_speed = 8.0;     // input audio faster than this × real time (after a 2 s burst) is dropped
  int max_text_turns_per_minute = 30;  // typed turns per session, after a burst of 5; over → dropped, error (0: no limit)
  double idle_timeout_s = 30.0;     // no traffic: ping at half of it; no answer by the end → close
  double handshake_timeout_s = 10.0;
  double http_timeout_s = 30.0;     // reading one HTTP request
  double drain_timeout_s = 10.0;    // stop(): how long turns in flight may still finish

  agent::session_options session;   // base options of every session (mode may be changed per session)
  std::string assistant_name = "parley";  // GET /v1/assistant: what the web page calls the assistant
  /// Barge-in defaults (on); a client may change enabled/min_speech_ms. The session decides it
  /// (agent/barge_in.hpp) from the client's playout reports.
  agent::barge_in_config barge_in{.enabled = true};
};

/// Counters since start (all monotonic except n_active_sessions).
struct server_stats {
  std::uint64_t n_http_requests = 0;
  std::uint64_t n_sessions_total = 0;
  std::uint64_t n_active_sessions = 0;
  std::uint64_t n_rejected_upgrades = 0;   // 401, 403, 503 before the upgrade
  std::uint64_t n_protocol_errors = 0;     // error events sent
  std::uint64_t n_slow_client_drops = 0;   // connections dropped for a full send queue
  std::uint64_t n_stale_frames_dropped = 0;  // queued audio of an interrupted generation, never sent
  std::uint64_t n_barge_ins = 0;
  std::uint64_t n_turns = 0;
  std::uint64_t n_tls_handshake_failures = 0;  // TLS handshakes that failed or timed out
};

class server_state;

class server {
 public:
  /// Loads the TLS certificate and key (if configured; errc::invalid_argument when missing, unreadable,
  /// malformed or not a pair), binds and listens (errc::unavailable when the address cannot be bound).
  static result<std::unique_ptr<server>> start(boost::asio::any_io_executor executor, server_config config);
  ~server();  // stop()s if still running
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The bound port (the actual one when the config asked for port 0).
  std::uint16_t port() const;
  /// The engines every new session uses (and the router deciding each turn's route, if any —
  /// it replaces session.router of the config); from now on /readyz is 200 and /ws accepts sessions.
  /// `fillers` (optional): the spoken phrases' audio: fillers for sessions whose budget runs out,
  /// and the apology a failed reply ends with (without it the synthesizer speaks the apology).
  void set_engines(engine::engine_set engines, std::shared_ptr<agent::reply_router> router = nullptr,
                   std::shared_ptr<const agent::filler_bank> fillers = nullptr);
  bool ready() const;
  /// What GET /v1/assistant offers a new user to ask (engine::responder::suggestions); none
  /// until set. Thread-safe.
  void set_suggestions(std::vector<std::string> suggestions);
  /// Graceful shutdown (see the header comment). Returns once every connection is closed, or
  /// drain_timeout_s + 5 s at most. Idempotent.
  void stop();
  server_stats stats() const;
  /// The /metrics page.
  std::string metrics_text() const;

 private:
  explicit server(std::shared_ptr<server_state> state);
  std::shared_ptr<server_state> state_;
};

}  // namespace parley::net
