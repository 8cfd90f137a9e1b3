// net/barge_in — when does the user's speech interrupt the reply being played? (functional core)
//
// Role: plain synchronous decision logic fed with timestamps (DESIGN §5), so it is tested
// deterministically; the WebSocket connection only wires it. It follows the reply audio of one
// connection — what was sent per generation, what the client says it has played — and the VAD's
// speech start/stop, and says "interrupt generation G now" once the user has been speaking for
// `min_speech_ms` while G is still playing.
// "Playing": G's audio has started and the client has not played all of it. With playout.progress
// reports, that is played < sent (or G still producing audio); without any report, the server
// assumes the client plays in real time from the moment the first chunk was sent.
// Threading: not synchronised; one per connection, touched on the connection's strand only.
// Units: samples at the generation's output rate; speech times in samples on the 16 kHz input
// timeline (media time); wall times from the steady clock.
//
//   barge_in_detector d({.min_speech_ms = 200});
//   d.on_audio_sent(gen, n, 16000, now);  d.on_speech_started(t_media, now);
//   if (auto g = d.poll(now, t_media_now)) interrupt(*g);
#pragma once

#include <cstdint>
#include <optional>

#include "parley/core/clock.hpp"

namespace parley::net {

struct barge_in_config {
  bool enabled = true;
  /// The user must have been speaking this long (media time since the VAD's speech start) before
  /// the reply is cut: coughs and "mm-hm"s shorter than this do not interrupt.
  double min_speech_ms = 200.0;
  /// Without playout reports: extra time the client is assumed to buffer before playing.
  double playout_slack_ms = 250.0;
};

class barge_in_detector {
 public:
  explicit barge_in_detector(barge_in_config config) : config_(config) {}

  /// Reply audio of `generation` left for the client.
  void on_audio_sent(std::uint64_t generation, std::uint64_t n_samples, int rate_hz, time_point now);
  /// The generation produced all its audio.
  void on_reply_done(std::uint64_t generation);
  /// The client reports having played `played_samples` of `generation`. Returns false for a
  /// generation other than the one being followed (older reports are ignored).
  bool on_playout(std::uint64_t generation, std::uint64_t played_samples);
  /// The generation was interrupted (by this detector's decision or otherwise): stop following it.
  void on_interrupted(std::uint64_t generation, time_point now);

  /// VAD speech start at media time `t_media` (16 kHz samples).
  void on_speech_started(std::int64_t t_media);
  /// VAD speech end at `t_media_end`: the user stopped; a pending start is dropped unless it was
  /// long enough, in which case poll() still reports it once.
  void on_speech_stopped(std::int64_t t_media_end);

  /// The generation to interrupt now, if any: speech has lasted ≥ min_speech_ms of media time
  /// (up to `t_media_now`, the input timeline's present) while a generation is playing.
  /// Reports each speech onset at most once.
  std::optional<std::uint64_t> poll(time_point now, std::int64_t t_media_now);

  /// Whether the followed generation is still playing at `now`.
  bool playing(time_point now) const;
  std::uint64_t generation() const { return generation_; }
  std::uint64_t sent_samples() const { return sent_samples_; }
  /// Samples the client has played: its last report, or the real-time estimate without reports.
  std::uint64_t played_samples(time_point now) const;
  const barge_in_config& config() const { return config_; }

 private:
  barge_in_config config_;
  std::uint64_t generation_ = 0;  // followed generation (0: none)
  int rate_hz_ = 0;
  std::uint64_t sent_samples_ = 0;
  std::optional<std::uint64_t> reported_samples_;  // last playout.progress for generation_
  bool reports_seen_ = false;                       // the client sends playout.progress at all
  bool done_ = false;
  time_point t_first_sent_{};
  std::optional<std::int64_t> speech_start_;  // pending onset (media time)
  std::optional<std::int64_t> speech_end_;    // its end, once stopped
};

}  // namespace parley::net
