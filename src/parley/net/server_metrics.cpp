// net/server_metrics — implementation. See server_metrics.hpp.
#include "parley/net/server_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <utility>
#include <vector>

namespace parley::net {

namespace {

// Copies a monotonic count into a registry counter (which can only be incremented).
void copy_count(prometheus::Counter& c, std::uint64_t n) {
  const double delta = static_cast<double>(n) - c.Value();
  if (delta > 0) c.Increment(delta);
}

// A summary family from a histogram: quantiles 0.5/0.9/0.95/0.99 (NaN while empty), _sum, _count.
prometheus::MetricFamily summary_family(std::string name, std::string help, const obs::histogram& h) {
  const auto s = h.summary();
  prometheus::ClientMetric m;
  m.summary.sample_count = s.n;
  m.summary.sample_sum = h.sum_ms();
  for (const auto& [q, v] : {std::pair{0.5, s.p50}, std::pair{0.9, s.p90}, std::pair{0.95, s.p95}, std::pair{0.99, s.p99}}) {
    m.summary.quantile.push_back({q, s.n ? v : std::nan("")});
  }
  return {std::move(name), std::move(help), prometheus::MetricType::Summary, {std::move(m)}};
}

}  // namespace

struct server_metrics::impl {
  prometheus::Registry registry;

  // The page, in order: each family with its HELP and TYPE (kept to list a family with no sample).
  struct page_entry {
    const prometheus::Collectable* family;
    prometheus::MetricFamily header;
  };
  std::vector<page_entry> page;

  template <class Builder>
  auto& add(Builder builder, std::string name, std::string help, prometheus::MetricType type) {
    auto& family = builder.Name(name).Help(help).Register(registry);
    page.push_back({&family, {std::move(name), std::move(help), type, {}}});
    return family;
  }
  prometheus::Family<prometheus::Counter>& counter_family(std::string name, std::string help) {
    return add(prometheus::BuildCounter(), std::move(name), std::move(help), prometheus::MetricType::Counter);
  }
  prometheus::Counter& counter(std::string name, std::string help) {
    return counter_family(std::move(name), std::move(help)).Add({});
  }
  prometheus::Gauge& gauge(std::string name, std::string help) {
    return add(prometheus::BuildGauge(), std::move(name), std::move(help), prometheus::MetricType::Gauge).Add({});
  }

