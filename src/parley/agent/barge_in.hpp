// agent/barge_in — what the listener has heard of a reply, and when their speech interrupts it
// (functional core).
//
// Role: plain synchronous decision logic fed with timestamps (DESIGN §5), used by the session,
// which owns turn-taking (DESIGN §9): every sink — the WebSocket client's playout reports, the
// paced player of `parley run`/`bench` — tells the session what it played, and the session
// decides. Two small parts:
//   playout_clock — one reply's audio: how much was sent, how much the listener has played (the
//     sink's last report, or, without any report, real time since the first sample was sent,
//     less a slack for the sink's buffer), and whether it is still playing;
//   barge_in_gate — the user's speech onsets, fed the VAD's verdict per frame: "interrupt now"
//     once, when an onset holds `min_speech_ms` of voiced audio with no silence over
//     `max_gap_ms` in it (coughs and "mm-hm"s shorter than that do not interrupt).
// Threading: not synchronised; each lives on its session's strand.
// Units: samples at the reply's output rate (playout); media time in samples on the 16 kHz input
// timeline (speech); wall times from the steady clock.
//
//   playout_clock clock(250.0);
//   clock.on_sent(n, 16000, now);  clock.on_report(played);
//   barge_in_gate gate({.enabled = true, .min_speech_ms = 200});
//   gate.on_frame(t_media_end, 320, voiced);
//   if (gate.poll() && clock.playing(now)) interrupt();
#pragma once

#include <cstdint>
#include <optional>

#include "parley/core/clock.hpp"

namespace parley::agent {

struct barge_in_config {
  /// The user's speech interrupts the reply being played. Off: only a new committed turn, or an
  /// explicit interrupt, stops a reply (and a reply's turn completes when it is generated).
  bool enabled = false;
  /// The user must have been speaking this long (media time since the VAD's speech start) before
  /// the reply is cut.
  double min_speech_ms = 200.0;
  /// A silence longer than this ends an onset: its voiced time starts again from zero.
  double max_gap_ms = 150.0;
  /// Without playout reports: time the sink is assumed to buffer before it plays.
  double playout_slack_ms = 250.0;
  /// False interruptions: when the speech that cut a reply turns out to hold no words, or only a
  /// backchannel ("uh-huh", "okay": is_backchannel(), turn_end.hpp), and its transcript arrives
  /// within this long of the cut, the reply resumes from the first word not heard (the session,
  /// agent/session.hpp). 0: a cut reply stays cut.
  double resume_within_ms = 2000.0;
};

class playout_clock {
 public:
  explicit playout_clock(double slack_ms = 250.0) : slack_ms_(slack_ms) {}

  /// `n_samples` more of the reply's audio left for the sink; the first call starts the clock.
  void on_sent(std::uint64_t n_samples, int rate_hz, time_point now);
  /// The reply has produced all its audio.
  void on_generated() { generated_ = true; }
  /// The sink played `n_played` samples of this reply in all (clamped to what was sent; a report
  /// lower than an earlier one is ignored).
  void on_report(std::uint64_t n_played);
  /// Stops the clock at what was played by `now`: nothing more of the reply plays.
  void stop(time_point now);

  std::uint64_t sent() const { return sent_; }
  int rate_hz() const { return rate_hz_; }
  bool started() const { return sent_ > 0; }
  bool reports_seen() const { return reported_.has_value(); }
  /// Samples the listener has played: the sink's last report, or the real-time estimate.
  std::uint64_t played(time_point now) const;
  /// Whether any of the reply is still to play at `now` (it is still producing audio, or the sink
  /// has not played all it was sent).
  bool playing(time_point now) const;
  /// Without reports, when the estimate says the last sample will have played (null before any
  /// audio was sent).
  std::optional<time_point> estimated_end() const;

 private:
  double slack_ms_;
  std::uint64_t sent_ = 0;
  int rate_hz_ = 0;
  time_point t_first_sent_{};
  std::optional<std::uint64_t> reported_;
  bool generated_ = false;
  bool stopped_ = false;
};

class barge_in_gate {
 public:
  explicit barge_in_gate(barge_in_config config) : config_(config) {}

  /// One input frame ending at media time `t_media_end` (16 kHz samples), voiced or not (the
  /// same verdict the endpointer gets).
  void on_frame(std::int64_t t_media_end, std::int64_t n_samples, bool voiced);
  /// True once per onset, when it holds ≥ min_speech_ms of voiced audio. The caller interrupts
  /// whatever is playing then.
  bool poll();
  /// Media time where the current onset began, if one is open.
  std::optional<std::int64_t> onset() const { return onset_; }
  const barge_in_config& config() const { return config_; }

 private:
  barge_in_config config_;
  std::optional<std::int64_t> onset_;
  std::int64_t voiced_samples_ = 0;
  std::int64_t last_voiced_end_ = 0;
  bool reported_ = false;
};

}  // namespace parley::agent
