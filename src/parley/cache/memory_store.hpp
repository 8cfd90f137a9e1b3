// cache/memory_store — the in-process entry_store: an LRU bounded in bytes, with TTLs.
//
// Role: the first (local) tier of the response cache, and the "shared" tier in tests. Keyed
// values are kept in least-recently-used order; a put() that takes the total over `max_bytes`
// evicts from the cold end until it fits (a value larger than the whole budget is refused).
// A get() counts as a use. Entries expire `ttl` after their put(), read from the injected clock
// (expired entries are dropped when touched, and first when space is needed).
// Lists (append/range) are the semantic-index feed of the response cache: they are counted in
// size_bytes() but never evicted by the LRU (dropping a feed's head would desynchronise readers);
// erase_prefix() removes them, and each list is capped at `max_list_elements` (append fails with
// errc::unavailable beyond it, unless the append's own `keep_last` drops the oldest first).
// Threading: thread-safe (one mutex; every call is O(1) amortised except erase_prefix, which is
// O(entries)). Never blocks on I/O; never fails except for the limits above.
// Units: bytes (key + value + a fixed per-entry overhead), TTLs in seconds.
//
//   auto store = std::make_shared<memory_store>(memory_store_config{.max_bytes = 64 << 20});
//   store->put("k", "v", std::chrono::seconds(60));
#pragma once

#include <atomic>
#include <deque>
#include <list>
#include <mutex>
#include <unordered_map>

#include "parley/cache/store.hpp"
#include "parley/core/clock.hpp"

namespace parley::cache {

struct memory_store_config {
  std::size_t max_bytes = 256u << 20;         // keyed entries + lists; 256 MiB
  std::size_t max_list_elements = 1'000'000;  // per list
  std::string name = "memory";
};

class memory_store final : public entry_store {
 public:
  /// Bytes counted per keyed entry on top of its key and value (list node, map slot, times).
  static constexpr std::size_t k_entry_overhead_bytes = 96;

  explicit memory_store(memory_store_config config = {}, const clock& clk = steady_clock_source::instance());

  std::string name() const override { return config_.name; }
  bool quick() const override { return true; }
  result<std::optional<std::string>> get(const std::string& key) override;
  status put(const std::string& key, std::string_view value, std::chrono::seconds ttl) override;
  status erase(const std::string& key) override;
  status erase_prefix(const std::string& prefix) override;
  status append(const std::string& key, std::string_view value, std::size_t keep_last = 0) override;
  result<list_slice> range(const std::string& key, std::size_t from) override;

  std::size_t size_bytes() const;
  std::size_t n_entries() const;
  std::uint64_t n_evictions() const { return n_evictions_.load(); }
  std::uint64_t n_expired() const { return n_expired_.load(); }
  std::size_t max_bytes() const { return config_.max_bytes; }

 private:
  struct node {
    std::string key;
    std::string value;
    time_point expires_at;  // time_point::max() = never
  };
  using lru_list = std::list<node>;

  static std::size_t cost(const node& n) { return n.key.size() + n.value.size() + k_entry_overhead_bytes; }
  void drop_locked(lru_list::iterator it);

  memory_store_config config_;
  const clock& clock_;
  mutable std::mutex mutex_;
  lru_list lru_;  // front = most recently used
  std::unordered_map<std::string, lru_list::iterator> index_;
  struct list {
    std::size_t first = 0;  // index of items.front() (elements dropped by keep_last before it)
    std::deque<std::string> items;
  };
  std::unordered_map<std::string, list> lists_;
  std::size_t entry_bytes_ = 0;
  std::size_t list_bytes_ = 0;
  std::atomic<std::uint64_t> n_evictions_{0};
  std::atomic<std::uint64_t> n_expired_{0};
};

}  // namespace parley::cache
