// The realtime server end to end, protocol errors and limits: error events that keep the
// connection working, invalid audio, the input rate limit, oversized messages, slow clients, and
// graceful shutdown (the turn in flight finishes, then 1001).
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "server_fixture.hpp"

namespace parley::net {
namespace {

using namespace test;

TEST(server, protocol_errors_get_error_events_and_the_connection_keeps_working) {
  test_server ts;
  ws_client c, other;
  ASSERT_EQ(c.connect(ts.port()), 0);
  ASSERT_EQ(other.connect(ts.port()), 0);

  const std::vector<std::int16_t> pcm(320, 0);
  ASSERT_FALSE(c.send_audio(pcm));
  auto e = c.read_until("error");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->j["error"]["code"], "session_not_started");

  c.send_json({{"type", "playout.progress"}, {"generation", 1}, {"played_samples", 1}});
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "session_not_started");

  c.send_text("{this is not json");
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "invalid_json");
  c.send_json({{"type", "no.such.event"}, {"event_id", "ev-7"}});
  e = c.read_until("error");
  EXPECT_EQ(e->j["error"]["code"], "unknown_type");
  EXPECT_EQ(e->j["error"]["event_id"], "ev-7");
  c.send_json({{"type", "session.update"}, {"session", {{"input_sample_rate_hz", 1000}}}});
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "unsupported_sample_rate");

  // Still serving: the session starts now, and other connections never noticed.
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.start();
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "session_already_started");
  c.send_json({{"type", "playout.progress"}, {"generation", 99}, {"played_samples", 1}});
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "unknown_generation");
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("input_audio_buffer.committed"));
  ASSERT_FALSE(c.send_audio(pcm));
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "input_ended");

  other.start();
  ASSERT_TRUE(other.read_until("session.created"));
  other.send_json({{"type", "conversation.item.create"}, {"text", "are you there"}});
  ASSERT_TRUE(other.read_until("response.done"));
  EXPECT_GE(ts.srv->stats().n_protocol_errors, 7u);
  EXPECT_NE(ts.srv->metrics_text().find("parley_protocol_errors_total{code=\"invalid_json\"} 1\n"), std::string::npos);
}

TEST(server, odd_sized_audio_is_an_invalid_audio_error) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_bytes(std::vector<std::uint8_t>(5, 0));  // not whole PCM16 samples
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "invalid_audio");
  c.send_text("");  // an empty text message is invalid JSON, and harmless
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "invalid_json");
  c.send_json({{"type", "conversation.item.create"}, {"text", "fine"}});
  EXPECT_TRUE(c.read_until("response.done"));
}

TEST(server, input_faster_than_allowed_is_rate_limited) {
  // test_server disables the limit; this test runs its own server with it on.
  server_config config;
  io_threads io;
  config.host = "127.0.0.1";
  config.port = 0;
  config.max_input_speed = 1.0;  // real time, after a 2 s burst
  auto s = server::start(io.executor(), config);
  ASSERT_TRUE(s);
  (*s)->set_engines(make_engines(io.executor()));
  ws_client c;
  ASSERT_EQ(c.connect((*s)->port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  ASSERT_FALSE(c.send_audio(std::vector<std::int16_t>(6 * k_rate, 0)));  // 6 s of audio at once
  auto e = c.read_until("error");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->j["error"]["code"], "rate_limited");
  c.close();
  (*s)->stop();
}

TEST(server, oversized_message_closes_with_1009_and_others_keep_going) {
  server_config config;
  config.max_message_bytes = 4096;
  test_server ts(config);
  ws_client c, other;
  ASSERT_EQ(c.connect(ts.port()), 0);
  ASSERT_EQ(other.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  (void)c.send_audio(std::vector<std::int16_t>(4096, 0), 4096);  // 8 KiB in one message
  while (c.read()) {
  }
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.close_code(), 1009);

  other.start();
  ASSERT_TRUE(other.read_until("session.created"));
  other.send_json({{"type", "conversation.item.create"}, {"text", "still there"}});
  EXPECT_TRUE(other.read_until("response.done"));
}

TEST(server, a_client_that_does_not_read_is_dropped_when_its_send_queue_is_full) {
  server_config config;
  config.max_send_queue_bytes = 1024 * 1024;
  engine_knobs knobs;
  knobs.llm = mock::llm_profile::zero();
  knobs.reply = [](const engine::chat_request& r) {
    // "long": ~6 minutes of audio (~12 MB), produced at once by the instant mock TTS.
    if (r.last_user_text() != "long") return mock::default_mock_reply(r.last_user_text());
    std::string text;
    for (int i = 0; i < 100; ++i) text += "This is sentence number " + std::to_string(i) + " of a very long answer. ";
    return text;
  };
  test_server ts(config, knobs);
  ws_client slow, other;
  ASSERT_EQ(slow.connect(ts.port()), 0);
  ASSERT_EQ(other.connect(ts.port()), 0);
  slow.start();
  ASSERT_TRUE(slow.read_until("session.created"));
  slow.send_json({{"type", "conversation.item.create"}, {"text", "long"}});  // and never reads
  const auto deadline = std::chrono::steady_clock::now() + k_wait;
  while (ts.srv->stats().n_slow_client_drops == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(ts.srv->stats().n_slow_client_drops, 1u);
  while (slow.read()) {
  }
  EXPECT_TRUE(slow.closed()) << "the server closed the connection";

  other.start();  // everyone else is served as before
  ASSERT_TRUE(other.read_until("session.created"));
  other.send_json({{"type", "conversation.item.create"}, {"text", "hi"}});
  EXPECT_TRUE(other.read_until("response.done")) << other.closed() << " " << other.timed_out() << " " << other.error().message();
}

TEST(server, graceful_shutdown_finishes_the_turn_in_flight_then_closes_with_1001) {
  engine_knobs knobs;
  knobs.llm = {"slow", mock::latency_dist::fixed(200), 100.0, 0.0};  // first token after 200 ms
  test_server ts({}, knobs);
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_json({{"type", "conversation.item.create"}, {"text", "one more thing"}});
  ASSERT_TRUE(c.read_until("conversation.item.created"));

  auto stopped = std::async(std::launch::async, [&] { ts.srv->stop(); });
  while (c.read()) {
  }
  stopped.get();
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.close_code(), 1001);
  EXPECT_NE(c.index_of("response.done"), SIZE_MAX) << "the turn in flight finished before the close";
  EXPECT_NE(c.index_of("session.finished"), SIZE_MAX);
  EXPECT_FALSE(ts.srv->ready());
  ws_client late;
  EXPECT_NE(late.connect(ts.port()), 0) << "no longer accepting";
}

TEST(server, an_idle_connection_without_a_session_closes_with_1001_on_shutdown) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  auto stopped = std::async(std::launch::async, [&] { ts.srv->stop(); });
  while (c.read()) {
  }
  stopped.get();
  EXPECT_EQ(c.close_code(), 1001);
}

}  // namespace
}  // namespace parley::net
