// obs/counters — how many turns took each detour: fillers, hedges, fallbacks, cache hits,
// interruptions, and budget breaches per stage (DESIGN §6: "record the route taken, cache hit,
// fallback or hedge used, filler played, and interruption").
//
// Role: the counting companion of metric_set (which holds latency histograms). record() reads a
// finished turn's flags and its `budget_breach` notes; snapshot() gives stable names for reports
// and exporters: `turns`, `filler`, `hedge`, `hedge_won`, `fallback`, `cache_hit`, `interrupted`,
// and `budget_breach.<stage>` (e.g. `budget_breach.llm_ttft`).
// Threading: every member is safe from any thread (one mutex; a record is a few map updates).
//
//   obs::turn_counters counters;
//   counters.record(timeline);                       // per finished turn
//   for (auto& [name, n] : counters.snapshot()) ...  // {"filler": 3, "budget_breach.llm_ttft": 4, ...}
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "parley/obs/timeline.hpp"

namespace parley::obs {

class turn_counters {
 public:
  void record(const turn_timeline& t);
  /// Every count by name, in name order; `turns` is always present, the others once non-zero.
  std::map<std::string, std::uint64_t> snapshot() const;
  std::uint64_t get(const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> counts_{{"turns", 0}};
};

}  // namespace parley::obs
