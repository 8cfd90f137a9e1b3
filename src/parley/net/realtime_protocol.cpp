// net/realtime_protocol — implementation. See realtime_protocol.hpp; docs/protocol.md for the
// mapping (the event shapes follow OpenAI's API reference, as the official SDK types them).
#include "parley/net/realtime_protocol.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>

#include "parley/net/base64.hpp"
#include "parley/net/media_stream.hpp"

namespace parley::net {

namespace {

using nlohmann::json;

wire_error fail(wire_errc code, std::string message, const std::string& event_id) {
  return wire_error{code, std::move(message), event_id};
}

std::string item_user(std::uint64_t turn) { return "item_u" + std::to_string(turn); }
std::string item_reply(std::uint64_t generation) { return "item_r" + std::to_string(generation); }
std::string response_id(std::uint64_t generation) { return "resp_" + std::to_string(generation); }
// A tool call of a reply (output `index` of its response), and the item with its result.
std::string item_call(std::uint64_t generation, std::size_t index) {
  return "item_c" + std::to_string(generation) + "_" + std::to_string(index);
}
std::string item_call_output(std::uint64_t generation, std::size_t index) {
  return "item_o" + std::to_string(generation) + "_" + std::to_string(index);
}

// The generation of a reply item id ("item_r<n>"); 0 when it is not one.
std::uint64_t generation_of(std::string_view item_id) {
  constexpr std::string_view prefix = "item_r";
  if (!item_id.starts_with(prefix)) return 0;
  std::uint64_t g = 0;
  const auto* first = item_id.data() + prefix.size();
  const auto* last = item_id.data() + item_id.size();
  const auto [end, ec] = std::from_chars(first, last, g);
  return ec == std::errc{} && end == last ? g : 0;
}

json format_json(realtime_audio f) {
  json j = {{"type", to_string(f)}};
  if (f == realtime_audio::pcm) j["rate"] = rate_of(f);
  return j;
}

std::optional<realtime_audio> parse_format(const json& f) {
  if (!f.is_object()) return std::nullopt;
  const auto type = f.find("type");
  if (type == f.end() || !type->is_string()) return std::nullopt;
  const auto& t = type->get_ref<const std::string&>();
  if (t == "audio/pcm") {
    const auto rate = f.find("rate");
    if (rate != f.end() && !rate->is_null() && !(rate->is_number() && rate->get<double>() == 24000)) return std::nullopt;
    return realtime_audio::pcm;
  }
  if (t == "audio/pcmu") return realtime_audio::pcmu;
  if (t == "audio/pcma") return realtime_audio::pcma;
  return std::nullopt;
}

// The format of `direction` (audio.input or audio.output), when given, into `into`; false when it
// names none parley speaks.
bool read_format(const json& direction, realtime_audio& into) {
  const auto f = direction.find("format");
  if (f == direction.end() || f->is_null()) return true;
  const auto format = parse_format(*f);
  if (format) into = *format;
  return format.has_value();
}

// Turns committed by the client (turn_detection null) are served in transcription sessions, where
// nothing waits for response.create; a conversation always has parley's turn detection.
std::optional<wire_error> check_manual_turns(const realtime_config& cfg, const std::string& event_id) {
  if (!cfg.manual_turns || cfg.transcription) return std::nullopt;
  return fail(wire_errc::unsupported_event,
              "'turn_detection' null (turns committed by the client) is served in transcription sessions only; "
              "a realtime session uses server_vad or semantic_vad",
              event_id);
}

// session.update's `session` onto `cfg`: absent fields keep their value; what parley cannot do is
// refused by name rather than ignored.
std::optional<wire_error> merge_session(const json& s, realtime_config& cfg, const std::string& event_id) {
  auto bad = [&](wire_errc code, std::string message) { return fail(code, std::move(message), event_id); };
  auto bad_format = [&](std::string_view direction) {
    return bad(wire_errc::unsupported_audio_format, "'audio." + std::string(direction) +
                                                        ".format' must be audio/pcm (24000 Hz), audio/pcmu or audio/pcma");
  };
  if (const auto t = s.find("type"); t != s.end() && !t->is_null()) {
    if (!t->is_string()) return bad(wire_errc::invalid_message, "'session.type' must be a string");
    if (*t != "realtime" && *t != "transcription") {
      return bad(wire_errc::invalid_message, "'session.type' must be \"realtime\" or \"transcription\"");
    }
    cfg.transcription = *t == "transcription";
  }
  if (cfg.transcription) {
    // A transcription session's fields are audio.input's and `include`; what only answering
    // sessions have is refused rather than silently dropped.
    for (const char* field : {"instructions", "output_modalities", "tools", "tool_choice", "max_output_tokens"}) {
      if (const auto f = s.find(field); f != s.end() && !f->is_null()) {
        return bad(wire_errc::invalid_message,
                   "'session." + std::string(field) + "' belongs to realtime sessions; a transcription session answers nothing");
      }
    }
    if (const auto a = s.find("audio"); a != s.end() && a->is_object() && a->contains("output")) {
      return bad(wire_errc::invalid_message, "a transcription session has no 'audio.output'");
    }
  }
  if (const auto m = s.find("output_modalities"); m != s.end() && !m->is_null()) {
    if (!m->is_array() || std::find(m->begin(), m->end(), json("audio")) == m->end()) {
      return bad(wire_errc::unsupported_event, "parley always answers with audio: 'output_modalities' must include \"audio\"");
    }
  }
  if (const auto tools = s.find("tools"); tools != s.end() && !tools->is_null()) {
    if (!tools->is_array()) return bad(wire_errc::invalid_message, "'session.tools' must be an array");
    if (!tools->empty()) {
      return bad(wire_errc::unsupported_event, "client-side tools are not supported: parley calls the tools its "
                                               "assistant file declares itself");
    }
  }
  if (const auto i = s.find("instructions"); i != s.end() && !i->is_null()) {
    if (!i->is_string()) return bad(wire_errc::invalid_message, "'session.instructions' must be a string");
    if (i->get_ref<const std::string&>().size() > k_max_instructions_bytes) {
      return bad(wire_errc::text_too_long,
                 "'session.instructions' must be at most " + std::to_string(k_max_instructions_bytes) + " bytes");
    }
    cfg.instructions = i->get<std::string>();
  }
  const auto audio = s.find("audio");
  if (audio == s.end() || audio->is_null()) return check_manual_turns(cfg, event_id);
  if (!audio->is_object()) return bad(wire_errc::invalid_message, "'session.audio' must be an object");
  if (const auto in = audio->find("input"); in != audio->end() && !in->is_null()) {
    if (!in->is_object()) return bad(wire_errc::invalid_message, "'session.audio.input' must be an object");
    if (!read_format(*in, cfg.input_format)) return bad_format("input");
    if (const auto td = in->find("turn_detection"); td != in->end() && td->is_null()) {
      cfg.manual_turns = true;  // checked below: transcription sessions only
    } else if (td != in->end()) {
      if (!td->is_object()) return bad(wire_errc::invalid_message, "'turn_detection' must be an object");
      cfg.manual_turns = false;
      const auto type = td->value("type", std::string("server_vad"));
      if (type != "server_vad" && type != "semantic_vad") {
        return bad(wire_errc::invalid_message, "'turn_detection.type' must be \"server_vad\" or \"semantic_vad\"");
      }
      if (const auto c = td->find("create_response");
          !cfg.transcription && c != td->end() && c->is_boolean() && !c->get<bool>()) {
        return bad(wire_errc::unsupported_event, "parley answers every turn: 'create_response' false is not supported");
      }
      cfg.semantic_vad = type == "semantic_vad";
      if (const auto ms = td->find("silence_duration_ms"); ms != td->end() && !ms->is_null()) {
        if (!ms->is_number() || ms->get<double>() < 100 || ms->get<double>() > 5000) {
          return bad(wire_errc::invalid_message, "'turn_detection.silence_duration_ms' must be between 100 and 5000");
        }
        cfg.silence_duration_ms = ms->get<double>();
      }
      if (const auto ir = td->find("interrupt_response"); ir != td->end() && !ir->is_null()) {
        if (!ir->is_boolean()) return bad(wire_errc::invalid_message, "'turn_detection.interrupt_response' must be true or false");
        cfg.interrupt_response = ir->get<bool>();
      }
    }
  }
  if (const auto out = audio->find("output"); out != audio->end() && !out->is_null()) {
    if (!out->is_object()) return bad(wire_errc::invalid_message, "'session.audio.output' must be an object");
    if (!read_format(*out, cfg.output_format)) return bad_format("output");
    if (const auto v = out->find("voice"); v != out->end() && v->is_string()) cfg.voice = v->get<std::string>();
  }
  return check_manual_turns(cfg, event_id);
}

// Transcripts and replies come from engines; never let an odd byte make encoding throw.
std::vector<std::string> dump_all(const std::vector<json>& events) {
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const auto& j : events) out.push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
  return out;
}

json session_json(const realtime_config& c) {
  json turn_detection = {{"type", c.semantic_vad ? "semantic_vad" : "server_vad"},
                         {"create_response", true},
                         {"interrupt_response", c.interrupt_response}};
  if (c.semantic_vad) {
    turn_detection["eagerness"] = "auto";
  } else {
    turn_detection["silence_duration_ms"] = std::lround(c.silence_duration_ms);
  }
  if (c.transcription) {
    turn_detection.erase("create_response");
    turn_detection.erase("interrupt_response");
  }
  json input = {{"format", format_json(c.input_format)},
                {"transcription", {{"model", "parley"}}},
                {"noise_reduction", nullptr},
                {"turn_detection", c.manual_turns ? json(nullptr) : std::move(turn_detection)}};
  if (c.transcription) {
    return {{"type", "transcription"},
            {"object", "realtime.transcription_session"},
            {"id", "sess_" + std::to_string(c.session)},
            {"include", json::array()},
            {"audio", {{"input", std::move(input)}}}};
  }
  return {{"type", "realtime"},
          {"object", "realtime.session"},
          {"id", "sess_" + std::to_string(c.session)},
          {"model", "parley"},
          {"output_modalities", {"audio"}},
          {"instructions", c.instructions},
          {"tools", json::array()},
          {"tool_choice", "auto"},
          {"max_output_tokens", "inf"},
          {"audio",
           {{"input", std::move(input)},
            {"output", {{"format", format_json(c.output_format)}, {"voice", c.voice}, {"speed", 1.0}}}}}};
}

json assistant_item(std::uint64_t generation, std::string_view status, const std::string* transcript) {
  json content = json::array();
  if (transcript) content.push_back({{"type", "output_audio"}, {"transcript", *transcript}});
  return {{"id", item_reply(generation)}, {"object", "realtime.item"}, {"type", "message"},
          {"status", status},             {"role", "assistant"},        {"content", std::move(content)}};
}

json response_json(std::uint64_t generation, std::string_view status, json output, json status_details = nullptr) {
  json r = {{"id", response_id(generation)},
            {"object", "realtime.response"},
            {"status", status},
            {"status_details", std::move(status_details)},
            {"output", std::move(output)},
            {"output_modalities", {"audio"}},
            {"conversation_id", "conv_default"}};
  return r;
}

}  // namespace

