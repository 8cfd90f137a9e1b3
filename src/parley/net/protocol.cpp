#include "parley/net/protocol.hpp"

#include <nlohmann/json.hpp>

#include <bit>
#include <cstring>

namespace parley::net {
namespace {

using nlohmann::json;

constexpr std::string_view k_errc_names[n_wire_errcs] = {
    "invalid_json",        "invalid_message", "missing_type",  "unknown_type",       "session_not_started",
    "session_already_started", "unsupported_sample_rate", "invalid_mode", "invalid_audio", "input_ended",
    "empty_text",          "text_too_long",   "unknown_generation", "rate_limited",  "engine_error",
    "server_error",        "shutting_down",   "unsupported_audio_format", "invalid_opus",
    "unsupported_event",
};

}  // namespace

std::string_view to_string(audio_format f) { return f == audio_format::opus ? "opus" : "pcm16"; }
bool is_opus_rate(int rate_hz) {
  return rate_hz == 8000 || rate_hz == 12000 || rate_hz == 16000 || rate_hz == 24000 || rate_hz == 48000;
}

namespace {

wire_error fail(wire_errc code, std::string message, std::string event_id = {}) {
  return wire_error{code, std::move(message), std::move(event_id)};
}

// Reads optional typed fields; a present field of the wrong type is an error.
struct reader {
  const json& obj;
  std::string event_id;
  std::optional<wire_error> err;

