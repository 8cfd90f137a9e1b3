// engines/intents/time_of_day — the wall-clock date and time the local responder tells.
//
// Role: the responder answers "what time is it" from a time_of_day_source, so tests drive it with
// a manual_time_of_day and production with system_time_of_day (the process's local time zone,
// or a fixed UTC offset). This is calendar time, unrelated to parley::clock (steady time, which
// stamps latencies and tells the time left on timers).
// Threading: both sources are thread-safe (manual_time_of_day may be set from one thread while
// another reads it).
// Time zones: "" is the process's local zone (TZ, /etc/localtime, with daylight saving);
// "UTC", "UTC+02:00", "UTC-5", "+05:30" are fixed offsets. Named zones ("Europe/Paris") are not
// supported (g++ 12 has no std::chrono time-zone database): create() refuses them.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>

#include "parley/core/error.hpp"

namespace parley::intents {

/// A broken-down local date and time.
struct civil_time {
  int year = 2024;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;   // 0..23
  int minute = 0;
  int second = 0;
  friend bool operator==(const civil_time&, const civil_time&) = default;
};

/// 0 = Sunday ... 6 = Saturday.
int weekday_of(const civil_time& t);
/// The same time of day `n_days` later (negative: earlier), across months and years.
civil_time add_days(const civil_time& t, int n_days);
std::string_view weekday_name(int weekday);
std::string_view month_name(int month);

class time_of_day_source {
 public:
  virtual ~time_of_day_source() = default;
  virtual civil_time now() const = 0;
};

/// The real wall clock, in the local zone or at a fixed offset.
class system_time_of_day final : public time_of_day_source {
 public:
  /// Fails (errc::invalid_argument) for a zone that is neither "" nor a fixed offset.
  static result<std::unique_ptr<system_time_of_day>> create(std::string_view timezone);
  civil_time now() const override;

 private:
  system_time_of_day(bool local, int offset_minutes) : local_(local), offset_minutes_(offset_minutes) {}
  bool local_ = true;
  int offset_minutes_ = 0;
};

/// A wall clock that shows what it is told: for deterministic tests.
class manual_time_of_day final : public time_of_day_source {
 public:
  explicit manual_time_of_day(civil_time t) : t_(t) {}
  civil_time now() const override {
    std::lock_guard lock(mutex_);
    return t_;
  }
  void set(civil_time t) {
    std::lock_guard lock(mutex_);
    t_ = t;
  }

 private:
  mutable std::mutex mutex_;
  civil_time t_;
};

}  // namespace parley::intents
