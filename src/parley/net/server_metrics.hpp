// net/server_metrics — what `GET /metrics` exports, kept in a prometheus-cpp registry and written
// by its text serializer (exposition format 0.0.4). docs/protocol.md ("Metrics") lists the names.
//
// Role: one per server. Counters of what the server does (HTTP requests, WebSocket sessions,
// messages and bytes, refusals, drops), protocol errors by code, interrupts by reason, turns by
// route, and latency summaries (barge-in time to interrupt, every per-turn metric of
// docs/latency.md).
// Two ways in, chosen to keep the hot path cheap:
// - plain counters are relaxed atomics (`n_...` members), added to where things happen (per
//   message, per frame: one uncontended-or-not `lock xadd`, no lock, no label lookup); scrape()
//   copies them into the registry's counters. server::stats() reads the same atomics.
// - labelled counts of rare events (an error event sent, a reply interrupted, a turn completed)
//   are incremented in the registry in place: count_error(), count_interrupt(), count_turn().
// Summaries come from obs::histogram (whole process life, quantiles within 0.78 %; NaN quantiles
// while empty) and are handed to the serializer as summary families at scrape time; the page lists
// every family in a fixed order, with its HELP and TYPE even before it has a sample.
// Threading: every member is safe from any thread; scrapes are serialized by a mutex of their own.
// Units: milliseconds for the summaries; counts otherwise.
//
//   server_metrics m;
//   m.n_http_requests.fetch_add(1, std::memory_order_relaxed);
//   m.count_error(wire_errc::invalid_json);
//   respond(m.scrape({.ready = true}), server_metrics::content_type);
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "parley/agent/session.hpp"
#include "parley/cache/response_cache.hpp"
#include "parley/net/protocol.hpp"
#include "parley/obs/histogram.hpp"
#include "parley/obs/timeline.hpp"

namespace parley::net {

class server_metrics {
 public:
  server_metrics();  // registers every family (names are fixed: it cannot fail)
  ~server_metrics();
  server_metrics(const server_metrics&) = delete;
  server_metrics& operator=(const server_metrics&) = delete;

  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

  // ---- plain counters (relaxed atomics; copied into the registry at scrape time) ----
  std::atomic<std::uint64_t> n_http_requests{0};
  std::atomic<std::uint64_t> n_sessions_total{0};
  std::atomic<std::uint64_t> n_active_sessions{0};  // a gauge: parley_ws_sessions
  std::atomic<std::uint64_t> n_open_connections{0};  // a gauge: parley_http_connections
  std::atomic<std::uint64_t> n_refused_connections{0};  // over max_connections: closed at once
  std::atomic<std::uint64_t> n_accept_errors{0};  // accept() failed (out of file descriptors, ...)
  std::atomic<std::uint64_t> n_rejected_upgrades{0};
  std::atomic<std::uint64_t> n_refused_overloaded{0};  // of those, refused by the overload gate
  std::atomic<std::uint64_t> n_protocol_errors{0};  // all codes (count_error adds to it)
  std::atomic<std::uint64_t> n_messages_in_text{0}, n_messages_in_binary{0};
  std::atomic<std::uint64_t> n_messages_out_text{0}, n_messages_out_binary{0};
  std::atomic<std::uint64_t> n_bytes_in{0}, n_bytes_out{0};
  std::atomic<std::uint64_t> n_tls_handshake_failures{0};
  std::atomic<std::uint64_t> n_auth_failures{0};
  std::atomic<std::uint64_t> n_oversized_messages{0};
  std::atomic<std::uint64_t> n_slow_client_drops{0};
  std::atomic<std::uint64_t> n_stale_frames_dropped{0};
  std::atomic<std::uint64_t> n_rate_limited_chunks{0};
  std::atomic<std::uint64_t> n_input_chunks_dropped{0};
  std::atomic<std::uint64_t> n_turns{0};
  std::atomic<std::uint64_t> n_barge_ins{0};
  // Turn-taking (issue 17): counted from the turns' notes as they complete, and, for what no turn
  // records (discarded preemptive replies), when their session ends (count_session).
  std::atomic<std::uint64_t> n_turns_merged{0};
  std::atomic<std::uint64_t> n_replies_resumed{0};
  std::atomic<std::uint64_t> n_preempt_released{0};
  std::atomic<std::uint64_t> n_preempt_discarded{0};
  std::atomic<std::uint64_t> n_preempt_wasted_tokens{0};
  std::atomic<std::uint64_t> n_active_audio_requests{0};  // a gauge: parley_audio_requests_in_flight

  /// User speech start to the interrupt message leaving the server (recorded from any thread).
  obs::histogram time_to_interrupt;
  /// The recognizer's confidence in each spoken turn's transcript, 0..1 (count_turn records the
  /// timeline's asr_confidence note).
  obs::histogram asr_confidence;

  // ---- labelled counts of rare events (incremented in the registry in place) ----
  /// An error event sent: parley_protocol_errors_total{code} and n_protocol_errors.
  void count_error(wire_errc code);
  /// A reply interrupted: parley_interrupts_total{reason}.
  void count_interrupt(std::string_view reason);
  /// A turn completed: its per-turn metrics, n_turns and parley_turns_by_route_total{route}
  /// (an empty route counts as "none").
  void count_turn(const obs::turn_timeline& t);
  /// An OpenAI audio request answered (audio_api.hpp): parley_audio_requests_total{endpoint,code};
  /// `endpoint` is "transcriptions" or "speech".
  void count_audio_request(std::string_view endpoint, unsigned status_code);
  /// A session ended: what its stats hold that no turn did (input chunks dropped, discarded
  /// preemptive replies and the model tokens they streamed).
  void count_session(const agent::session_stats& s);

  /// Values owned elsewhere, read at scrape time.
  struct live_values {
    bool ready = false;
    std::uint64_t n_input_lane_yields = 0;
    std::size_t n_input_lane_queued = 0;
    std::optional<double> asr_backlog_ms;  // the recognizer's, when it can tell
    std::optional<cache::response_cache_stats> cache;  // the response cache's, when sessions use one
  };
  /// The /metrics page.
  std::string scrape(const live_values& live) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A place under one of the server's limits, counted in a gauge: a WebSocket session
/// (n_active_sessions, taken before the upgrade is accepted, held by the transport) or a TCP
/// connection (n_open_connections, taken when it is accepted, held by its HTTP session). Given
/// back when its holder ends. Taking is one compare-exchange on the count, so however many arrive
/// at once, never more than `limit` are admitted. Move-only.
class admission_slot {
 public:
  admission_slot() = default;
  /// A slot, or an empty one when `active` has reached `limit`.
  static admission_slot take(std::atomic<std::uint64_t>& active, std::uint64_t limit);
  admission_slot(admission_slot&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  admission_slot& operator=(admission_slot&& other) noexcept;
  admission_slot(const admission_slot&) = delete;
  admission_slot& operator=(const admission_slot&) = delete;
  ~admission_slot() { release(); }

  explicit operator bool() const { return count_ != nullptr; }

 private:
  explicit admission_slot(std::atomic<std::uint64_t>* count) : count_(count) {}
  void release();
  std::atomic<std::uint64_t>* count_ = nullptr;
};

}  // namespace parley::net
