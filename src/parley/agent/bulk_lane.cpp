#include "parley/agent/bulk_lane.hpp"

#include <utility>

#include <boost/asio/post.hpp>

namespace parley::agent {

bulk_lane::critical_mark::critical_mark(std::shared_ptr<bulk_lane> lane) : lane_(std::move(lane)) {
  if (lane_) lane_->n_critical_waiting_.fetch_add(1, std::memory_order_acq_rel);
}

bulk_lane::critical_mark& bulk_lane::critical_mark::operator=(critical_mark&& other) noexcept {
  if (this != &other) {
    release();
    lane_ = std::move(other.lane_);
  }
  return *this;
}

void bulk_lane::critical_mark::release() {
  if (lane_) {
    lane_->n_critical_waiting_.fetch_sub(1, std::memory_order_acq_rel);
    lane_.reset();
  }
}

bulk_lane::bulk_lane(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

void bulk_lane::submit(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
  if (!pump_scheduled_) schedule_pump();
}

std::size_t bulk_lane::n_queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

void bulk_lane::schedule_pump() {
  pump_scheduled_ = true;
  boost::asio::post(executor_, [self = shared_from_this()] { self->pump(); });
}

void bulk_lane::pump() {
  std::size_t n_owed = 0;  // jobs this turn runs even with critical work waiting
  for (std::size_t n = 0;; ++n) {
    std::function<void()> job;
    {
      std::lock_guard lock(mutex_);
      if (jobs_.empty()) {
        pump_scheduled_ = false;
        return;
      }
      // Every turn makes progress: one job, and an eighth of the backlog, so the lane keeps up
      // however much critical work there is. After that, critical work waiting goes first.
      if (n == 0) n_owed = 1 + jobs_.size() / k_backlog_share;
      const bool give_way = n >= n_owed && n_critical_waiting_.load(std::memory_order_acquire) > 0;
      if (give_way || n == k_max_jobs_per_turn) {
        if (give_way) n_yields_.fetch_add(1, std::memory_order_relaxed);
        schedule_pump();  // to the back of the executor's queue, behind the critical handlers
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace parley::agent
