// net/media_stream — the telephone media-stream protocol (docs/transports.md): decoder, encoder,
// and G.711 μ-law.
//
// Role: pure functions between the JSON text messages a telephony provider exchanges with a
// voice application over a WebSocket and native types. The shapes are those of the media-stream
// protocol the major providers use (Twilio Media Streams' bidirectional form):
//   provider → parley:  connected, start (stream id, media format, custom parameters), media
//                       (base64 8 kHz μ-law, inbound track), mark (a mark parley sent has been
//                       played), dtmf (a key pressed), stop
//   parley → provider:  media (base64 μ-law), mark (tell me when the audio before this has been
//                       played), clear (drop the audio not yet played: barge-in)
// JSON lives only here (DESIGN §2).
// Threading: every function is pure and reentrant.
// Errors: decoding never throws; bad input gives a readable message (it never echoes the input).
// Units: μ-law bytes are 8 kHz samples; PCM is 16-bit linear.
//
//   auto msg = net::decode_media_stream(text);
//   if (auto* m = std::get_if<net::ms_media>(&msg)) push(net::mulaw_decode(m->payload));
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace parley::net {

/// The telephone network's rate: every media payload is μ-law at 8 kHz.
inline constexpr int k_telephone_rate_hz = 8000;

/// G.711 μ-law (ITU-T G.711, the bias-and-segment form): one byte per 8 kHz sample.
std::uint8_t mulaw_encode(std::int16_t pcm);
std::int16_t mulaw_decode(std::uint8_t code);
std::vector<std::int16_t> mulaw_decode(std::span<const std::uint8_t> codes);
std::vector<std::uint8_t> mulaw_encode(std::span<const std::int16_t> pcm);
/// G.711 A-law (the segment form with even-bit inversion): one byte per 8 kHz sample.
std::uint8_t alaw_encode(std::int16_t pcm);
std::int16_t alaw_decode(std::uint8_t code);
std::vector<std::int16_t> alaw_decode(std::span<const std::uint8_t> codes);
std::vector<std::uint8_t> alaw_encode(std::span<const std::int16_t> pcm);

// ---- provider → parley ----
struct ms_connected {};
struct ms_start {
  std::string stream_sid;
  std::string call_sid;
  std::string encoding = "audio/x-mulaw";  // mediaFormat.encoding
  int sample_rate_hz = k_telephone_rate_hz;
  int channels = 1;
  std::map<std::string, std::string> custom_parameters;  // <Parameter> values (string values only)
};
struct ms_media {
  std::string track = "inbound";     // only inbound audio is the caller's
  std::vector<std::uint8_t> payload;  // μ-law bytes, base64-decoded
};
struct ms_mark {
  std::string name;
};
struct ms_dtmf {
  char digit = 0;  // 0-9, *, #, A-D
};
struct ms_stop {};
struct ms_clear {};  // parley → provider only; decoded for the provider's side (the load client)
using ms_event = std::variant<ms_connected, ms_start, ms_media, ms_mark, ms_dtmf, ms_stop, ms_clear>;

struct ms_error {
  std::string message;
};

/// Decodes one text message. Unknown `event` names are an error; the caller decides whether to
/// ignore them (providers add events over time).
std::variant<ms_event, ms_error> decode_media_stream(std::string_view text);

// ---- parley → provider ----
std::string encode_ms_media(std::string_view stream_sid, std::span<const std::uint8_t> mulaw);
std::string encode_ms_mark(std::string_view stream_sid, std::string_view name);
std::string encode_ms_clear(std::string_view stream_sid);

// ---- the provider's side (the load client, `parley bench --target ws://…/v1/media-stream`) ----
/// The caller's audio: an inbound `media` message (chunk numbers count from 1).
std::string encode_ms_caller_media(std::string_view stream_sid, std::span<const std::uint8_t> mulaw, std::uint64_t chunk);
/// `start` for 8 kHz mono μ-law with the given custom parameters.
std::string encode_ms_start(std::string_view stream_sid, const std::map<std::string, std::string>& custom_parameters);
std::string encode_ms_stop(std::string_view stream_sid);

}  // namespace parley::net
