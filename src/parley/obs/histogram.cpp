#include "parley/obs/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <mutex>

namespace parley::obs {

namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

void update_min(std::atomic<double>& slot, double v) {
  double cur = slot.load(std::memory_order_relaxed);
  while (v < cur && !slot.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

void update_max(std::atomic<double>& slot, double v) {
  double cur = slot.load(std::memory_order_relaxed);
  while (v > cur && !slot.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

}  // namespace

// --- histogram ---

histogram::stripe::stripe() : min(k_inf), max(-k_inf) {}

std::size_t histogram::bucket_of(double value_ms) {
  static constexpr double lowest = 0x1p-20;  // 2^k_min_exp
  static constexpr double highest = 0x1p22;  // 2^k_max_exp
  static_assert(lowest == 1.0 / (1 << -k_min_exp) && highest == double(1 << k_max_exp));
  if (!(value_ms >= lowest)) return 0;  // zero, negative, below ~1 ns
  if (value_ms >= highest) return k_n_buckets - 1;
  // A normal double is 2^e · 1.m: the exponent picks the octave, the top mantissa bits the
  // sub-bucket.
  const auto bits = std::bit_cast<std::uint64_t>(value_ms);
  const int exp = static_cast<int>(bits >> 52) - 1023;
  const auto sub = static_cast<std::size_t>(bits >> (52 - k_sub_bits)) & ((1u << k_sub_bits) - 1);
  return 1 + (static_cast<std::size_t>(exp - k_min_exp) << k_sub_bits) + sub;
}

double histogram::midpoint_of(std::size_t bucket) {
  if (bucket == 0) return 0.0;
  if (bucket == k_n_buckets - 1) return k_inf;  // clamped to max by the caller
  const auto i = bucket - 1;
  const int exp = static_cast<int>(i >> k_sub_bits) + k_min_exp;
  const auto sub = static_cast<double>(i & ((1u << k_sub_bits) - 1));
  return std::ldexp(1.0 + (sub + 0.5) / (1 << k_sub_bits), exp);
}

histogram::stripe& histogram::my_stripe() {
  // Threads take stripes round-robin, so a few recording threads rarely share a cache line.
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % k_n_stripes;
  return stripes_[mine];
}

void histogram::add(stripe& s, const totals& t) {
  s.n.fetch_add(t.n, std::memory_order_relaxed);
  s.sum.fetch_add(t.sum, std::memory_order_relaxed);
  update_min(s.min, t.min);
  update_max(s.max, t.max);
}

void histogram::record(double value_ms) {
  if (std::isnan(value_ms)) return;
  buckets_[bucket_of(value_ms)].fetch_add(1, std::memory_order_relaxed);
  add(my_stripe(), {1, value_ms, value_ms, value_ms});
}

void histogram::merge(const histogram& other) {
  for (std::size_t i = 0; i < k_n_buckets; ++i) {
    if (const auto c = other.buckets_[i].load(std::memory_order_relaxed)) {
      buckets_[i].fetch_add(c, std::memory_order_relaxed);
    }
  }
  const auto t = other.read_totals();
  if (t.n > 0) add(my_stripe(), t);
}

void histogram::reset() {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  for (auto& s : stripes_) {
    s.n.store(0, std::memory_order_relaxed);
    s.sum.store(0.0, std::memory_order_relaxed);
    s.min.store(k_inf, std::memory_order_relaxed);
    s.max.store(-k_inf, std::memory_order_relaxed);
  }
}

histogram::totals histogram::read_totals() const {
  totals t{0, 0.0, k_inf, -k_inf};
  for (const auto& s : stripes_) {
    t.n += s.n.load(std::memory_order_relaxed);
    t.sum += s.sum.load(std::memory_order_relaxed);
    t.min = std::min(t.min, s.min.load(std::memory_order_relaxed));
    t.max = std::max(t.max, s.max.load(std::memory_order_relaxed));
  }
  if (t.n == 0) t.min = t.max = 0.0;
  return t;
}

std::uint64_t histogram::read_counts(counts& c) const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < k_n_buckets; ++i) {
    c[i] = buckets_[i].load(std::memory_order_relaxed);
    n += c[i];
  }
  return n;
}

double histogram::percentile(double p, const counts& c, std::uint64_t n_in_buckets,
                             const totals& t) {
  if (n_in_buckets == 0 || t.n == 0) return 0.0;
  p = std::clamp(p, 0.0, 100.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(n_in_buckets) / 100.0)));
  std::uint64_t seen = 0;
  std::size_t bucket = 0;
  for (; bucket < k_n_buckets - 1; ++bucket) {
    seen += c[bucket];
    if (seen >= rank) break;
  }
  return std::clamp(midpoint_of(bucket), t.min, t.max);
}

std::uint64_t histogram::n() const { return read_totals().n; }
double histogram::sum_ms() const { return read_totals().sum; }
double histogram::min_ms() const { return read_totals().min; }
double histogram::max_ms() const { return read_totals().max; }

double histogram::mean_ms() const {
  const auto t = read_totals();
  return t.n == 0 ? 0.0 : t.sum / static_cast<double>(t.n);
}

double histogram::percentile(double p) const {
  counts c;
  const auto n = read_counts(c);
  return percentile(p, c, n, read_totals());
}

histogram_summary histogram::summary() const {
  counts c;
  const auto n_in_buckets = read_counts(c);
  const auto t = read_totals();
  if (t.n == 0) return {};
  return {.n = t.n,
          .p50 = percentile(50, c, n_in_buckets, t),
          .p90 = percentile(90, c, n_in_buckets, t),
          .p95 = percentile(95, c, n_in_buckets, t),
          .p99 = percentile(99, c, n_in_buckets, t),
          .mean = t.sum / static_cast<double>(t.n),
          .min = t.min,
          .max = t.max};
}

// --- metric_set ---

histogram& metric_set::at(std::string_view name) {
  {
    std::shared_lock lock(mutex_);
    if (const auto it = histograms_.find(name); it != histograms_.end()) return *it->second;
  }
  std::unique_lock lock(mutex_);
  auto& slot = histograms_[std::string(name)];
  if (!slot) slot = std::make_unique<histogram>();
  return *slot;
}

const histogram* metric_set::find(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const auto it = histograms_.find(name);
  return it == histograms_.end() ? nullptr : it->second.get();
}

void metric_set::record(const turn_timeline& t) {
  for (const auto& m : all_metrics) {
    // A turn of known route that no LLM answered has no model latency to add to llm_ttft's
    // percentiles (its stamps are one instant: zeros that would pull them down).
    if (m.id == metric::llm_ttft && !t.route.empty() && !t.answered_by_llm()) continue;
    if (const auto v = t.value(m.id)) record(m.name, *v);
  }
}

void metric_set::reset() {
  std::shared_lock lock(mutex_);
  for (auto& [name, h] : histograms_) h->reset();
}

std::vector<named_summary> metric_set::summaries() const {
  std::vector<named_summary> out;
  std::shared_lock lock(mutex_);
  out.reserve(histograms_.size());
  for (const auto& m : all_metrics) {
    if (const auto it = histograms_.find(m.name); it != histograms_.end()) {
      out.push_back({it->first, it->second->summary()});
    }
  }
  for (const auto& [name, h] : histograms_) {
    const bool standard =
        std::ranges::any_of(all_metrics, [&](const auto& m) { return m.name == name; });
    if (!standard) out.push_back({name, h->summary()});
  }
  return out;
}

}  // namespace parley::obs
