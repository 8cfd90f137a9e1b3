// bench/load/load_session — one WebSocket session of the load client.
//
// Role: a simulated person on one connection: connects at its place in the ramp, sends
// `session.update`, waits for `session.created`, then (after the idle phase, if any) speaks its
// turns' clips as a live microphone — 20 ms PCM16 frames on a paced timer — while the reader
// takes every server event and reply frame, "plays" the reply in real time (one clearable buffer,
// as the web client's) and reports it with `playout.progress`. A turn is over when its reply has
// played out (and its turn.metrics arrived, or a short grace passed), was interrupted, or timed
// out; then the next turn, and after the last one commit, `session.finished`, close 1000.
// Every measurement goes into the run's load_stats.
// Threading: everything runs on the session's strand: ONE reader coroutine and ONE writer (the
// main coroutine: audio, progress reports, commit and close). stop() and wake() may be called
// from any thread; they post to the strand.
// Ownership: the session refers to the load_run, which must outlive it; load_run::n_alive counts
// its coroutines and posted work, and the session may be destroyed only once that is 0.
// Cancellation: stop() closes the socket and cancels the timers; both coroutines end promptly.
// Media streams (a --target path of /v1/media-stream): the session is a phone call instead — `start`
// then 20 ms inbound `media` messages of 8 kHz μ-law; the reply arrives as `media` (played in real
// time at 8 kHz) with marks, each echoed once the audio before it has played, as a telephony
// provider does; `clear` empties the buffer; `stop` ends the call. There is no turn.metrics: a turn
// is over once its reply played out, every mark went back and no audio came for k_media_quiet.
// The Realtime protocol (a --target path of /v1/realtime): session.created comes on connect; the
// clip's frames go as input_audio_buffer.append (resampled to 24 kHz, base64); the reply is
// response.output_audio.delta (played in real time at 24 kHz), its end response.done; a reply cut
// while it plays is conversation.item.truncated. There is no playout report and no turn.metrics
// (the server estimates playout), and no commit: after the last turn the client closes.
// Units: samples at 16 kHz on the input side; the reply at the rate its response.audio.start names
// (8 kHz on a media stream).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "bench/load/load_run.hpp"
#include "parley/audio/resampler.hpp"

namespace parley::load {

class load_session {
 public:
  load_session(load_run& run, int index, boost::asio::io_context& io);

  /// Spawns the session's main coroutine (it waits for its place in the ramp).
  void start() { spawn(main()); }

  /// From any thread: close now (the overall deadline passed).
  void stop();

  /// From any thread: the idle phase is over.
  void wake();

 private:
  template <class T>
  using awaitable = boost::asio::awaitable<T>;
  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;
  enum class phase { speaking, waiting, finishing };

  void spawn(awaitable<void> task);
  bool over() const { return stop_requested_ || closed_; }
  void fail(const std::string& reason);

  // Waits (woken by the reader, or polled) until `ready()` or `deadline`; false on timeout or end.
  template <class Pred>
  awaitable<bool> wait_for(Pred ready, time_point deadline);

  awaitable<bool> write_text(const std::string& text);
  awaitable<void> main();
  awaitable<void> reader();
  void on_event(const nlohmann::json& j);
  void cut_reply(std::uint64_t gen);
  void count_error(const nlohmann::json& j);
  void on_audio(std::span<const std::uint8_t> payload);
  void on_media_stream_text(std::string_view payload);
  void on_realtime_event(const nlohmann::json& j);
  // One 20 ms frame (16 kHz) as a Realtime input_audio_buffer.append (24 kHz, base64).
  std::string realtime_append(std::span<const std::int16_t> frame_16k);
  // Reply audio of `gen` arrived: `n_samples` at `rate_hz` into the one playback buffer.
  void receive_audio(std::uint64_t gen, std::uint64_t n_samples, int rate_hz, time_point now);
  // One 20 ms frame as a media stream's inbound message (8 kHz μ-law): `mulaw` when the clip is
  // speaking, else the 16 kHz silence frame brought down to 8 kHz.
  std::string caller_media(std::span<const std::uint8_t> mulaw, std::span<const std::int16_t> silence_16k);
  void begin_turn();
  // 20 ms of "silence" between turns: the room tone of the clip last spoken, looped (an open
  // microphone in that room), or digital zeros (--no-room-tone, or a clip with no background).
  std::span<const std::int16_t> silence_frame();
  void end_turn();
  void advance_playout(time_point now);
  bool turn_complete(time_point now);

  load_run& run_;
  const int index_;
  strand_type strand_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::asio::steady_timer tick_;  // paces the writer
  boost::asio::steady_timer wake_;  // event waits; the reader cancels it

  bool stop_requested_ = false;
  bool closed_ = false;          // the reader saw the connection end
  bool closing_ = false;         // we are closing it
  bool created_ = false;
  bool finished_ = false;
  bool counted_failure_ = false;

  // The turn in progress.
  int turn_ = 0;                  // turns done
  phase phase_ = phase::speaking;
  const clip* clip_ = nullptr;
  media_time pos_ = 0;            // samples of the clip sent
  media_time room_pos_ = 0;       // where the looped room tone is
  std::optional<time_point> t_true_end_;
  time_point t_clip_end_{};
  std::uint64_t target_gen_ = 0;  // the reply to this utterance
  bool target_first_audio_ = false;
  bool target_done_ = false;
  bool target_interrupted_ = false;
  bool target_metrics_ = false;
  std::optional<time_point> t_played_out_;

  // Playback of reply audio (one clearable buffer, as the web client's).
  std::uint64_t announced_rate_gen_ = 0;
  int announced_rate_hz_ = 16000;
  std::uint64_t playing_gen_ = 0;
  int play_rate_hz_ = 16000;
  std::uint64_t received_ = 0;     // samples of playing_gen_ received
  double played_ = 0.0;            // samples of it played
  std::uint64_t reported_ = 0;     // played_samples last reported
  bool audio_done_ = false;        // response.audio.done for playing_gen_
  time_point t_play_last_{};
  std::uint64_t interrupted_upto_ = 0;

  // Media streams.
  const bool media_stream_;
  std::string stream_sid_;
  std::uint64_t n_media_sent_ = 0;
  std::deque<std::pair<std::uint64_t, std::string>> pending_marks_;  // (received_ when it came, the mark) to echo once played
  time_point t_last_media_{};

  // The Realtime protocol.
  const bool realtime_;
  std::optional<audio::resampler> to_24k_;
};

}  // namespace parley::load
