// The realtime server end to end, turns: a spoken turn streamed event by event, input and output
// resampling, text turns, the filler, barge-in and response.cancel. Mock engines on 127.0.0.1.
#include <gtest/gtest.h>


#include "server_fixture.hpp"

namespace parley::net {
namespace {

using namespace test;

TEST(server, spoken_turn_streams_transcript_reply_audio_and_metrics) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  auto created = c.read_until("session.created");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->j["protocol"], 1);
  EXPECT_EQ(created->j["session"]["input_sample_rate_hz"], k_rate);

  ASSERT_FALSE(c.send_audio(script_audio(k_one_question)));
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished")) << "closed=" << c.closed() << " timed_out=" << c.timed_out();

  const auto i_started = c.index_of("input_audio_buffer.speech_started");
  const auto i_stopped = c.index_of("input_audio_buffer.speech_stopped");
  const auto i_final = c.index_of("conversation.item.input_audio_transcription.completed");
  const auto i_item = c.index_of("conversation.item.created");
  const auto i_response = c.index_of("response.created");
  const auto i_delta = c.index_of("response.text.delta");
  const auto i_audio_start = c.index_of("response.audio.start");
  const auto i_first_frame = c.index_of("<audio>");
  const auto i_audio_done = c.index_of("response.audio.done");
  const auto i_done = c.index_of("response.done");
  const auto i_metrics = c.index_of("turn.metrics");
  ASSERT_NE(i_first_frame, SIZE_MAX);
  ASSERT_NE(i_metrics, SIZE_MAX);
  EXPECT_LT(i_started, i_stopped);
  EXPECT_LT(i_stopped, i_final);
  EXPECT_LT(i_final, i_item);
  EXPECT_LT(i_item, i_response);
  EXPECT_LT(i_response, i_delta);
  EXPECT_LT(i_audio_start, i_first_frame);
  EXPECT_LT(i_first_frame, i_audio_done);
  EXPECT_LT(i_audio_done, i_done);
  EXPECT_EQ(c.log[i_final].j["transcript"], "what time is it");
  EXPECT_EQ(c.log[i_done].j["text"], mock::default_mock_reply("what time is it"));

  // Every frame belongs to the response's generation, in order, without gaps.
  const auto generation = c.log[i_response].j["generation"].get<std::uint64_t>();
  EXPECT_EQ(c.log[i_audio_start].j["generation"], generation);
  EXPECT_EQ(c.log[i_audio_start].j["sample_rate_hz"], k_rate);
  std::uint64_t offset = 0;
  for (const auto& m : c.log) {
    if (!m.binary) continue;
    EXPECT_EQ(m.frame.generation, generation);
    EXPECT_EQ(m.frame.offset_samples, offset);
    offset += m.frame.samples.size();
  }
  EXPECT_GT(offset, 0u);
  EXPECT_EQ(c.log[i_audio_done].j["n_samples"], offset);

  const auto& timeline = c.log[i_metrics].j["timeline"];
  EXPECT_TRUE(timeline["metrics_ms"]["ttfa"].is_number());
  EXPECT_TRUE(timeline["stamps_ms"]["t_speech_end"].is_number());
  c.close();
}

TEST(server, input_at_48khz_is_resampled_and_output_follows_the_requested_rate) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(48000, {{"output_sample_rate_hz", 24000}});
  ASSERT_TRUE(c.read_until("session.created"));
  ASSERT_FALSE(c.send_audio(script_audio(k_one_question, 48000), 960));
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished"));
  const auto i_final = c.index_of("conversation.item.input_audio_transcription.completed");
  ASSERT_NE(i_final, SIZE_MAX) << "the 48 kHz speech was heard";
  const auto i_start = c.index_of("response.audio.start");
  ASSERT_NE(i_start, SIZE_MAX);
  EXPECT_EQ(c.log[i_start].j["sample_rate_hz"], 24000);
}

TEST(server, text_input_gets_a_streamed_reply) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_json({{"type", "conversation.item.create"},
               {"item", {{"type", "message"}, {"role", "user"}, {"content", {{{"type", "input_text"}, {"text", "hello there"}}}}}}});
  auto done = c.play_out_reply();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->j["text"], mock::default_mock_reply("hello there"));
  EXPECT_NE(c.index_of("conversation.item.created"), SIZE_MAX);
  EXPECT_NE(c.index_of("response.text.delta"), SIZE_MAX);
  EXPECT_NE(c.index_of("<audio>"), SIZE_MAX);
  ASSERT_TRUE(c.read_until("turn.metrics"));
}

