// routing/speech_fallback: the recognizer and the synthesizer over a chain of providers — which
// one answers, fallback on failure and past the budget, the words a fallback voice still says
// (never one already heard), resampling to one rate, health steering the first choice, and
// cancellation. Scripted engines on background threads; bounded waits, no timing assertions.
#include "parley/routing/speech_fallback.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "io_threads.hpp"

namespace parley::routing {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

constexpr auto k_wait = 10s;

using testing::io_threads;

// A recognizer answering `text` (or failing, or never answering) on a thread of its own.
class scripted_recognizer final : public engine::recognizer {
 public:
  enum class mode { answer, fail, never };
  scripted_recognizer(std::string text, mode m) : text_(std::move(text)), mode_(m) {}
  std::string name() const override { return text_; }
  engine::recognizer_caps caps() const override { return {.sample_rate_hz = 16000, .streaming = true, .partials = false}; }
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override {
    ++n_opened;
    return std::unique_ptr<engine::recognizer_stream>(new stream(*this, std::move(events)));
  }
  std::atomic<int> n_opened{0};
  std::atomic<std::size_t> n_fed{0};

 private:
  class stream final : public engine::recognizer_stream {
   public:
    stream(scripted_recognizer& r, engine::recognizer_events ev) : r_(r), ev_(std::move(ev)) {}
    ~stream() override {
      if (answer_.joinable()) answer_.join();
    }
    void feed(std::span<const std::int16_t> s) override { r_.n_fed += s.size(); }
    void finish() override {
      if (r_.mode_ == mode::never) return;
      answer_ = std::thread([this] {
        if (r_.mode_ == mode::answer) {
          ev_.on_final(engine::recognized{r_.text_, std::nullopt});
        } else {
          ev_.on_final(make_error(errc::unavailable, "connection refused"));
        }
      });
    }
    void cancel() override {}

   private:
    scripted_recognizer& r_;
    engine::recognizer_events ev_;
    std::thread answer_;
  };
  std::string text_;
  mode mode_;
};

struct final_box {
  std::mutex m;
  std::condition_variable cv;
  std::optional<result<engine::recognized>> value;
  void set(result<engine::recognized> r) {
    std::lock_guard l(m);
    value.emplace(std::move(r));
    cv.notify_all();
  }
  bool wait() {
    std::unique_lock l(m);
    return cv.wait_for(l, k_wait, [&] { return value.has_value(); });
  }
};

std::shared_ptr<provider_health> health() { return std::make_shared<provider_health>(steady_clock_source::instance()); }

result<engine::recognized> recognize(fallback_recognizer& asr, std::size_t n_samples = 1600) {
  final_box box;
  auto s = asr.open({.on_partial = {}, .on_final = [&](result<engine::recognized> r) { box.set(std::move(r)); }});
  if (!s) return s.error();
  std::vector<std::int16_t> audio(n_samples, 100);
  (*s)->feed(audio);
  (*s)->finish();
  if (!box.wait()) return make_error(errc::timeout, "no final transcript");
  return std::move(*box.value);
}

TEST(speech_fallback, the_first_recognizer_answers_when_it_can) {
  io_threads io;
  auto cloud = std::make_shared<scripted_recognizer>("from the cloud", scripted_recognizer::mode::answer);
  auto local = std::make_shared<scripted_recognizer>("from here", scripted_recognizer::mode::answer);
  std::vector<speech_outcome> outcomes;
  std::mutex m;
  auto asr = fallback_recognizer::create({.executor = io.executor(), .budget_ms = 0.0,
                                          .on_outcome = [&](const speech_outcome& o) {
                                            std::lock_guard l(m);
                                            outcomes.push_back(o);
                                          }},
                                         {{"cloud", cloud, health()}, {"local", local, health()}});
  ASSERT_TRUE(asr);
  auto r = recognize(**asr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "from the cloud");
  EXPECT_EQ(local->n_opened, 0) << "the fallback is not asked while the first one works";
  std::lock_guard l(m);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].served_by, "cloud");
  EXPECT_FALSE(outcomes[0].fell_back);
}

