// net/realtime_protocol — the OpenAI Realtime protocol (its GA event set) at /v1/realtime:
// decoder and encoder over the same native events as protocol v1 (protocol.hpp).
//
// Role: lets a client written for OpenAI's Realtime API (the official SDKs' realtime WebSocket
// clients) talk to `parley serve` unchanged. Client events are JSON text; audio travels base64 in
// `input_audio_buffer.append` and `response.output_audio.delta` as PCM16 at 24 kHz (audio/pcm),
// or G.711 μ-law / A-law at 8 kHz (audio/pcmu, audio/pcma). Decoding gives the native
// client_event the session bridge acts on; encoding turns one native server_event into the zero
// or more Realtime events it stands for (a reply's start is response.created,
// response.output_item.added and response.content_part.added). The mapping and every difference
// from OpenAI's service: docs/protocol.md, "The OpenAI Realtime protocol".
// State: one codec per connection. It keeps the session configuration the client set (echoed in
// session.created / session.updated), the ids it gave items, and what it has said of each turn
// (the transcript deltas so far, the responses announced).
// Ids: user audio items are "item_u<turn>", typed items keep the client's id (or get
// "item_t<n>"), a reply is response "resp_<generation>" with item "item_r<generation>"; the tool
// calls of a reply are its output items "item_c<generation>_<k>" (k = 1, 2, ...), and their
// results the items "item_o<generation>_<k>".
// Threading: not thread-safe; the bridge uses it on the connection's strand.
// Errors: decoding never throws; bad input gives a wire_error (sent as a Realtime `error` event).
//
//   net::realtime_codec codec(defaults);
//   auto ev = codec.decode(R"({"type":"input_audio_buffer.append","audio":"AAAA"})");
//   for (auto& text : codec.encode(net::server_event{net::speech_started_message{1, 120}})) send(text);
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "parley/net/protocol.hpp"

namespace parley::net {

/// The Realtime protocol's audio formats. pcm: PCM16 LE at 24 kHz; pcmu/pcma: G.711 at 8 kHz.
enum class realtime_audio : std::uint8_t { pcm, pcmu, pcma };
int rate_of(realtime_audio format);
std::string_view to_string(realtime_audio format);

inline constexpr std::size_t k_max_instructions_bytes = 16384;

/// What a Realtime session is set to: what session.created reports, and session.update changes.
struct realtime_config {
  realtime_audio input_format = realtime_audio::pcm;
  realtime_audio output_format = realtime_audio::pcm;
  bool semantic_vad = false;           // turn_detection type: semantic_vad (content-aware) or server_vad
  double silence_duration_ms = 400;    // server_vad's silence that ends a turn
  bool interrupt_response = true;      // barge-in
  bool transcription = false;          // a transcription session: turns are transcribed, never answered
  bool manual_turns = false;           // turn_detection null (transcription sessions): commits end turns
  std::string instructions;            // "" = the assistant's own
  std::string voice = "parley";        // reported only: parley speaks with the server's voice
  std::uint64_t session = 0;           // the id in "sess_<n>": the codec numbers its connections
};

class realtime_codec {
 public:
  /// `defaults`: the server's settings as a Realtime configuration (its turn-taking, barge-in).
  explicit realtime_codec(realtime_config defaults);

  /// Decodes one client text message. A session.update is staged: it takes effect in what this
  /// codec reports and decodes only once the bridge calls apply_staged().
  std::variant<client_event, wire_error> decode(std::string_view payload);
  /// The last decoded session.update is in force (the bridge accepted it).
  void apply_staged();
  const realtime_config& config() const { return config_; }
  /// The configuration in force as the bridge's native session options.
  session_update as_session_update() const;

  /// The Realtime events that stand for one native server event (none for those without one).
  std::vector<std::string> encode(const server_event& e);
  /// One response.output_audio.delta: `pcm` at the output format's rate, encoded in it.
  std::string encode_audio(std::uint64_t generation, std::span<const std::int16_t> pcm);
  /// conversation.item.added and conversation.item.done for a typed user message just created
  /// (the last conversation.item.create decoded).
  std::vector<std::string> encode_text_item(const std::string& text);
  /// `input_audio_buffer.cleared`, the answer to a clear the bridge applied.
  std::string encode_cleared();

 private:
  std::string next_event_id();
  void add_event(std::vector<nlohmann::json>& events, std::string_view type, nlohmann::json body);
  nlohmann::json append_item(const std::string& id);
  void add_user_item(std::vector<nlohmann::json>& events, const std::string& id, nlohmann::json content);
  void add_tool_call(std::vector<nlohmann::json>& events, const tool_call_message& m);
  nlohmann::json response_output(std::uint64_t generation, nlohmann::json message);

  /// A function call of the response in progress (parley ran it: a tool of the assistant file).
  struct function_call {
    std::uint64_t generation = 0;
    std::size_t output_index = 0;  // in the response: 0 is its spoken message
    std::string call_id;
    std::string name;
    std::string arguments;
  };

  realtime_config config_;
  realtime_config staged_;
  std::uint64_t n_events_ = 0;
  std::uint64_t n_text_items_ = 0;
  std::string pending_item_id_;                // the id of the typed item being created
  std::string last_item_id_;                   // previous_item_id of the next user item
  std::set<std::uint64_t> audio_turns_;        // turns that began with speech (their items are audio)
  std::uint64_t partial_turn_ = 0;             // the turn whose transcript deltas went out
  std::string partial_sent_;                   // ... and what they add up to
  double speech_start_ms_ = 0;                 // of the turn being spoken
  double speech_end_ms_ = 0;
  std::uint64_t announced_generation_ = 0;     // response.created sent up to this generation
  std::set<std::uint64_t> completed_;          // the last responses that ended with response.done completed
  std::vector<function_call> calls_;           // of the response in progress
};

}  // namespace parley::net
