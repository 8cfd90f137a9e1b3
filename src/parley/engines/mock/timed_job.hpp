// engines/mock/timed_job — shared machinery of the mock engines (internal).
//
// A timed_job runs a sequence of steps on its own strand, each after a delay, the way a remote
// provider delivers tokens or audio chunks over time — without occupying a thread while it waits
// (a timer does). A stop request cancels the pending wait at once and runs the job's cancel path,
// so cancellation is prompt even during a long first-token delay.
// Threading: all steps and the cancel path run on the job's strand; start()/stop may be called
// from any thread. Lifetime: the job keeps itself alive (shared_from_this) while a step is pending.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>

namespace parley::mock::detail {

class timed_job : public std::enable_shared_from_this<timed_job> {
 public:
  timed_job(boost::asio::any_io_executor executor, std::stop_token stop);
  virtual ~timed_job() = default;
  timed_job(const timed_job&) = delete;
  timed_job& operator=(const timed_job&) = delete;

 protected:
  /// Arms the stop callback; call once from the derived class's start.
  void watch_stop();
  /// Runs `step` on the strand after `delay_ms` (<= 0: as soon as possible, still asynchronously).
  /// May be called from any thread.
  /// If stop is requested first, on_stopped() runs instead.
  void after(double delay_ms, std::function<void()> step);
  bool stop_requested() const { return stop_.stop_requested(); }
  /// Called on the strand once when a stop request wins over a pending step.
  virtual void on_stopped() = 0;
  /// Disarms the stop callback; call when the job has delivered its last callback.
  void release_stop();

 private:
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  std::stop_token stop_;
  std::optional<std::stop_callback<std::function<void()>>> stop_callback_;
};

}  // namespace parley::mock::detail
