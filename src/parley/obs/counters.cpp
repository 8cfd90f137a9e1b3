#include "parley/obs/counters.hpp"

namespace parley::obs {

void turn_counters::record(const turn_timeline& t) {
  std::lock_guard lock(mutex_);
  ++counts_["turns"];
  if (t.flags.filler) ++counts_["filler"];
  if (t.flags.hedge) ++counts_["hedge"];
  if (t.flags.fallback) ++counts_["fallback"];
  if (t.flags.cache_hit) ++counts_["cache_hit"];
  if (t.flags.interrupted) ++counts_["interrupted"];
  if (t.flags.failed) ++counts_["failed"];
  for (const auto& n : t.notes) {
    if (n.name == note_name::hedge_won) {
      if (const auto* v = std::get_if<double>(&n.value); v && *v != 0.0) ++counts_["hedge_won"];
    } else if (n.name == note_name::budget_breach) {
      if (const auto* stage = std::get_if<std::string>(&n.value)) ++counts_["budget_breach." + *stage];
    }
  }
}

std::map<std::string, std::uint64_t> turn_counters::snapshot() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::uint64_t turn_counters::get(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(name);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace parley::obs