TEST(speech_fallback, a_failed_recognizer_hands_the_whole_utterance_to_the_next) {
  io_threads io;
  auto cloud = std::make_shared<scripted_recognizer>("", scripted_recognizer::mode::fail);
  auto local = std::make_shared<scripted_recognizer>("from here", scripted_recognizer::mode::answer);
  auto cloud_health = health();
  speech_outcome last;
  std::mutex m;
  auto asr = fallback_recognizer::create({.executor = io.executor(), .on_outcome = [&](const speech_outcome& o) {
                                            std::lock_guard l(m);
                                            last = o;
                                          }},
                                         {{"cloud", cloud, cloud_health}, {"local", local, health()}});
  ASSERT_TRUE(asr);
  auto r = recognize(**asr, 4000);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->text, "from here");
  EXPECT_EQ(local->n_fed, 4000u) << "the fallback hears all of the utterance";
  {
    std::lock_guard l(m);
    EXPECT_TRUE(last.fell_back);
    EXPECT_EQ(last.served_by, "local");
    EXPECT_NE(last.why.find("connection refused"), std::string::npos) << last.why;
  }
  // After enough failures the breaker opens: the cloud is not even asked.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(recognize(**asr));
  const int asked = cloud->n_opened;
  ASSERT_TRUE(recognize(**asr));
  EXPECT_EQ(cloud->n_opened, asked) << "an unhealthy provider is skipped";
  EXPECT_FALSE(cloud_health->healthy());
}

TEST(speech_fallback, a_recognizer_past_its_budget_is_abandoned) {
  io_threads io;
  auto cloud = std::make_shared<scripted_recognizer>("too late", scripted_recognizer::mode::never);
  auto local = std::make_shared<scripted_recognizer>("from here", scripted_recognizer::mode::answer);
  auto asr = fallback_recognizer::create({.executor = io.executor(), .budget_ms = 30.0},
                                         {{"cloud", cloud, health()}, {"local", local, health()}});
  ASSERT_TRUE(asr);
  auto r = recognize(**asr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "from here");
}

TEST(speech_fallback, every_recognizer_failing_is_an_error_and_cancel_means_silence) {
  io_threads io;
  auto a = std::make_shared<scripted_recognizer>("", scripted_recognizer::mode::fail);
  auto b = std::make_shared<scripted_recognizer>("", scripted_recognizer::mode::fail);
  auto asr = fallback_recognizer::create({.executor = io.executor()}, {{"a", a, health()}, {"b", b, health()}});
  ASSERT_TRUE(asr);
  auto r = recognize(**asr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);

  auto slow = std::make_shared<scripted_recognizer>("x", scripted_recognizer::mode::never);
  auto asr2 = fallback_recognizer::create({.executor = io.executor(), .budget_ms = 20.0},
                                          {{"slow", slow, health()}, {"b", b, health()}});
  std::atomic<int> n_callbacks{0};
  auto s = (*asr2)->open({.on_partial = {}, .on_final = [&](result<engine::recognized>) { ++n_callbacks; }});
  ASSERT_TRUE(s);
  (*s)->finish();
  (*s)->cancel();
  std::this_thread::sleep_for(100ms);  // past the budget: nothing may come now
  EXPECT_EQ(n_callbacks, 0);
}