int rate_of(realtime_audio format) { return format == realtime_audio::pcm ? 24000 : k_telephone_rate_hz; }

std::string_view to_string(realtime_audio format) {
  switch (format) {
    case realtime_audio::pcmu: return "audio/pcmu";
    case realtime_audio::pcma: return "audio/pcma";
    case realtime_audio::pcm: break;
  }
  return "audio/pcm";
}

realtime_codec::realtime_codec(realtime_config defaults) : config_(std::move(defaults)) {
  static std::atomic<std::uint64_t> next_connection{1};
  config_.session = next_connection.fetch_add(1, std::memory_order_relaxed);
  staged_ = config_;
}

std::string realtime_codec::next_event_id() { return "event_" + std::to_string(++n_events_); }

void realtime_codec::apply_staged() { config_ = staged_; }

session_update realtime_codec::as_session_update() const {
  session_update u;
  u.input_sample_rate_hz = rate_of(config_.input_format);
  u.output_sample_rate_hz = rate_of(config_.output_format);
  u.barge_in.enabled = config_.interrupt_response && !config_.transcription;
  u.transcription_only = config_.transcription;
  u.manual_turns = config_.manual_turns;
  if (!config_.instructions.empty()) u.instructions = config_.instructions;
  turn_detection_settings td;
  td.semantic = config_.semantic_vad;
  if (!td.semantic) td.silence_ms = config_.silence_duration_ms;
  u.turn_detection = td;
  return u;
}

