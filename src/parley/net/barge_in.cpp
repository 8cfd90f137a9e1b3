#include "parley/net/barge_in.hpp"

#include <algorithm>

namespace parley::net {


void barge_in_detector::on_audio_sent(std::uint64_t generation, std::uint64_t n_samples, int rate_hz, time_point now) {
  if (generation != generation_) {
    if (generation < generation_) return;  // late audio of an older generation
    generation_ = generation;
    rate_hz_ = rate_hz;
    sent_samples_ = 0;
    reported_samples_.reset();
    done_ = false;
    t_first_sent_ = now;
  }
  sent_samples_ += n_samples;
}

void barge_in_detector::on_reply_done(std::uint64_t generation) {
  if (generation == generation_) done_ = true;
}

bool barge_in_detector::on_playout(std::uint64_t generation, std::uint64_t played_samples) {
  if (generation == 0 || generation != generation_) return false;
  reports_seen_ = true;
  reported_samples_ = std::max(reported_samples_.value_or(0), std::min(played_samples, sent_samples_));
  return true;
}

void barge_in_detector::on_interrupted(std::uint64_t generation, time_point now) {
  if (generation != generation_) return;
  // Keep the id, so that late audio of it is still recognised as old; nothing more of it plays.
  const auto played = played_samples(now);
  done_ = true;
  sent_samples_ = played;
  reported_samples_ = played;
}

void barge_in_detector::on_speech_started(std::int64_t t_media) {
  speech_start_ = t_media;
  speech_end_.reset();
}

void barge_in_detector::on_speech_stopped(std::int64_t t_media_end) {
  if (speech_start_) speech_end_ = t_media_end;
}

std::uint64_t barge_in_detector::played_samples(time_point now) const {
  if (generation_ == 0) return 0;
  if (reported_samples_) return *reported_samples_;
  if (reports_seen_) return 0;  // this client reports; none for this generation yet
  const double elapsed_ms = to_ms(now - t_first_sent_) - config_.playout_slack_ms;
  if (elapsed_ms <= 0 || rate_hz_ <= 0) return 0;
  const auto estimate = static_cast<std::uint64_t>(elapsed_ms * rate_hz_ / 1000.0);
  return std::min(estimate, sent_samples_);
}

bool barge_in_detector::playing(time_point now) const {
  if (generation_ == 0 || sent_samples_ == 0) return false;
  if (!done_) return true;  // still producing audio
  if (reports_seen_) return reported_samples_.value_or(0) < sent_samples_;
  // Without reports: playing until the audio's duration (plus slack) has passed since it started.
  const double duration_ms = rate_hz_ > 0 ? 1000.0 * static_cast<double>(sent_samples_) / rate_hz_ : 0.0;
  return to_ms(now - t_first_sent_) < duration_ms + config_.playout_slack_ms;
}

std::optional<std::uint64_t> barge_in_detector::poll(time_point now, std::int64_t t_media_now) {
  if (!config_.enabled || !speech_start_) return std::nullopt;
  const std::int64_t until = speech_end_ ? *speech_end_ : t_media_now;
  const double speech_ms = 1000.0 * static_cast<double>(until - *speech_start_) / k_input_rate_hz;
  if (speech_ms < config_.min_speech_ms) {
    if (speech_end_) speech_start_.reset();  // too short and over: a cough, not a barge-in
    return std::nullopt;
  }
  speech_start_.reset();  // one decision per onset
  if (!playing(now)) return std::nullopt;
  return generation_;
}

}  // namespace parley::net
