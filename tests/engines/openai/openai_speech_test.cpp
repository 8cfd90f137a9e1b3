// engines/openai/openai_speech against a real `parley serve` (net::server on 127.0.0.1 with mock
// engines; tests/net/server_fixture.hpp) acting as the provider: a transcript per utterance, audio
// streamed at 24 kHz, one warm keep-alive connection, the provider's refusals as errors, a stop
// mid-sentence, and the provider dying mid-sentence. Bounded waits; no timing assertions.
#include "parley/engines/openai/openai_speech.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <thread>
#include <mutex>

#include "../../net/server_fixture.hpp"

namespace parley::openai {
namespace {

using namespace net::test;

speech_config config_for(std::uint16_t port, std::string key = "") {
  speech_config c;
  c.provider.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  c.provider.api_key = std::move(key);
  c.provider.api_key_env = "PARLEY_TEST_NO_SUCH_KEY";
  return c;
}

struct transcript_box {
  std::mutex m;
  std::condition_variable cv;
  std::optional<result<engine::recognized>> value;
};

result<engine::recognized> transcribe(openai_recognizer& asr, std::span<const std::int16_t> audio) {
  auto box = std::make_shared<transcript_box>();
  auto s = asr.open({.on_partial = {}, .on_final = [box](result<engine::recognized> r) {
                       std::lock_guard l(box->m);
                       box->value.emplace(std::move(r));
                       box->cv.notify_all();
                     }});
  if (!s) return s.error();
  (*s)->feed(audio);
  (*s)->finish();
  std::unique_lock l(box->m);
  if (!box->cv.wait_for(l, k_wait, [&] { return box->value.has_value(); })) return make_error(errc::timeout, "no answer");
  return std::move(*box->value);
}

struct voice_box {
  std::mutex m;
  std::condition_variable cv;
  std::size_t n_samples = 0;
  int n_done = 0;
  std::optional<status> done;
  std::function<void(std::size_t)> on_samples;  // called (unlocked) after each chunk
};

status speak(openai_synthesizer& tts, const std::string& text, voice_box& box, std::stop_token stop = {}) {
  tts.synthesize(text,
                 {.on_audio =
                      [&box](std::span<const std::int16_t> pcm) {
                        std::size_t n = 0;
                        {
                          std::lock_guard l(box.m);
                          n = box.n_samples += pcm.size();
                        }
                        if (box.on_samples) box.on_samples(n);
                      },
                  .on_done =
                      [&box](status s) {
                        std::lock_guard l(box.m);
                        box.done = std::move(s);
                        ++box.n_done;
                        box.cv.notify_all();
                      }},
                 stop);
  std::unique_lock l(box.m);
  if (!box.cv.wait_for(l, k_wait, [&] { return box.done.has_value(); })) return make_error(errc::timeout, "no end");
  return *box.done;
}

TEST(openai_speech, another_parley_serves_as_recognizer_and_voice) {
  test_server provider({}, {.transcripts = {"what time is it", "where is my order"}});
  auto asr = openai_recognizer::create(config_for(provider.port()));
  auto tts = openai_synthesizer::create(config_for(provider.port()));
  ASSERT_TRUE(asr && tts);
  ASSERT_TRUE((*asr)->warm());
  ASSERT_TRUE((*tts)->warm());
  EXPECT_EQ((*tts)->caps().sample_rate_hz, 24000);
  EXPECT_FALSE((*asr)->caps().streaming);

  const auto audio = script_audio(k_one_question);
  auto first = transcribe(**asr, audio);
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_EQ(first->text, "what time is it");
  auto second = transcribe(**asr, audio);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->text, "where is my order");
  EXPECT_EQ((*asr)->n_connects(), 1u) << "the warm connection is kept alive and reused";