std::variant<client_event, wire_error> realtime_codec::decode(std::string_view payload) {
  const json j = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(wire_errc::invalid_json, "the message is not valid JSON", "");
  if (!j.is_object()) return fail(wire_errc::invalid_message, "the message must be a JSON object", "");
  std::string event_id;
  if (const auto id = j.find("event_id"); id != j.end() && id->is_string()) event_id = id->get<std::string>();
  const auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) return fail(wire_errc::missing_type, "the message needs a string 'type'", event_id);
  const std::string& type = type_it->get_ref<const std::string&>();

  if (type == "input_audio_buffer.append") {
    const auto audio = j.find("audio");
    if (audio == j.end() || !audio->is_string()) {
      return fail(wire_errc::invalid_message, "input_audio_buffer.append needs a base64 string 'audio'", event_id);
    }
    auto bytes = base64_decode(audio->get_ref<const std::string&>());
    if (!bytes) return fail(wire_errc::invalid_audio, "'audio' is not valid base64", event_id);
    switch (config_.input_format) {
      case realtime_audio::pcmu: return client_event{audio_append{mulaw_decode(*bytes), event_id}};
      case realtime_audio::pcma: return client_event{audio_append{alaw_decode(*bytes), event_id}};
      case realtime_audio::pcm: break;
    }
    if (bytes->size() % 2 != 0) {
      return fail(wire_errc::invalid_audio, "audio/pcm must be whole PCM16 samples (an even number of bytes)", event_id);
    }
    return client_event{audio_append{read_pcm16(*bytes), event_id}};
  }
  if (type == "session.update") {
    const auto s = j.find("session");
    if (s == j.end() || !s->is_object()) return fail(wire_errc::invalid_message, "session.update needs a 'session' object", event_id);
    realtime_config next = config_;
    staged_ = config_;  // a refused update stages nothing
    if (auto err = merge_session(*s, next, event_id)) return *err;
    staged_ = std::move(next);
    session_update u;  // the bridge takes the whole configuration from as_session_update()
    u.event_id = event_id;
    return client_event{std::move(u)};
  }
  if (type == "conversation.item.create") {
    const auto item = j.find("item");
    if (item == j.end() || !item->is_object()) return fail(wire_errc::invalid_message, "conversation.item.create needs an 'item' object", event_id);
    const auto kind = item->value("type", std::string("message"));
    if (kind != "message") {
      return fail(wire_errc::unsupported_event, "only user messages can be created (item type '" + kind + "' is not supported)", event_id);
    }
    auto decoded = decode_client_text(payload);  // v1's decoder reads the same user message
    if (std::holds_alternative<client_event>(decoded)) {
      const auto id = item->find("id");
      pending_item_id_ = id != item->end() && id->is_string() ? id->get<std::string>() : "item_t" + std::to_string(++n_text_items_);
    }
    return decoded;
  }
  if (type == "response.create") return client_event{response_request{event_id}};
  if (type == "response.cancel") return client_event{response_cancel{event_id}};
  if (type == "input_audio_buffer.commit") return client_event{input_commit{event_id}};
  if (type == "conversation.item.truncate") {
    const auto item_id = j.find("item_id");
    const auto end_ms = j.find("audio_end_ms");
    if (item_id == j.end() || !item_id->is_string() || end_ms == j.end() || !end_ms->is_number() || end_ms->get<double>() < 0) {
      return fail(wire_errc::invalid_message, "conversation.item.truncate needs 'item_id' and a non-negative 'audio_end_ms'", event_id);
    }
    const auto generation = generation_of(item_id->get_ref<const std::string&>());
    if (generation == 0) return fail(wire_errc::unknown_generation, "'item_id' names no assistant item of this session", event_id);
    return client_event{item_truncate{generation, end_ms->get<double>(), event_id}};
  }
  if (type == "input_audio_buffer.clear") return client_event{input_clear{event_id}};
  if (type == "output_audio_buffer.clear" || type == "conversation.item.delete" ||
      type == "conversation.item.retrieve") {
    return fail(wire_errc::unsupported_event, type + " is not supported by parley (docs/protocol.md)", event_id);
  }
  return fail(wire_errc::unknown_type, "unknown client event type '" + type + "'", event_id);
}