  prometheus::Gauge& ready = gauge("parley_ready", "1 once engines are loaded and warmed and the server is not stopping");
  prometheus::Counter& http_requests =
      counter("parley_http_requests_total", "HTTP requests read (including WebSocket upgrades)");
  prometheus::Gauge& ws_sessions = gauge("parley_ws_sessions", "Realtime WebSocket sessions open now");
  prometheus::Counter& ws_sessions_total = counter("parley_ws_sessions_total", "Realtime WebSocket sessions accepted");
  prometheus::Gauge& http_connections = gauge("parley_http_connections", "TCP connections open now (WebSocket ones included)");
  prometheus::Gauge& audio_in_flight =
      gauge("parley_audio_requests_in_flight", "OpenAI audio requests (/v1/audio/transcriptions, /v1/audio/speech) being answered");
  prometheus::Family<prometheus::Counter>& audio_requests = counter_family(
      "parley_audio_requests_total", "OpenAI audio requests answered, by endpoint (transcriptions, speech) and HTTP status");
  prometheus::Counter& refused_connections = counter(
      "parley_connections_refused_total", "TCP connections closed as soon as accepted: max_connections were open");
  prometheus::Counter& accept_errors = counter(
      "parley_accept_errors_total", "Failed accepts (out of file descriptors, ...): the listener backs off after each");
  prometheus::Counter& rejected_upgrades =
      counter("parley_ws_rejected_upgrades_total", "WebSocket upgrades refused (401, 403, 503)");
  prometheus::Counter& refused_overloaded = counter(
      "parley_ws_refused_overloaded_total",
      "WebSocket upgrades refused with 503 because speech recognition was behind real time (--max-asr-backlog-ms)");
  prometheus::Gauge& asr_backlog = gauge(
      "parley_asr_backlog_milliseconds",
      "Undecoded audio of the recognizer's most-behind stream: how far speech recognition is behind real time");
  prometheus::Family<prometheus::Counter>& messages =
      counter_family("parley_ws_messages_total", "WebSocket messages by direction and kind");
  prometheus::Counter& messages_in_text = messages.Add({{"direction", "in"}, {"kind", "text"}});
  prometheus::Counter& messages_in_binary = messages.Add({{"direction", "in"}, {"kind", "binary"}});
  prometheus::Counter& messages_out_text = messages.Add({{"direction", "out"}, {"kind", "text"}});
  prometheus::Counter& messages_out_binary = messages.Add({{"direction", "out"}, {"kind", "binary"}});
  prometheus::Family<prometheus::Counter>& bytes = counter_family("parley_ws_bytes_total", "WebSocket payload bytes by direction");
  prometheus::Counter& bytes_in = bytes.Add({{"direction", "in"}});
  prometheus::Counter& bytes_out = bytes.Add({{"direction", "out"}});
  prometheus::Family<prometheus::Counter>& errors =
      counter_family("parley_protocol_errors_total", "error events sent to clients, by code");
  std::array<prometheus::Counter*, n_wire_errcs> error_counters = [this] {
    std::array<prometheus::Counter*, n_wire_errcs> out{};
    for (std::size_t i = 0; i < n_wire_errcs; ++i) {  // every code, zeros included
      out[i] = &errors.Add({{"code", std::string(to_string(static_cast<wire_errc>(i)))}});
    }
    return out;
  }();
  prometheus::Counter& tls_handshake_failures =
      counter("parley_tls_handshake_failures_total",
              "TLS handshakes that failed or timed out (plain HTTP on the TLS port, ...)");
  prometheus::Counter& auth_failures =
      counter("parley_auth_failures_total", "Requests refused with 401 (missing, wrong, expired or malformed token)");
  prometheus::Counter& oversized_messages = counter(
      "parley_ws_oversized_messages_total", "Client messages over max_message_bytes (connection closed with 1009)");
  prometheus::Counter& slow_client_drops =
      counter("parley_ws_slow_client_drops_total", "Connections dropped because their send queue was full");
  prometheus::Counter& stale_frames_dropped =
      counter("parley_ws_stale_frames_dropped_total", "Queued audio frames of interrupted replies that were never sent");
  prometheus::Counter& rate_limited_chunks =
      counter("parley_input_rate_limited_chunks_total", "Input audio messages dropped by the input rate limit");
  prometheus::Counter& input_chunks_dropped =
      counter("parley_input_chunks_dropped_total", "Input audio chunks dropped by full session rings (closed sessions)");
  prometheus::Counter& input_lane_yields =
      counter("parley_input_lane_yields_total",
              "Times input-frame processing gave way to a turn's critical hops with frames still queued");
  prometheus::Gauge& input_lane_queued =
      gauge("parley_input_lane_queued", "Sessions' input drains waiting in the input lane");
  prometheus::Counter& cache_lookups = counter("parley_cache_lookups_total", "Response cache lookups");
  prometheus::Family<prometheus::Counter>& cache_hits_family =
      counter_family("parley_cache_hits_total", "Response cache hits, by kind (exact, semantic)");
  prometheus::Counter& cache_hits_exact = cache_hits_family.Add({{"kind", "exact"}});
  prometheus::Counter& cache_hits_semantic = cache_hits_family.Add({{"kind", "semantic"}});
  prometheus::Counter& cache_shared_errors = counter(
      "parley_cache_shared_errors_total",
      "Calls to the shared cache tier (Redis) that failed; each failed read is a miss, never a failed turn");
  prometheus::Counter& cache_shared_skipped = counter(
      "parley_cache_shared_skipped_total",
      "Calls to the shared cache tier skipped while its breaker was open (it failed 3 times in a row)");
  prometheus::Counter& cache_shared_data_lost = counter(
      "parley_cache_shared_data_lost_total",
      "Times the shared cache tier was found emptied without an invalidation (a Redis restarted empty); "
      "this instance kept its own cached answers");
  prometheus::Counter& turns = counter("parley_turns_total", "User turns completed");
  prometheus::Counter& turns_failed = counter(
      "parley_turns_failed_total", "User turns in which a provider failed (the reply ended with the spoken apology)");
  prometheus::Counter& barge_ins = counter("parley_barge_ins_total", "Replies interrupted because the user started speaking");
  prometheus::Family<prometheus::Counter>& interrupts =
      counter_family("parley_interrupts_total", "Replies interrupted, by reason");
  prometheus::Counter& turns_merged = counter(
      "parley_turns_merged_total",
      "User turns that continued the one before it after a pause (merged turns): that turn's reply was withdrawn");
  prometheus::Counter& replies_resumed = counter(
      "parley_replies_resumed_total",
      "Replies that went on after a false interruption (the speech over them held no words, or a backchannel)");
  prometheus::Family<prometheus::Counter>& preemptive_family = counter_family(
      "parley_preemptive_replies_total",
      "Replies started before their turn ended, by outcome: released (the final words matched) or discarded "
      "(counted when their session ends)");
  prometheus::Counter& preempt_released = preemptive_family.Add({{"outcome", "released"}});
  prometheus::Counter& preempt_discarded = preemptive_family.Add({{"outcome", "discarded"}});
  prometheus::Counter& preempt_wasted_tokens = counter(
      "parley_preemptive_wasted_tokens_total",
      "Model tokens streamed into discarded preemptive replies (counted when their session ends)");
  prometheus::Family<prometheus::Counter>& routes = counter_family(
      "parley_turns_by_route_total",
      "User turns by the route that answered them (intent, cache, local_llm, cloud_llm, fallback, llm): "
      "a tier's hit ratio is its share of parley_turns_total");

