// apps/player — the loudspeaker of `parley run` and `parley bench`: plays a session's reply audio
// in (paced) real time and tells the session what it played.
//
// Role: the sink side of turn-taking (DESIGN §9). Reply audio queues as it arrives; the playhead
// moves at `speed` × real time; every ~100 ms of play (and when a reply's audio ends) the player
// reports `session::on_playout(generation, samples played)`, which is what lets the session cut a
// reply on barge-in and keep only the heard words in history. An interrupt event drops what is
// queued of that reply at once; the time from the session's decision (the event's wall time) to
// the drop is measured (`stops()`).
// Threading: on_event() runs on the session's strand, tick() on the feeder's thread; a mutex
// guards the queue. `on_played` runs inside tick() with the mutex released; it must be quick.
// Units: samples at each chunk's rate; wall times from the steady clock.
//
//   paced_player player(speed, [&](generation_id g, std::uint64_t n) { s.on_playout(g, n); });
//   session callbacks: on_event = [&](const event& e) { player.on_event(e); }
//   feeder tick:       player.tick(steady_clock::now());
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/events.hpp"

namespace parley::app {

class paced_player {
 public:
  using report_fn = std::function<void(generation_id, std::uint64_t n_played)>;
  /// Audio as it is played: the samples, their rate, and whether they open a new reply.
  using played_fn = std::function<void(std::span<const std::int16_t>, int rate_hz, bool first_of_reply)>;

  paced_player(double speed, report_fn report, played_fn on_played = {});

  /// Output audio queues; an interrupt event drops the reply's queued audio.
  void on_event(const event& e);
  /// Plays what is due by `now`.
  void tick(time_point now);
  /// Nothing queued or playing.
  bool idle() const;
  /// Wall time the queued audio still takes to play.
  duration remaining() const;
  /// Decision → silence, in ms, of each interrupt that cut audio in this player.
  std::vector<double> stops() const;

 private:
  struct chunk {
    generation_id generation;
    std::vector<std::int16_t> samples;
    int rate_hz = 0;
    bool first_of_reply = false;
  };
  struct report {
    generation_id generation;
    std::uint64_t n_played = 0;
  };

  const double speed_;
  report_fn report_;
  played_fn on_played_;
  mutable std::mutex mutex_;
  std::deque<chunk> queue_;
  std::size_t head_offset_ = 0;   // samples of queue_.front() already played
  time_point t_head_{};           // when the sample at head_offset_ plays (valid while playing_)
  bool playing_ = false;
  generation_id playing_generation_;
  std::uint64_t n_played_of_generation_ = 0;
  std::uint64_t n_reported_ = 0;
  std::vector<double> stops_ms_;
};

/// Ticks every player added to it every 5 ms on one thread (bounded: it stops when destroyed).
/// After remove() returns, the player is ticked no more.
class loudspeakers {
 public:
  loudspeakers();
  ~loudspeakers();
  loudspeakers(const loudspeakers&) = delete;
  loudspeakers& operator=(const loudspeakers&) = delete;
  void add(paced_player* p);
  void remove(paced_player* p);

 private:
  void run();
  std::mutex mutex_;
  std::vector<paced_player*> players_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace parley::app