// The hot path (every reply chunk): the event is written directly; its ids and base64 need no escaping.
std::string realtime_codec::encode_audio(std::uint64_t generation, std::span<const std::int16_t> pcm) {
  std::string delta;
  switch (config_.output_format) {
    case realtime_audio::pcmu: delta = base64_encode(mulaw_encode(pcm)); break;
    case realtime_audio::pcma: delta = base64_encode(alaw_encode(pcm)); break;
    case realtime_audio::pcm: {
      std::string bytes;
      put_pcm16(bytes, pcm);
      delta = base64_encode(bytes);
      break;
    }
  }
  return R"({"type":"response.output_audio.delta","event_id":")" + next_event_id() + R"(","response_id":")" +
         response_id(generation) + R"(","item_id":")" + item_reply(generation) +
         R"(","output_index":0,"content_index":0,"delta":")" + delta + "\"}";
}

void realtime_codec::add_event(std::vector<nlohmann::json>& events, std::string_view type, nlohmann::json body) {
  body["type"] = type;
  body["event_id"] = next_event_id();
  events.push_back(std::move(body));
}

// The previous_item_id of an item added now (null for the first), and the item becomes the last.
nlohmann::json realtime_codec::append_item(const std::string& id) {
  json previous = last_item_id_.empty() ? json(nullptr) : json(last_item_id_);
  last_item_id_ = id;
  return previous;
}