  obs::metric_set turn_metrics;
  std::mutex scrape_mutex;  // one scrape at a time: copy_count() reads, then adds
};

server_metrics::server_metrics() : impl_(std::make_unique<impl>()) {}
server_metrics::~server_metrics() = default;

void server_metrics::count_error(wire_errc code) {
  impl_->error_counters[static_cast<std::size_t>(code)]->Increment();
  n_protocol_errors.fetch_add(1, std::memory_order_relaxed);
}

void server_metrics::count_audio_request(std::string_view endpoint, unsigned status_code) {
  impl_->audio_requests.Add({{"endpoint", std::string(endpoint)}, {"code", std::to_string(status_code)}}).Increment();
}

void server_metrics::count_interrupt(std::string_view reason) {
  impl_->interrupts.Add({{"reason", std::string(reason)}}).Increment();
}

void server_metrics::count_turn(const obs::turn_timeline& t) {
  impl_->turn_metrics.record(t);
  n_turns.fetch_add(1, std::memory_order_relaxed);
  impl_->routes.Add({{"route", t.route.empty() ? "none" : t.route}}).Increment();
  if (t.flags.failed) impl_->turns_failed.Increment();
  for (const auto& n : t.notes) {
    if (n.name == obs::note_name::asr_confidence && std::holds_alternative<double>(n.value)) {
      asr_confidence.record(std::get<double>(n.value));
    } else if (n.name == obs::note_name::merged_with) {
      n_turns_merged.fetch_add(1, std::memory_order_relaxed);
    } else if (n.name == obs::note_name::resumed_after_ms) {
      n_replies_resumed.fetch_add(1, std::memory_order_relaxed);
    } else if (n.name == obs::note_name::preempted_ms) {
      n_preempt_released.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void server_metrics::count_session(const agent::session_stats& s) {
  n_input_chunks_dropped.fetch_add(s.n_dropped_chunks, std::memory_order_relaxed);
  n_preempt_discarded.fetch_add(s.n_preempt_discarded, std::memory_order_relaxed);
  n_preempt_wasted_tokens.fetch_add(s.n_preempt_wasted_tokens, std::memory_order_relaxed);
}

std::string server_metrics::scrape(const live_values& live) const {
  auto& m = *impl_;
  std::vector<prometheus::MetricFamily> page;
  {
    std::lock_guard lock(m.scrape_mutex);
    m.ready.Set(live.ready ? 1 : 0);
    m.ws_sessions.Set(static_cast<double>(n_active_sessions.load()));
    m.http_connections.Set(static_cast<double>(n_open_connections.load()));
    m.audio_in_flight.Set(static_cast<double>(n_active_audio_requests.load()));
    m.input_lane_queued.Set(static_cast<double>(live.n_input_lane_queued));
    m.asr_backlog.Set(live.asr_backlog_ms.value_or(0.0));
    const std::pair<prometheus::Counter&, std::uint64_t> counts[] = {
        {m.http_requests, n_http_requests.load()},
        {m.ws_sessions_total, n_sessions_total.load()},
        {m.rejected_upgrades, n_rejected_upgrades.load()},
        {m.refused_overloaded, n_refused_overloaded.load()},
        {m.refused_connections, n_refused_connections.load()},
        {m.accept_errors, n_accept_errors.load()},
        {m.messages_in_text, n_messages_in_text.load()},
        {m.messages_in_binary, n_messages_in_binary.load()},
        {m.messages_out_text, n_messages_out_text.load()},
        {m.messages_out_binary, n_messages_out_binary.load()},
        {m.bytes_in, n_bytes_in.load()},
        {m.bytes_out, n_bytes_out.load()},
        {m.tls_handshake_failures, n_tls_handshake_failures.load()},
        {m.auth_failures, n_auth_failures.load()},
        {m.oversized_messages, n_oversized_messages.load()},
        {m.slow_client_drops, n_slow_client_drops.load()},
        {m.stale_frames_dropped, n_stale_frames_dropped.load()},
        {m.rate_limited_chunks, n_rate_limited_chunks.load()},
        {m.input_chunks_dropped, n_input_chunks_dropped.load()},
        {m.input_lane_yields, live.n_input_lane_yields},
        {m.turns, n_turns.load()},
        {m.barge_ins, n_barge_ins.load()},
        {m.turns_merged, n_turns_merged.load()},
        {m.replies_resumed, n_replies_resumed.load()},
        {m.preempt_released, n_preempt_released.load()},
        {m.preempt_discarded, n_preempt_discarded.load()},
        {m.preempt_wasted_tokens, n_preempt_wasted_tokens.load()},
    };
    const cache::response_cache_stats cache = live.cache.value_or(cache::response_cache_stats{});
    const std::pair<prometheus::Counter&, std::uint64_t> cache_counts[] = {
        {m.cache_lookups, cache.n_lookups},
        {m.cache_hits_exact, cache.n_exact_hits},
        {m.cache_hits_semantic, cache.n_semantic_hits},
        {m.cache_shared_errors, cache.n_shared_errors},
        {m.cache_shared_skipped, cache.n_shared_skipped},
        {m.cache_shared_data_lost, cache.n_shared_data_lost},
    };
    for (const auto& [counter, n] : cache_counts) copy_count(counter, n);
    for (const auto& [counter, n] : counts) copy_count(counter, n);

    for (const auto& entry : m.page) {
      auto collected = entry.family->Collect();
      if (collected.empty()) collected.push_back(entry.header);  // no sample yet: HELP and TYPE still
      for (auto& family : collected) {
        // Samples in a stable order (the registry keeps them hashed).
        std::sort(family.metric.begin(), family.metric.end(),
                  [](const auto& a, const auto& b) { return a.label < b.label; });
        page.push_back(std::move(family));
      }
    }
  }
  page.push_back(summary_family("parley_barge_in_time_to_interrupt_milliseconds",
                                "User speech start (arrival of its first audio) to the interrupt message leaving the server",
                                time_to_interrupt));
  page.push_back(summary_family("parley_asr_confidence",
                                "The recognizer's confidence in each spoken turn's transcript, 0..1 (docs/latency.md, asr_confidence)",
                                asr_confidence));
  for (const auto& metric : obs::all_metrics) {
    const std::string name(metric.name);
    const obs::histogram empty;
    const auto* h = m.turn_metrics.find(name);
    page.push_back(summary_family("parley_turn_" + name + "_milliseconds", "Per-turn " + name + " (docs/latency.md)",
                                  h ? *h : empty));
  }
  return prometheus::TextSerializer().Serialize(page);
}

admission_slot admission_slot::take(std::atomic<std::uint64_t>& active, std::uint64_t limit) {
  auto n = active.load();
  do {
    if (n >= limit) return {};
  } while (!active.compare_exchange_weak(n, n + 1));
  return admission_slot(&active);
}

admission_slot& admission_slot::operator=(admission_slot&& other) noexcept {
  if (this != &other) {
    release();
    count_ = std::exchange(other.count_, nullptr);
  }
  return *this;
}

void admission_slot::release() {
  if (count_) std::exchange(count_, nullptr)->fetch_sub(1);
}

}  // namespace parley::net
