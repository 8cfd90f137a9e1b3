// core/clock — the two clocks parley runs on.
//
// Role: every latency stamp (t_*) is a steady-clock time_point taken through a `clock`, so the
// decision logic (endpointer, budgets, timeline) can be driven by a `manual_clock` in tests and
// by `steady_clock_source` in production. Media time (samples on the 16 kHz input timeline) is a
// separate, plain integer; see media_time below.
// Threading: steady_clock_source is stateless and thread-safe; manual_clock is thread-safe
// (atomic) so a test may advance it from one thread while a session reads it on another.
// Units: time_point/duration are std::chrono steady-clock types; helpers convert to ms (double).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace parley {

using steady_clock = std::chrono::steady_clock;
using time_point = steady_clock::time_point;
using duration = steady_clock::duration;
/// Milliseconds as a double: the unit of every derived latency metric.
using millis = std::chrono::duration<double, std::milli>;

/// Samples on a session's 16 kHz mono input timeline.
using media_time = std::int64_t;
inline constexpr int k_input_rate_hz = 16000;

constexpr double to_ms(duration d) { return std::chrono::duration_cast<millis>(d).count(); }
constexpr duration from_ms(double ms) {
  return std::chrono::duration_cast<duration>(millis(ms));
}
constexpr double samples_to_ms(media_time n_samples, int rate_hz = k_input_rate_hz) {
  return static_cast<double>(n_samples) * 1000.0 / rate_hz;
}
constexpr media_time ms_to_samples(double ms, int rate_hz = k_input_rate_hz) {
  return static_cast<media_time>(ms * rate_hz / 1000.0 + 0.5);
}

/// Source of wall (steady) time.
class clock {
 public:
  virtual ~clock() = default;
  virtual time_point now() const = 0;
};

/// The real steady clock.
class steady_clock_source final : public clock {
 public:
  time_point now() const override { return steady_clock::now(); }
  /// A process-wide instance, for code that takes `const clock&`.
  static const steady_clock_source& instance() {
    static const steady_clock_source c;
    return c;
  }
};

/// A clock that moves only when told to: for deterministic tests of decision logic.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start = time_point{} + std::chrono::hours(1)) : now_(start.time_since_epoch().count()) {}
  time_point now() const override { return time_point(duration(now_.load(std::memory_order_acquire))); }
  void advance(duration d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void advance_ms(double ms) { advance(from_ms(ms)); }
  void set(time_point t) { now_.store(t.time_since_epoch().count(), std::memory_order_release); }

 private:
  std::atomic<duration::rep> now_;
};

}  // namespace parley
