// net/session_bridge — one WebSocket client's realtime session: protocol v1 (/ws) or the OpenAI
// Realtime protocol (/v1/realtime) ↔ agent::session.
//
// Role: everything a connection's messages mean (docs/protocol.md). Both protocols are decoded to
// the same native events (protocol.hpp) and encoded from them: v1 by protocol.hpp, the Realtime
// protocol by its codec (realtime_protocol.hpp), which also carries audio in JSON. Where the two
// differ in what a message does, the difference is named here: a Realtime session is announced
// on connect and starts at its first input (session.update may come before), typed messages wait
// for response.create, and conversation.item.truncate reports playout. Client messages in:
// session.update starts the agent session (mode, rates, formats, barge-in options), audio is
// decoded (PCM16 or Opus), rate-limited and resampled to 16 kHz, commits, text (rate-limited too) and cancels go to
// the session, playout reports to session::on_playout(). Session events out: each is mapped to
// its wire event; reply audio is resampled per reply to the announced rate and sent as PCM16 or
// 20 ms Opus packets, tagged with its generation. Barge-in and interrupts: once a generation is
// interrupted its audio never leaves (the transport's fence) and the client is told. The bridge
// decides nothing about turns: the session owns barge-in (agent/barge_in.hpp, DESIGN §9).
// Shutdown: drain() ends the session's input, lets the turn in flight finish (drain_timeout_s),
// then closes with 1001.
// The bridge is not a template: it sees its transport (ws_transport.hpp, plain or TLS) only as a
// wire_link.
// Threading: everything runs on the connection's strand; session events are posted onto it.
// Ownership: owned by its transport; session callbacks and the drain timer hold a weak_ptr to it
// (aliasing the transport's shared_ptr, so a live bridge keeps its transport alive).
// Units: sample rates in Hz, media time in 16 kHz samples, offsets in output samples.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/audio/resampler.hpp"
#include "parley/core/clock.hpp"
#include "parley/core/events.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/opus_codec.hpp"
#include "parley/net/protocol.hpp"
#include "parley/net/realtime_protocol.hpp"
#include "parley/net/session_wiring.hpp"

namespace parley::agent {
class session;
}
namespace parley::obs {
struct turn_timeline;
}

namespace parley::net {

class server_state;

/// One message for the client.
struct wire_message {
  std::string payload;
  bool binary = false;
  std::uint64_t generation = 0;              // reply audio of this generation (0: never fenced)
  std::optional<time_point> t_speech_start;  // a barge-in's response.interrupted: time to interrupt is measured when it leaves
};

/// What the session bridge needs from its transport (ws_transport<Stream> implements it).
class wire_link {
 public:
  virtual ~wire_link() = default;
  /// Queues a message for the one writer. A client whose queue passes max_send_queue_bytes is dropped.
  virtual void send(wire_message m) = 0;
  /// Messages of generations ≤ `generation` (queued or later) never leave.
  virtual void fence(std::uint64_t generation) = 0;
  /// Closes with `code` after the queued messages (or at once, discarding them).
  virtual void close(std::uint16_t code, std::string reason, bool discard_queue) = 0;
  /// The socket is gone.
  virtual bool closed() const = 0;
};

constexpr std::uint16_t k_close_going_away = 1001;

class session_bridge {
 public:
  session_bridge(std::shared_ptr<server_state> server, wire_link& link, strand_type strand);
  ~session_bridge();
  session_bridge(const session_bridge&) = delete;
  session_bridge& operator=(const session_bridge&) = delete;

  /// This connection speaks the OpenAI Realtime protocol (/v1/realtime); call before on_open().
  void speak_realtime();
  /// The WebSocket is open; `self` is this bridge, owned with its transport.
  void on_open(std::weak_ptr<session_bridge> self);
  void on_text(std::string_view payload);
  void on_binary(std::span<const std::uint8_t> payload);
  // ---- session events (posted from the session strand; see session_wiring.hpp) ----
  void on_session_event(const event& e);
  void on_turn(const obs::turn_timeline& t);
  /// Server shutdown (see the header comment). Idempotent.
  void drain();
  /// The connection is over: the session is released (closed off the io threads).
  void on_closed();
  std::uint64_t session_id() const { return session_id_; }

 private:
  // ---- client messages ----
  void on_client_event(client_event& ev);
  void on_realtime_update(const session_update& u);
  /// A Realtime session starts at its first input; true when the session is running.
  bool ensure_session();
  void commit_manual_turn(const std::string& event_id);
  void start_session(const session_update& u);
  void commit_input();
  void accept_audio(std::vector<std::int16_t> pcm);
  void push_input(std::vector<std::int16_t> pcm_16k);
  bool text_turn_allowed(time_point now, const std::string& event_id);

  // ---- session events ----
  void on_output_audio(const event& e, const output_audio_chunk& chunk);
  void start_reply_audio(std::uint64_t turn, std::uint64_t generation, int chunk_rate_hz);
  void finish_reply_audio(std::uint64_t generation);
  void emit_audio(std::uint64_t generation, std::span<const std::int16_t> pcm, bool last);
  void open_response(std::uint64_t turn, std::uint64_t generation);

  // ---- turn-taking: decided by the session; the bridge carries playout in, interrupts out ----
  void on_playout(const playout_report& report);
  void interrupt_generation(std::uint64_t generation, const interrupt_event& cut);

  // ---- out ----
  void send(const server_event& e, std::optional<time_point> t_speech_start = std::nullopt);
  void send_error(wire_error err);

  std::shared_ptr<server_state> server_;
  wire_link& link_;
  strand_type strand_;
  std::weak_ptr<session_bridge> self_;
  boost::asio::steady_timer drain_timer_;  // shutdown deadline
  bool draining_ = false;
  bool shutting_down_reported_ = false;
  bool finished_ = false;  // end_of_stream seen: every reply after the end of input is done

  std::unique_ptr<agent::session> session_;
  std::uint64_t session_id_ = 0;
  std::optional<realtime_codec> realtime_;  // set: the Realtime protocol, else v1
  std::vector<std::string> pending_texts_;  // Realtime: typed user messages waiting for response.create
  int input_rate_hz_ = 16000;
  std::optional<int> output_rate_hz_;
  std::optional<audio::resampler> input_resampler_;
  std::optional<opus_input> opus_;  // input_audio_format "opus": decodes straight to 16 kHz
  bool opus_output_requested_ = false;   // output_audio_format "opus"
  std::optional<opus_output> opus_out_;  // the encoder of the generation being sent
  bool input_ended_ = false;
  media_time n_input_samples_ = 0;  // 16 kHz samples pushed: the input timeline's present
  media_time n_input_at_commit_ = 0;  // n_input_samples_ at the last commit or clear (turn_detection null)
  time_point t_connected_{};
  input_rate_limit rate_limit_;
  static constexpr double k_text_turn_burst = 5.0;
  double text_turn_tokens_ = k_text_turn_burst;  // typed turns that may start now
  time_point t_text_turn_refill_{};

  std::uint64_t announced_generation_ = 0;    // response.created sent up to this generation
  std::uint64_t interrupted_upto_ = 0;        // generations ≤ this are interrupted: their audio is dropped
  std::uint64_t audio_generation_ = 0;        // generation whose audio is being sent
  std::uint64_t audio_offset_samples_ = 0;    // output samples of it sent so far
  int audio_rate_hz_ = 0;                     // rate of the frames sent for it
  int session_audio_rate_hz_ = 0;             // rate of the session's audio for it (before resampling)
  std::optional<audio::resampler> output_resampler_;
};

}  // namespace parley::net
