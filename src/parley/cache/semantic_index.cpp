#include "parley/cache/semantic_index.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace parley::cache {
namespace {

// Candidates of the int8 scan within this much of min_score are re-scored exactly: the int8
// error of a dot product of two unit vectors stays far below it.
constexpr double k_quantization_margin = 0.05;

float quantize_into(std::span<const float> v, std::int8_t* out) {
  float max_abs = 0.0f;
  for (float x : v) max_abs = std::max(max_abs, std::fabs(x));
  if (max_abs == 0.0f) {
    std::fill(out, out + v.size(), std::int8_t{0});
    return 0.0f;
  }
  const float scale = max_abs / 127.0f;
  const float inv = 1.0f / scale;
  for (std::size_t i = 0; i < v.size(); ++i)
    out[i] = static_cast<std::int8_t>(std::lround(std::clamp(v[i] * inv, -127.0f, 127.0f)));
  return scale;
}

// The two scan kernels are written so that the compiler vectorises them (this file is built with
// -O3 outside Debug): independent accumulators, no early exits.
// The query is widened to int16 once; each row is read as int8 (a quarter of float32's traffic).
std::int32_t dot_i8(const std::int16_t* query, const std::int8_t* row, std::size_t n) {
  std::int32_t s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<std::int32_t>(query[i]) * static_cast<std::int32_t>(row[i]);
  return s;
}

float dot_f32(const float* a, const float* b, std::size_t n) {
  float acc[16] = {};
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (std::size_t j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  float s = 0.0f;
  for (float x : acc) s += x;
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Keeps the best `cap` (row, score) pairs seen, unordered until the end.
struct top_list {
  std::size_t cap;
  std::vector<std::pair<std::size_t, double>> items;
  double floor = -2.0;  // lowest score kept once full
  void offer(std::size_t row, double score) {
    if (items.size() < cap) {
      items.emplace_back(row, score);
      if (items.size() == cap) recompute_floor();
      return;
    }
    if (score <= floor) return;
    auto worst = std::min_element(items.begin(), items.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
    *worst = {row, score};
    recompute_floor();
  }
  void recompute_floor() {
    floor = 2.0;
    for (const auto& it : items) floor = std::min(floor, it.second);
  }
};

}  // namespace

semantic_index::semantic_index(std::size_t dims, semantic_index_config config) : dims_(dims), config_(config) {
  if (config_.max_entries == 0) config_.max_entries = 1;
  if (config_.rescore_candidates == 0) config_.rescore_candidates = 1;
}

std::size_t semantic_index::size() const {
  std::shared_lock lock(mutex_);
  return keys_.size();
}

bool semantic_index::contains(const std::string& key) const {
  std::shared_lock lock(mutex_);
  return slots_.contains(key);
}

std::size_t semantic_index::memory_bytes() const {
  std::shared_lock lock(mutex_);
  return rows_f_.capacity() * sizeof(float) + rows_q_.capacity() + scales_.capacity() * sizeof(float);
}

void semantic_index::clear() {
  std::unique_lock lock(mutex_);
  rows_f_.clear();
  rows_q_.clear();
  scales_.clear();
  keys_.clear();
  slots_.clear();
  order_.clear();
}

status semantic_index::add(const std::string& key, std::span<const float> vector) {
  if (vector.size() != dims_)
    return make_error(errc::invalid_argument, "semantic_index: vector has " + std::to_string(vector.size()) +
                                                  " dims, the index " + std::to_string(dims_));
  std::unique_lock lock(mutex_);
  remove_locked(key);
  while (keys_.size() >= config_.max_entries && !order_.empty()) {
    auto [old_key, gen] = order_.front();
    order_.pop_front();
    auto it = slots_.find(old_key);
    if (it != slots_.end() && it->second.generation == gen) remove_locked(old_key);
  }
  const std::size_t row = keys_.size();
  rows_f_.insert(rows_f_.end(), vector.begin(), vector.end());
  if (config_.quantize) {
    rows_q_.resize(rows_q_.size() + dims_);
    scales_.push_back(quantize_into(vector, rows_q_.data() + row * dims_));
  }
  keys_.push_back(key);
  const std::uint64_t gen = next_generation_++;
  slots_[key] = slot{row, gen};
  order_.emplace_back(key, gen);
  // The order queue is cleaned lazily; bound it when removals leave many dead entries.
  if (order_.size() > 2 * config_.max_entries + 64) {
    std::deque<std::pair<std::string, std::uint64_t>> live;
    for (auto& e : order_) {
      auto it = slots_.find(e.first);
      if (it != slots_.end() && it->second.generation == e.second) live.push_back(std::move(e));
    }
    order_.swap(live);
  }
  return {};
}

bool semantic_index::remove(const std::string& key) {
  std::unique_lock lock(mutex_);
  return remove_locked(key);
}

bool semantic_index::remove_locked(const std::string& key) {
  auto it = slots_.find(key);
  if (it == slots_.end()) return false;
  const std::size_t row = it->second.row;
  slots_.erase(it);
  remove_row_locked(row);
  return true;
}

void semantic_index::remove_row_locked(std::size_t row) {
  const std::size_t last = keys_.size() - 1;
  if (row != last) {
    std::copy_n(rows_f_.begin() + static_cast<std::ptrdiff_t>(last * dims_), dims_,
                rows_f_.begin() + static_cast<std::ptrdiff_t>(row * dims_));
    if (config_.quantize) {
      std::copy_n(rows_q_.begin() + static_cast<std::ptrdiff_t>(last * dims_), dims_,
                  rows_q_.begin() + static_cast<std::ptrdiff_t>(row * dims_));
      scales_[row] = scales_[last];
    }
    keys_[row] = std::move(keys_[last]);
    slots_[keys_[row]].row = row;
  }
  rows_f_.resize(last * dims_);
  if (config_.quantize) {
    rows_q_.resize(last * dims_);
    scales_.pop_back();
  }
  keys_.pop_back();
}

std::vector<index_hit> semantic_index::search(std::span<const float> query, std::size_t k, double min_score) const {
  std::vector<index_hit> out;
  if (query.size() != dims_ || k == 0) return out;
  std::shared_lock lock(mutex_);
  const std::size_t n = keys_.size();
  if (n == 0) return out;

  std::vector<std::pair<std::size_t, double>> best;
  if (config_.quantize) {
    std::vector<std::int8_t> q8(dims_);
    const float q_scale = quantize_into(query, q8.data());
    if (q_scale == 0.0f) return out;
    const std::vector<std::int16_t> q(q8.begin(), q8.end());
    top_list top{std::max(k, config_.rescore_candidates), {}};
    const double floor = min_score - k_quantization_margin;
    for (std::size_t r = 0; r < n; ++r) {
      const double approx =
          static_cast<double>(dot_i8(q.data(), rows_q_.data() + r * dims_, dims_)) * q_scale * scales_[r];
      if (approx >= floor) top.offer(r, approx);
    }
    for (auto [r, approx] : top.items) {
      (void)approx;
      const double exact = dot_f32(query.data(), rows_f_.data() + r * dims_, dims_);
      if (exact >= min_score) best.emplace_back(r, exact);
    }
  } else {
    top_list top{k, {}};
    for (std::size_t r = 0; r < n; ++r) {
      const double s = dot_f32(query.data(), rows_f_.data() + r * dims_, dims_);
      if (s >= min_score) top.offer(r, s);
    }
    best = std::move(top.items);
  }
  std::sort(best.begin(), best.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (best.size() > k) best.resize(k);
  out.reserve(best.size());
  for (auto [r, s] : best) out.push_back(index_hit{keys_[r], s});
  return out;
}

}  // namespace parley::cache
