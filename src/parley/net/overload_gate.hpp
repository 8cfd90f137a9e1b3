// net/overload_gate — refuses new sessions while the engines are behind real time.
//
// Role: sessions beyond what the engines can serve in real time make every session slow (100
// sessions × 2 turns on the embedded engines on 2 cores: ASR finals after 9.8 s at p50, 12 of
// 200 replies not played within 30 s). A new session is refused instead (503 with Retry-After,
// and /readyz answers 503 so a load balancer sends it elsewhere) while the recognizer's backlog
// (engine::recognizer::backlog_ms: the undecoded audio of its most-behind stream) is over
// `refuse_above_ms`, and admitted again once it is back under `admit_below_ms` (hysteresis: the
// gate does not flap at one threshold). Sessions already admitted are never cut.
// Threading: any thread (one atomic flag). Units: ms.
//
//   overload_gate gate({.refuse_above_ms = 2000, .admit_below_ms = 1000});
//   if (!gate.admit(asr->backlog_ms())) return service_unavailable(...);
#pragma once

#include <atomic>
#include <optional>

namespace parley::net {

class overload_gate {
 public:
  struct limits {
    double refuse_above_ms = 0.0;  // 0: the gate is off
    double admit_below_ms = 0.0;   // must be <= refuse_above_ms
  };

  explicit overload_gate(limits l) : limits_(l) {}

  /// Whether a new session may start now that decoding is `backlog_ms` behind (nullopt: the
  /// engine cannot tell, so the gate cannot either: admitted).
  bool admit(std::optional<double> backlog_ms) {
    if (limits_.refuse_above_ms <= 0.0 || !backlog_ms) return true;
    if (*backlog_ms > limits_.refuse_above_ms) overloaded_.store(true);
    else if (*backlog_ms < limits_.admit_below_ms) overloaded_.store(false);
    return !overloaded_.load();
  }
  /// As decided by the last admit().
  bool overloaded() const { return overloaded_.load(); }

 private:
  limits limits_;
  std::atomic<bool> overloaded_{false};
};

}  // namespace parley::net
