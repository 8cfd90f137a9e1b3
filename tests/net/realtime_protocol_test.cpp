// net/realtime_protocol: the OpenAI Realtime protocol's client events decoded to parley's native
// events, and native server events encoded as the Realtime events that stand for them.
#include "parley/net/realtime_protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "parley/net/base64.hpp"
#include "parley/net/media_stream.hpp"

namespace parley::net {
namespace {

using nlohmann::json;

std::string b64_pcm(std::vector<std::int16_t> pcm) {
  std::string bytes;
  for (auto s : pcm) {
    const auto u = static_cast<std::uint16_t>(s);
    bytes.push_back(static_cast<char>(u & 0xff));
    bytes.push_back(static_cast<char>(u >> 8));
  }
  return base64_encode(bytes);
}

std::string append(const std::string& audio) {
  return json{{"type", "input_audio_buffer.append"}, {"event_id", "e1"}, {"audio", audio}}.dump();
}

const wire_error& error_of(const std::variant<client_event, wire_error>& r) {
  EXPECT_TRUE(std::holds_alternative<wire_error>(r));
  static const wire_error none;
  return std::holds_alternative<wire_error>(r) ? std::get<wire_error>(r) : none;
}

std::vector<json> parsed(const std::vector<std::string>& texts) {
  std::vector<json> out;
  for (const auto& t : texts) out.push_back(json::parse(t));
  return out;
}

std::vector<std::string> types(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e["type"]);
  return out;
}

TEST(realtime_decode, audio_append_carries_pcm16_at_24_khz) {
  realtime_codec codec({});
  const auto r = codec.decode(append(b64_pcm({1, -2, 300, -32768})));
  ASSERT_TRUE(std::holds_alternative<client_event>(r));
  const auto* a = std::get_if<audio_append>(&std::get<client_event>(r));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->pcm, (std::vector<std::int16_t>{1, -2, 300, -32768}));
  EXPECT_EQ(a->event_id, "e1");
  EXPECT_EQ(codec.as_session_update().input_sample_rate_hz, 24000);
}

TEST(realtime_decode, audio_that_is_not_base64_or_not_whole_samples_is_refused) {
  realtime_codec codec({});
  EXPECT_EQ(error_of(codec.decode(append("not base64!"))).code, wire_errc::invalid_audio);
  EXPECT_EQ(error_of(codec.decode(append(base64_encode(std::string("abc"))))).code, wire_errc::invalid_audio);
  EXPECT_EQ(error_of(codec.decode(R"({"type":"input_audio_buffer.append"})")).code, wire_errc::invalid_message);
}

TEST(realtime_decode, a_session_update_takes_effect_only_once_applied) {
  realtime_codec codec({});
  const auto r = codec.decode(R"({"type":"session.update","event_id":"u1","session":{"type":"realtime",
      "instructions":"Be terse.","audio":{"input":{"format":{"type":"audio/pcmu"},
      "turn_detection":{"type":"server_vad","silence_duration_ms":650,"interrupt_response":false}},
      "output":{"format":{"type":"audio/pcma"},"voice":"marin"}}}})");
  ASSERT_TRUE(std::holds_alternative<client_event>(r));
  EXPECT_EQ(std::get<session_update>(std::get<client_event>(r)).event_id, "u1");
  // Not applied yet: audio is still PCM16.
  EXPECT_EQ(codec.config().input_format, realtime_audio::pcm);
  const auto pcm = codec.decode(append(b64_pcm({5, 6})));
  EXPECT_EQ(std::get<audio_append>(std::get<client_event>(pcm)).pcm.size(), 2u);

  codec.apply_staged();
  const auto u = codec.as_session_update();
  EXPECT_EQ(u.input_sample_rate_hz, 8000);
  EXPECT_EQ(u.output_sample_rate_hz, 8000);
  EXPECT_EQ(u.barge_in.enabled, false);
  EXPECT_EQ(u.instructions, "Be terse.");
  ASSERT_TRUE(u.turn_detection);
  EXPECT_FALSE(u.turn_detection->semantic);
  EXPECT_EQ(u.turn_detection->silence_ms, 650);
  // μ-law now: one byte a sample.
  const std::vector<std::uint8_t> codes = {mulaw_encode(std::int16_t{1000}), mulaw_encode(std::int16_t{-1000}), 0xFF};
  const auto mu = codec.decode(append(base64_encode(codes)));
  EXPECT_EQ(std::get<audio_append>(std::get<client_event>(mu)).pcm, mulaw_decode(codes));
  // And session.updated reports it.
  const auto updated = parsed(codec.encode(session_created{.updated = true}));
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(updated[0]["type"], "session.updated");
  const auto& s = updated[0]["session"];
  EXPECT_EQ(s["audio"]["input"]["format"]["type"], "audio/pcmu");
  EXPECT_EQ(s["audio"]["output"]["format"]["type"], "audio/pcma");
  EXPECT_EQ(s["audio"]["output"]["voice"], "marin");
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["silence_duration_ms"], 650);
  EXPECT_EQ(s["instructions"], "Be terse.");
}

