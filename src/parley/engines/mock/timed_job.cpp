#include "parley/engines/mock/timed_job.hpp"

#include <boost/asio/post.hpp>
#include <chrono>

namespace parley::mock::detail {

timed_job::timed_job(boost::asio::any_io_executor executor, std::stop_token stop)
    : strand_(boost::asio::make_strand(executor)), timer_(strand_), stop_(std::move(stop)) {}

void timed_job::watch_stop() {
  std::weak_ptr<timed_job> weak = weak_from_this();
  stop_callback_.emplace(stop_, [weak, strand = strand_] {
    boost::asio::post(strand, [weak] {
      if (auto self = weak.lock()) self->timer_.cancel();
    });
  });
}

void timed_job::release_stop() { stop_callback_.reset(); }

void timed_job::after(double delay_ms, std::function<void()> step) {
  // Everything below runs on the strand, so arming the timer cannot race the stop callback's
  // cancel (which is posted to the same strand).
  boost::asio::post(strand_, [self = shared_from_this(), delay_ms, step = std::move(step)]() mutable {
    auto run = [self, step = std::move(step)] {
      if (self->stop_requested()) {
        self->on_stopped();
      } else {
        step();
      }
    };
    if (delay_ms <= 0.0 || self->stop_requested()) {
      run();
      return;
    }
    self->timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double, std::milli>(delay_ms)));
    self->timer_.async_wait([run = std::move(run)](const boost::system::error_code&) { run(); });
  });
}

}  // namespace parley::mock::detail
