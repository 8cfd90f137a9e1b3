// The telephone media-stream endpoint (/v1/media-stream) end to end: a call simulator plays a
// caller's 8 kHz μ-law audio the way a telephony provider streams it, and checks the reply audio,
// the marks it echoes as playout, `clear` on barge-in, DTMF as typed input and the token in
// `start`. Mock engines on 127.0.0.1.
#include <gtest/gtest.h>

#include <boost/beast/core/detail/base64.hpp>
#include <mutex>

#include "parley/net/media_stream.hpp"
#include "server_fixture.hpp"

namespace parley::net {
namespace {

using namespace test;

constexpr const char* k_sid = "MZ0123456789";

std::string base64(std::span<const std::uint8_t> bytes) {
  namespace b64 = beast::detail::base64;
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

// What a telephony provider does on its side of the stream.
class call_simulator {
 public:
  explicit call_simulator(std::uint16_t port, std::string target = "/v1/media-stream") {
    status = c.connect(port, {.target = std::move(target)});
  }

  void start(json params = json::object()) {
    c.send_json({{"event", "connected"}, {"protocol", "Call"}, {"version", "1.0.0"}});
    c.send_json({{"event", "start"},
                 {"sequenceNumber", std::to_string(++seq_)},
                 {"streamSid", k_sid},
                 {"start",
                  {{"streamSid", k_sid},
                   {"callSid", "CA0123"},
                   {"tracks", {"inbound"}},
                   {"mediaFormat", {{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}},
                   {"customParameters", std::move(params)}}}});
  }

  /// The caller's audio, 20 ms (160 μ-law bytes) per media message, as the provider sends it.
  void speak(std::initializer_list<std::pair<char, double>> script) {
    const auto pcm = script_audio(script, k_telephone_rate_hz);
    for (std::size_t at = 0; at < pcm.size(); at += 160) {
      const auto frame = std::span(pcm).subspan(at, std::min<std::size_t>(160, pcm.size() - at));
      c.send_json({{"event", "media"},
                   {"sequenceNumber", std::to_string(++seq_)},
                   {"streamSid", k_sid},
                   {"media", {{"track", "inbound"}, {"chunk", std::to_string(++chunk_)},
                              {"timestamp", std::to_string(chunk_ * 20)}, {"payload", base64(mulaw_encode(frame))}}}});
    }
  }

  void press(char digit) {
    c.send_json({{"event", "dtmf"}, {"streamSid", k_sid}, {"sequenceNumber", std::to_string(++seq_)},
                 {"dtmf", {{"track", "inbound_track"}, {"digit", std::string(1, digit)}}}});
  }

  /// Reads messages until `done` says so (or the stream ends); collects the reply audio and, with
  /// `echo_marks`, returns each mark as the provider does once the audio before it was played.
  template <class Done>
  bool listen(Done done, bool echo_marks) {
    while (auto m = c.read()) {
      EXPECT_FALSE(m->binary) << "media streams are JSON text";
      EXPECT_EQ(m->j.value("streamSid", ""), k_sid);
      const auto event = m->type();
      if (event == "media") {
        namespace b64 = beast::detail::base64;
        const std::string payload = m->j["media"]["payload"];
        std::vector<std::uint8_t> bytes(b64::decoded_size(payload.size()));
        bytes.resize(b64::decode(bytes.data(), payload.data(), payload.size()).first);
        for (auto s : mulaw_decode(bytes)) reply.push_back(s);
      } else if (event == "mark") {
        marks.push_back(m->j["mark"]["name"]);
        if (echo_marks) c.send_json({{"event", "mark"}, {"streamSid", k_sid}, {"mark", m->j["mark"]}});
      }
      if (done(*m)) return true;
    }
    return false;
  }

  void stop() { c.send_json({{"event", "stop"}, {"streamSid", k_sid}, {"stop", {{"callSid", "CA0123"}}}}); }

  ws_client c;
  int status = -1;
  std::vector<std::int16_t> reply;  // 8 kHz, as heard on the phone
  std::vector<std::string> marks;

 private:
  int seq_ = 0;
  int chunk_ = 0;
};

double rms(std::span<const std::int16_t> pcm) {
  double sum = 0;
  for (auto s : pcm) sum += static_cast<double>(s) * s;
  return pcm.empty() ? 0 : std::sqrt(sum / static_cast<double>(pcm.size()));
}

TEST(media_stream_call, a_spoken_question_gets_spoken_reply_audio_with_marks_the_session_hears_as_playout) {
  engine_knobs knobs;
  knobs.reply = [](const engine::chat_request&) { return std::string("It is ten past four."); };
  test_server ts({}, knobs);
  call_simulator call(ts.port());
  ASSERT_EQ(call.status, 0);
  call.start();
  call.speak(k_one_question);
  call.speak({{'.', 300}});
  ASSERT_TRUE(call.listen([](const message& m) { return m.type() == "mark"; }, true));
  // The turn completes once the reply has played out (barge-in is on by default): by the marks
  // the phone echoes, or the session's real-time estimate.
  for (int i = 0; i < 400 && ts.srv->stats().n_turns == 0; ++i) std::this_thread::sleep_for(50ms);
  call.stop();
  EXPECT_FALSE(call.listen([](const message&) { return false; }, true)) << "the stream closes after stop";
  EXPECT_TRUE(call.c.closed());
  EXPECT_FALSE(call.reply.empty());
  EXPECT_GT(rms(call.reply), 100.0) << "the reply is audible after μ-law";
  ASSERT_FALSE(call.marks.empty());
  EXPECT_EQ(call.marks.back().rfind("parley-", 0), 0u);
  const auto stats = ts.srv->stats();
  EXPECT_EQ(stats.n_sessions_total, 1u);
  EXPECT_EQ(stats.n_turns, 1u);
}

TEST(media_stream_call, barge_in_sends_clear_and_no_audio_of_the_cut_reply_follows) {
  engine_knobs knobs;
  knobs.transcripts = {"tell me a story", ""};  // the barge-in itself is heard as nothing
  server_config config;
  config.barge_in.min_speech_ms = 150;
  config.barge_in.resume_within_ms = 0;  // a barge-in with no words would resume the reply (tests/agent)
  test_server ts(config, knobs);
  call_simulator call(ts.port());
  ASSERT_EQ(call.status, 0);
  call.start();
  call.speak(k_one_question);
  // The reply arrives; the phone is still playing it (no marks echoed) when the caller talks over it.
  ASSERT_TRUE(call.listen([](const message& m) { return m.type() == "mark"; }, false));
  call.speak({{'S', 800}, {'.', 800}});
  ASSERT_TRUE(call.listen([](const message& m) { return m.type() == "clear"; }, false))
      << "closed=" << call.c.closed() << " timed_out=" << call.c.timed_out();
  const auto i_clear = call.c.log.size() - 1;
  call.speak({{'.', 600}});
  call.stop();
  call.listen([](const message&) { return false; }, false);
  for (std::size_t i = i_clear + 1; i < call.c.log.size(); ++i) {
    EXPECT_NE(call.c.log[i].type(), "media") << "audio of the cut reply after clear";
  }
  EXPECT_EQ(call.c.count("clear"), 1u);
  EXPECT_EQ(ts.srv->stats().n_barge_ins, 1u);
}

TEST(media_stream_call, keys_pressed_become_one_typed_turn_and_the_call_context_reaches_the_model) {
  std::mutex mu;
  std::vector<std::string> asked;
  std::string instructions;
  engine_knobs knobs;
  knobs.reply = [&](const engine::chat_request& r) {
    std::lock_guard lock(mu);
    asked.push_back(r.messages.back().content);
    instructions = r.messages.front().content;
    return std::string("Order four two is on its way.");
  };
  test_server ts({}, knobs);
  call_simulator call(ts.port());
  ASSERT_EQ(call.status, 0);
  call.start({{"context", "The caller is Ann Lee, order 42."}});
  for (char key : {'4', '2', '#'}) call.press(key);
  ASSERT_TRUE(call.listen([](const message& m) { return m.type() == "mark"; }, true));
  EXPECT_FALSE(call.reply.empty());
  std::lock_guard lock(mu);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_NE(asked[0].find("42"), std::string::npos) << asked[0];
  EXPECT_NE(instructions.find("The caller is Ann Lee, order 42."), std::string::npos) << instructions;
}

TEST(media_stream_call, a_token_may_come_in_start_since_providers_stream_urls_carry_no_query) {
  server_config config;
  config.bearer_token = "s3cret";
  test_server ts(config);
  {  // no token anywhere: the upgrade is accepted, start without the token closes with 1008
    call_simulator call(ts.port());
    ASSERT_EQ(call.status, 0);
    call.start();
    EXPECT_FALSE(call.listen([](const message&) { return false; }, false));
    EXPECT_EQ(call.c.close_code(), 1008);
  }
  {  // a wrong token in the upgrade is refused there, as on /ws
    call_simulator call(ts.port(), "/v1/media-stream?access_token=wrong");
    EXPECT_EQ(call.status, 401);
  }
  {  // the token in start: the call goes on
    call_simulator call(ts.port());
    ASSERT_EQ(call.status, 0);
    call.start({{"access_token", "s3cret"}});
    call.speak(k_one_question);
    EXPECT_TRUE(call.listen([](const message& m) { return m.type() == "media"; }, false));
  }
  EXPECT_EQ(ts.srv->stats().n_sessions_total, 2u) << "the refused upgrade opened none";
}

TEST(media_stream_call, a_format_other_than_8khz_mulaw_is_refused_with_a_reason) {
  test_server ts;
  call_simulator call(ts.port());
  ASSERT_EQ(call.status, 0);
  call.c.send_json({{"event", "start"},
                    {"streamSid", k_sid},
                    {"start", {{"streamSid", k_sid}, {"mediaFormat", {{"encoding", "audio/x-l16"}, {"sampleRate", 16000}}}}}});
  EXPECT_FALSE(call.listen([](const message&) { return false; }, false));
  EXPECT_EQ(call.c.close_code(), 1008);
}

}  // namespace
}  // namespace parley::net