TEST(realtime_decode, a_refused_session_update_changes_nothing) {
  realtime_codec codec({});
  const auto r = codec.decode(R"({"type":"session.update","session":{"instructions":"x",
      "audio":{"input":{"format":{"type":"audio/pcm","rate":16000}}}}})");
  EXPECT_EQ(error_of(r).code, wire_errc::unsupported_audio_format);
  codec.apply_staged();  // nothing was staged
  EXPECT_EQ(codec.config().instructions, "");
}

TEST(realtime_decode, what_parley_does_not_do_is_refused_by_name) {
  realtime_codec codec({});
  const auto code_of = [&](const char* text) { return error_of(codec.decode(text)).code; };
  EXPECT_EQ(code_of(R"({"type":"session.update","session":{"audio":{"input":{"turn_detection":null}}}})"),
            wire_errc::unsupported_event);
  EXPECT_EQ(code_of(R"({"type":"session.update","session":{"tools":[{"type":"function","name":"f"}]}})"),
            wire_errc::unsupported_event);
  EXPECT_EQ(code_of(R"({"type":"session.update","session":{"output_modalities":["text"]}})"), wire_errc::unsupported_event);
  EXPECT_EQ(code_of(R"({"type":"session.update","session":{"audio":{"input":{"turn_detection":
      {"type":"server_vad","create_response":false}}}}})"), wire_errc::unsupported_event);
  EXPECT_EQ(code_of(R"({"type":"session.update","session":{"audio":{"input":{"turn_detection":
      {"type":"server_vad","silence_duration_ms":20}}}}})"), wire_errc::invalid_message);
  for (const char* type : {"output_audio_buffer.clear", "conversation.item.delete",
                           "conversation.item.retrieve"}) {
    const auto err = error_of(codec.decode(json{{"type", type}, {"event_id", "x9"}}.dump()));
    EXPECT_EQ(err.code, wire_errc::unsupported_event) << type;
    EXPECT_EQ(err.event_id, "x9");
  }
  EXPECT_EQ(code_of(R"({"type":"response.text.delta"})"), wire_errc::unknown_type);
  EXPECT_EQ(code_of(R"({"type":"conversation.item.create","item":{"type":"function_call_output","output":"{}"}})"),
            wire_errc::unsupported_event);
  EXPECT_EQ(code_of("[1]"), wire_errc::invalid_message);
  EXPECT_EQ(code_of("{"), wire_errc::invalid_json);
}

