// obs/histogram — latency histograms with bounded relative error and constant memory.
//
// Role: `histogram` records millisecond values (one per turn per metric) and answers percentiles;
// `metric_set` keeps one histogram per metric name and feeds them from turn timelines. Reports
// (to_json in json.hpp, render_summary_table in waterfall.hpp) read their summaries.
// Buckets are log-linear (HdrHistogram-like): every power-of-two octave from 2^-20 ms (~1 ns) to
// 2^22 ms (~70 min) is split into 64 equal sub-buckets, so a bucket's midpoint is within 1/128
// (0.78 %) of any value in it. Values below ~1 ns (zero, negative) share one bucket, values above
// ~70 min another. n, sum, min and max are exact.
// Percentile (nearest rank): for p in [0, 100], rank = max(1, ceil(p/100 · n)); the result is the
// midpoint of the bucket holding the rank-th smallest value, clamped to [min, max]. So it is within
// 0.78 % of the exact nearest-rank sample percentile inside the bucketed range.
// Threading: record() is lock-free and safe from any number of threads (one relaxed atomic add on
// the bucket, plus n/sum/min/max on a per-thread stripe of its own cache line); merge(), reset()
// and the readers may run concurrently with record() and see each record either wholly or not at
// all per counter (a snapshot taken while recording may be off by the in-flight records).
// Ownership: neither copyable nor movable (atomics); hold it by reference or unique_ptr.
// Units: milliseconds (double) in and out. NaN is ignored.
//
//   obs::histogram h;
//   h.record(812.4);                      // from any thread
//   const auto s = h.summary();           // s.n, s.p50, s.p99, s.mean, ...
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "parley/obs/timeline.hpp"

namespace parley::obs {

/// A histogram's numbers at one moment. All zero when n == 0.
struct histogram_summary {
  std::uint64_t n = 0;
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0;
  double mean = 0, min = 0, max = 0;  // ms
};

class histogram {
 public:
  /// Worst-case relative error of a percentile inside the bucketed range.
  static constexpr double k_max_relative_error = 1.0 / 128;

  histogram() = default;
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  void record(double value_ms);
  /// Adds `other`'s records to this one (other is unchanged).
  void merge(const histogram& other);
  void reset();

  std::uint64_t n() const;
  double sum_ms() const;
  double mean_ms() const;  // 0 when empty
  double min_ms() const;   // 0 when empty
  double max_ms() const;   // 0 when empty
  /// Nearest-rank percentile, p in [0, 100] (clamped); 0 when empty. See the header comment.
  double percentile(double p) const;
  histogram_summary summary() const;

 private:
  static constexpr int k_sub_bits = 6;   // 64 sub-buckets per octave
  static constexpr int k_min_exp = -20;  // lowest octave starts at 2^-20 ms
  static constexpr int k_max_exp = 22;   // highest octave ends at 2^22 ms
  static constexpr std::size_t k_n_buckets =
      2 + (static_cast<std::size_t>(k_max_exp - k_min_exp) << k_sub_bits);  // + under/overflow
  static constexpr std::size_t k_n_stripes = 8;

  struct alignas(64) stripe {
    std::atomic<std::uint64_t> n{0};
    std::atomic<double> sum{0.0};
    std::atomic<double> min;  // +inf when empty (set by the constructor and reset())
    std::atomic<double> max;  // −inf when empty
    stripe();
  };
  struct totals {
    std::uint64_t n = 0;
    double sum = 0, min = 0, max = 0;
  };

  using counts = std::array<std::uint64_t, k_n_buckets>;

  static std::size_t bucket_of(double value_ms);
  static double midpoint_of(std::size_t bucket);
  static double percentile(double p, const counts& c, std::uint64_t n_in_buckets, const totals& t);
  static void add(stripe& s, const totals& t);
  stripe& my_stripe();
  totals read_totals() const;
  std::uint64_t read_counts(counts& c) const;  // returns their sum

  std::array<std::atomic<std::uint64_t>, k_n_buckets> buckets_{};
  std::array<stripe, k_n_stripes> stripes_{};
};

/// A named summary, as metric_set::summaries() lists them.
struct named_summary {
  std::string name;
  histogram_summary summary;
};

/// Histograms by metric name, created on demand.
/// Threading: every member is safe from any thread; histograms are never removed, so a reference
/// from at() stays valid for the metric_set's lifetime.
class metric_set {
 public:
  /// The histogram named `name`, created empty on first use.
  histogram& at(std::string_view name);
  /// The histogram named `name`, or nullptr if none was created.
  const histogram* find(std::string_view name) const;

  void record(std::string_view name, double value_ms) { at(name).record(value_ms); }
  /// Records every derived metric present in `t` under its name (see all_metrics).
  void record(const turn_timeline& t);
  void reset();

  /// All histograms' summaries: the standard metrics in all_metrics order, then others by name.
  std::vector<named_summary> summaries() const;

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::unique_ptr<histogram>, std::less<>> histograms_;
};

}  // namespace parley::obs
