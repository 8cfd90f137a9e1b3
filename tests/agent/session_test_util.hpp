// Fixtures of the session tests: scripted input audio, an event recorder, mock engines.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/any_io_executor.hpp>
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "filler_test_util.hpp"
#include "parley/agent/session.hpp"
#include "parley/engines/mock/mock_engines.hpp"

namespace parley::agent::testing {

// ---- fixtures ------------------------------------------------------------------------------

// Input audio: silence and speech-like stretches (the mock TTS voice, which the WebRTC VAD hears as voiced).
inline std::vector<std::int16_t> script_audio(std::initializer_list<std::pair<char, double>> parts) {
  std::vector<std::int16_t> pcm;
  for (auto [what, ms] : parts) {
    const auto n = static_cast<std::size_t>(ms_to_samples(ms));
    if (what == 'S') {
      auto voice = mock::speechlike_pcm(n, k_input_rate_hz, 800);  // offset: start mid-syllable
      pcm.insert(pcm.end(), voice.begin(), voice.end());
    } else {
      pcm.insert(pcm.end(), n, 0);
    }
  }
  return pcm;
}

// The shared recorder, with lookups by event type.
struct session_recorder : recorder {
  // Inside wait_for() predicates the mutex is already held: use the *_locked variants there.
  template <class T>
  bool has_locked() const {
    return std::any_of(events.begin(), events.end(), [](const event& e) { return std::holds_alternative<T>(e.body); });
  }
  template <class T>
  std::vector<std::size_t> indices_locked() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (std::holds_alternative<T>(events[i].body)) out.push_back(i);
    }
    return out;
  }
  template <class T>
  std::vector<std::size_t> indices() {
    std::lock_guard lock(mutex);
    return indices_locked<T>();
  }
  // The texts of the user turns committed, in order.
  std::vector<std::string> committed_texts() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto i : indices_locked<user_turn_committed>()) out.push_back(std::get<user_turn_committed>(events[i].body).text);
    return out;
  }
  template <class T>
  std::size_t first() {
    auto v = indices<T>();
    return v.empty() ? SIZE_MAX : v.front();
  }
  template <class T>
  std::size_t last() {
    auto v = indices<T>();
    return v.empty() ? SIZE_MAX : v.back();
  }
};

struct engine_knobs {
  std::vector<std::string> transcripts = {"what time is it"};
  mock::llm_profile llm{"test", mock::latency_dist::fixed(5), 400.0, 0.0};  // 2.5 ms per token
  double tts_rtf = 0.0;
  mock::reply_fn reply;
  std::vector<double> finalize_ms;  // per utterance; empty: every transcript at once
  std::vector<double> confidences;  // the recognizer's, per utterance; empty: none
};

struct mock_set {
  std::shared_ptr<mock::mock_recognizer> asr;
  std::shared_ptr<mock::mock_chat_model> llm;
  std::shared_ptr<mock::mock_synthesizer> tts;
  engine::engine_set set() const { return {asr, llm, tts}; }
};

inline mock_set make_engines(boost::asio::any_io_executor ex, engine_knobs k = {}) {
  return {std::make_shared<mock::mock_recognizer>(mock::recognizer_config{
              .executor = ex, .transcripts = k.transcripts, .confidences = k.confidences, .finalize_ms = k.finalize_ms}),
          std::make_shared<mock::mock_chat_model>(mock::chat_config{.executor = ex, .profile = k.llm, .reply = k.reply}),
          std::make_shared<mock::mock_synthesizer>(
              mock::synthesizer_config{.executor = ex, .realtime_factor = k.tts_rtf})};
}

inline std::unique_ptr<session> make_session(boost::asio::any_io_executor ex, const mock_set& engines, session_recorder& rec,
                                      pipeline_mode mode = pipeline_mode::streaming,
                                      std::shared_ptr<bulk_lane> input_lane = nullptr) {
  session_options options;
  options.mode = mode;
  options.input_lane = std::move(input_lane);
  options.input_queue_chunks = 100'000;  // the tests push audio far faster than real time
  auto s = session::create(ex, engines.set(), options, rec.callbacks());
  EXPECT_TRUE(s) << (s ? "" : s.error().describe());
  return s ? std::move(*s) : nullptr;
}

inline void push_in_frames(session& s, const std::vector<std::int16_t>& pcm) {
  for (std::size_t i = 0; i < pcm.size(); i += 320) {
    s.push_audio(std::span<const std::int16_t>(pcm).subspan(i, std::min<std::size_t>(320, pcm.size() - i)));
  }
}

// A recognizer with one scripted partial per utterance: `partial` once `after_ms` of audio was
// fed, and `final_text` at finish(). The test waits for that partial before it sends the silence,
// so the policy has the words when the silence comes, however fast the audio is pushed.
class scripted_asr final : public engine::recognizer {
 public:
  scripted_asr(std::string partial, std::string final_text, double after_ms)
      : partial_(std::move(partial)), final_(std::move(final_text)), after_(ms_to_samples(after_ms)) {}
  std::string name() const override { return "scripted"; }
  engine::recognizer_caps caps() const override { return {.sample_rate_hz = 16000, .streaming = true, .partials = true}; }
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override {
    return std::unique_ptr<engine::recognizer_stream>(new stream(*this, std::move(events)));
  }

 private:
  class stream final : public engine::recognizer_stream {
   public:
    stream(const scripted_asr& asr, engine::recognizer_events events) : asr_(asr), events_(std::move(events)) {}
    void feed(std::span<const std::int16_t> samples) override {
      fed_ += static_cast<media_time>(samples.size());
      if (!said_ && fed_ >= asr_.after_) {
        said_ = true;
        events_.on_partial(asr_.partial_, 0.9);
      }
    }
    void finish() override { events_.on_final(engine::recognized{asr_.final_, std::nullopt}); }
    void cancel() override {}

   private:
    const scripted_asr& asr_;
    engine::recognizer_events events_;
    media_time fed_ = 0;
    bool said_ = false;
  };
  std::string partial_, final_;
  media_time after_;
};

inline const auto k_one_question = {std::pair{'.', 500.0}, std::pair{'S', 1200.0}, std::pair{'.', 1000.0}};
// Two utterances 600 ms apart: the second ends its turn while the first one's reply streams.
inline const auto k_two_quick_utterances = {std::pair{'.', 300.0}, std::pair{'S', 800.0}, std::pair{'.', 600.0},
                                     std::pair{'S', 800.0}, std::pair{'.', 800.0}};

}  // namespace parley::agent::testing
