// Protocol v1 codec: every client event decodes, every error code is reachable from bad input,
// every server event encodes to JSON with its documented type and fields.
#include "parley/net/protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace parley::net {
namespace {

using nlohmann::json;

template <class T>
T decoded_as(const std::variant<client_event, wire_error>& d) {
  if (auto* err = std::get_if<wire_error>(&d)) ADD_FAILURE() << "decode failed: " << to_string(err->code) << ": " << err->message;
  return std::get<T>(std::get<client_event>(d));
}

TEST(protocol, decodes_session_update_nested_and_flat) {
  const auto u = decoded_as<session_update>(decode_client_text(
      R"({"type":"session.update","event_id":"e1","session":{"input_sample_rate_hz":48000,"output_sample_rate_hz":24000,
          "mode":"sequential","barge_in":{"enabled":false,"min_speech_ms":350}}})"));
  EXPECT_EQ(u.input_sample_rate_hz, 48000);
  EXPECT_EQ(u.output_sample_rate_hz, 24000);
  EXPECT_EQ(u.mode, "sequential");
  EXPECT_EQ(u.barge_in.enabled, false);
  EXPECT_EQ(u.barge_in.min_speech_ms, 350.0);
  EXPECT_EQ(u.event_id, "e1");

  const auto flat = decoded_as<session_update>(decode_client_text(R"({"type":"session.update","input_sample_rate_hz":8000})"));
  EXPECT_EQ(flat.input_sample_rate_hz, 8000);
  EXPECT_FALSE(flat.output_sample_rate_hz);
  EXPECT_FALSE(flat.mode);

  const auto defaults = decoded_as<session_update>(decode_client_text(R"({"type":"session.update"})"));
  EXPECT_EQ(defaults.input_sample_rate_hz, 16000);
  EXPECT_EQ(defaults.input_audio_format, audio_format::pcm16);
  EXPECT_EQ(defaults.output_audio_format, audio_format::pcm16);
}

TEST(protocol, session_update_carries_the_callers_context) {
  const auto text = decoded_as<session_update>(decode_client_text(
      R"({"type":"session.update","session":{"context":"Caller: Ada, order A17"}})"));
  EXPECT_EQ(text.context, "Caller: Ada, order A17");
  const auto object = decoded_as<session_update>(decode_client_text(
      R"({"type":"session.update","session":{"context":{"name":"Ada","orders":["A17"]}}})"));
  EXPECT_EQ(json::parse(object.context), json::parse(R"({"name":"Ada","orders":["A17"]})"));
  EXPECT_TRUE(std::holds_alternative<wire_error>(decode_client_text(R"({"type":"session.update","context":42})")));
  const std::string big(k_max_context_bytes + 1, 'x');
  EXPECT_TRUE(std::holds_alternative<wire_error>(
      decode_client_text(R"({"type":"session.update","context":")" + big + "\"}")));
}

TEST(protocol, decodes_the_audio_formats) {
  const auto opus = decoded_as<session_update>(decode_client_text(
      R"({"type":"session.update","session":{"input_sample_rate_hz":48000,"input_audio_format":"opus",
          "output_audio_format":"opus"}})"));
  EXPECT_EQ(opus.input_audio_format, audio_format::opus);
  EXPECT_EQ(opus.output_audio_format, audio_format::opus);
  const auto pcm = decoded_as<session_update>(decode_client_text(R"({"type":"session.update","input_audio_format":"pcm16"})"));
  EXPECT_EQ(pcm.input_audio_format, audio_format::pcm16);
  EXPECT_EQ(to_string(audio_format::opus), "opus");
  for (int rate : {8000, 12000, 16000, 24000, 48000}) EXPECT_TRUE(is_opus_rate(rate)) << rate;
  EXPECT_FALSE(is_opus_rate(44100));

  session_created created;
  created.input_audio_format = audio_format::opus;
  const auto j = json::parse(encode(created));
  EXPECT_EQ(j["session"]["input_audio_format"], "opus");
  EXPECT_EQ(j["session"]["output_audio_format"], "pcm16");
  EXPECT_EQ(json::parse(encode(audio_start{1, 48000, audio_format::opus}))["format"], "opus");
  const std::vector<std::uint8_t> packet = {1, 2, 3};
  const auto frame = encode_opus_frame(7, 960, packet);
  ASSERT_EQ(frame.size(), k_audio_header_bytes + 3);
  EXPECT_EQ(frame.substr(k_audio_header_bytes), std::string("\x01\x02\x03"));
}