  voice_box box;
  ASSERT_TRUE(speak(**tts, "Hello there, how are you?", box));
  // The mock voice speaks 62 ms a character: 25 characters ≈ 1.55 s ≈ 37 200 samples at 24 kHz.
  EXPECT_NEAR(static_cast<double>(box.n_samples), 0.062 * 25 * 24000, 2400.0);
  EXPECT_EQ(box.n_done, 1);
  voice_box again;
  ASSERT_TRUE(speak(**tts, "Once more.", again));
  EXPECT_EQ((*tts)->n_connects(), 1u);
}

TEST(openai_speech, the_providers_refusals_are_errors_that_say_why) {
  net::server_config with_token;
  with_token.bearer_token = "s3cret";
  test_server provider(with_token);
  auto asr = openai_recognizer::create(config_for(provider.port(), "wrong"));
  auto tts = openai_synthesizer::create(config_for(provider.port(), "wrong"));
  ASSERT_TRUE(asr && tts);
  auto heard = transcribe(**asr, script_audio(k_one_question));
  ASSERT_FALSE(heard);
  EXPECT_EQ(heard.error().code, errc::engine_failure);
  EXPECT_NE(heard.error().message.find("401"), std::string::npos) << heard.error().message;
  voice_box box;
  auto said = speak(**tts, "Hello.", box);
  ASSERT_FALSE(said);
  EXPECT_EQ(said.error().code, errc::engine_failure);
  EXPECT_NE(said.error().message.find("401"), std::string::npos) << said.error().message;
  EXPECT_EQ(box.n_samples, 0u);

  // Nobody listening: unavailable, at once.
  std::uint16_t closed_port = 0;
  {
    test_server gone;
    closed_port = gone.port();
  }
  auto nowhere = openai_synthesizer::create(config_for(closed_port));
  voice_box none;
  auto refused = speak(**nowhere, "Hello.", none);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, errc::unavailable) << refused.error().describe();
}

TEST(openai_speech, a_stop_mid_sentence_and_a_provider_dying_mid_sentence_end_the_audio) {
  auto provider = std::make_unique<test_server>(net::server_config{}, engine_knobs{.tts_rtf = 1.0});  // real time
  auto tts = openai_synthesizer::create(config_for(provider->port()));
  ASSERT_TRUE(tts);
  const std::string long_text(200, 'a');  // ~12 s of mock speech, spoken in real time

  std::stop_source stop;
  voice_box stopped;
  stopped.on_samples = [&](std::size_t n) {
    if (n > 2400) stop.request_stop();  // after 100 ms of audio
  };
  auto s = speak(**tts, long_text, stopped, stop.get_token());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, errc::cancelled);
  EXPECT_EQ(stopped.n_done, 1);

  // The provider goes away mid-sentence (stopping it closes the connection).
  std::atomic<bool> audio_flowing{false};
  std::thread killer([&] {
    for (int i = 0; i < 1000 && !audio_flowing; ++i) std::this_thread::sleep_for(10ms);
    provider.reset();
  });
  voice_box cut;
  cut.on_samples = [&](std::size_t n) {
    if (n > 2400) audio_flowing = true;
  };
  auto lost = speak(**tts, long_text, cut);
  killer.join();
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, errc::unavailable) << lost.error().describe();
  EXPECT_NE(lost.error().message.find("ms of audio"), std::string::npos) << lost.error().message;
}

TEST(openai_speech, prepare_reopens_a_connection_the_provider_closed_while_idle) {
  net::server_config quick_idle;
  quick_idle.http_timeout_s = 0.2;  // the provider closes an idle keep-alive connection after this
  test_server provider(quick_idle);
  auto asr = openai_recognizer::create(config_for(provider.port()));
  ASSERT_TRUE(asr);
  ASSERT_TRUE((*asr)->warm());
  EXPECT_EQ((*asr)->n_connects(), 1u);
  std::this_thread::sleep_for(500ms);  // the provider has closed it by now
  (*asr)->prepare();                   // a session starts: returns at once, connects in the background
  for (int i = 0; i < 500 && (*asr)->n_connects() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ((*asr)->n_connects(), 2u) << "a new connection is opened ahead of the first utterance";
  auto heard = transcribe(**asr, script_audio(k_one_question));
  ASSERT_TRUE(heard) << heard.error().describe();
  EXPECT_EQ((*asr)->n_connects(), 2u) << "the utterance uses the prepared connection";
}

}  // namespace
}  // namespace parley::openai
