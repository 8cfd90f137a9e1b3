// agent/clip_transcriber: what the recognizer is given (the pre-roll from the onset, or all of a
// clip without one), and the three ways it ends without a transcript (error, timeout, stop).
#include "parley/agent/clip_transcriber.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "session_test_util.hpp"

namespace parley::agent {
namespace {

using namespace testing;
using namespace std::chrono_literals;

// Records what it was fed; answers finish() with `text`, an error, or never.
class recording_asr final : public engine::recognizer {
 public:
  enum class answer { text, error, never };
  explicit recording_asr(answer a) : answer_(a) {}
  std::string name() const override { return "recording"; }
  engine::recognizer_caps caps() const override { return {}; }
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override {
    return std::unique_ptr<engine::recognizer_stream>(new stream(*this, std::move(events)));
  }
  std::atomic<std::size_t> n_fed{0};
  std::atomic<bool> cancelled{false};

 private:
  class stream final : public engine::recognizer_stream {
   public:
    stream(recording_asr& asr, engine::recognizer_events events) : asr_(asr), events_(std::move(events)) {}
    void feed(std::span<const std::int16_t> samples) override { asr_.n_fed += samples.size(); }
    void finish() override {
      if (asr_.answer_ == answer::text) events_.on_final(engine::recognized{"hello there", 0.75});
      if (asr_.answer_ == answer::error) events_.on_final(make_error(errc::engine_failure, "decoder broke"));
    }
    void cancel() override { asr_.cancelled = true; }

   private:
    recording_asr& asr_;
    engine::recognizer_events events_;
  };
  answer answer_;
};

TEST(clip_transcriber, the_recognizer_gets_the_preroll_and_everything_after_the_onset) {
  recording_asr asr(recording_asr::answer::text);
  const auto clip = script_audio(k_one_question);  // 500 ms silence, 1200 ms speech, 1000 ms silence
  auto heard = transcribe_clip(asr, clip, {.preroll_ms = 300.0});
  ASSERT_TRUE(heard) << heard.error().describe();
  EXPECT_EQ(heard->heard.text, "hello there");
  EXPECT_EQ(heard->heard.confidence, 0.75);
  EXPECT_TRUE(heard->speech_found);
  ASSERT_TRUE(heard->snr_db);
  EXPECT_DOUBLE_EQ(heard->duration_s, 2.7);
  // Not the leading silence beyond the pre-roll: the onset is decided a little after the speech
  // starts (the VAD and the endpointer's minimum speech), and the 300 ms before it are given.
  const auto from_speech_start = clip.size() - static_cast<std::size_t>(ms_to_samples(500.0));
  EXPECT_LE(asr.n_fed.load(), from_speech_start + static_cast<std::size_t>(ms_to_samples(300.0 + 20.0)));
  EXPECT_GE(asr.n_fed.load(), from_speech_start + static_cast<std::size_t>(ms_to_samples(300.0 - 200.0)));
}

TEST(clip_transcriber, a_clip_without_speech_is_given_whole) {
  recording_asr asr(recording_asr::answer::text);
  const auto clip = script_audio({{'.', 1500.0}});
  auto heard = transcribe_clip(asr, clip, {});
  ASSERT_TRUE(heard);
  EXPECT_FALSE(heard->speech_found);
  EXPECT_FALSE(heard->snr_db);
  EXPECT_EQ(asr.n_fed.load(), clip.size());
}

TEST(clip_transcriber, errors_timeouts_and_stops_end_it) {
  const auto clip = script_audio(k_one_question);
  recording_asr broken(recording_asr::answer::error);
  auto failed = transcribe_clip(broken, clip, {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, errc::engine_failure);

  recording_asr silent(recording_asr::answer::never);
  auto late = transcribe_clip(silent, clip, {.wait = 50ms});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, errc::timeout);
  EXPECT_TRUE(silent.cancelled);

  recording_asr stopped(recording_asr::answer::never);
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    stop.request_stop();
  });
  auto cancelled = transcribe_clip(stopped, clip, {.wait = 60s}, stop.get_token());
  stopper.join();
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, errc::cancelled);
  EXPECT_TRUE(stopped.cancelled);

  std::stop_source already;
  already.request_stop();
  recording_asr unused(recording_asr::answer::text);
  auto none = transcribe_clip(unused, clip, {}, already.get_token());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::cancelled);
}

}  // namespace
}  // namespace parley::agent