TEST(protocol, decodes_every_other_client_event) {
  EXPECT_TRUE(std::holds_alternative<input_commit>(std::get<client_event>(decode_client_text(R"({"type":"input_audio_buffer.commit"})"))));
  EXPECT_TRUE(std::holds_alternative<response_cancel>(std::get<client_event>(decode_client_text(R"({"type":"response.cancel"})"))));

  EXPECT_EQ(decoded_as<text_input>(decode_client_text(R"({"type":"conversation.item.create","text":"hello"})")).text, "hello");
  EXPECT_EQ(decoded_as<text_input>(decode_client_text(
                R"({"type":"conversation.item.create","item":{"type":"message","role":"user",
                    "content":[{"type":"input_text","text":"what time"},{"type":"input_text","text":"is it"}]}})"))
                .text,
            "what time is it");

  const auto p = decoded_as<playout_report>(decode_client_text(R"({"type":"playout.progress","generation":3,"played_samples":16000})"));
  EXPECT_EQ(p.generation, 3u);
  EXPECT_EQ(p.played_samples, 16000u);
}

TEST(protocol, client_type_names_round_trip) {
  const std::vector<std::string> types = {"session.update", "input_audio_buffer.commit", "conversation.item.create",
                                          "playout.progress", "response.cancel"};
  const std::vector<std::string> bodies = {"", "", R"(,"text":"x")", R"(,"generation":1,"played_samples":0)", ""};
  for (std::size_t i = 0; i < types.size(); ++i) {
    auto d = decode_client_text(R"({"type":")" + types[i] + "\"" + bodies[i] + "}");
    ASSERT_TRUE(std::holds_alternative<client_event>(d)) << types[i];
    EXPECT_EQ(type_of(std::get<client_event>(d)), types[i]);
  }
}

struct error_case {
  std::string payload;
  wire_errc code;
};

TEST(protocol, every_decoder_error_has_its_specific_code) {
  const std::vector<error_case> cases = {
      {"{not json", wire_errc::invalid_json},
      {"", wire_errc::invalid_json},
      {"\"\xff\xfe\"", wire_errc::invalid_json},  // not UTF-8
      {"[1,2]", wire_errc::invalid_message},
      {"42", wire_errc::invalid_message},
      {R"({"no_type":1})", wire_errc::missing_type},
      {R"({"type":7})", wire_errc::missing_type},
      {R"({"type":"response.create"})", wire_errc::unknown_type},
      {R"({"type":"session.update","session":{"input_sample_rate_hz":"fast"}})", wire_errc::invalid_message},
      {R"({"type":"session.update","session":{"input_sample_rate_hz":16000.5}})", wire_errc::invalid_message},
      {R"({"type":"session.update","session":"x"})", wire_errc::invalid_message},
      {R"({"type":"session.update","session":{"input_sample_rate_hz":4000}})", wire_errc::unsupported_sample_rate},
      {R"({"type":"session.update","session":{"input_sample_rate_hz":96000}})", wire_errc::unsupported_sample_rate},
      {R"({"type":"session.update","session":{"input_sample_rate_hz":-1}})", wire_errc::unsupported_sample_rate},
      {R"({"type":"session.update","session":{"output_sample_rate_hz":1}})", wire_errc::unsupported_sample_rate},
      {R"({"type":"session.update","session":{"mode":"turbo"}})", wire_errc::invalid_mode},
      {R"({"type":"session.update","session":{"input_audio_format":"mp3"}})", wire_errc::unsupported_audio_format},
      {R"({"type":"session.update","session":{"input_audio_format":7}})", wire_errc::invalid_message},
      {R"({"type":"session.update","session":{"output_audio_format":"aac"}})", wire_errc::unsupported_audio_format},
      {R"({"type":"session.update","session":{"output_sample_rate_hz":22050,"output_audio_format":"opus"}})",
       wire_errc::unsupported_sample_rate},
      {R"({"type":"session.update","session":{"input_sample_rate_hz":44100,"input_audio_format":"opus"}})",
       wire_errc::unsupported_sample_rate},
      {R"({"type":"session.update","session":{"barge_in":{"min_speech_ms":-5}}})", wire_errc::invalid_message},
      {R"({"type":"session.update","session":{"barge_in":{"enabled":"yes"}}})", wire_errc::invalid_message},
      {R"({"type":"conversation.item.create"})", wire_errc::empty_text},
      {R"({"type":"conversation.item.create","text":"   "})", wire_errc::empty_text},
      {R"({"type":"conversation.item.create","text":5})", wire_errc::invalid_message},
      {R"({"type":"conversation.item.create","item":{"role":"assistant","text":"x"}})", wire_errc::invalid_message},
      {R"({"type":"conversation.item.create","item":{"content":"x"}})", wire_errc::invalid_message},
      {R"({"type":"conversation.item.create","text":")" + std::string(k_max_text_bytes + 1, 'a') + "\"}",
       wire_errc::text_too_long},
      {R"({"type":"playout.progress","generation":1})", wire_errc::invalid_message},
      {R"({"type":"playout.progress","generation":-1,"played_samples":5})", wire_errc::invalid_message},
      {R"({"type":"playout.progress","generation":1,"played_samples":"5"})", wire_errc::invalid_message},
  };
  for (const auto& c : cases) {
    auto d = decode_client_text(c.payload);
    ASSERT_TRUE(std::holds_alternative<wire_error>(d)) << c.payload.substr(0, 80);
    const auto& err = std::get<wire_error>(d);
    EXPECT_EQ(err.code, c.code) << c.payload.substr(0, 80) << " → " << to_string(err.code);
    EXPECT_FALSE(err.message.empty());
  }
}