// conversation.item.added and conversation.item.done for a user item, after the one before it.
void realtime_codec::add_user_item(std::vector<nlohmann::json>& events, const std::string& id, nlohmann::json content) {
  const json previous = append_item(id);
  const json item = {{"id", id},        {"object", "realtime.item"}, {"type", "message"},
                     {"status", "completed"}, {"role", "user"},          {"content", json::array({std::move(content)})}};
  add_event(events, "conversation.item.added", {{"item", item}, {"previous_item_id", previous}});
  add_event(events, "conversation.item.done", {{"item", item}, {"previous_item_id", previous}});
}

namespace {

json function_call_item(const std::string& id, std::string_view name, std::string_view call_id, std::string_view status,
                        std::string_view arguments) {
  return {{"id", id},      {"object", "realtime.item"}, {"type", "function_call"}, {"status", status},
          {"name", name},  {"call_id", call_id},        {"arguments", arguments}};
}

}  // namespace

// A tool call of the response in progress, run by parley. Its start is a function_call output
// item (output 1, 2, ... after the spoken message, output 0) streamed as OpenAI streams one, its
// arguments whole in one delta; its end is the function_call_output item parley adds with the
// tool's result, as a client adds its own.
void realtime_codec::add_tool_call(std::vector<nlohmann::json>& events, const tool_call_message& m) {
  std::erase_if(calls_, [&](const function_call& c) { return c.generation != m.generation; });
  const auto rid = response_id(m.generation);
  if (m.output) {
    const auto call = std::find_if(calls_.rbegin(), calls_.rend(), [&](const function_call& c) { return c.call_id == m.call_id; });
    const std::size_t index = call == calls_.rend() ? calls_.size() + 1 : call->output_index;
    const std::string id = item_call_output(m.generation, index);
    const json previous = append_item(id);
    const json item = {{"id", id},           {"object", "realtime.item"}, {"type", "function_call_output"},
                       {"status", "completed"}, {"call_id", m.call_id},      {"output", *m.output}};
    add_event(events, "conversation.item.added", {{"item", item}, {"previous_item_id", previous}});
    add_event(events, "conversation.item.done", {{"item", item}, {"previous_item_id", previous}});
    return;
  }
  const std::size_t index = calls_.size() + 1;
  calls_.push_back({m.generation, index, m.call_id, m.name, m.arguments});
  const std::string id = item_call(m.generation, index);
  const json previous = append_item(id);
  const json where = {{"response_id", rid}, {"item_id", id}, {"output_index", index}, {"call_id", m.call_id}};
  const json started = function_call_item(id, m.name, m.call_id, "in_progress", "");
  add_event(events, "response.output_item.added", {{"response_id", rid}, {"output_index", index}, {"item", started}});
  add_event(events, "conversation.item.added", {{"item", started}, {"previous_item_id", previous}});
  json delta = where;
  delta["delta"] = m.arguments;
  add_event(events, "response.function_call_arguments.delta", std::move(delta));
  json done = where;
  done["name"] = m.name;
  done["arguments"] = m.arguments;
  add_event(events, "response.function_call_arguments.done", std::move(done));
  const json item = function_call_item(id, m.name, m.call_id, "completed", m.arguments);
  add_event(events, "conversation.item.done", {{"item", item}, {"previous_item_id", previous}});
  add_event(events, "response.output_item.done", {{"response_id", rid}, {"output_index", index}, {"item", item}});
}

