#include "parley/cache/memory_store.hpp"

#include <algorithm>

namespace parley::cache {

memory_store::memory_store(memory_store_config config, const clock& clk) : config_(std::move(config)), clock_(clk) {}

void memory_store::drop_locked(lru_list::iterator it) {
  entry_bytes_ -= cost(*it);
  index_.erase(it->key);
  lru_.erase(it);
}

result<std::optional<std::string>> memory_store::get(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::optional<std::string>{};
  if (clock_.now() >= it->second->expires_at) {
    drop_locked(it->second);
    ++n_expired_;
    return std::optional<std::string>{};
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return std::optional<std::string>{it->second->value};
}

status memory_store::put(const std::string& key, std::string_view value, std::chrono::seconds ttl) {
  if (ttl.count() < 0) return make_error(errc::invalid_argument, "memory_store: negative ttl");
  const time_point now = clock_.now();
  node fresh{key, std::string(value),
             ttl.count() == 0 ? time_point::max() : now + std::chrono::duration_cast<duration>(ttl)};
  const std::size_t need = cost(fresh);
  std::lock_guard lock(mutex_);
  const std::size_t budget = config_.max_bytes > list_bytes_ ? config_.max_bytes - list_bytes_ : 0;
  if (need > budget)
    return make_error(errc::invalid_argument, "memory_store: a value of " + std::to_string(value.size()) +
                                                  " bytes does not fit in " + std::to_string(budget) + " bytes");
  if (auto it = index_.find(key); it != index_.end()) drop_locked(it->second);
  if (entry_bytes_ + need > budget) {
    // Expired entries go first, then the least recently used.
    for (auto it = lru_.begin(); it != lru_.end();) {
      auto next = std::next(it);
      if (now >= it->expires_at) {
        drop_locked(it);
        ++n_expired_;
      }
      it = next;
    }
    while (entry_bytes_ + need > budget && !lru_.empty()) {
      drop_locked(std::prev(lru_.end()));
      ++n_evictions_;
    }
  }
  lru_.push_front(std::move(fresh));
  index_[key] = lru_.begin();
  entry_bytes_ += need;
  return {};
}

status memory_store::erase(const std::string& key) {
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) drop_locked(it->second);
  return {};
}

status memory_store::erase_prefix(const std::string& prefix) {
  std::lock_guard lock(mutex_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->key.compare(0, prefix.size(), prefix) == 0) drop_locked(it);
    it = next;
  }
  for (auto it = lists_.begin(); it != lists_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      for (const auto& v : it->second.items) list_bytes_ -= v.size();
      list_bytes_ -= it->first.size();
      it = lists_.erase(it);
    } else {
      ++it;
    }
  }
  return {};
}

status memory_store::append(const std::string& key, std::string_view value, std::size_t keep_last) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = lists_.try_emplace(key);
  if (inserted) list_bytes_ += key.size();
  list& l = it->second;
  if (keep_last > 0) {  // make room first: the cap below is only for lists that keep everything
    while (l.items.size() >= keep_last) {
      list_bytes_ -= l.items.front().size();
      l.items.pop_front();
      ++l.first;
    }
  }
  if (l.items.size() >= config_.max_list_elements)
    return make_error(errc::unavailable, "memory_store: list is full (" + std::to_string(config_.max_list_elements) +
                                             " elements)");
  l.items.emplace_back(value);
  list_bytes_ += value.size();
  return {};
}

result<list_slice> memory_store::range(const std::string& key, std::size_t from) {
  std::lock_guard lock(mutex_);
  auto it = lists_.find(key);
  if (it == lists_.end()) return list_slice{from, {}};
  const list& l = it->second;
  const std::size_t first = std::max(from, l.first);
  const std::size_t skip = first - l.first;
  if (skip >= l.items.size()) return list_slice{first, {}};
  return list_slice{first, {l.items.begin() + static_cast<std::ptrdiff_t>(skip), l.items.end()}};
}

std::size_t memory_store::size_bytes() const {
  std::lock_guard lock(mutex_);
  return entry_bytes_ + list_bytes_;
}

std::size_t memory_store::n_entries() const {
  std::lock_guard lock(mutex_);
  return index_.size();
}

}  // namespace parley::cache
