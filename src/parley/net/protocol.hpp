// net/protocol — the realtime wire protocol, version 1 (docs/protocol.md): decoder and encoder.
//
// Role: pure functions between WebSocket message payloads and native types. Text messages are
// JSON objects with a `type`; client binary messages are PCM16 LE mono audio at the rate agreed
// in `session.update` (or one Opus packet each with input_audio_format "opus": opus_codec.hpp);
// server binary messages are an 8-byte header (generation id, sample offset) followed by PCM16 LE
// mono audio (or one 20 ms Opus packet with output_audio_format "opus"). JSON lives only here (DESIGN §2): the server works on the
// native structs below.
// Threading: every function is pure and reentrant.
// Errors: decoding never throws; bad input gives a `wire_error` with a specific `wire_errc`,
// which the server sends back as an `error` event (see docs/protocol.md for the table).
// Units: sample rates in Hz, sample counts in mono samples at the stated rate, times in ms.
//
//   auto msg = net::decode_client_text(R"({"type":"session.update","session":{"input_sample_rate_hz":48000}})");
//   if (auto* e = std::get_if<net::wire_error>(&msg)) send(net::encode(net::error_message{*e}));
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace parley::net {

inline constexpr int k_protocol_version = 1;

/// Every error the server reports in an `error` event. to_string() gives the wire code.
enum class wire_errc : std::uint8_t {
  invalid_json,             // the text message is not valid JSON (or not UTF-8)
  invalid_message,          // valid JSON but not an object, or a field has the wrong type/value
  missing_type,             // the object has no string `type`
  unknown_type,             // `type` names no client event of this protocol version
  session_not_started,      // audio or an event arrived before `session.update`
  session_already_started,  // a second `session.update` (v1 does not reconfigure a live session)
  unsupported_sample_rate,  // input/output rate outside [k_min_rate_hz, k_max_rate_hz]
  invalid_mode,             // `mode` is neither "streaming" nor "sequential"
  invalid_audio,            // a binary message with an odd number of bytes (not whole PCM16 samples)
  input_ended,              // audio after `input_audio_buffer.commit`
  empty_text,               // `conversation.item.create` without text
  text_too_long,            // text input longer than k_max_text_bytes
  unknown_generation,       // `playout.progress` for a generation the server never sent
  rate_limited,             // input faster than the allowed multiple of real time
  engine_error,             // an engine (ASR, LLM, TTS) failed on this session's turn
  server_error,             // the server could not do what was asked (e.g. no session could start)
  shutting_down,            // the server is draining; new input is not accepted
  unsupported_audio_format, // `input_audio_format`/`output_audio_format` names no supported format
  invalid_opus,             // a binary message in an Opus session that is not a decodable Opus packet
  unsupported_event,        // a known event parley does not carry out (the Realtime protocol: docs/protocol.md)
};
inline constexpr std::size_t n_wire_errcs = 20;
std::string_view to_string(wire_errc code);

struct wire_error {
  wire_errc code = wire_errc::invalid_message;
  std::string message;   // human readable, never echoes client text
  std::string event_id;  // the client's event_id, when it gave one
};

// ---- limits the decoder itself enforces ---------------------------------------------------------
inline constexpr int k_min_rate_hz = 8000;
inline constexpr int k_max_rate_hz = 48000;
inline constexpr std::size_t k_max_text_bytes = 4096;  // conversation.item.create text

// ---- client → server ------------------------------------------------------------------------------
/// Encoding of binary audio messages. pcm16: PCM16 LE mono at the agreed rate. opus: one Opus
/// packet per message (RFC 6716): client packets (typically 20 ms) are decoded straight to 16 kHz;
/// server packets are 20 ms at the announced output rate, after the 8-byte frame header.
enum class audio_format : std::uint8_t { pcm16, opus };
std::string_view to_string(audio_format f);
/// The sample rates an Opus encoder may run at (input_sample_rate_hz of an Opus session).
bool is_opus_rate(int rate_hz);

struct barge_in_settings {
  std::optional<bool> enabled;
  std::optional<double> min_speech_ms;
};

/// How a session's turns end (the Realtime protocol's `turn_detection`; v1 keeps the server's).
/// server_vad: a fixed silence; semantic_vad: content-aware endpointing (agent/turn_end.hpp).
struct turn_detection_settings {
  bool semantic = false;
  std::optional<double> silence_ms;  // server_vad's silence_duration_ms
};

/// `session.update`: must be the first message. Absent fields keep the server's defaults.
struct session_update {
  int input_sample_rate_hz = 16000;
  std::optional<int> output_sample_rate_hz;  // absent: the synthesizer's own rate
  audio_format input_audio_format = audio_format::pcm16;   // opus: input_sample_rate_hz is an Opus rate
  audio_format output_audio_format = audio_format::pcm16;  // opus: output_sample_rate_hz, if given, is an Opus rate
  std::optional<std::string> mode;           // "streaming" | "sequential"
  barge_in_settings barge_in;
  /// What the application knows about the caller (a string, or an object kept as its JSON), up to
  /// k_max_context_bytes; the session's LLM instructions include it. "" = none.
  std::string context;
  // ---- set by the Realtime protocol only (realtime_protocol.hpp) ----
  std::optional<std::string> instructions;  // the LLM's instructions for this session, replacing the assistant's
  std::optional<turn_detection_settings> turn_detection;
  bool transcription_only = false;  // a transcription session: turns are transcribed, never answered
  bool manual_turns = false;        // turn_detection null: input_audio_buffer.commit ends each turn
  std::string event_id;
};
inline constexpr std::size_t k_max_context_bytes = 8192;
/// `input_audio_buffer.commit`: end of input (the turn in progress ends now; no more audio).
struct input_commit { std::string event_id; };
/// `conversation.item.create`: a user turn given as text.
struct text_input { std::string text; std::string event_id; };
/// `playout.progress`: the client has played `played_samples` of generation `generation`'s audio.
struct playout_report { std::uint64_t generation = 0; std::uint64_t played_samples = 0; std::string event_id; };
/// `response.cancel`: interrupt the reply being generated or played.
struct response_cancel { std::string event_id; };
// ---- the Realtime protocol's events without a v1 counterpart (realtime_protocol.hpp) ----
/// `input_audio_buffer.append`: audio carried in JSON, decoded to PCM16 at the session's input rate.
struct audio_append { std::vector<std::int16_t> pcm; std::string event_id; };
/// `response.create`: answer the user messages created since the last response.
struct response_request { std::string event_id; };
/// `input_audio_buffer.clear` (turn_detection null): drop the audio appended since the last commit.
struct input_clear { std::string event_id; };
/// `conversation.item.truncate`: the client played only `audio_end_ms` of a reply's audio.
struct item_truncate { std::uint64_t generation = 0; double audio_end_ms = 0; std::string event_id; };

using client_event = std::variant<session_update, input_commit, text_input, playout_report, response_cancel,
                                  audio_append, response_request, item_truncate, input_clear>;

/// Decodes one client text message: an event, or the error to send back.
std::variant<client_event, wire_error> decode_client_text(std::string_view payload);

/// PCM16 LE bytes as samples (a trailing odd byte is ignored), and samples appended as PCM16 LE:
/// the wire's sample format, wherever audio is carried (binary frames, base64 in JSON).
std::vector<std::int16_t> read_pcm16(std::span<const std::uint8_t> bytes);
void put_pcm16(std::string& out, std::span<const std::int16_t> pcm);

/// Decodes one client binary message (PCM16 LE mono): the samples, or invalid_audio.
std::variant<std::vector<std::int16_t>, wire_error> decode_client_audio(std::span<const std::uint8_t> payload);

/// The client-event `type` string of each alternative ("session.update", ...).
std::string_view type_of(const client_event& e);

// ---- server → client -------------------------------------------------------------------------------
struct limits_info {
  std::size_t max_message_bytes = 0;
  std::size_t max_text_bytes = k_max_text_bytes;
  double idle_timeout_s = 0;
};
struct session_created {
  std::uint64_t session = 0;
  int input_sample_rate_hz = 16000;
  std::optional<int> output_sample_rate_hz;
  audio_format input_audio_format = audio_format::pcm16;
  audio_format output_audio_format = audio_format::pcm16;
  std::string mode;
  bool barge_in = true;
  double barge_in_min_speech_ms = 0;
  limits_info limits;
  bool updated = false;  // the Realtime protocol's session.updated (a session.update before any input)
};
struct speech_started_message { std::uint64_t turn = 0; double audio_start_ms = 0; };
struct speech_stopped_message { std::uint64_t turn = 0; double audio_end_ms = 0; };
struct transcription_delta { std::uint64_t turn = 0; std::string transcript; double stability = 0; };
struct transcription_completed {
  std::uint64_t turn = 0;
  std::string transcript;
  std::optional<double> confidence;  // the recognizer's (engine::recognized); absent when it gives none
};
struct input_committed {};
struct item_created { std::uint64_t turn = 0; std::string text; };  // the committed user turn
struct response_created { std::uint64_t turn = 0; std::uint64_t generation = 0; };
struct text_delta { std::uint64_t generation = 0; std::string delta; };
struct audio_start { std::uint64_t generation = 0; int sample_rate_hz = 0; audio_format format = audio_format::pcm16; };
struct audio_done { std::uint64_t generation = 0; std::uint64_t n_samples = 0; };
struct response_done { std::uint64_t turn = 0; std::uint64_t generation = 0; std::string text; };
struct response_interrupted {
  std::uint64_t generation = 0;
  std::string reason;                  // "barge_in", "client", "new_turn", ...
  std::uint64_t sent_samples = 0;      // audio sent for the generation
  std::uint64_t played_samples = 0;    // last playout.progress (or the server's estimate)
};
/// `turn.metrics`: the turn's timeline as obs::to_json writes it (pre-serialised JSON object).
struct turn_metrics { std::uint64_t turn = 0; std::uint64_t generation = 0; std::string timeline_json; };
struct session_finished {};  // all replies done after input_audio_buffer.commit
struct error_message { wire_error err; };
/// The Realtime protocol's `conversation.item.truncated`: the answer to an item_truncate.
struct item_truncated { std::uint64_t generation = 0; double audio_end_ms = 0; };

/// `response.tool_call`: a tool the reply's model called (the assistant file's [[tools]], run by
/// parley), sent when it starts (no output) and again when it returned.
struct tool_call_message {
  std::uint64_t turn = 0;
  std::uint64_t generation = 0;
  std::string call_id;
  std::string name;
  std::string arguments;              // JSON text
  std::optional<std::string> output;  // what the model was handed: the tool's reply or "error: ..."
};

using server_event =
    std::variant<session_created, speech_started_message, speech_stopped_message, transcription_delta,
                 transcription_completed, input_committed, item_created, response_created, text_delta, audio_start,
                 audio_done, response_done, response_interrupted, turn_metrics, session_finished, error_message,
                 item_truncated, tool_call_message>;

/// The server-event `type` string ("session.created", ...).
std::string_view type_of(const server_event& e);

/// One server event as a JSON text message.
std::string encode(const server_event& e);

/// Server binary audio frame: u32 LE generation id, u32 LE offset (samples into the generation's
/// audio), then PCM16 LE samples.
inline constexpr std::size_t k_audio_header_bytes = 8;
std::string encode_audio_frame(std::uint64_t generation, std::uint64_t offset_samples, std::span<const std::int16_t> pcm);

/// Server binary audio frame of an Opus session: the same header, then one Opus packet.
std::string encode_opus_frame(std::uint64_t generation, std::uint64_t offset_samples, std::span<const std::uint8_t> packet);

struct audio_frame_view {
  std::uint32_t generation = 0;
  std::uint32_t offset_samples = 0;
  std::vector<std::int16_t> samples;
};
/// Parses a server audio frame (for clients and tests); nullopt if shorter than the header or odd.
std::optional<audio_frame_view> decode_audio_frame(std::span<const std::uint8_t> payload);

}  // namespace parley::net
