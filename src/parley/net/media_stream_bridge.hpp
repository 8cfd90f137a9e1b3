// net/media_stream_bridge — one phone call's session: telephone media stream ↔ agent::session.
//
// Role: what a telephony provider's media-stream WebSocket (/v1/media-stream, media_stream.hpp,
// docs/transports.md) means for a session. `start` starts the agent session (and, when the server
// needs a token the upgrade did not carry, checks `customParameters.access_token`: providers do
// not let a call's stream URL carry a query). The caller's 8 kHz μ-law is decoded, rate-limited
// and resampled to 16 kHz; reply audio is resampled to 8 kHz, μ-law encoded and sent as `media`
// messages followed by a `mark` naming how much of the reply it ends; the provider echoes each
// mark once the audio before it has been played, which the session learns as playout
// (session::on_playout). When the session cuts a reply (barge-in), its unsent audio and marks
// are dropped (the transport's fence) and `clear` tells the provider to drop what it buffered;
// marks it returns for the cut reply are ignored. DTMF keys are collected into one typed turn,
// sent on `#` or k_dtmf_gap_ms after the last key. `stop` (the call ended) ends the session and
// closes the socket. The bridge decides nothing about turns (DESIGN §9).
// Threading: everything runs on the connection's strand; session events are posted onto it.
// Ownership: owned by its transport (ws_transport.hpp), as session_bridge is.
// Errors: a message that is not the protocol is counted and ignored; a call that cannot start
// (media format other than 8 kHz mono μ-law, a missing or wrong token, a second start) is closed
// with 1008 and a reason.
// Units: media time in 16 kHz samples; reply offsets in 8 kHz samples.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "parley/audio/resampler.hpp"
#include "parley/core/events.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/media_stream.hpp"
#include "parley/net/session_bridge.hpp"
#include "parley/net/session_wiring.hpp"

namespace parley::net {

/// Keys pressed with no `#` form one typed turn this long after the last key.
inline constexpr double k_dtmf_gap_ms = 1500.0;
/// Reply audio goes out in media messages of at most this many 8 kHz samples (160 ms), each
/// followed by a mark: playout is known to within this much.
inline constexpr std::size_t k_media_message_samples = 1280;

class media_stream_bridge {
 public:
  media_stream_bridge(std::shared_ptr<server_state> server, wire_link& link, strand_type strand);
  ~media_stream_bridge();
  media_stream_bridge(const media_stream_bridge&) = delete;
  media_stream_bridge& operator=(const media_stream_bridge&) = delete;

  /// The upgrade carried no token although the server needs one: `start` must bring it.
  void require_token_in_start() { token_in_start_ = true; }

  // ---- the transport's calls (the same as session_bridge's) ----
  void on_open(std::weak_ptr<media_stream_bridge> self);
  void on_text(std::string_view payload);
  void on_binary(std::span<const std::uint8_t> payload);
  void drain();
  void on_closed();
  std::uint64_t session_id() const { return session_id_; }

  // ---- session events (posted from the session strand; see session_wiring.hpp) ----
  void on_session_event(const event& e);
  void on_turn(const obs::turn_timeline&) {}

 private:
  void start_call(const ms_start& s);
  void on_media(const ms_media& m);
  void on_mark(const ms_mark& m);
  void on_dtmf(char digit);
  void submit_digits();
  void end_call();
  void refuse(std::string reason);
  void protocol_error(wire_errc code, std::string_view what);

  void on_output_audio(std::uint64_t generation, const output_audio_chunk& chunk);
  void finish_reply_audio(std::uint64_t generation);
  void emit_audio(std::uint64_t generation, std::span<const std::int16_t> pcm_8k);
  void interrupt_generation(std::uint64_t generation, const interrupt_event& cut);

  std::shared_ptr<server_state> server_;
  wire_link& link_;
  strand_type strand_;
  std::weak_ptr<media_stream_bridge> self_;
  boost::asio::steady_timer drain_timer_;
  boost::asio::steady_timer dtmf_timer_;
  bool token_in_start_ = false;
  bool draining_ = false;
  bool input_ended_ = false;

  std::unique_ptr<agent::session> session_;
  std::uint64_t session_id_ = 0;
  std::string stream_sid_;
  std::optional<audio::resampler> input_resampler_;  // 8 kHz → 16 kHz
  media_time n_input_samples_ = 0;                   // 16 kHz samples pushed
  input_rate_limit rate_limit_;
  std::string digits_;  // DTMF keys not yet sent as a turn

  std::uint64_t interrupted_upto_ = 0;           // generations ≤ this were cut: their audio never leaves
  std::uint64_t audio_generation_ = 0;           // generation whose audio is being sent
  std::uint64_t audio_offset_samples_ = 0;       // 8 kHz samples of it sent so far
  int session_audio_rate_hz_ = 0;                // rate of the session's audio for it
  std::optional<audio::resampler> output_resampler_;  // session rate → 8 kHz, per reply
};

}  // namespace parley::net
