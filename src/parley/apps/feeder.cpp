#include "parley/apps/feeder.hpp"

#include <algorithm>

namespace parley::app {

paced_feeder::paced_feeder(double speed, media_time frame_samples)
    : speed_(speed > 0.0 ? speed : 1.0),
      frame_samples_(frame_samples),
      tick_(media_duration(frame_samples)),
      t0_(steady_clock::now()),
      thread_([this] { run(); }) {}

paced_feeder::~paced_feeder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

duration paced_feeder::media_duration(media_time n_samples) const {
  return from_ms(samples_to_ms(n_samples) / speed_);
}

void paced_feeder::add(feed f) {
  {
    std::lock_guard lock(mutex_);
    const auto tick_now = (steady_clock::now() - t0_) / tick_;
    feeds_.push_back(active_feed{std::move(f), tick_now + 1, 0});
  }
  wake_.notify_all();
}

std::size_t paced_feeder::n_active() const {
  std::lock_guard lock(mutex_);
  return feeds_.size();
}

void paced_feeder::run() {
  std::unique_lock lock(mutex_);
  std::int64_t tick = 0;
  while (!stopping_) {
    if (feeds_.empty()) {
      wake_.wait(lock, [this] { return stopping_ || !feeds_.empty(); });
      continue;
    }
    ++tick;
    wake_.wait_until(lock, t0_ + tick * tick_, [this] { return stopping_; });
    if (stopping_) break;
    tick = std::max(tick, static_cast<std::int64_t>((steady_clock::now() - t0_) / tick_));

    std::vector<std::function<void()>> ended;
    for (auto& a : feeds_) {
      const auto& clip = *a.f.clip;
      // Push every frame due by this tick (more than one only if the thread woke late).
      while (a.next_sample < static_cast<media_time>(clip.size()) &&
             (a.next_sample / frame_samples_) + a.start_tick <= tick) {
        const auto n = std::min<media_time>(frame_samples_, static_cast<media_time>(clip.size()) - a.next_sample);
        a.f.push(std::span<const std::int16_t>(clip).subspan(static_cast<std::size_t>(a.next_sample), static_cast<std::size_t>(n)));
        if (a.f.on_pushed) a.f.on_pushed(a.next_sample, steady_clock::now());
        a.next_sample += n;
      }
      if (a.next_sample >= static_cast<media_time>(clip.size()) && a.f.on_end) {
        ended.push_back(std::move(a.f.on_end));
        a.f.on_end = nullptr;
      }
    }
    std::erase_if(feeds_, [](const active_feed& a) { return !a.f.on_end && a.next_sample >= static_cast<media_time>(a.f.clip->size()); });
    if (!ended.empty()) {
      lock.unlock();
      for (auto& end : ended) end();
      lock.lock();
    }
  }
}

}  // namespace parley::app
