// apps/feeder — plays audio clips into sessions as if they were live microphones.
//
// Role: one thread ticks every 20 ms of media time (divided by `speed`) and pushes the next
// 20 ms frame of every active clip; a clip added later starts at the next tick. If the thread
// wakes late it pushes every frame that was due, as a microphone buffer would, so media time
// never drifts from wall time. This is what makes `parley run` and `parley bench` real-time.
// Threading: add() may be called from any thread; callbacks run on the feeder thread and must
// be quick (a session's push_audio() never blocks).
// Units: 16 kHz mono PCM16; speed is a multiple of real time (1 = real time).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "parley/core/clock.hpp"

namespace parley::app {

struct feed {
  std::shared_ptr<const std::vector<std::int16_t>> clip;
  std::function<void(std::span<const std::int16_t>)> push;  // receives each frame
  /// After each frame: the index of its first sample and the wall time it was pushed.
  std::function<void(media_time first_sample, time_point t_pushed)> on_pushed;
  std::function<void()> on_end;  // after the last frame
};

class paced_feeder {
 public:
  explicit paced_feeder(double speed = 1.0, media_time frame_samples = 320);
  ~paced_feeder();
  paced_feeder(const paced_feeder&) = delete;
  paced_feeder& operator=(const paced_feeder&) = delete;

  void add(feed f);
  /// Wall time that `n_samples` of media take at this speed.
  duration media_duration(media_time n_samples) const;
  std::size_t n_active() const;

 private:
  struct active_feed {
    feed f;
    std::int64_t start_tick = 0;
    media_time next_sample = 0;
  };
  void run();

  const double speed_;
  const media_time frame_samples_;
  const duration tick_;
  const time_point t0_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<active_feed> feeds_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace parley::app
