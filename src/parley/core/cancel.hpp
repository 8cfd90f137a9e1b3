// core/cancel — generation fencing and cooperative cancellation.
//
// Interrupting a reply is two steps (DESIGN §4): first *fence* — switch the active generation id
// so every stage boundary drops anything stamped with an old id (stale audio can never leak) —
// then *cancel* — request stop on the generation's stop source so engines stop promptly (per token,
// per audio chunk). `generation_fence` is the first half; std::stop_source/std::stop_token is the
// second, shared with compute threads.
// Threading: generation_fence is lock-free and safe from any thread; the session strand is the
// only writer, readers may be anywhere (engine threads, socket writer).
#pragma once

#include <atomic>
#include <cstdint>
#include <stop_token>

#include "parley/core/ids.hpp"

namespace parley {

class generation_fence {
 public:
  /// Starts a new generation and returns its id; everything older becomes stale.
  generation_id open_next() {
    return generation_id{active_.fetch_add(1, std::memory_order_acq_rel) + 1};
  }
  /// Makes every generation stale without starting a new one (interrupt with nothing to follow).
  void close_all() { open_next(); }
  generation_id active() const { return generation_id{active_.load(std::memory_order_acquire)}; }
  bool is_current(generation_id id) const { return id == active(); }

 private:
  std::atomic<std::uint64_t> active_{0};
};

}  // namespace parley
