// core/ring — a bounded, thread-safe FIFO that never blocks its producer.
//
// Used for input audio: when full, push() drops the *oldest* item and counts it, so a slow
// consumer can never stall the microphone/socket reader and memory stays bounded.
// Capacity: fixed at construction (callers size it in milliseconds of audio).
// Threading: any number of producers and consumers; a mutex guards a std::deque (the critical
// sections are a few pointer moves).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace parley {

template <class T>
class bounded_ring {
 public:
  explicit bounded_ring(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  /// Appends; if full, drops the oldest item first. Returns true if something was dropped.
  bool push(T item) {
    std::lock_guard lock(mutex_);
    bool dropped = false;
    if (items_.size() >= capacity_) {
      items_.pop_front();
      ++n_dropped_;
      dropped = true;
    }
    items_.push_back(std::move(item));
    return dropped;
  }

  std::optional<T> pop() {
    std::lock_guard lock(mutex_);
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  /// Pops the oldest item if `pred` holds for it.
  template <class Pred>
  std::optional<T> pop_if(Pred pred) {
    std::lock_guard lock(mutex_);
    if (items_.empty() || !pred(std::as_const(items_.front()))) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  std::size_t size() const { std::lock_guard lock(mutex_); return items_.size(); }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t n_dropped() const { std::lock_guard lock(mutex_); return n_dropped_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<T> items_;
  std::uint64_t n_dropped_ = 0;
};

}  // namespace parley
