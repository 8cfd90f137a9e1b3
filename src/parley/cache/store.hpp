// cache/store — a byte-level key/value store with TTLs: the tiers under the response cache.
//
// Role: the response cache keeps entries (reply text + audio + embedding, serialised) in one or
// two stores: an in-process LRU bounded in bytes (cache/memory_store) and, optionally, Redis as a
// tier shared by several parley instances (cache/redis). Besides keyed entries a store keeps
// append-only lists (used to publish the semantic index of a scope to other instances), each
// optionally capped to its newest elements; an element keeps its index (its position since the
// list was created) when older ones are dropped, so a reader's position stays valid.
// Threading: thread-safe; calls are blocking and bounded by the store's own timeout, so call them
// from a worker, never from a session strand. A store that is down answers with an error value
// (errc::unavailable / errc::timeout) quickly; it never throws on the data path.
// Units: TTLs in seconds (0 = no expiry); values are opaque bytes.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::cache {

/// What range() read: the elements from index `first` on (`first` is past the requested index
/// when the elements before it were dropped by an append's cap).
struct list_slice {
  std::size_t first = 0;
  std::vector<std::string> items;
};

class entry_store {
 public:
  virtual ~entry_store() = default;
  virtual std::string name() const = 0;

  /// The value under `key`, std::nullopt when absent or expired.
  virtual result<std::optional<std::string>> get(const std::string& key) = 0;
  /// Stores `value` under `key`, replacing what was there; expires after `ttl` (0: never).
  virtual status put(const std::string& key, std::string_view value, std::chrono::seconds ttl) = 0;
  /// Removes `key` (absent is not an error).
  virtual status erase(const std::string& key) = 0;
  /// Removes every key that starts with `prefix` (and every list), e.g. one scope's entries.
  virtual status erase_prefix(const std::string& prefix) = 0;

  /// Appends `value` to the list `key` (created when absent). `keep_last` > 0: the list then keeps
  /// only its newest `keep_last` elements; the older ones are dropped, the indexes of the rest stay.
  virtual status append(const std::string& key, std::string_view value, std::size_t keep_last = 0) = 0;
  /// The elements of list `key` from index `from` (0-based, counted since the list was created)
  /// to its end, or from its oldest kept element when that is later; empty when absent (a list
  /// removed by erase_prefix() starts again at index 0).
  virtual result<list_slice> range(const std::string& key, std::size_t from) = 0;

  /// True when every call is in-process and takes microseconds (no I/O, no waiting on a server),
  /// so it may run on a session strand. Default: false.
  virtual bool quick() const { return false; }
};

}  // namespace parley::cache