TEST(protocol, errors_echo_the_event_id) {
  auto d = decode_client_text(R"({"type":"nope","event_id":"abc"})");
  ASSERT_TRUE(std::holds_alternative<wire_error>(d));
  EXPECT_EQ(std::get<wire_error>(d).event_id, "abc");
  const auto j = json::parse(encode(error_message{std::get<wire_error>(d)}));
  EXPECT_EQ(j["type"], "error");
  EXPECT_EQ(j["error"]["code"], "unknown_type");
  EXPECT_EQ(j["error"]["event_id"], "abc");
}

TEST(protocol, error_messages_never_echo_client_text) {
  auto d = decode_client_text(R"({"type":"secret-password-123"})");
  EXPECT_EQ(std::get<wire_error>(d).message.find("secret"), std::string::npos);
}

TEST(protocol, every_error_code_has_a_distinct_name) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < n_wire_errcs; ++i) {
    const auto name = std::string(to_string(static_cast<wire_errc>(i)));
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(to_string(static_cast<wire_errc>(n_wire_errcs)), "unknown");
  // Every code encodes in an error event.
  for (std::size_t i = 0; i < n_wire_errcs; ++i) {
    const auto j = json::parse(encode(error_message{{static_cast<wire_errc>(i), "m", ""}}));
    EXPECT_EQ(j["error"]["code"], to_string(static_cast<wire_errc>(i)));
    EXPECT_FALSE(j["error"].contains("event_id"));
  }
}

TEST(protocol, client_audio_is_pcm16_little_endian) {
  const std::vector<std::uint8_t> bytes = {0x01, 0x00, 0xff, 0x7f, 0x00, 0x80, 0xff, 0xff};
  auto d = decode_client_audio(bytes);
  ASSERT_TRUE((std::holds_alternative<std::vector<std::int16_t>>(d)));
  EXPECT_EQ(std::get<std::vector<std::int16_t>>(d), (std::vector<std::int16_t>{1, 32767, -32768, -1}));
  const std::vector<std::uint8_t> odd = {1, 2, 3};
  auto bad = decode_client_audio(odd);
  ASSERT_TRUE(std::holds_alternative<wire_error>(bad));
  EXPECT_EQ(std::get<wire_error>(bad).code, wire_errc::invalid_audio);
  EXPECT_TRUE(std::get<std::vector<std::int16_t>>(decode_client_audio({})).empty());
}

TEST(protocol, server_audio_frames_round_trip) {
  const std::vector<std::int16_t> pcm = {0, 1, -1, 32767, -32768};
  const auto frame = encode_audio_frame(7, 320, pcm);
  ASSERT_EQ(frame.size(), k_audio_header_bytes + 2 * pcm.size());
  const auto* p = reinterpret_cast<const std::uint8_t*>(frame.data());
  EXPECT_EQ(p[0], 7);  // little-endian generation first
  // ... and little-endian samples after the header, whatever the host's byte order
  EXPECT_EQ(p[k_audio_header_bytes + 2], 1);
  EXPECT_EQ(p[k_audio_header_bytes + 3], 0);
  EXPECT_EQ(p[k_audio_header_bytes + 6], 0xff);
  EXPECT_EQ(p[k_audio_header_bytes + 7], 0x7f);
  auto view = decode_audio_frame(std::span(p, frame.size()));
  ASSERT_TRUE(view);
  EXPECT_EQ(view->generation, 7u);
  EXPECT_EQ(view->offset_samples, 320u);
  EXPECT_EQ(view->samples, pcm);
  EXPECT_FALSE(decode_audio_frame(std::span(p, 5)));
}

