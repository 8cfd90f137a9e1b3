// net/media_stream — implementation. See media_stream.hpp; docs/transports.md for the wire.
#include "parley/net/media_stream.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "parley/net/base64.hpp"

namespace parley::net {

namespace {

using nlohmann::json;

constexpr int k_mulaw_bias = 0x84;
constexpr int k_mulaw_clip = 32635;

// A string member, or nullopt when absent or not a string.
std::optional<std::string> string_at(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

const json* object_at(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

std::variant<ms_event, ms_error> decode_start(const json& j) {
  const json* start = object_at(j, "start");
  if (!start) return ms_error{"start without a `start` object"};
  ms_start s;
  s.stream_sid = string_at(*start, "streamSid").value_or(string_at(j, "streamSid").value_or(""));
  if (s.stream_sid.empty()) return ms_error{"start without a streamSid"};
  s.call_sid = string_at(*start, "callSid").value_or("");
  if (const json* format = object_at(*start, "mediaFormat")) {
    s.encoding = string_at(*format, "encoding").value_or(s.encoding);
    if (const auto rate = format->find("sampleRate"); rate != format->end()) {
      if (!rate->is_number_integer()) return ms_error{"mediaFormat.sampleRate is not an integer"};
      s.sample_rate_hz = static_cast<int>(std::clamp<std::int64_t>(rate->get<std::int64_t>(), 0, 1'000'000));
    }
    if (const auto channels = format->find("channels"); channels != format->end()) {
      if (!channels->is_number_integer()) return ms_error{"mediaFormat.channels is not an integer"};
      s.channels = static_cast<int>(std::clamp<std::int64_t>(channels->get<std::int64_t>(), 0, 64));
    }
  }
  if (const json* params = object_at(*start, "customParameters")) {
    for (const auto& [key, value] : params->items()) {
      if (value.is_string()) s.custom_parameters[key] = value.get<std::string>();
    }
  }
  return ms_event{std::move(s)};
}

std::variant<ms_event, ms_error> decode_media(const json& j) {
  const json* media = object_at(j, "media");
  if (!media) return ms_error{"media without a `media` object"};
  ms_media m;
  m.track = string_at(*media, "track").value_or("inbound");
  const auto payload = string_at(*media, "payload");
  if (!payload) return ms_error{"media without a string payload"};
  auto bytes = base64_decode(*payload);
  if (!bytes) return ms_error{"media payload is not base64"};
  m.payload = std::move(*bytes);
  return ms_event{std::move(m)};
}

}  // namespace

std::uint8_t mulaw_encode(std::int16_t pcm) {
  int sample = pcm;
  const int sign = sample < 0 ? 0x80 : 0;
  if (sign) sample = -sample;
  sample = std::min(sample, k_mulaw_clip) + k_mulaw_bias;
  int exponent = 7;
  for (int mask = 0x4000; exponent > 0 && (sample & mask) == 0; mask >>= 1) --exponent;
  const int mantissa = (sample >> (exponent + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}

std::int16_t mulaw_decode(std::uint8_t code) {
  const int u = static_cast<std::uint8_t>(~code);
  const int exponent = (u >> 4) & 0x07;
  const int magnitude = (((u & 0x0F) << 3) + k_mulaw_bias) << exponent;
  return static_cast<std::int16_t>((u & 0x80) ? k_mulaw_bias - magnitude : magnitude - k_mulaw_bias);
}

std::vector<std::int16_t> mulaw_decode(std::span<const std::uint8_t> codes) {
  std::vector<std::int16_t> pcm(codes.size());
  std::transform(codes.begin(), codes.end(), pcm.begin(), [](std::uint8_t c) { return mulaw_decode(c); });
  return pcm;
}

std::vector<std::uint8_t> mulaw_encode(std::span<const std::int16_t> pcm) {
  std::vector<std::uint8_t> codes(pcm.size());
  std::transform(pcm.begin(), pcm.end(), codes.begin(), [](std::int16_t s) { return mulaw_encode(s); });
  return codes;
}

std::uint8_t alaw_encode(std::int16_t pcm) {
  int s = pcm >> 3;  // A-law codes 13-bit samples
  int mask = 0xD5;   // sign bit set for non-negative samples, even bits inverted
  if (s < 0) {
    mask = 0x55;
    s = -s - 1;
  }
  int segment = 0;
  while (segment < 8 && s >= (0x20 << segment)) ++segment;  // segment ends 0x1F, 0x3F, ... 0xFFF
  if (segment == 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  const int mantissa = (segment < 2 ? s >> 1 : s >> segment) & 0x0F;
  return static_cast<std::uint8_t>(((segment << 4) | mantissa) ^ mask);
}

std::int16_t alaw_decode(std::uint8_t code) {
  const int a = code ^ 0x55;
  const int segment = (a & 0x70) >> 4;
  int magnitude = ((a & 0x0F) << 4) + (segment == 0 ? 8 : 0x108);
  if (segment > 1) magnitude <<= segment - 1;
  return static_cast<std::int16_t>((a & 0x80) ? magnitude : -magnitude);
}

std::vector<std::int16_t> alaw_decode(std::span<const std::uint8_t> codes) {
  std::vector<std::int16_t> pcm(codes.size());
  std::transform(codes.begin(), codes.end(), pcm.begin(), [](std::uint8_t c) { return alaw_decode(c); });
  return pcm;
}

std::vector<std::uint8_t> alaw_encode(std::span<const std::int16_t> pcm) {
  std::vector<std::uint8_t> codes(pcm.size());
  std::transform(pcm.begin(), pcm.end(), codes.begin(), [](std::int16_t s) { return alaw_encode(s); });
  return codes;
}

std::variant<ms_event, ms_error> decode_media_stream(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return ms_error{"not valid JSON"};
  if (!j.is_object()) return ms_error{"not a JSON object"};
  const auto event = string_at(j, "event");
  if (!event) return ms_error{"no string `event`"};
  if (*event == "media") return decode_media(j);
  if (*event == "mark") {
    const json* mark = object_at(j, "mark");
    const auto name = mark ? string_at(*mark, "name") : std::nullopt;
    if (!name) return ms_error{"mark without a name"};
    return ms_event{ms_mark{*name}};
  }
  if (*event == "dtmf") {
    const json* dtmf = object_at(j, "dtmf");
    const auto digit = dtmf ? string_at(*dtmf, "digit") : std::nullopt;
    constexpr std::string_view k_keys = "0123456789*#ABCD";
    if (!digit || digit->size() != 1 || k_keys.find((*digit)[0]) == std::string_view::npos) {
      return ms_error{"dtmf without a single digit (0-9, *, #, A-D)"};
    }
    return ms_event{ms_dtmf{(*digit)[0]}};
  }
  if (*event == "start") return decode_start(j);
  if (*event == "connected") return ms_event{ms_connected{}};
  if (*event == "stop") return ms_event{ms_stop{}};
  if (*event == "clear") return ms_event{ms_clear{}};
  return ms_error{"unknown event"};
}

std::string encode_ms_media(std::string_view stream_sid, std::span<const std::uint8_t> mulaw) {
  return json{{"event", "media"}, {"streamSid", stream_sid}, {"media", {{"payload", base64_encode(mulaw)}}}}.dump();
}

std::string encode_ms_mark(std::string_view stream_sid, std::string_view name) {
  return json{{"event", "mark"}, {"streamSid", stream_sid}, {"mark", {{"name", name}}}}.dump();
}

std::string encode_ms_clear(std::string_view stream_sid) {
  return json{{"event", "clear"}, {"streamSid", stream_sid}}.dump();
}

std::string encode_ms_caller_media(std::string_view stream_sid, std::span<const std::uint8_t> mulaw, std::uint64_t chunk) {
  return json{{"event", "media"},
              {"streamSid", stream_sid},
              {"media",
               {{"track", "inbound"},
                {"chunk", std::to_string(chunk)},
                {"timestamp", std::to_string((chunk - 1) * 20)},
                {"payload", base64_encode(mulaw)}}}}
      .dump();
}

std::string encode_ms_start(std::string_view stream_sid, const std::map<std::string, std::string>& custom_parameters) {
  return json{{"event", "start"},
              {"streamSid", stream_sid},
              {"start",
               {{"streamSid", stream_sid},
                {"tracks", {"inbound"}},
                {"mediaFormat", {{"encoding", "audio/x-mulaw"}, {"sampleRate", k_telephone_rate_hz}, {"channels", 1}}},
                {"customParameters", custom_parameters}}}}
      .dump();
}

std::string encode_ms_stop(std::string_view stream_sid) {
  return json{{"event", "stop"}, {"streamSid", stream_sid}, {"stop", json::object()}}.dump();
}

}  // namespace parley::net