// A synthesizer that speaks `n_chunks` chunks of 10 ms at `rate_hz` (each sample = its index in
// the segment), then ends — or fails after `fail_after` chunks, or never speaks. It records the
// texts it was given. Like a real engine's worker, a request's thread keeps the caller's
// callbacks until it exits (`linger` after on_done).
class scripted_voice final : public engine::synthesizer {
 public:
  scripted_voice(int rate_hz, int n_chunks, int fail_after = -1, bool silent = false)
      : rate_hz_(rate_hz), n_chunks_(n_chunks), fail_after_(fail_after), silent_(silent) {}
  ~scripted_voice() override {
    for (auto& t : threads_) {
      if (t.get_id() == std::this_thread::get_id()) {
        if (destroyed_on_own_thread) *destroyed_on_own_thread = true;
        t.detach();  // what a real engine could not do safely: recorded, and the test fails
      } else {
        t.join();
      }
    }
    if (destroyed) *destroyed = true;
  }
  std::string name() const override { return "scripted"; }
  engine::synthesizer_caps caps() const override { return {.sample_rate_hz = rate_hz_, .streaming = true}; }
  void synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) override {
    std::lock_guard l(m_);
    texts.push_back(text);
    threads_.emplace_back([this, events = std::move(events), stop] {
      if (silent_) {
        while (!stop.stop_requested()) std::this_thread::sleep_for(2ms);
        events.on_done(make_error(errc::cancelled, "cancelled"));
        return;
      }
      const auto n = static_cast<std::size_t>(rate_hz_ / 100);
      for (int c = 0; c < n_chunks_; ++c) {
        if (stop.stop_requested()) return events.on_done(make_error(errc::cancelled, "cancelled"));
        if (c == fail_after_) return events.on_done(make_error(errc::unavailable, "connection lost"));
        std::vector<std::int16_t> pcm(n, 1000);
        events.on_audio(pcm);
      }
      events.on_done({});
      std::this_thread::sleep_for(linger);
    });
  }
  std::vector<std::string> texts;
  std::chrono::milliseconds linger{0};
  std::shared_ptr<std::atomic<bool>> destroyed, destroyed_on_own_thread;

 private:
  std::mutex m_;
  int rate_hz_, n_chunks_, fail_after_;
  bool silent_;
  std::vector<std::thread> threads_;
};

struct spoken {
  std::mutex m;
  std::condition_variable cv;
  std::size_t n_samples = 0;
  std::optional<status> done;
  int n_done = 0;
};

void speak(fallback_synthesizer& tts, const std::string& text, spoken& out, std::stop_token stop = {}) {
  tts.synthesize(text,
                 {.on_audio =
                      [&](std::span<const std::int16_t> pcm) {
                        std::lock_guard l(out.m);
                        out.n_samples += pcm.size();
                      },
                  .on_done =
                      [&](status s) {
                        std::lock_guard l(out.m);
                        out.done = std::move(s);
                        ++out.n_done;
                        out.cv.notify_all();
                      }},
                 stop);
  std::unique_lock l(out.m);
  out.cv.wait_for(l, k_wait, [&] { return out.done.has_value(); });
}

TEST(speech_fallback, a_voice_that_fails_before_any_audio_is_replaced_for_the_whole_text) {
  io_threads io;
  auto cloud = std::make_shared<scripted_voice>(24000, 10, /*fail_after=*/0);
  auto local = std::make_shared<scripted_voice>(16000, 10);
  auto tts = fallback_synthesizer::create({.executor = io.executor()}, {{"cloud", cloud, health()}, {"local", local, health()}});
  ASSERT_TRUE(tts);
  EXPECT_EQ((*tts)->caps().sample_rate_hz, 24000) << "callers get the first provider's rate";
  spoken out;
  speak(**tts, "Your order has shipped.", out);
  ASSERT_TRUE(out.done && *out.done);
  ASSERT_EQ(local->texts.size(), 1u);
  EXPECT_EQ(local->texts[0], "Your order has shipped.");
  // 100 ms at 16 kHz, resampled to 24 kHz: 2400 samples (the resampler's edges aside).
  EXPECT_NEAR(static_cast<double>(out.n_samples), 2400.0, 100.0);
}