  const json* field(const char* name) const {
    auto it = obj.find(name);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  void bad(std::string message, wire_errc code = wire_errc::invalid_message) {
    if (!err) err = fail(code, std::move(message), event_id);
  }
  std::optional<std::uint64_t> unsigned_field(const json& o, const char* name) {
    auto it = o.find(name);
    if (it == o.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_unsigned()) {
      bad(std::string("'") + name + "' must be a non-negative integer");
      return std::nullopt;
    }
    return it->get<std::uint64_t>();
  }
  std::optional<std::int64_t> integer_field(const json& o, const char* name) {
    auto it = o.find(name);
    if (it == o.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) {
      bad(std::string("'") + name + "' must be an integer");
      return std::nullopt;
    }
    return it->get<std::int64_t>();
  }
  std::optional<double> number_field(const json& o, const char* name) {
    auto it = o.find(name);
    if (it == o.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) {
      bad(std::string("'") + name + "' must be a number");
      return std::nullopt;
    }
    return it->get<double>();
  }
  std::optional<bool> bool_field(const json& o, const char* name) {
    auto it = o.find(name);
    if (it == o.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) {
      bad(std::string("'") + name + "' must be true or false");
      return std::nullopt;
    }
    return it->get<bool>();
  }
  std::optional<std::string> string_field(const json& o, const char* name) {
    auto it = o.find(name);
    if (it == o.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
      bad(std::string("'") + name + "' must be a string");
      return std::nullopt;
    }
    return it->get<std::string>();
  }
  const json* object_field(const json& o, const char* name) {
    auto it = o.find(name);
    if (it == o.end() || it->is_null()) return nullptr;
    if (!it->is_object()) {
      bad(std::string("'") + name + "' must be an object");
      return nullptr;
    }
    return &*it;
  }
};

std::optional<int> checked_rate(reader& r, const json& o, const char* name) {
  auto rate = r.integer_field(o, name);
  if (!rate) return std::nullopt;
  if (*rate < k_min_rate_hz || *rate > k_max_rate_hz) {
    r.bad(std::string("'") + name + "' must be between " + std::to_string(k_min_rate_hz) + " and " +
              std::to_string(k_max_rate_hz) + " Hz",
          wire_errc::unsupported_sample_rate);
    return std::nullopt;
  }
  return static_cast<int>(*rate);
}

std::variant<client_event, wire_error> decode_session_update(reader& r) {
  session_update u;
  u.event_id = r.event_id;
  // OpenAI style nests the config in "session"; a flat object is accepted too.
  const json* cfg = r.object_field(r.obj, "session");
  if (!cfg) cfg = &r.obj;
  if (auto rate = checked_rate(r, *cfg, "input_sample_rate_hz")) u.input_sample_rate_hz = *rate;
  u.output_sample_rate_hz = checked_rate(r, *cfg, "output_sample_rate_hz");
  if (auto f = r.string_field(*cfg, "input_audio_format")) {
    if (*f == "opus") {
      u.input_audio_format = audio_format::opus;
      if (!is_opus_rate(u.input_sample_rate_hz)) {
        r.bad("with \"opus\" input, 'input_sample_rate_hz' must be 8000, 12000, 16000, 24000 or 48000",
              wire_errc::unsupported_sample_rate);
      }
    } else if (*f != "pcm16") {
      r.bad("'input_audio_format' must be \"pcm16\" or \"opus\"", wire_errc::unsupported_audio_format);
    }
  }
  if (auto f = r.string_field(*cfg, "output_audio_format")) {
    if (*f == "opus") {
      u.output_audio_format = audio_format::opus;
      if (u.output_sample_rate_hz && !is_opus_rate(*u.output_sample_rate_hz)) {
        r.bad("with \"opus\" output, 'output_sample_rate_hz' must be 8000, 12000, 16000, 24000 or 48000",
              wire_errc::unsupported_sample_rate);
      }
    } else if (*f != "pcm16") {
      r.bad("'output_audio_format' must be \"pcm16\" or \"opus\"", wire_errc::unsupported_audio_format);
    }
  }
  if (auto mode = r.string_field(*cfg, "mode")) {
    if (*mode != "streaming" && *mode != "sequential") {
      r.bad("'mode' must be \"streaming\" or \"sequential\"", wire_errc::invalid_mode);
    }
    u.mode = std::move(*mode);
  }
  if (const json* b = r.object_field(*cfg, "barge_in")) {
    u.barge_in.enabled = r.bool_field(*b, "enabled");
    u.barge_in.min_speech_ms = r.number_field(*b, "min_speech_ms");
    if (u.barge_in.min_speech_ms && (*u.barge_in.min_speech_ms < 0 || *u.barge_in.min_speech_ms > 10000)) {
      r.bad("'barge_in.min_speech_ms' must be between 0 and 10000");
    }
  }
  if (const auto c = cfg->find("context"); c != cfg->end() && !c->is_null()) {
    if (c->is_string()) {
      u.context = c->get<std::string>();
    } else if (c->is_object()) {
      u.context = c->dump();
    } else {
      r.bad("'context' must be a string or an object");
    }
    if (u.context.size() > k_max_context_bytes) {
      r.bad("'context' must be at most " + std::to_string(k_max_context_bytes) + " bytes");
    }
  }
  if (r.err) return *r.err;
  return client_event{std::move(u)};
}

std::variant<client_event, wire_error> decode_text_input(reader& r) {
  std::optional<std::string> text = r.string_field(r.obj, "text");
  // OpenAI style: {"item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ...}]}}
  if (!text && !r.err) {
    if (const json* item = r.object_field(r.obj, "item")) {
      if (auto role = r.string_field(*item, "role"); role && *role != "user") r.bad("'item.role' must be \"user\"");
      text = r.string_field(*item, "text");
      auto content = item->find("content");
      if (!text && !r.err && content != item->end() && !content->is_null()) {
        if (!content->is_array()) {
          r.bad("'item.content' must be an array");
        } else {
          std::string joined;
          for (const auto& part : *content) {
            if (!part.is_object()) {
              r.bad("'item.content' entries must be objects");
              break;
            }
            if (auto t = r.string_field(part, "text")) {
              if (!joined.empty()) joined += ' ';
              joined += *t;
            }
          }
          text = std::move(joined);
        }
      }
    }
  }
  if (r.err) return *r.err;
  if (!text || text->find_first_not_of(" \t\r\n") == std::string::npos) {
    return fail(wire_errc::empty_text, "conversation.item.create needs a non-empty 'text'", r.event_id);
  }
  if (text->size() > k_max_text_bytes) {
    return fail(wire_errc::text_too_long, "text input is longer than " + std::to_string(k_max_text_bytes) + " bytes",
                r.event_id);
  }
  return client_event{text_input{std::move(*text), r.event_id}};
}

std::variant<client_event, wire_error> decode_playout(reader& r) {
  auto generation = r.unsigned_field(r.obj, "generation");
  auto played = r.unsigned_field(r.obj, "played_samples");
  if (r.err) return *r.err;
  if (!generation || !played) {
    return fail(wire_errc::invalid_message, "playout.progress needs 'generation' and 'played_samples'", r.event_id);
  }
  return client_event{playout_report{*generation, *played, r.event_id}};
}

json with_type(const server_event& e) { return json{{"type", type_of(e)}}; }

struct encoder {
  json& j;
  void operator()(const session_created& m) const {
    j["protocol"] = k_protocol_version;
    j["session"] = {{"id", m.session},
                    {"input_sample_rate_hz", m.input_sample_rate_hz},
                    {"output_sample_rate_hz", m.output_sample_rate_hz ? json(*m.output_sample_rate_hz) : json(nullptr)},
                    {"input_audio_format", to_string(m.input_audio_format)},
                    {"output_audio_format", to_string(m.output_audio_format)},
                    {"mode", m.mode},
                    {"barge_in", {{"enabled", m.barge_in}, {"min_speech_ms", m.barge_in_min_speech_ms}}},
                    {"limits",
                     {{"max_message_bytes", m.limits.max_message_bytes},
                      {"max_text_bytes", m.limits.max_text_bytes},
                      {"idle_timeout_s", m.limits.idle_timeout_s}}}};
  }
  void operator()(const speech_started_message& m) const {
    j["turn"] = m.turn;
    j["audio_start_ms"] = m.audio_start_ms;
  }
  void operator()(const speech_stopped_message& m) const {
    j["turn"] = m.turn;
    j["audio_end_ms"] = m.audio_end_ms;
  }
  void operator()(const transcription_delta& m) const {
    j["turn"] = m.turn;
    j["transcript"] = m.transcript;
    j["stability"] = m.stability;
  }
  void operator()(const transcription_completed& m) const {
    j["turn"] = m.turn;
    j["transcript"] = m.transcript;
    if (m.confidence) j["confidence"] = std::round(*m.confidence * 1000.0) / 1000.0;
  }
  void operator()(const input_committed&) const {}
  void operator()(const item_created& m) const {
    j["turn"] = m.turn;
    j["item"] = {{"role", "user"}, {"text", m.text}};
  }
  void operator()(const response_created& m) const {
    j["turn"] = m.turn;
    j["generation"] = m.generation;
  }
  void operator()(const text_delta& m) const {
    j["generation"] = m.generation;
    j["delta"] = m.delta;
  }
  void operator()(const audio_start& m) const {
    j["generation"] = m.generation;
    j["sample_rate_hz"] = m.sample_rate_hz;
    j["format"] = to_string(m.format);
  }
  void operator()(const audio_done& m) const {
    j["generation"] = m.generation;
    j["n_samples"] = m.n_samples;
  }
  void operator()(const response_done& m) const {
    j["turn"] = m.turn;
    j["generation"] = m.generation;
    j["text"] = m.text;
  }
  void operator()(const response_interrupted& m) const {
    j["generation"] = m.generation;
    j["reason"] = m.reason;
    j["sent_samples"] = m.sent_samples;
    j["played_samples"] = m.played_samples;
  }
  void operator()(const turn_metrics& m) const {
    j["turn"] = m.turn;
    j["generation"] = m.generation;
    json timeline = json::parse(m.timeline_json, nullptr, false);
    j["timeline"] = timeline.is_discarded() ? json::object() : std::move(timeline);
  }
  void operator()(const session_finished&) const {}
  void operator()(const item_truncated& m) const {
    j["generation"] = m.generation;
    j["audio_end_ms"] = m.audio_end_ms;
  }
  void operator()(const tool_call_message& m) const {
    j["turn"] = m.turn;
    j["generation"] = m.generation;
    j["call_id"] = m.call_id;
    j["name"] = m.name;
    j["arguments"] = m.arguments;
    j["status"] = m.output ? "completed" : "in_progress";
    if (m.output) j["output"] = *m.output;
  }
  void operator()(const error_message& m) const {
    j["error"] = {{"code", to_string(m.err.code)}, {"message", m.err.message}};
    if (!m.err.event_id.empty()) j["error"]["event_id"] = m.err.event_id;
  }
};

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint32_t get_u32(std::span<const std::uint8_t> in) {
  return static_cast<std::uint32_t>(in[0]) | static_cast<std::uint32_t>(in[1]) << 8 |
         static_cast<std::uint32_t>(in[2]) << 16 | static_cast<std::uint32_t>(in[3]) << 24;
}
}  // namespace

// PCM16 on the wire is little-endian; on a little-endian host that is a plain copy (audio crosses
// here ~50 times a second per session, in both directions).
std::vector<std::int16_t> read_pcm16(std::span<const std::uint8_t> bytes) {
  std::vector<std::int16_t> pcm(bytes.size() / 2);
  if constexpr (std::endian::native == std::endian::little) {
    if (!pcm.empty()) std::memcpy(pcm.data(), bytes.data(), 2 * pcm.size());
  } else {
    for (std::size_t i = 0; i < pcm.size(); ++i) {
      pcm[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(bytes[2 * i]) |
                                         static_cast<std::uint16_t>(bytes[2 * i + 1]) << 8);
    }
  }
  return pcm;
}
void put_pcm16(std::string& out, std::span<const std::int16_t> pcm) {
  if constexpr (std::endian::native == std::endian::little) {
    const auto at = out.size();
    out.resize(at + 2 * pcm.size());
    if (!pcm.empty()) std::memcpy(out.data() + at, pcm.data(), 2 * pcm.size());
  } else {
    for (std::int16_t s : pcm) {
      const auto u = static_cast<std::uint16_t>(s);
      out.push_back(static_cast<char>(u & 0xff));
      out.push_back(static_cast<char>(u >> 8));
    }
  }
}

std::string_view to_string(wire_errc code) {
  const auto i = static_cast<std::size_t>(code);
  return i < n_wire_errcs ? k_errc_names[i] : "unknown";
}

std::variant<client_event, wire_error> decode_client_text(std::string_view payload) {
  json j = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(wire_errc::invalid_json, "the message is not valid JSON");
  if (!j.is_object()) return fail(wire_errc::invalid_message, "the message must be a JSON object");
  reader r{j, {}, {}};
  if (auto id = r.string_field(j, "event_id")) r.event_id = std::move(*id);
  r.err.reset();  // a malformed event_id is ignored rather than failing the message
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) return fail(wire_errc::missing_type, "the message needs a string 'type'", r.event_id);
  const std::string& type = type_it->get_ref<const std::string&>();
  if (type == "session.update") return decode_session_update(r);
  if (type == "input_audio_buffer.commit") return client_event{input_commit{r.event_id}};
  if (type == "conversation.item.create") return decode_text_input(r);
  if (type == "playout.progress") return decode_playout(r);
  if (type == "response.cancel") return client_event{response_cancel{r.event_id}};
  return fail(wire_errc::unknown_type, "unknown client event type (protocol version " +
                                           std::to_string(k_protocol_version) + ")",
              r.event_id);
}

std::variant<std::vector<std::int16_t>, wire_error> decode_client_audio(std::span<const std::uint8_t> payload) {
  if (payload.size() % 2 != 0) {
    return fail(wire_errc::invalid_audio, "binary audio must be whole PCM16 samples (an even number of bytes)");
  }
  return read_pcm16(payload);
}

std::string_view type_of(const client_event& e) {
  constexpr std::string_view names[] = {"session.update", "input_audio_buffer.commit", "conversation.item.create",
                                        "playout.progress", "response.cancel", "input_audio_buffer.append",
                                        "response.create", "conversation.item.truncate", "input_audio_buffer.clear"};
  static_assert(std::size(names) == std::variant_size_v<client_event>);
  return names[e.index()];
}

std::string_view type_of(const server_event& e) {
  constexpr std::string_view names[] = {"session.created",
                                        "input_audio_buffer.speech_started",
                                        "input_audio_buffer.speech_stopped",
                                        "conversation.item.input_audio_transcription.delta",
                                        "conversation.item.input_audio_transcription.completed",
                                        "input_audio_buffer.committed",
                                        "conversation.item.created",
                                        "response.created",
                                        "response.text.delta",
                                        "response.audio.start",
                                        "response.audio.done",
                                        "response.done",
                                        "response.interrupted",
                                        "turn.metrics",
                                        "session.finished",
                                        "error",
                                        "conversation.item.truncated",
                                        "response.tool_call"};
  static_assert(std::size(names) == std::variant_size_v<server_event>);
  return names[e.index()];
}

std::string encode(const server_event& e) {
  json j = with_type(e);
  std::visit(encoder{j}, e);
  // Transcripts and replies come from engines; never let an odd byte make encoding throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_audio_frame(std::uint64_t generation, std::uint64_t offset_samples, std::span<const std::int16_t> pcm) {
  std::string out;
  out.reserve(k_audio_header_bytes + 2 * pcm.size());
  put_u32(out, static_cast<std::uint32_t>(generation));
  put_u32(out, static_cast<std::uint32_t>(offset_samples));
  put_pcm16(out, pcm);
  return out;
}

std::string encode_opus_frame(std::uint64_t generation, std::uint64_t offset_samples, std::span<const std::uint8_t> packet) {
  std::string out;
  out.reserve(k_audio_header_bytes + packet.size());
  put_u32(out, static_cast<std::uint32_t>(generation));
  put_u32(out, static_cast<std::uint32_t>(offset_samples));
  out.append(reinterpret_cast<const char*>(packet.data()), packet.size());
  return out;
}

std::optional<audio_frame_view> decode_audio_frame(std::span<const std::uint8_t> payload) {
  if (payload.size() < k_audio_header_bytes || payload.size() % 2 != 0) return std::nullopt;
  return audio_frame_view{get_u32(payload.subspan(0, 4)), get_u32(payload.subspan(4, 4)),
                          read_pcm16(payload.subspan(k_audio_header_bytes))};
}

}  // namespace parley::net