TEST(protocol, every_server_event_encodes_with_its_type_and_fields) {
  session_created created;
  created.session = 9;
  created.input_sample_rate_hz = 48000;
  created.mode = "streaming";
  created.barge_in_min_speech_ms = 200;
  created.limits.max_message_bytes = 1024;
  struct expectation {
    server_event e;
    std::string type;
    std::vector<std::string> fields;
  };
  const std::vector<expectation> table = {
      {created, "session.created", {"protocol", "session"}},
      {speech_started_message{1, 20}, "input_audio_buffer.speech_started", {"turn", "audio_start_ms"}},
      {speech_stopped_message{1, 900}, "input_audio_buffer.speech_stopped", {"turn", "audio_end_ms"}},
      {transcription_delta{1, "what", 0.5}, "conversation.item.input_audio_transcription.delta", {"turn", "transcript", "stability"}},
      {transcription_completed{1, "what time"}, "conversation.item.input_audio_transcription.completed", {"turn", "transcript"}},
      {input_committed{}, "input_audio_buffer.committed", {}},
      {item_created{1, "what time"}, "conversation.item.created", {"turn", "item"}},
      {response_created{1, 2}, "response.created", {"turn", "generation"}},
      {text_delta{2, " It"}, "response.text.delta", {"generation", "delta"}},
      {audio_start{2, 16000}, "response.audio.start", {"generation", "sample_rate_hz", "format"}},
      {audio_done{2, 32000}, "response.audio.done", {"generation", "n_samples"}},
      {response_done{1, 2, "It is noon."}, "response.done", {"turn", "generation", "text"}},
      {response_interrupted{2, "barge_in", 32000, 8000}, "response.interrupted", {"generation", "reason", "sent_samples", "played_samples"}},
      {turn_metrics{1, 2, R"({"metrics_ms":{"ttfa":812.5}})"}, "turn.metrics", {"turn", "generation", "timeline"}},
      {session_finished{}, "session.finished", {}},
      {error_message{{wire_errc::invalid_json, "bad", ""}}, "error", {"error"}},
      {item_truncated{2, 300}, "conversation.item.truncated", {"generation", "audio_end_ms"}},
      {tool_call_message{1, 2, "call_1", "menu", "{}", "[]"}, "response.tool_call",
       {"turn", "generation", "call_id", "name", "arguments", "status", "output"}},
  };
  ASSERT_EQ(table.size(), std::variant_size_v<server_event>);
  for (const auto& row : table) {
    const auto j = json::parse(encode(row.e));
    EXPECT_EQ(j["type"], row.type);
    EXPECT_EQ(type_of(row.e), row.type);
    for (const auto& f : row.fields) EXPECT_TRUE(j.contains(f)) << row.type << " lacks " << f;
  }
  const auto created_json = json::parse(encode(created));
  EXPECT_EQ(created_json["protocol"], k_protocol_version);
  EXPECT_EQ(created_json["session"]["input_sample_rate_hz"], 48000);
  EXPECT_TRUE(created_json["session"]["output_sample_rate_hz"].is_null());
  EXPECT_EQ(json::parse(encode(turn_metrics{1, 2, R"({"metrics_ms":{"ttfa":812.5}})"}))["timeline"]["metrics_ms"]["ttfa"], 812.5);
  const auto started = json::parse(encode(tool_call_message{1, 2, "call_1", "menu", "{}", std::nullopt}));
  EXPECT_EQ(started["status"], "in_progress");
  EXPECT_FALSE(started.contains("output"));
  EXPECT_EQ(json::parse(encode(tool_call_message{1, 2, "call_1", "menu", "{}", "[]"}))["status"], "completed");
}

TEST(protocol, encoding_survives_invalid_utf8_from_engines) {
  const auto text = encode(transcription_completed{1, std::string("caf\xc3", 4)});
  EXPECT_NO_THROW({ auto parsed = json::parse(text); EXPECT_TRUE(parsed.is_object()); });
}

}  // namespace
}  // namespace parley::net
