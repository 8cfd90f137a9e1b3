// agent/bulk_lane — throughput work that gives way to latency-critical work on a shared executor.
//
// Role: many sessions share a few io threads. Each 20 ms input frame costs a session tens of
// microseconds (noise suppression, VAD, endpointing), and a turn's critical path (a transcript
// arriving, the first synthesized audio) hops onto the same threads. In one FIFO those hops queue
// behind every session's pending frames; at saturation that is milliseconds per hop. Frames go
// through a lane instead: one pump on the executor runs the lane's jobs in order and, while any
// critical handler is waiting to run, runs at most one job before it re-posts itself behind that
// handler (it always runs one job, plus an eighth of its backlog, per turn: a lane under a stream
// of critical work slows down but keeps up). Frames are still all processed, in order: they are
// only overtaken, never dropped here.
// Threading: submit() and mark_critical() from any thread; jobs run on the executor's threads,
// one at a time.
// Lifetime: the pump holds the lane; jobs still queued when the executor stops are destroyed
// unrun with it. A critical_mark left unrun (its handler destroyed) releases its count.
//
//   auto lane = std::make_shared<bulk_lane>(executor);
//   lane->submit([s] { asio::dispatch(s->strand, [s] { s->drain_input(); }); });   // throughput
//   asio::post(strand, [mark = lane->mark_critical(), ...] { ... });               // critical
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include <boost/asio/any_io_executor.hpp>

namespace parley::agent {

class bulk_lane : public std::enable_shared_from_this<bulk_lane> {
 public:
  /// Held by a latency-critical handler from the moment it is posted until it runs (or is
  /// destroyed unrun): while any is held, the lane yields after each job. Move-only.
  class critical_mark {
   public:
    critical_mark() = default;
    explicit critical_mark(std::shared_ptr<bulk_lane> lane);
    critical_mark(critical_mark&& other) noexcept : lane_(std::move(other.lane_)) {}
    critical_mark& operator=(critical_mark&& other) noexcept;
    critical_mark(const critical_mark&) = delete;
    critical_mark& operator=(const critical_mark&) = delete;
    ~critical_mark() { release(); }
    /// The handler has started: the lane need not give way to it any more. Idempotent.
    void release();

   private:
    std::shared_ptr<bulk_lane> lane_;
  };

  /// Most jobs one pump turn runs before it re-posts itself, critical work waiting or not, so a
  /// long backlog never holds a thread for long.
  static constexpr std::size_t k_max_jobs_per_turn = 64;
  /// With critical work waiting, a pump turn still runs one job plus backlog / k_backlog_share:
  /// the lane's share grows with its backlog, so it cannot fall behind for good.
  static constexpr std::size_t k_backlog_share = 8;

  explicit bulk_lane(boost::asio::any_io_executor executor);

  /// Queues a job; it runs on the executor after the jobs before it. Any thread.
  void submit(std::function<void()> job);
  /// See critical_mark. Any thread.
  critical_mark mark_critical() { return critical_mark(shared_from_this()); }

  std::size_t n_queued() const;
  /// Times the pump gave way to critical work with jobs still queued (a metric of contention).
  std::uint64_t n_yields() const { return n_yields_.load(std::memory_order_relaxed); }

 private:
  void schedule_pump();  // with mutex_ held, pump not scheduled
  void pump();

  boost::asio::any_io_executor executor_;
  mutable std::mutex mutex_;
  std::deque<std::function<void()>> jobs_;
  bool pump_scheduled_ = false;
  std::atomic<std::int64_t> n_critical_waiting_{0};
  std::atomic<std::uint64_t> n_yields_{0};
};

}  // namespace parley::agent
