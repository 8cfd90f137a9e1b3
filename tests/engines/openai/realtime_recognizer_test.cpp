// engines/openai/realtime_recognizer against a real `parley serve` (net::server on 127.0.0.1 with
// mock engines; tests/net/server_fixture.hpp) as the provider, over its /v1/realtime transcription
// sessions: utterances streamed in 20 ms appends on one warm session, partials while they are
// spoken, a too-short utterance, a cancelled one, a refused key, and the provider dying mid-utterance.
// Bounded waits; no timing assertions.
#include "parley/engines/openai/realtime_recognizer.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "../../net/server_fixture.hpp"

namespace parley::openai {
namespace {

using namespace net::test;

speech_config config_for(std::uint16_t port, std::string key = "") {
  speech_config c;
  c.provider.base_url = "ws://127.0.0.1:" + std::to_string(port) + "/v1";
  c.provider.api_key = std::move(key);
  c.provider.api_key_env = "PARLEY_TEST_NO_SUCH_KEY";
  return c;
}

struct heard_box {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> partials;
  std::optional<result<engine::recognized>> final;
  int n_finals = 0;

  engine::recognizer_events events() {
    return {.on_partial =
                [this](std::string text, double) {
                  std::lock_guard l(m);
                  partials.push_back(std::move(text));
                },
            .on_final =
                [this](result<engine::recognized> r) {
                  std::lock_guard l(m);
                  final.emplace(std::move(r));
                  ++n_finals;
                  cv.notify_all();
                }};
  }
  bool wait() {
    std::unique_lock l(m);
    return cv.wait_for(l, k_wait, [&] { return final.has_value(); });
  }
};

/// Feeds `audio` in 20 ms pieces, paced at 4× real time (the provider decodes as it goes).
void feed_paced(engine::recognizer_stream& s, std::span<const std::int16_t> audio) {
  constexpr std::size_t piece = k_rate / 50;
  for (std::size_t at = 0; at < audio.size(); at += piece) {
    s.feed(audio.subspan(at, std::min(piece, audio.size() - at)));
    std::this_thread::sleep_for(5ms);
  }
}

result<engine::recognized> transcribe(realtime_recognizer& asr, std::span<const std::int16_t> audio, heard_box& box) {
  auto s = asr.open(box.events());
  if (!s) return s.error();
  feed_paced(**s, audio);
  (*s)->finish();
  if (!box.wait()) return make_error(errc::timeout, "no transcript");
  return *box.final;
}

TEST(realtime_recognizer, another_parley_transcribes_utterances_streamed_to_one_warm_session) {
  test_server provider({}, {.transcripts = {"what time is it", "where is my order"}});
  auto asr = realtime_recognizer::create(config_for(provider.port()));
  ASSERT_TRUE(asr) << asr.error().describe();
  EXPECT_TRUE((*asr)->caps().streaming);
  ASSERT_TRUE((*asr)->warm());
  EXPECT_EQ((*asr)->n_connects(), 1u);

  const auto audio = script_audio(k_one_question);
  heard_box first;
  auto one = transcribe(**asr, audio, first);
  ASSERT_TRUE(one) << one.error().describe();
  EXPECT_EQ(one->text, "what time is it");
  EXPECT_FALSE(one->confidence);
  {
    std::lock_guard l(first.m);
    ASSERT_FALSE(first.partials.empty()) << "the provider's transcript deltas arrive while the audio streams";
    for (const auto& p : first.partials) EXPECT_TRUE(std::string("what time is it").starts_with(p)) << p;
  }
  heard_box second;
  auto two = transcribe(**asr, audio, second);
  ASSERT_TRUE(two) << two.error().describe();
  EXPECT_EQ(two->text, "where is my order");
  EXPECT_EQ((*asr)->n_connects(), 1u) << "one transcription session serves one utterance after another";
  EXPECT_EQ(second.n_finals, 1);
}

TEST(realtime_recognizer, a_too_short_utterance_is_nothing_and_a_cancelled_one_leaves_the_session_usable) {
  test_server provider({}, {.transcripts = {"what time is it"}});
  auto asr = realtime_recognizer::create(config_for(provider.port()));
  ASSERT_TRUE(asr);
  ASSERT_TRUE((*asr)->warm());

  heard_box blip;
  auto s = (*asr)->open(blip.events());
  ASSERT_TRUE(s);
  const auto audio = script_audio(k_one_question);
  (*s)->feed(std::span(audio).first(k_rate / 20));  // 50 ms: under the protocol's 100 ms
  (*s)->finish();
  ASSERT_TRUE(blip.wait());
  ASSERT_TRUE(*blip.final);
  EXPECT_EQ((*blip.final)->text, "");

  heard_box dropped;
  auto c = (*asr)->open(dropped.events());
  ASSERT_TRUE(c);
  feed_paced(**c, std::span(audio).first(audio.size() / 2));
  (*c)->cancel();
  c->reset();
  {
    std::lock_guard l(dropped.m);
    EXPECT_EQ(dropped.n_finals, 0) << "nothing after cancel()";
  }

  heard_box after;
  auto heard = transcribe(**asr, audio, after);
  ASSERT_TRUE(heard) << heard.error().describe();
  EXPECT_EQ(heard->text, "what time is it");
  EXPECT_EQ((*asr)->n_connects(), 1u) << "the cleared session was reused";
}

TEST(realtime_recognizer, a_refused_key_and_a_provider_dying_mid_utterance_are_errors_that_say_why) {
  net::server_config with_token;
  with_token.bearer_token = "s3cret";
  auto provider = std::make_unique<test_server>(with_token, engine_knobs{.transcripts = {"what time is it"}});
  auto wrong = realtime_recognizer::create(config_for(provider->port(), "wrong"));
  ASSERT_TRUE(wrong);
  heard_box refused;
  auto r = transcribe(**wrong, script_audio(k_one_question), refused);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::engine_failure) << r.error().describe();
  EXPECT_NE(r.error().message.find("401"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("wrong"), std::string::npos) << "never the key: " << r.error().message;

  auto asr = realtime_recognizer::create(config_for(provider->port(), "s3cret"));
  ASSERT_TRUE(asr);
  ASSERT_TRUE((*asr)->warm());
  heard_box lost;
  auto s = (*asr)->open(lost.events());
  ASSERT_TRUE(s);
  const auto audio = script_audio(k_one_question);
  feed_paced(**s, std::span(audio).first(audio.size() / 2));
  provider.reset();  // the provider stops: its connections close
  // Before finish(): the failure is reported at once, so a fallback can take over mid-utterance.
  ASSERT_TRUE(lost.wait());
  ASSERT_FALSE(*lost.final);
  EXPECT_EQ(lost.final->error().code, errc::unavailable) << lost.final->error().describe();
  (*s)->finish();
  std::this_thread::sleep_for(50ms);
  std::lock_guard l(lost.m);
  EXPECT_EQ(lost.n_finals, 1);

  // Nobody listening any more: unavailable.
  heard_box nowhere;
  auto none = transcribe(**asr, audio, nowhere);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::unavailable) << none.error().describe();
}

}  // namespace
}  // namespace parley::openai