TEST(realtime_decode, a_transcription_session_transcribes_and_answers_nothing) {
  realtime_codec codec({});
  const auto code_of = [&](const char* text) { return error_of(codec.decode(text)).code; };
  // What only answering sessions have is refused in a transcription session's update.
  EXPECT_EQ(code_of(R"({"type":"session.update","session":{"type":"transcription","instructions":"Be terse."}})"),
            wire_errc::invalid_message);
  EXPECT_EQ(code_of(R"({"type":"session.update","session":{"type":"transcription",
      "audio":{"output":{"format":{"type":"audio/pcm","rate":24000}}}}})"), wire_errc::invalid_message);
  EXPECT_EQ(code_of(R"({"type":"session.update","session":{"type":"podcast"}})"), wire_errc::invalid_message);
  // create_response false is what a transcription session means anyway.
  const auto r = codec.decode(R"({"type":"session.update","session":{"type":"transcription",
      "audio":{"input":{"format":{"type":"audio/pcmu"},"transcription":{"model":"gpt-4o-transcribe"},
      "turn_detection":{"type":"server_vad","silence_duration_ms":500,"create_response":false}}}}})");
  ASSERT_TRUE(std::holds_alternative<client_event>(r)) << error_of(r).message;
  codec.apply_staged();
  const auto u = codec.as_session_update();
  EXPECT_TRUE(u.transcription_only);
  EXPECT_FALSE(u.barge_in.enabled.value_or(true)) << "nothing plays, so nothing is interrupted";
  EXPECT_EQ(u.input_sample_rate_hz, 8000);
  ASSERT_TRUE(u.turn_detection);
  EXPECT_EQ(u.turn_detection->silence_ms, 500);
  const auto updated = parsed(codec.encode(session_created{.updated = true}));
  ASSERT_EQ(updated.size(), 1u);
  const auto& s = updated[0]["session"];
  EXPECT_EQ(s["type"], "transcription");
  EXPECT_EQ(s["object"], "realtime.transcription_session");
  EXPECT_FALSE(s.contains("instructions"));
  EXPECT_FALSE(s["audio"].contains("output"));
  EXPECT_EQ(s["audio"]["input"]["format"]["type"], "audio/pcmu");
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["silence_duration_ms"], 500);
  EXPECT_FALSE(s["audio"]["input"]["turn_detection"].contains("create_response"));
  // A later update without a type stays a transcription session; one naming realtime switches back.
  ASSERT_TRUE(std::holds_alternative<client_event>(codec.decode(R"({"type":"session.update","session":{}})")));
  codec.apply_staged();
  EXPECT_TRUE(codec.config().transcription);
  ASSERT_TRUE(std::holds_alternative<client_event>(codec.decode(R"({"type":"session.update","session":{"type":"realtime"}})")));
  codec.apply_staged();
  EXPECT_FALSE(codec.as_session_update().transcription_only);
}

TEST(realtime_decode, turns_committed_by_the_client_are_for_transcription_sessions) {
  realtime_codec codec({});
  EXPECT_EQ(error_of(codec.decode(R"({"type":"session.update","session":{"type":"realtime",
      "audio":{"input":{"turn_detection":null}}}})")).code, wire_errc::unsupported_event);
  const auto r = codec.decode(R"({"type":"session.update","session":{"type":"transcription",
      "audio":{"input":{"turn_detection":null}}}})");
  ASSERT_TRUE(std::holds_alternative<client_event>(r)) << error_of(r).message;
  codec.apply_staged();
  EXPECT_TRUE(codec.as_session_update().manual_turns);
  EXPECT_TRUE(parsed(codec.encode(session_created{.updated = true}))[0]["session"]["audio"]["input"]["turn_detection"].is_null());
  // Back to a realtime session while turns are still the client's: refused, nothing changes.
  EXPECT_EQ(error_of(codec.decode(R"({"type":"session.update","session":{"type":"realtime"}})")).code,
            wire_errc::unsupported_event);
  codec.apply_staged();
  EXPECT_TRUE(codec.config().transcription);
  // Commit and clear are native events; no VAD events are sent without turn detection.
  EXPECT_TRUE(std::holds_alternative<input_commit>(std::get<client_event>(codec.decode(R"({"type":"input_audio_buffer.commit"})"))));
  const auto clear = codec.decode(R"({"type":"input_audio_buffer.clear","event_id":"c1"})");
  ASSERT_TRUE(std::holds_alternative<input_clear>(std::get<client_event>(clear)));
  EXPECT_EQ(std::get<input_clear>(std::get<client_event>(clear)).event_id, "c1");
  EXPECT_TRUE(codec.encode(speech_started_message{.turn = 1, .audio_start_ms = 0}).empty());
  EXPECT_TRUE(codec.encode(speech_stopped_message{.turn = 1, .audio_end_ms = 900}).empty());
  EXPECT_EQ(types(parsed(codec.encode(item_created{.turn = 1, .text = "hello"}))),
            (std::vector<std::string>{"input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"}));
  EXPECT_EQ(json::parse(codec.encode_cleared())["type"], "input_audio_buffer.cleared");
}