TEST(speech_fallback, a_voice_that_dies_mid_sentence_is_continued_after_the_words_heard) {
  io_threads io;
  // 20 chunks of 10 ms heard (200 ms), at 65 ms a character: about 3 of the text's characters.
  auto cloud = std::make_shared<scripted_voice>(16000, 100, /*fail_after=*/20);
  auto local = std::make_shared<scripted_voice>(16000, 10);
  auto tts = fallback_synthesizer::create({.executor = io.executor(), .ms_per_char = 10.0},
                                          {{"cloud", cloud, health()}, {"local", local, health()}});
  ASSERT_TRUE(tts);
  spoken out;
  // 200 ms at 10 ms a character: the first 20 characters were heard ("Your order has shipp"),
  // so "shipped" was being spoken: the fallback starts after it.
  speak(**tts, "Your order has shipped and arrives on Monday.", out);
  ASSERT_TRUE(out.done && *out.done) << (out.done ? out.done->error().describe() : "no end");
  ASSERT_EQ(local->texts.size(), 1u);
  EXPECT_EQ(local->texts[0], "and arrives on Monday.");
  EXPECT_EQ(out.n_samples, 20u * 160u + 10u * 160u);
  EXPECT_EQ(out.n_done, 1);
}

TEST(speech_fallback, a_silent_voice_past_its_budget_is_replaced_and_stop_ends_at_once) {
  io_threads io;
  auto cloud = std::make_shared<scripted_voice>(16000, 10, -1, /*silent=*/true);
  auto local = std::make_shared<scripted_voice>(16000, 5);
  auto tts = fallback_synthesizer::create({.executor = io.executor(), .budget_ms = 30.0},
                                          {{"cloud", cloud, health()}, {"local", local, health()}});
  ASSERT_TRUE(tts);
  spoken out;
  speak(**tts, "Hello there.", out);
  ASSERT_TRUE(out.done && *out.done);
  EXPECT_EQ(out.n_samples, 5u * 160u);

  auto silent_only = fallback_synthesizer::create({.executor = io.executor()}, {{"cloud", cloud, health()}});
  std::stop_source stop;
  spoken cut;
  std::thread stopper([&] {
    std::this_thread::sleep_for(30ms);
    stop.request_stop();
  });
  speak(**silent_only, "Hello there.", cut, stop.get_token());
  stopper.join();
  ASSERT_TRUE(cut.done);
  EXPECT_EQ(cut.done->error().code, errc::cancelled);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(cut.n_done, 1) << "on_done exactly once";
}

TEST(speech_fallback, a_voice_is_never_released_on_its_own_thread) {
  // The caller lets go of everything while the voice's thread still holds the callbacks of a
  // finished request. Those must not be what keeps the voice alive: its last owner would then be
  // its own thread, and a real engine's destructor joins that thread (std::terminate).
  io_threads io;
  auto destroyed = std::make_shared<std::atomic<bool>>(false);
  auto on_own_thread = std::make_shared<std::atomic<bool>>(false);
  {
    auto voice = std::make_shared<scripted_voice>(16000, 3);
    voice->linger = 100ms;
    voice->destroyed = destroyed;
    voice->destroyed_on_own_thread = on_own_thread;
    auto tts = fallback_synthesizer::create({.executor = io.executor()}, {{"only", voice, health()}});
    ASSERT_TRUE(tts);
    spoken out;
    speak(**tts, "Hello.", out);
    ASSERT_TRUE(out.done && *out.done);
  }
  for (int i = 0; i < 200 && !*destroyed; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(*destroyed);
  EXPECT_FALSE(*on_own_thread);
}

TEST(speech_fallback, words_not_yet_heard_never_repeats_a_word) {
  EXPECT_EQ(words_not_yet_heard("one two three", 0.0), "one two three");
  EXPECT_EQ(words_not_yet_heard("one two three", 0.1), "two three") << "'one' was being said: skipped";
  EXPECT_EQ(words_not_yet_heard("one two three", 4.0 / 13.0), "two three") << "at a word's start";
  EXPECT_EQ(words_not_yet_heard("one two three", 0.5), "three");
  EXPECT_EQ(words_not_yet_heard("one two three", 0.9), "");
  EXPECT_EQ(words_not_yet_heard("one two three", 1.5), "");
}

}  // namespace
}  // namespace parley::routing
