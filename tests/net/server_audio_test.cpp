// The realtime server end to end, the OpenAI audio endpoints (audio_api.hpp) with mock engines:
// speech streamed as chunked HTTP/1.1 or close-delimited HTTP/1.0, transcription of an upload,
// every refusal (400 naming the field, 401, 404, 405, 413 before the body, 503 at the limit),
// Expect: 100-continue, and a client that leaves mid-stream. The official openai npm client runs
// against the real engines in tests/openai.
#include <gtest/gtest.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "parley/audio/wav.hpp"
#include "parley/net/audio_api.hpp"
#include "server_fixture.hpp"

namespace parley::net {
namespace {

using namespace test;

std::string post(std::string_view target, std::string_view content_type, std::string_view body,
                 std::string_view extra_headers = {}, std::string_view version = "HTTP/1.1") {
  std::string r = "POST " + std::string(target) + " " + std::string(version) + "\r\nHost: 127.0.0.1\r\n";
  r += "Content-Type: " + std::string(content_type) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  r += std::string(extra_headers) + "Connection: close\r\n\r\n" + std::string(body);
  return r;
}

std::string speech(std::string_view json_body, std::string_view version = "HTTP/1.1") {
  return post("/v1/audio/speech", "application/json", json_body, {}, version);
}

// A multipart/form-data body as HTTP clients write it: `file` (a WAV of `samples`) then fields.
constexpr std::string_view k_boundary = "----parley-test-7d1f";
std::string form(std::span<const std::int16_t> samples, std::vector<std::pair<std::string, std::string>> fields = {}) {
  std::string body = "--" + std::string(k_boundary) +
                     "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.wav\"\r\n"
                     "Content-Type: audio/wav\r\n\r\n" +
                     audio::wav_header(k_rate) + audio::pcm16le_bytes(samples) + "\r\n";
  for (const auto& [name, value] : fields) {
    body += "--" + std::string(k_boundary) + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  }
  return body + "--" + std::string(k_boundary) + "--\r\n";
}
std::string transcription(const std::string& form_body, std::string_view extra_headers = {}) {
  return post("/v1/audio/transcriptions", "multipart/form-data; boundary=" + std::string(k_boundary), form_body,
              extra_headers);
}

json error_of(const http_reply& r) {
  const auto j = json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("error") ? j["error"] : json();
}

std::uint32_t u32_at(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

TEST(server_audio, speech_streams_a_24_khz_wav_and_raw_pcm) {
  test_server ts;
  const auto wav = http_raw(ts.port(), speech(R"({"model":"tts-1","voice":"alloy","input":"Hello there. How are you?"})"));
  ASSERT_EQ(wav.status, 200) << wav.body;
  EXPECT_EQ(wav.content_type, "audio/wav");
  ASSERT_GT(wav.body.size(), 44u + 24000u) << "a sentence of audio (mock voice: 62 ms a character)";
  EXPECT_EQ(wav.body.substr(0, 4), "RIFF");
  EXPECT_EQ(u32_at(wav.body, 24), 24000u) << "the rate OpenAI's formats have";
  EXPECT_EQ(u32_at(wav.body, 40), 0xFFFFFFFFu) << "streamed: the length is not known up front";
  EXPECT_EQ(wav.body.size() % 2, 0u);

  const auto pcm = http_raw(ts.port(), speech(R"({"voice":"alloy","input":"Hello there. How are you?","response_format":"pcm"})"));
  ASSERT_EQ(pcm.status, 200);
  EXPECT_EQ(pcm.content_type, "audio/pcm");
  EXPECT_EQ(pcm.body.size(), wav.body.size() - 44) << "the same speech, without the header";

  const auto sse = http_raw(ts.port(), speech(R"({"voice":"alloy","input":"Hello.","stream_format":"sse"})"));
  ASSERT_EQ(sse.status, 200);
  EXPECT_EQ(sse.content_type, "text/event-stream");
  EXPECT_NE(sse.body.find(R"("type":"speech.audio.delta")"), std::string::npos);
  EXPECT_NE(sse.body.rfind(R"("type":"speech.audio.done")"), std::string::npos);
}

TEST(server_audio, speech_over_http_1_0_ends_with_the_connection) {
  test_server ts;
  const auto r = http_raw(ts.port(), speech(R"({"voice":"alloy","input":"Hello there."})", "HTTP/1.0"));
  ASSERT_EQ(r.status, 200);
  EXPECT_GT(r.body.size(), 44u);
  EXPECT_EQ(r.body.substr(0, 4), "RIFF");
}

TEST(server_audio, speech_refusals_name_the_field) {
  test_server ts;
  const std::pair<std::string, std::string> cases[] = {
      {"not json", ""},
      {R"({"voice":"alloy"})", "input"},
      {R"({"voice":"alloy","input":""})", "input"},
      {R"({"voice":"alloy","input":"  ... !!"})", "input"},
      {R"({"voice":"alloy","input":")" + std::string(4097, 'a') + R"("})", "input"},
      {R"({"input":"Hi."})", "voice"},
      {R"({"voice":"alloy","input":"Hi.","response_format":"mp3"})", "response_format"},
      {R"({"voice":"alloy","input":"Hi.","speed":1.5})", "speed"},
      {R"({"voice":"alloy","input":"Hi.","stream_format":"chunks"})", "stream_format"},
      {R"({"voice":"alloy","input":"Hi.","volume":11})", "volume"},
  };
  for (const auto& [body, param] : cases) {
    const auto r = http_raw(ts.port(), speech(body));
    EXPECT_EQ(r.status, 400) << body.substr(0, 80);
    const auto e = error_of(r);
    EXPECT_EQ(e.value("type", ""), "invalid_request_error") << r.body;
    if (param.empty()) {
      EXPECT_TRUE(e["param"].is_null()) << r.body;
    } else {
      EXPECT_EQ(e.value("param", ""), param) << r.body;
    }
  }
}

TEST(server_audio, an_upload_is_transcribed_as_a_session_hears_it) {
  test_server ts({}, {.transcripts = {"what time is it"}});
  const auto audio = script_audio(k_one_question);
  const auto json_reply = http_raw(ts.port(), transcription(form(audio, {{"model", "whisper-1"}})));
  ASSERT_EQ(json_reply.status, 200) << json_reply.body;
  EXPECT_EQ(json_reply.content_type, "application/json");
  const auto j = json::parse(json_reply.body);
  EXPECT_EQ(j["text"], "what time is it");
  EXPECT_EQ(j["usage"]["type"], "duration");

  const auto text = http_raw(ts.port(), transcription(form(audio, {{"response_format", "text"}, {"language", "en"}})));
  ASSERT_EQ(text.status, 200);
  EXPECT_EQ(text.body, "what time is it\n");

  const auto vtt = http_raw(ts.port(), transcription(form(audio, {{"response_format", "vtt"}})));
  ASSERT_EQ(vtt.status, 200);
  EXPECT_EQ(vtt.body, "WEBVTT\n\n00:00:00.000 --> 00:00:02.700\nwhat time is it\n\n");
}

TEST(server_audio, transcription_refusals_name_the_field) {
  test_server ts;
  const auto audio = script_audio(k_one_question);
  struct refusal {
    std::string request;
    int status;
    std::string param;
  };
  const refusal cases[] = {
      {transcription(form(audio, {{"language", "fr"}})), 400, "language"},
      {transcription(form(audio, {{"response_format", "diarized_json"}})), 400, "response_format"},
      {transcription(form(audio, {{"timestamp_granularities[]", "word"}})), 400, "timestamp_granularities"},
      {transcription(form(audio, {{"temperature", "hot"}})), 400, "temperature"},
      {transcription(form(audio, {{"beam", "5"}})), 400, "beam"},
      {transcription("--" + std::string(k_boundary) + "--\r\n"), 400, "file"},
      {post("/v1/audio/transcriptions", "application/json", R"({"file":"x"})"), 415, ""},
      {post("/v1/audio/transcriptions", "multipart/form-data; boundary=" + std::string(k_boundary),
            "--" + std::string(k_boundary) +
                "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\r\nnot audio\r\n--" +
                std::string(k_boundary) + "--\r\n"),
       400, "file"},
  };
  for (const auto& c : cases) {
    const auto r = http_raw(ts.port(), c.request);
    EXPECT_EQ(r.status, c.status) << r.body;
    const auto e = error_of(r);
    ASSERT_TRUE(e.is_object()) << r.body;
    if (!c.param.empty()) {
      EXPECT_EQ(e.value("param", ""), c.param) << r.body;
    }
  }
  const auto notes = error_of(http_raw(ts.port(), cases[7].request));
  EXPECT_NE(notes.value("message", "").find("notes.txt"), std::string::npos) << "the upload is named";
}

TEST(server_audio, refused_before_any_work) {
  server_config config;
  config.bearer_token = "s3cret";
  config.max_upload_bytes = 4096;
  test_server ts(config);
  const auto body = R"({"voice":"alloy","input":"Hi."})";
  const auto no_token = http_raw(ts.port(), speech(body));
  EXPECT_EQ(no_token.status, 401);
  EXPECT_EQ(no_token.content_type, "application/json");
  EXPECT_EQ(http_raw(ts.port(), post("/v1/audio/speech", "application/json", body, "Authorization: Bearer s3cret\r\n")).status, 200);
  EXPECT_EQ(http_get(ts.port(), "/v1/audio/speech").status, 405);
  // Over the upload limit: 413 as soon as the header says so (the body is never sent here).
  const auto big = http_raw(ts.port(), "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       "Authorization: Bearer s3cret\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                                       "Content-Length: 100000\r\n\r\n");
  EXPECT_EQ(big.status, 413);
  // Other routes keep the small limit: an upload-sized body to /metrics is refused too.
  EXPECT_EQ(http_raw(ts.port(), post("/metrics", "text/plain", std::string(70 * 1024, 'x'))).status, 413);

  server_config off;
  off.max_audio_requests = 0;
  test_server ts_off(off);
  EXPECT_EQ(http_raw(ts_off.port(), speech(body)).status, 404) << "0 turns the endpoints off";
}

TEST(server_audio, expect_100_continue_is_answered_before_the_body) {
  test_server ts;
  const auto body = form(script_audio(k_one_question));
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ts.port()));
  stream.expires_after(k_wait);
  const std::string head = "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                           "Content-Type: multipart/form-data; boundary=" + std::string(k_boundary) +
                           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  asio::write(stream, asio::buffer(head));
  std::string interim;
  asio::read_until(stream, asio::dynamic_buffer(interim), "\r\n\r\n");
  EXPECT_TRUE(interim.starts_with("HTTP/1.1 100 Continue")) << interim;
  asio::write(stream, asio::buffer(body));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::error_code ec;
  http::read(stream, buffer, res, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200u) << res.body();
}

TEST(server_audio, the_request_limit_holds_and_a_client_leaving_mid_stream_frees_its_place) {
  server_config config;
  config.max_audio_requests = 1;
  test_server ts(config, {.tts_rtf = 1.0});  // the voice runs in real time: a long input takes seconds
  const std::string long_input(400, 'a');    // ~25 s of mock speech
  asio::io_context io;
  auto first = std::make_unique<beast::tcp_stream>(io);
  first->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ts.port()));
  first->expires_after(k_wait);
  asio::write(*first, asio::buffer(speech(R"({"voice":"alloy","input":")" + long_input + R"("})")));
  std::string head;  // the response head comes with the first audio: the request holds its place now
  asio::read_until(*first, asio::dynamic_buffer(head), "\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << head;

  const auto second = http_raw(ts.port(), speech(R"({"voice":"alloy","input":"Hi."})"));
  EXPECT_EQ(second.status, 503) << second.body;
  EXPECT_EQ(second.retry_after, "1");

  first.reset();  // the client leaves mid-stream: the next write fails and the voice stops
  http_reply third;
  for (int i = 0; i < 100 && third.status != 200; ++i) {  // its place comes back with the next chunk
    third = http_raw(ts.port(), speech(R"({"voice":"alloy","input":"Hi."})"));
    if (third.status != 200) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(third.status, 200);
  const auto metrics = http_get(ts.port(), "/metrics").body;
  EXPECT_NE(metrics.find(R"(parley_audio_requests_total{code="503",endpoint="speech"})"), std::string::npos);
}

TEST(server_audio, a_client_that_stops_reading_loses_its_place) {
  server_config config;
  config.max_audio_requests = 1;
  config.http_timeout_s = 0.5;  // each write's deadline
  test_server ts(config);
  // 4096 characters: ~4 min of mock speech, far more than the socket buffers hold.
  asio::io_context io;
  beast::tcp_stream idle(io);
  idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ts.port()));
  asio::write(idle, asio::buffer(speech(R"({"voice":"alloy","input":")" + std::string(4096, 'a') + R"("})")));
  for (int i = 0; i < 200 && http_get(ts.port(), "/metrics").body.find("parley_audio_requests_in_flight 1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(http_raw(ts.port(), speech(R"({"voice":"alloy","input":"Hi."})")).status, 503) << "its place is taken";
  http_reply next;
  for (int i = 0; i < 200 && next.status != 200; ++i) {  // never read: the server gives up on it
    next = http_raw(ts.port(), speech(R"({"voice":"alloy","input":"Hi."})"));
    if (next.status != 200) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(next.status, 200) << "the place under max_audio_requests came back";
}

}  // namespace
}  // namespace parley::net