TEST(realtime_decode, messages_responses_and_truncation) {
  realtime_codec codec({});
  const auto text = codec.decode(R"({"type":"conversation.item.create","item":{"id":"msg_1","type":"message",
      "role":"user","content":[{"type":"input_text","text":"What time is it?"}]}})");
  EXPECT_EQ(std::get<text_input>(std::get<client_event>(text)).text, "What time is it?");
  const auto added = parsed(codec.encode_text_item("What time is it?"));
  EXPECT_EQ(types(added), (std::vector<std::string>{"conversation.item.added", "conversation.item.done"}));
  EXPECT_EQ(added[0]["item"]["id"], "msg_1");
  EXPECT_TRUE(added[0]["previous_item_id"].is_null());
  EXPECT_EQ(added[0]["item"]["content"][0]["type"], "input_text");

  EXPECT_TRUE(std::holds_alternative<response_request>(std::get<client_event>(codec.decode(R"({"type":"response.create"})"))));
  EXPECT_TRUE(std::holds_alternative<response_cancel>(std::get<client_event>(codec.decode(R"({"type":"response.cancel"})"))));
  const auto cut = codec.decode(R"({"type":"conversation.item.truncate","item_id":"item_r7","content_index":0,"audio_end_ms":1500})");
  const auto& t = std::get<item_truncate>(std::get<client_event>(cut));
  EXPECT_EQ(t.generation, 7u);
  EXPECT_EQ(t.audio_end_ms, 1500);
  EXPECT_EQ(error_of(codec.decode(R"({"type":"conversation.item.truncate","item_id":"item_u3","audio_end_ms":10})")).code,
            wire_errc::unknown_generation);
  EXPECT_EQ(error_of(codec.decode(R"({"type":"conversation.item.truncate","item_id":"item_r3","audio_end_ms":-1})")).code,
            wire_errc::invalid_message);
}

TEST(realtime_encode, a_spoken_turn_is_one_user_item_with_growing_transcript_deltas) {
  realtime_codec codec({});
  auto e = parsed(codec.encode(speech_started_message{4, 320.4}));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["type"], "input_audio_buffer.speech_started");
  EXPECT_EQ(e[0]["item_id"], "item_u4");
  EXPECT_EQ(e[0]["audio_start_ms"], 320);
  EXPECT_EQ(parsed(codec.encode(transcription_delta{4, "what", 0.5}))[0]["delta"], "what");
  EXPECT_EQ(parsed(codec.encode(transcription_delta{4, "what time", 0.5}))[0]["delta"], " time");
  EXPECT_TRUE(codec.encode(transcription_delta{4, "was time", 0.5}).empty());  // a revision: wait for the final
  codec.encode(speech_stopped_message{4, 1820});
  e = parsed(codec.encode(transcription_completed{4, "what time is it", 0.9}));
  EXPECT_EQ(e[0]["type"], "conversation.item.input_audio_transcription.completed");
  EXPECT_EQ(e[0]["transcript"], "what time is it");
  EXPECT_EQ(e[0]["usage"]["seconds"], 1.5);
  e = parsed(codec.encode(item_created{4, "what time is it"}));
  EXPECT_EQ(types(e), (std::vector<std::string>{"input_audio_buffer.committed", "conversation.item.added",
                                                "conversation.item.done"}));
  EXPECT_EQ(e[1]["item"]["content"][0]["transcript"], "what time is it");
  EXPECT_EQ(e[1]["item"]["role"], "user");
  // A typed turn's item was announced when it was created: nothing more.
  EXPECT_TRUE(codec.encode(item_created{5, "hello"}).empty());
  // The next spoken item follows the first.
  codec.encode(speech_started_message{6, 5000});
  e = parsed(codec.encode(item_created{6, "and tomorrow"}));
  EXPECT_EQ(e[0]["previous_item_id"], "item_u4");
}