// The output of response `generation` as response.done lists it: its message, then its function calls.
nlohmann::json realtime_codec::response_output(std::uint64_t generation, nlohmann::json message) {
  json output = json::array({std::move(message)});
  for (const auto& c : calls_) {
    if (c.generation != generation) continue;
    output.push_back(function_call_item(item_call(generation, c.output_index), c.name, c.call_id, "completed", c.arguments));
  }
  std::erase_if(calls_, [&](const function_call& c) { return c.generation == generation; });
  return output;
}

std::vector<std::string> realtime_codec::encode_text_item(const std::string& text) {
  std::vector<json> events;
  add_user_item(events, pending_item_id_, {{"type", "input_text"}, {"text", text}});
  return dump_all(events);
}

std::string realtime_codec::encode_cleared() {
  std::vector<json> events;
  add_event(events, "input_audio_buffer.cleared", json::object());
  return dump_all(events).front();
}

std::vector<std::string> realtime_codec::encode(const server_event& e) {
  std::vector<json> events;
  auto add = [&](std::string_view type, json body) { add_event(events, type, std::move(body)); };
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, session_created>) {
          add(m.updated ? "session.updated" : "session.created", {{"session", session_json(config_)}});
        } else if constexpr (std::is_same_v<T, speech_started_message>) {
          audio_turns_.insert(m.turn);
          speech_start_ms_ = m.audio_start_ms;
          if (config_.manual_turns) return;  // no VAD events without turn detection, as at OpenAI
          add("input_audio_buffer.speech_started", {{"audio_start_ms", std::lround(m.audio_start_ms)}, {"item_id", item_user(m.turn)}});
        } else if constexpr (std::is_same_v<T, speech_stopped_message>) {
          speech_end_ms_ = m.audio_end_ms;
          if (config_.manual_turns) return;
          add("input_audio_buffer.speech_stopped", {{"audio_end_ms", std::lround(m.audio_end_ms)}, {"item_id", item_user(m.turn)}});
        } else if constexpr (std::is_same_v<T, transcription_delta>) {
          // Realtime deltas append; parley's partials replace. Only growth is sent: a partial that
          // revises words already sent waits for the completed transcript.
          if (m.turn != partial_turn_) {
            partial_turn_ = m.turn;
            partial_sent_.clear();
          }
          if (m.transcript.size() > partial_sent_.size() && m.transcript.starts_with(partial_sent_)) {
            add("conversation.item.input_audio_transcription.delta",
                {{"item_id", item_user(m.turn)}, {"content_index", 0}, {"delta", m.transcript.substr(partial_sent_.size())}});
            partial_sent_ = m.transcript;
          }
        } else if constexpr (std::is_same_v<T, transcription_completed>) {
          const double seconds = std::max(0.0, speech_end_ms_ - speech_start_ms_) / 1000.0;
          add("conversation.item.input_audio_transcription.completed",
              {{"item_id", item_user(m.turn)},
               {"content_index", 0},
               {"transcript", m.transcript},
               {"usage", {{"type", "duration"}, {"seconds", std::round(seconds * 1000.0) / 1000.0}}}});
        } else if constexpr (std::is_same_v<T, item_created>) {
          if (!audio_turns_.contains(m.turn)) return;  // a typed message: announced when it was created
          const std::string id = item_user(m.turn);
          add("input_audio_buffer.committed",
              {{"item_id", id}, {"previous_item_id", last_item_id_.empty() ? json(nullptr) : json(last_item_id_)}});
          add_user_item(events, id, {{"type", "input_audio"}, {"transcript", m.text}});
        } else if constexpr (std::is_same_v<T, response_created>) {
          announced_generation_ = std::max(announced_generation_, m.generation);
          const auto rid = response_id(m.generation);
          add("response.created", {{"response", response_json(m.generation, "in_progress", json::array())}});
          add("response.output_item.added",
              {{"response_id", rid}, {"output_index", 0}, {"item", assistant_item(m.generation, "in_progress", nullptr)}});
          add("response.content_part.added", {{"response_id", rid},
                                              {"item_id", item_reply(m.generation)},
                                              {"output_index", 0},
                                              {"content_index", 0},
                                              {"part", {{"type", "audio"}, {"transcript", ""}}}});
        } else if constexpr (std::is_same_v<T, text_delta>) {
          add("response.output_audio_transcript.delta", {{"response_id", response_id(m.generation)},
                                                         {"item_id", item_reply(m.generation)},
                                                         {"output_index", 0},
                                                         {"content_index", 0},
                                                         {"delta", m.delta}});
        } else if constexpr (std::is_same_v<T, audio_done>) {
          add("response.output_audio.done", {{"response_id", response_id(m.generation)},
                                             {"item_id", item_reply(m.generation)},
                                             {"output_index", 0},
                                             {"content_index", 0}});
        } else if constexpr (std::is_same_v<T, response_done>) {
          const auto rid = response_id(m.generation);
          const json where = {{"response_id", rid}, {"item_id", item_reply(m.generation)}, {"output_index", 0}, {"content_index", 0}};
          json transcript_done = where;
          transcript_done["transcript"] = m.text;
          add("response.output_audio_transcript.done", std::move(transcript_done));
          json part_done = where;
          part_done["part"] = {{"type", "audio"}, {"transcript", m.text}};
          add("response.content_part.done", std::move(part_done));
          const json item = assistant_item(m.generation, "completed", &m.text);
          add("response.output_item.done", {{"response_id", rid}, {"output_index", 0}, {"item", item}});
          add("response.done", {{"response", response_json(m.generation, "completed", response_output(m.generation, item))}});
          completed_.insert(m.generation);
          while (completed_.size() > 8) completed_.erase(completed_.begin());
        } else if constexpr (std::is_same_v<T, response_interrupted>) {
          if (m.generation == 0 || m.generation > announced_generation_) return;  // never announced
          if (completed_.erase(m.generation) != 0) {
            // Generated in full and cut while it played: the response is over; its item now
            // holds what was heard.
            add("conversation.item.truncated",
                {{"item_id", item_reply(m.generation)},
                 {"content_index", 0},
                 {"audio_end_ms", std::lround(1000.0 * static_cast<double>(m.played_samples) / rate_of(config_.output_format))}});
            return;
          }
          const json item = assistant_item(m.generation, "incomplete", nullptr);
          add("response.output_item.done", {{"response_id", response_id(m.generation)}, {"output_index", 0}, {"item", item}});
          const std::string reason = m.reason == "client" ? "client_cancelled" : "turn_detected";
          add("response.done", {{"response", response_json(m.generation, "cancelled", response_output(m.generation, item),
                                                           {{"type", "cancelled"}, {"reason", reason}})}});
        } else if constexpr (std::is_same_v<T, tool_call_message>) {
          add_tool_call(events, m);
        } else if constexpr (std::is_same_v<T, item_truncated>) {
          add("conversation.item.truncated",
              {{"item_id", item_reply(m.generation)}, {"content_index", 0}, {"audio_end_ms", std::lround(m.audio_end_ms)}});
        } else if constexpr (std::is_same_v<T, error_message>) {
          const bool ours = m.err.code == wire_errc::engine_error || m.err.code == wire_errc::server_error ||
                            m.err.code == wire_errc::shutting_down;
          add("error", {{"error",
                         {{"type", ours ? "server_error" : "invalid_request_error"},
                          {"code", to_string(m.err.code)},
                          {"message", m.err.message},
                          {"param", nullptr},
                          {"event_id", m.err.event_id.empty() ? json(nullptr) : json(m.err.event_id)}}}});
        }
        // input_committed (v1's end of input), audio_start, turn_metrics, session_finished: no
        // Realtime event stands for them.
      },
      e);
  return dump_all(events);
}

}  // namespace parley::net
