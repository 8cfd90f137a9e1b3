// cache/semantic_index — nearest cached queries by cosine similarity, fast as the cache grows.
//
// Role: holds one unit vector per cached entry (keyed by the entry's store key) and answers "which
// entries are closest to this query vector". Exhaustive search over a contiguous matrix: with
// `quantize` (the default) each row is kept as int8 with a per-row scale (a quarter of the memory
// traffic of float32) and the best few candidates of that scan are re-scored exactly from the
// float rows, so results are exact for the candidates returned. Search time is linear in the
// entries, a few ms at 100k (bench/micro/cache_bench; measured in docs/benchmarks.md, "Cache
// lookup time"), so no approximate structure (IVF, HNSW) is needed at the sizes a response cache
// reaches. Memory: about 2.5 KiB per entry (float rows kept for the exact re-score + int8 rows).
// Removal (invalidation, expiry, eviction) is O(1): the last row moves into the hole.
// Capacity: at most `max_entries` rows; adding beyond it drops the oldest row (FIFO).
// Threading: thread-safe; search() takes a shared lock, add()/remove() an exclusive one.
// Units: vectors of dims() floats, expected unit length; scores are cosine similarities in [-1, 1].
//
//   semantic_index idx(512);
//   idx.add("rc:...:when do you open", v);
//   auto hits = idx.search(q, 3, 0.8);   // best first, score >= 0.8
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::cache {

struct index_hit {
  std::string key;
  double score = 0.0;  // cosine similarity
};

struct semantic_index_config {
  std::size_t max_entries = 200'000;  // FIFO beyond this
  bool quantize = true;               // int8 scan + exact float re-score of the best candidates
  std::size_t rescore_candidates = 16;  // how many int8 candidates get an exact score (>= k)
};

class semantic_index {
 public:
  explicit semantic_index(std::size_t dims, semantic_index_config config = {});

  std::size_t dims() const { return dims_; }
  std::size_t size() const;

  /// Adds (or replaces) the vector of `key`. Fails for a vector of the wrong size.
  status add(const std::string& key, std::span<const float> vector);
  /// Removes `key`; false when it was not there.
  bool remove(const std::string& key);
  bool contains(const std::string& key) const;
  void clear();

  /// The `k` entries closest to `query` with a score >= `min_score`, best first.
  std::vector<index_hit> search(std::span<const float> query, std::size_t k, double min_score) const;

  /// Bytes held by the matrices (for metrics and the benchmark).
  std::size_t memory_bytes() const;

 private:
  struct slot {
    std::size_t row;
    std::uint64_t generation;
  };
  void remove_row_locked(std::size_t row);
  bool remove_locked(const std::string& key);

  std::size_t dims_;
  semantic_index_config config_;
  mutable std::shared_mutex mutex_;
  std::vector<float> rows_f_;          // size() × dims_
  std::vector<std::int8_t> rows_q_;    // size() × dims_ (quantize only)
  std::vector<float> scales_;          // per row: float value = int8 × scale (quantize only)
  std::vector<std::string> keys_;      // per row
  std::unordered_map<std::string, slot> slots_;
  std::deque<std::pair<std::string, std::uint64_t>> order_;  // insertion order, lazily cleaned
  std::uint64_t next_generation_ = 1;
};

}  // namespace parley::cache