TEST(realtime_encode, a_reply_is_a_response_with_audio_and_transcript) {
  realtime_codec codec({});
  auto e = parsed(codec.encode(response_created{4, 9}));
  EXPECT_EQ(types(e), (std::vector<std::string>{"response.created", "response.output_item.added",
                                                "response.content_part.added"}));
  EXPECT_EQ(e[0]["response"]["id"], "resp_9");
  EXPECT_EQ(e[0]["response"]["status"], "in_progress");
  EXPECT_EQ(e[1]["item"]["id"], "item_r9");
  e = parsed(codec.encode(text_delta{9, "It is"}));
  EXPECT_EQ(e[0]["type"], "response.output_audio_transcript.delta");
  EXPECT_EQ(e[0]["delta"], "It is");
  const auto audio = json::parse(codec.encode_audio(9, std::vector<std::int16_t>{7, -7}));
  EXPECT_EQ(audio["type"], "response.output_audio.delta");
  EXPECT_EQ(audio["response_id"], "resp_9");
  EXPECT_EQ(audio["delta"], b64_pcm({7, -7}));
  EXPECT_EQ(parsed(codec.encode(audio_done{9, 2}))[0]["type"], "response.output_audio.done");
  e = parsed(codec.encode(response_done{4, 9, "It is noon."}));
  EXPECT_EQ(types(e), (std::vector<std::string>{"response.output_audio_transcript.done", "response.content_part.done",
                                                "response.output_item.done", "response.done"}));
  EXPECT_EQ(e[0]["transcript"], "It is noon.");
  EXPECT_EQ(e[3]["response"]["status"], "completed");
  EXPECT_EQ(e[3]["response"]["output"][0]["content"][0]["transcript"], "It is noon.");
  // Cut while it plays, after it was generated: the item is truncated to what was heard.
  e = parsed(codec.encode(response_interrupted{9, "barge_in", 48000, 12000}));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["type"], "conversation.item.truncated");
  EXPECT_EQ(e[0]["audio_end_ms"], 500);
}

// A reply whose model called a tool of the assistant file (parley ran it): the call is a
// function_call output item after the spoken message, its result a function_call_output item,
// and response.done lists the call; the next response starts with no calls of its own.
TEST(realtime_encode, a_tool_call_is_a_function_call_item_and_its_result_an_output_item) {
  realtime_codec codec({});
  codec.encode(speech_started_message{4, 0});
  codec.encode(item_created{4, "book a table for four"});
  codec.encode(response_created{4, 9});
  const std::string args = R"({"party_size":4})";
  auto e = parsed(codec.encode(tool_call_message{4, 9, "call_1", "book_table", args, std::nullopt}));
  EXPECT_EQ(types(e), (std::vector<std::string>{"response.output_item.added", "conversation.item.added",
                                                "response.function_call_arguments.delta",
                                                "response.function_call_arguments.done", "conversation.item.done",
                                                "response.output_item.done"}));
  EXPECT_EQ(e[0]["output_index"], 1);
  EXPECT_EQ(e[0]["item"]["type"], "function_call");
  EXPECT_EQ(e[0]["item"]["status"], "in_progress");
  EXPECT_EQ(e[1]["previous_item_id"], "item_u4");
  const std::string id = e[0]["item"]["id"];
  EXPECT_EQ(e[2]["delta"], args);
  EXPECT_EQ(e[3]["item_id"], id);
  EXPECT_EQ(e[3]["call_id"], "call_1");
  EXPECT_EQ(e[3]["name"], "book_table");
  EXPECT_EQ(e[3]["arguments"], args);
  EXPECT_EQ(e[5]["item"]["status"], "completed");
  EXPECT_EQ(e[5]["item"]["arguments"], args);

  e = parsed(codec.encode(tool_call_message{4, 9, "call_1", "book_table", args, std::string(R"({"ref":"L-12"})")}));
  EXPECT_EQ(types(e), (std::vector<std::string>{"conversation.item.added", "conversation.item.done"}));
  EXPECT_EQ(e[1]["item"]["type"], "function_call_output");
  EXPECT_EQ(e[1]["item"]["call_id"], "call_1");
  EXPECT_EQ(e[1]["item"]["output"], R"({"ref":"L-12"})");
  EXPECT_EQ(e[1]["previous_item_id"], id);
  EXPECT_NE(e[1]["item"]["id"], id);

  // A second call in the same response is the next output.
  e = parsed(codec.encode(tool_call_message{4, 9, "call_2", "book_table", args, std::nullopt}));
  EXPECT_EQ(e[0]["output_index"], 2);
  const std::string second_id = e[0]["item"]["id"];
  EXPECT_NE(second_id, id);

  e = parsed(codec.encode(response_done{4, 9, "Booked."}));
  const auto& output = e.back()["response"]["output"];
  ASSERT_EQ(output.size(), 3u) << output;
  EXPECT_EQ(output[0]["type"], "message");
  EXPECT_EQ(output[1]["type"], "function_call");
  EXPECT_EQ(output[1]["call_id"], "call_1");
  EXPECT_EQ(output[2]["call_id"], "call_2");

  codec.encode(response_created{5, 10});
  e = parsed(codec.encode(response_interrupted{10, "barge_in", 0, 0}));
  EXPECT_EQ(e.back()["response"]["output"].size(), 1u) << "no calls of response 9 in response 10";
  // The next user item follows the last tool item.
  codec.encode(speech_started_message{6, 9000});
  e = parsed(codec.encode(item_created{6, "thanks"}));
  EXPECT_EQ(e[0]["previous_item_id"], second_id);
}

