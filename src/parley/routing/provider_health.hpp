// routing/provider_health — rolling health of one LLM provider (a circuit breaker with stats).
//
// Role: the shell records every request's outcome — record_ttft_ms() when the first token came,
// record_error() when the request failed — and the router reads p95_ttft_ms(), error_rate() and
// healthy() to fill routing::llm_tier_state. Samples live in a sliding window bounded both by
// count (the last `window_requests`) and by age (`window`); older samples are forgotten.
// States (documented thresholds, all in health_config):
//   healthy    the default. Trips to `open` when, over the window, at least `min_requests`
//              requests were seen and errors / requests >= `unhealthy_error_rate` (defaults:
//              >= 50% errors over >= 4 requests).
//   open       unhealthy for `cooldown` (default 10 s): healthy() is false, should_probe() false.
//   probing    the cooldown has passed: healthy() is still false, but should_probe() grants ONE
//              probe request (returns true once, then false until that probe is answered or
//              `probe_timeout` passes without an answer, when another probe is granted).
//              A success (record_ttft_ms) closes the breaker (healthy again, window cleared); an
//              error re-opens it for another cooldown.
// errc::cancelled is not the provider's fault and is ignored by record_error().
// Threading: thread-safe (one mutex); the clock is injected (core/clock.hpp manual_clock in
// tests) and must outlive this object. Units: milliseconds (`_ms`), steady-clock durations.
//
//   routing::provider_health health(steady_clock_source::instance());
//   llm_tier_state cloud{.available = true, .healthy = health.healthy() || health.should_probe(),
//                        .p95_ttft_ms = health.p95_ttft_ms()};
//   ... on first token: health.record_ttft_ms(ttft_ms);  on failure: health.record_error(e.code);
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>

#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"

namespace parley::routing {

struct health_config {
  std::size_t window_requests = 20;                 // count bound of the window (>= 1)
  duration window = std::chrono::seconds(60);       // age bound of the window
  std::size_t min_requests = 4;                     // fewer requests never trip the breaker
  double unhealthy_error_rate = 0.5;                // trip at errors / requests >= this, in (0, 1]
  duration cooldown = std::chrono::seconds(10);     // open → probing after this
  duration probe_timeout = std::chrono::seconds(10);  // an unanswered probe is re-granted after this
};

enum class health_state { healthy, open, probing };
std::string_view to_string(health_state s);

struct health_snapshot {
  health_state state = health_state::healthy;
  std::size_t n_requests = 0;  // in the window
  std::size_t n_errors = 0;    // in the window
  double error_rate = 0.0;     // n_errors / n_requests, 0 when no requests
  std::optional<double> p95_ttft_ms;
};

class provider_health {
 public:
  explicit provider_health(const clock& clk, health_config config = {});

  /// A successful request whose first token came after `ttft_ms`.
  void record_ttft_ms(double ttft_ms);
  /// A failed request (timeouts, connection errors, 5xx...). errc::cancelled is ignored.
  void record_error(errc kind);

  /// False while open or probing.
  bool healthy() const;
  /// True once per probe slot when the cooldown has passed: the caller should send one request
  /// to this provider and record its outcome. Consumes the slot.
  bool should_probe();
  health_state state() const;

  /// Nearest-rank p95 of the successful requests' TTFT in the window; nullopt when none.
  std::optional<double> p95_ttft_ms() const;
  double error_rate() const;
  health_snapshot snapshot() const;

 private:
  struct sample {
    time_point t;
    bool error = false;
    double ttft_ms = 0.0;
  };
  void prune_locked(time_point now) const;
  void update_state_locked(time_point now) const;
  void evaluate_locked(time_point now);
  health_snapshot snapshot_locked(time_point now) const;

  const clock& clock_;
  health_config config_;
  mutable std::mutex mutex_;
  mutable std::deque<sample> samples_;
  mutable health_state state_ = health_state::healthy;
  time_point open_until_{};
  std::optional<time_point> probe_granted_at_;
};

}  // namespace parley::routing