TEST(server, a_late_first_token_plays_the_filler_the_server_was_given) {
  server_config config;
  config.session.budgets.llm_ttft_ms = 50;  // the mock model's first token comes after 400 ms
  engine_knobs knobs;
  knobs.llm = mock::llm_profile{"slow", mock::latency_dist::fixed(400), 400.0, 0.0};
  test_server ts(config, knobs, /*with_engines=*/false);
  const std::size_t word = 16000 / 5;  // 200 ms words, at the mock voice's rate
  agent::filler_clip clip{"One moment.", 16000, std::vector<std::int16_t>(2 * word, 1234), {word, 2 * word}};
  ts.srv->set_engines(make_engines(ts.io.executor(), knobs), nullptr,
                      std::make_shared<const agent::filler_bank>(agent::filler_bank{clip, clip}));
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_json({{"type", "conversation.item.create"}, {"text", "tell me something"}});
  ASSERT_TRUE(c.play_out_reply());
  auto metrics = c.read_until("turn.metrics");
  ASSERT_TRUE(metrics);
  const auto& timeline = metrics->j["timeline"];
  EXPECT_EQ(timeline["flags"]["filler"], true) << timeline.dump();
}

// Barge-in: speech while the reply plays interrupts it; after response.interrupted no audio of
// that generation arrives. `tts_rtf` 0.5: the reply is still being synthesized (the session's
// interrupt cuts it); 0: it was fully generated and only the client still plays it.
void barge_in_case(double tts_rtf, bool with_playout_reports) {
  engine_knobs knobs;
  knobs.transcripts = {"tell me a story", ""};  // the barge-in itself is heard as nothing: no second reply
  knobs.tts_rtf = tts_rtf;
  test_server ts({}, knobs);
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(k_rate, {{"barge_in", {{"enabled", true}, {"min_speech_ms", 150}}}});
  ASSERT_TRUE(c.read_until("session.created"));
  ASSERT_FALSE(c.send_audio(script_audio(k_one_question)));
  auto start = c.read_until("response.audio.start");
  ASSERT_TRUE(start);
  const auto generation = start->j["generation"].get<std::uint64_t>();
  if (with_playout_reports) {
    c.send_json({{"type", "playout.progress"}, {"generation", generation}, {"played_samples", 320}});
  }
  // The user talks over the reply.
  ASSERT_FALSE(c.send_audio(script_audio({{'S', 800}, {'.', 800}})));
  auto interrupted = c.read_until("response.interrupted");
  ASSERT_TRUE(interrupted) << "closed=" << c.closed() << " timed_out=" << c.timed_out();
  EXPECT_EQ(interrupted->j["generation"], generation);
  EXPECT_EQ(interrupted->j["reason"], "barge_in");
  if (with_playout_reports) {
    EXPECT_EQ(interrupted->j["played_samples"], 320);
  }
  const auto i_interrupted = c.log.size() - 1;

  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished"));
  EXPECT_EQ(c.count("response.interrupted"), 1u) << "one interrupt message per generation";
  for (std::size_t i = i_interrupted + 1; i < c.log.size(); ++i) {
    if (c.log[i].binary) {
      EXPECT_NE(c.log[i].frame.generation, generation) << "stale audio after response.interrupted";
    }
    if (c.log[i].type() == "response.done") {
      EXPECT_NE(c.log[i].j["generation"], generation);
    }
  }
  const auto metrics = ts.srv->metrics_text();
  EXPECT_EQ(ts.srv->stats().n_barge_ins, 1u);
  EXPECT_NE(metrics.find("parley_barge_in_time_to_interrupt_milliseconds_count 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("parley_interrupts_total{reason=\"barge_in\"} 1\n"), std::string::npos);
}

TEST(server, barge_in_interrupts_a_reply_still_being_synthesized) { barge_in_case(0.5, false); }
TEST(server, barge_in_interrupts_a_reply_the_client_is_still_playing) { barge_in_case(0.0, true); }

TEST(server, response_cancel_interrupts_explicitly) {
  engine_knobs knobs;
  knobs.tts_rtf = 0.5;
  test_server ts({}, knobs);
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_json({{"type", "conversation.item.create"}, {"text", "a long answer please"}});
  auto start = c.read_until("response.audio.start");
  ASSERT_TRUE(start);
  c.send_json({{"type", "response.cancel"}});
  auto interrupted = c.read_until("response.interrupted");
  ASSERT_TRUE(interrupted);
  EXPECT_EQ(interrupted->j["generation"], start->j["generation"]);
  EXPECT_EQ(interrupted->j["reason"], "client");
}


// The assistant file's name and greeting: the page names the assistant before a session starts,
// and every session opens with the greeting, spoken like any reply (the user may talk over it).
TEST(server, a_session_opens_with_the_assistants_greeting) {
  server_config config;
  config.assistant_name = "Luigi's";
  config.session.greeting = "Hello, this is Luigi's pizzeria. How can I help?";
  test_server ts(config);
  const auto info = json::parse(http_get(ts.port(), "/v1/assistant").body);
  EXPECT_EQ(info["name"], "Luigi's");
  EXPECT_EQ(info["greeting"], config.session.greeting);

  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  const auto done = c.read_until("response.done");
  ASSERT_TRUE(done) << "closed=" << c.closed() << " timed_out=" << c.timed_out();
  EXPECT_EQ(done->j["text"], config.session.greeting);
  EXPECT_GT(c.count("<audio>"), 0u) << "the greeting is spoken, not only sent as text";
  EXPECT_EQ(c.count("conversation.item.input_audio_transcription.completed"), 0u) << "nobody spoke yet";
}

}  // namespace
}  // namespace parley::net