TEST(realtime_encode, a_reply_cut_while_generated_ends_cancelled_with_the_reason) {
  realtime_codec codec({});
  EXPECT_TRUE(codec.encode(response_interrupted{3, "barge_in", 0, 0}).empty());  // never announced
  codec.encode(response_created{1, 3});
  auto e = parsed(codec.encode(response_interrupted{3, "barge_in", 4800, 2400}));
  EXPECT_EQ(types(e), (std::vector<std::string>{"response.output_item.done", "response.done"}));
  EXPECT_EQ(e[1]["response"]["status"], "cancelled");
  EXPECT_EQ(e[1]["response"]["status_details"]["reason"], "turn_detected");
  codec.encode(response_created{2, 4});
  e = parsed(codec.encode(response_interrupted{4, "client", 0, 0}));
  EXPECT_EQ(e[1]["response"]["status_details"]["reason"], "client_cancelled");
}

TEST(realtime_encode, errors_say_whose_fault_and_which_event) {
  realtime_codec codec({});
  auto e = parsed(codec.encode(error_message{{wire_errc::unsupported_event, "no", "evt_7"}}));
  EXPECT_EQ(e[0]["type"], "error");
  EXPECT_EQ(e[0]["error"]["type"], "invalid_request_error");
  EXPECT_EQ(e[0]["error"]["code"], "unsupported_event");
  EXPECT_EQ(e[0]["error"]["event_id"], "evt_7");
  e = parsed(codec.encode(error_message{{wire_errc::engine_error, "asr failed", ""}}));
  EXPECT_EQ(e[0]["error"]["type"], "server_error");
  EXPECT_TRUE(e[0]["error"]["event_id"].is_null());
}

TEST(realtime_encode, events_without_a_realtime_counterpart_give_none_and_every_event_has_an_id) {
  realtime_codec codec({});
  EXPECT_TRUE(codec.encode(input_committed{}).empty());
  EXPECT_TRUE(codec.encode(audio_start{1, 24000}).empty());
  EXPECT_TRUE(codec.encode(turn_metrics{1, 1, "{}"}).empty());
  EXPECT_TRUE(codec.encode(session_finished{}).empty());
  const auto a = parsed(codec.encode(session_created{}));
  const auto b = parsed(codec.encode(speech_started_message{1, 0}));
  EXPECT_EQ(a[0]["type"], "session.created");
  EXPECT_EQ(a[0]["session"]["type"], "realtime");
  EXPECT_NE(a[0]["event_id"], b[0]["event_id"]);
}

TEST(realtime_encode, g711_output_is_one_byte_a_sample) {
  realtime_codec codec({});
  codec.decode(R"({"type":"session.update","session":{"audio":{"output":{"format":{"type":"audio/pcma"}}}}})");
  codec.apply_staged();
  const std::vector<std::int16_t> pcm = {0, 1000, -1000};
  const auto audio = json::parse(codec.encode_audio(1, pcm));
  const auto bytes = base64_decode(audio["delta"].get<std::string>());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, alaw_encode(pcm));
}

}  // namespace
}  // namespace parley::net
