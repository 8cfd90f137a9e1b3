#include "parley/agent/barge_in.hpp"

#include <algorithm>

namespace parley::agent {

void playout_clock::on_sent(std::uint64_t n_samples, int rate_hz, time_point now) {
  if (stopped_ || n_samples == 0) return;
  if (sent_ == 0) {
    t_first_sent_ = now;
    rate_hz_ = rate_hz;
  }
  sent_ += n_samples;
}

void playout_clock::on_report(std::uint64_t n_played) {
  if (stopped_) return;
  reported_ = std::max(reported_.value_or(0), std::min(n_played, sent_));
}

void playout_clock::stop(time_point now) {
  if (stopped_) return;
  const auto heard = played(now);
  stopped_ = true;
  generated_ = true;
  sent_ = heard;
  reported_ = heard;
}

std::uint64_t playout_clock::played(time_point now) const {
  if (reported_) return *reported_;
  if (sent_ == 0 || rate_hz_ <= 0) return 0;
  const double elapsed_ms = to_ms(now - t_first_sent_) - slack_ms_;
  if (elapsed_ms <= 0) return 0;
  return std::min(static_cast<std::uint64_t>(elapsed_ms * rate_hz_ / 1000.0), sent_);
}

bool playout_clock::playing(time_point now) const {
  if (sent_ == 0 || stopped_) return false;
  if (!generated_) return true;
  if (reported_) return *reported_ < sent_;
  return now < *estimated_end();
}

std::optional<time_point> playout_clock::estimated_end() const {
  if (sent_ == 0 || rate_hz_ <= 0) return std::nullopt;
  return t_first_sent_ + from_ms(1000.0 * static_cast<double>(sent_) / rate_hz_ + slack_ms_);
}

void barge_in_gate::on_frame(std::int64_t t_media_end, std::int64_t n_samples, bool voiced) {
  if (voiced) {
    if (!onset_) {
      onset_ = t_media_end - n_samples;
      voiced_samples_ = 0;
      reported_ = false;
    }
    voiced_samples_ += n_samples;
    last_voiced_end_ = t_media_end;
    return;
  }
  if (onset_ && samples_to_ms(t_media_end - last_voiced_end_) > config_.max_gap_ms) onset_.reset();
}

bool barge_in_gate::poll() {
  if (!config_.enabled || !onset_ || reported_) return false;
  if (samples_to_ms(voiced_samples_) < config_.min_speech_ms) return false;
  reported_ = true;  // one decision per onset
  return true;
}

}  // namespace parley::agent
