#include "parley/apps/player.hpp"

#include <algorithm>

namespace parley::app {

paced_player::paced_player(double speed, report_fn on_report, played_fn on_played)
    : speed_(speed > 0 ? speed : 1.0), report_(std::move(on_report)), on_played_(std::move(on_played)) {}

void paced_player::on_event(const event& e) {
  std::lock_guard lock(mutex_);
  if (const auto* audio = std::get_if<output_audio_chunk>(&e.body)) {
    if (audio->samples.empty() || audio->rate_hz <= 0) return;
    const bool first = queue_.empty() ? e.env.generation != playing_generation_
                                      : e.env.generation != queue_.back().generation;
    queue_.push_back({e.env.generation, audio->samples, audio->rate_hz, first});
    return;
  }
  if (std::holds_alternative<interrupt_event>(e.body)) {
    const auto gen = e.env.generation;
    const auto stale = [gen](const chunk& c) { return c.generation.value <= gen.value; };
    const bool front_cut = !queue_.empty() && stale(queue_.front());
    const bool cut = std::erase_if(queue_, stale) > 0;
    if (front_cut) head_offset_ = 0;
    if (cut) {
      playing_ = false;
      stops_ms_.push_back(to_ms(steady_clock::now() - e.env.t_wall));
    }
  }
}

void paced_player::tick(time_point now) {
  std::vector<report> reports;
  std::vector<chunk> played;  // what to hand to on_played_, outside the lock
  {
    std::lock_guard lock(mutex_);
    while (!queue_.empty()) {
      auto& c = queue_.front();
      if (!playing_) {
        playing_ = true;
        t_head_ = now;
        if (c.generation != playing_generation_) {
          playing_generation_ = c.generation;
          n_played_of_generation_ = 0;
          n_reported_ = 0;
        }
      }
      const double elapsed_s = std::chrono::duration<double>(now - t_head_).count() * speed_;
      const auto due = static_cast<std::size_t>(std::max(0.0, elapsed_s) * c.rate_hz);
      const std::size_t n = std::min(due, c.samples.size() - head_offset_);
      if (n > 0) {
        if (on_played_) {
          played.push_back({c.generation,
                            {c.samples.begin() + static_cast<std::ptrdiff_t>(head_offset_),
                             c.samples.begin() + static_cast<std::ptrdiff_t>(head_offset_ + n)},
                            c.rate_hz, c.first_of_reply && head_offset_ == 0});
        }
        head_offset_ += n;
        n_played_of_generation_ += n;
        t_head_ += std::chrono::duration_cast<duration>(std::chrono::duration<double>(static_cast<double>(n) / c.rate_hz / speed_));
      }
      const bool chunk_done = head_offset_ >= c.samples.size();
      const int rate = c.rate_hz;
      const auto gen = c.generation;
      if (chunk_done) {
        queue_.pop_front();
        head_offset_ = 0;
      }
      const bool reply_done = chunk_done && (queue_.empty() || queue_.front().generation != gen);
      // Every 100 ms of audio played, and at the end of a reply's queued audio.
      if (n_played_of_generation_ > n_reported_ &&
          (reply_done || n_played_of_generation_ - n_reported_ >= static_cast<std::uint64_t>(rate / 10))) {
        n_reported_ = n_played_of_generation_;
        reports.push_back({gen, n_played_of_generation_});
      }
      if (!chunk_done) break;  // the rest of this chunk is not due yet
      if (queue_.empty()) playing_ = false;  // the next audio starts when it arrives
    }
  }
  for (auto& c : played) on_played_(c.samples, c.rate_hz, c.first_of_reply);
  for (const auto& r : reports) report_(r.generation, r.n_played);
}

bool paced_player::idle() const {
  std::lock_guard lock(mutex_);
  return queue_.empty();
}

duration paced_player::remaining() const {
  std::lock_guard lock(mutex_);
  double s = 0;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    const auto n = queue_[i].samples.size() - (i == 0 ? head_offset_ : 0);
    s += static_cast<double>(n) / queue_[i].rate_hz / speed_;
  }
  return std::chrono::duration_cast<duration>(std::chrono::duration<double>(s));
}

std::vector<double> paced_player::stops() const {
  std::lock_guard lock(mutex_);
  return stops_ms_;
}

loudspeakers::loudspeakers() : thread_([this] { run(); }) {}

loudspeakers::~loudspeakers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  thread_.join();
}

void loudspeakers::add(paced_player* p) {
  std::lock_guard lock(mutex_);
  players_.push_back(p);
}

void loudspeakers::remove(paced_player* p) {
  std::lock_guard lock(mutex_);
  std::erase(players_, p);
}

void loudspeakers::run() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      const auto now = steady_clock::now();
      for (auto* p : players_) p->tick(now);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace parley::app
