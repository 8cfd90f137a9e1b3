// End-to-end tests of the espeak-ng adapter with the real engine and the installed espeak-ng-data.
#include "parley/engines/espeak/espeak_synthesizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "parley/audio/vad.hpp"

namespace parley::espeak {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr auto k_wait = 30s;  // an upper bound for "it happened", never a timing assertion

constexpr const char* k_sentence = "The quick brown fox jumps over the lazy dog near the quiet river bank.";  // 13 words
constexpr int k_sentence_words = 13;
constexpr const char* k_long_sentence =
    "This is a much longer sentence, written so that synthesis takes a while and produces many chunks of "
    "audio, which gives a cancellation request plenty of time to arrive in the middle of it.";

/// Collects one request's callbacks and checks the contract: chunks, then exactly one on_done.
class capture {
 public:
  engine::synthesizer_events events(std::stop_source* stop_after_first_chunk = nullptr) {
    return {.on_audio =
                [this, stop_after_first_chunk](std::span<const std::int16_t> pcm) {
                  std::lock_guard lock(mutex_);
                  if (done_) audio_after_done_ = true;
                  if (n_chunks_ == 0) {
                    t_first_chunk_ = clock_type::now();
                    first_chunk_samples_ = pcm.size();
                  }
                  ++n_chunks_;
                  pcm_.insert(pcm_.end(), pcm.begin(), pcm.end());
                  if (stop_after_first_chunk) stop_after_first_chunk->request_stop();
                },
            .on_done =
                [this](status s) {
                  std::lock_guard lock(mutex_);
                  ++n_done_;
                  done_ = true;
                  t_done_ = clock_type::now();
                  result_ = std::move(s);
                  cv_.notify_all();
                }};
  }

  bool wait() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, k_wait, [this] { return done_; });
  }

  status result() const {
    std::lock_guard lock(mutex_);
    return *result_;
  }
  std::vector<std::int16_t> pcm() const {
    std::lock_guard lock(mutex_);
    return pcm_;
  }
  std::size_t n_chunks() const {
    std::lock_guard lock(mutex_);
    return n_chunks_;
  }
  int n_done() const {
    std::lock_guard lock(mutex_);
    return n_done_;
  }
  bool audio_after_done() const {
    std::lock_guard lock(mutex_);
    return audio_after_done_;
  }
  std::size_t first_chunk_samples() const {
    std::lock_guard lock(mutex_);
    return first_chunk_samples_;
  }
  bool first_chunk_before_done() const {
    std::lock_guard lock(mutex_);
    return n_chunks_ > 0 && t_first_chunk_ < t_done_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::int16_t> pcm_;
  std::size_t n_chunks_ = 0;
  std::size_t first_chunk_samples_ = 0;
  int n_done_ = 0;
  bool done_ = false;
  bool audio_after_done_ = false;
  std::optional<status> result_;
  clock_type::time_point t_first_chunk_{}, t_done_{};
};

/// espeak-ng's output length for one text varies a little from call to call (up to ~2% of it:
/// state carried between utterances); another voice or rate changes it far more.
void expect_about_equal(std::size_t actual, std::size_t expected, const std::string& what) {
  EXPECT_NEAR(static_cast<double>(actual), static_cast<double>(expected), 0.04 * static_cast<double>(expected)) << what;
}

double rms(std::span<const std::int16_t> pcm) {
  double sum = 0.0;
  for (const std::int16_t s : pcm) sum += static_cast<double>(s) * s;
  return pcm.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(pcm.size()));
}

std::shared_ptr<espeak_synthesizer> make(espeak_config config = {}) {
  auto tts = espeak_synthesizer::create(std::move(config));
  EXPECT_TRUE(tts.has_value()) << (tts ? "" : tts.error().describe());
  return tts ? *tts : nullptr;
}

std::unique_ptr<capture> speak(espeak_synthesizer& tts, std::string text, std::stop_token stop = {}) {
  auto c = std::make_unique<capture>();
  tts.synthesize(std::move(text), c->events(), std::move(stop));
  EXPECT_TRUE(c->wait());
  return c;
}

TEST(espeak_synthesizer, lists_many_languages) {
  const auto langs = espeak_synthesizer::voices();
  EXPECT_GT(langs.size(), 50u);
  for (const char* l : {"en", "en-us", "en-gb", "de", "fr", "fr-fr", "es", "cmn"}) {
    EXPECT_NE(std::ranges::find(langs, l), langs.end()) << l;
  }
  EXPECT_TRUE(std::ranges::is_sorted(langs));
}

TEST(espeak_synthesizer, speaks_english_in_chunks) {
  auto tts = make();
  ASSERT_TRUE(tts);
  EXPECT_EQ(tts->name(), "espeak:en-us");
  EXPECT_EQ(tts->language(), "en-us");
  EXPECT_EQ(tts->native_rate_hz(), 22050);
  EXPECT_EQ(tts->caps().sample_rate_hz, 22050);
  EXPECT_TRUE(tts->caps().streaming);
  const auto c = speak(*tts, k_sentence);
  ASSERT_TRUE(c->result().has_value()) << c->result().error().describe();
  const auto pcm = c->pcm();
  const double seconds = static_cast<double>(pcm.size()) / 22050.0;
  EXPECT_GT(seconds / k_sentence_words, 0.25) << seconds << " s";
  EXPECT_LT(seconds / k_sentence_words, 0.6) << seconds << " s";
  EXPECT_GT(rms(pcm), 300.0);
  EXPECT_GT(c->n_chunks(), 1u);
  EXPECT_LT(c->first_chunk_samples(), pcm.size() / 4);
  EXPECT_TRUE(c->first_chunk_before_done());
  EXPECT_EQ(c->n_done(), 1);
  EXPECT_FALSE(c->audio_after_done());
}

TEST(espeak_synthesizer, speaks_other_languages) {
  for (const auto& [voice, text] : std::vector<std::pair<std::string, std::string>>{
           {"de", "Guten Morgen, wie geht es Ihnen heute?"},
           {"fr", "Bonjour, comment allez-vous aujourd'hui ?"},
           {"es", "Buenos d\u00EDas, \u00BFc\u00F3mo est\u00E1s hoy?"},
           {"en-gb", "Good morning, how are you today?"}}) {
    auto tts = make({.voice = voice});
    ASSERT_TRUE(tts) << voice;
    EXPECT_EQ(tts->language(), voice);
    const auto c = speak(*tts, text);
    ASSERT_TRUE(c->result().has_value()) << voice;
    EXPECT_GT(c->pcm().size(), 22050u) << voice;  // over a second
    EXPECT_GT(rms(c->pcm()), 300.0) << voice;
  }
}

TEST(espeak_synthesizer, unknown_voice_is_a_clear_error_at_create) {
  const auto tts = espeak_synthesizer::create({.voice = "klingon-xx"});
  ASSERT_FALSE(tts.has_value());
  EXPECT_EQ(tts.error().code, errc::not_found);
  EXPECT_NE(tts.error().message.find("klingon-xx"), std::string::npos);
  EXPECT_NE(tts.error().message.find("en-us"), std::string::npos);  // lists what exists
}

TEST(espeak_synthesizer, missing_data_folder_is_a_clear_error_at_create) {
  const auto tts = espeak_synthesizer::create({.data_dir = "/nonexistent/espeak-ng-data"});
  ASSERT_FALSE(tts.has_value());
  EXPECT_TRUE(tts.error().code == errc::not_found || tts.error().code == errc::invalid_argument)
      << tts.error().describe();
  EXPECT_NE(tts.error().message.find("/nonexistent/espeak-ng-data"), std::string::npos);
}

TEST(espeak_synthesizer, bad_numbers_are_refused) {
  EXPECT_EQ(espeak_synthesizer::create({.output_rate_hz = 100}).error().code, errc::invalid_argument);
  EXPECT_EQ(espeak_synthesizer::create({.words_per_minute = 5}).error().code, errc::invalid_argument);
  EXPECT_EQ(espeak_synthesizer::create({.max_queued = 0}).error().code, errc::invalid_argument);
}

TEST(espeak_synthesizer, resamples_to_16_khz) {
  auto native = make();
  auto narrow = make({.output_rate_hz = 16000});
  ASSERT_TRUE(native && narrow);
  EXPECT_EQ(narrow->caps().sample_rate_hz, 16000);
  const auto a = speak(*native, k_sentence);
  const auto b = speak(*narrow, k_sentence);
  ASSERT_TRUE(a->result().has_value() && b->result().has_value());
  const double native_s = static_cast<double>(a->pcm().size()) / 22050.0;
  const double narrow_s = static_cast<double>(b->pcm().size()) / 16000.0;
  EXPECT_NEAR(narrow_s, native_s, 0.005);
  EXPECT_GT(b->n_chunks(), 1u);

  auto vad = audio::webrtc_vad::create({.aggressiveness = 2});
  ASSERT_TRUE(vad.has_value());
  const auto pcm = b->pcm();
  std::size_t n_frames = 0, n_voiced = 0;
  for (std::size_t i = 0; i + 320 <= pcm.size(); i += 320, ++n_frames) {
    if (vad->is_speech(std::span<const std::int16_t>(pcm).subspan(i, 320))) ++n_voiced;
  }
  EXPECT_GT(static_cast<double>(n_voiced) / static_cast<double>(n_frames), 0.7) << n_voiced << "/" << n_frames;
}

TEST(espeak_synthesizer, speaking_rate_changes_duration) {
  auto normal = make();
  auto fast = make({.words_per_minute = 300});
  ASSERT_TRUE(normal && fast);
  const auto a = speak(*normal, k_sentence);
  const auto b = speak(*fast, k_sentence);
  EXPECT_LT(static_cast<double>(b->pcm().size()), 0.8 * static_cast<double>(a->pcm().size()));
  const auto again = speak(*normal, k_sentence);  // the rate is set per request
  expect_about_equal(again->pcm().size(), a->pcm().size(), "normal rate again");
}

TEST(espeak_synthesizer, cancel_mid_sentence_stops_within_one_chunk) {
  auto tts = make();
  ASSERT_TRUE(tts);
  const auto full = speak(*tts, k_long_sentence);
  ASSERT_TRUE(full->result().has_value());

  std::stop_source stop;
  capture c;
  tts->synthesize(k_long_sentence, c.events(&stop), stop.get_token());
  ASSERT_TRUE(c.wait());
  ASSERT_FALSE(c.result().has_value());
  EXPECT_EQ(c.result().error().code, errc::cancelled);
  EXPECT_EQ(c.n_chunks(), 1u);
  EXPECT_LT(c.pcm().size(), full->pcm().size() / 4);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(c.n_done(), 1);
  EXPECT_FALSE(c.audio_after_done());

  // espeak-ng is left in a clean state: the same sentence again gives the same audio length.
  const auto again = speak(*tts, k_long_sentence);
  ASSERT_TRUE(again->result().has_value());
  expect_about_equal(again->pcm().size(), full->pcm().size(), "after a cancel");
}

TEST(espeak_synthesizer, cancel_before_start_synthesizes_nothing) {
  auto tts = make();
  ASSERT_TRUE(tts);
  std::stop_source stop;
  stop.request_stop();
  const auto c = speak(*tts, k_sentence, stop.get_token());
  ASSERT_FALSE(c->result().has_value());
  EXPECT_EQ(c->result().error().code, errc::cancelled);
  EXPECT_EQ(c->n_chunks(), 0u);
}

TEST(espeak_synthesizer, eight_requests_from_four_threads_and_two_voices_all_complete) {
  const std::vector<std::string> texts = {
      "Good morning, how can I help you today?",  "The weather will be sunny this afternoon.",
      "Your meeting starts in ten minutes.",      "I have set a timer for five minutes.",
      "The train leaves from platform three.",    "Please remember to take your umbrella.",
      "The library closes early on Sundays.",     "Would you like me to play some music?"};
  auto en = make();
  auto de = make({.voice = "de"});
  ASSERT_TRUE(en && de);
  std::vector<std::size_t> expected_en, expected_de;
  for (const auto& t : texts) {
    expected_en.push_back(speak(*en, t)->pcm().size());
    expected_de.push_back(speak(*de, t)->pcm().size());
  }
  std::vector<std::unique_ptr<capture>> captures;
  for (std::size_t i = 0; i < 2 * texts.size(); ++i) captures.push_back(std::make_unique<capture>());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 2; ++k) {
        const std::size_t i = static_cast<std::size_t>(t * 2 + k);
        en->synthesize(texts[i], captures[i]->events(), {});
        de->synthesize(texts[i], captures[texts.size() + i]->events(), {});
      }
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    for (const bool german : {false, true}) {
      auto& c = *captures[german ? texts.size() + i : i];
      ASSERT_TRUE(c.wait());
      EXPECT_TRUE(c.result().has_value());
      EXPECT_EQ(c.n_done(), 1);
      // Each request got its own instance's voice although the two interleaved.
      expect_about_equal(c.pcm().size(), german ? expected_de[i] : expected_en[i], texts[i] + (german ? " (de)" : " (en)"));
    }
  }
}

TEST(espeak_synthesizer, full_queue_answers_unavailable_at_once) {
  auto tts = make({.max_queued = 2});
  ASSERT_TRUE(tts);
  std::vector<std::unique_ptr<capture>> captures;
  for (int i = 0; i < 5; ++i) {
    captures.push_back(std::make_unique<capture>());
    tts->synthesize(k_long_sentence, captures.back()->events(), {});
  }
  int n_unavailable = 0;
  for (auto& c : captures) {
    ASSERT_TRUE(c->wait());
    EXPECT_EQ(c->n_done(), 1);
    if (!c->result().has_value()) {
      EXPECT_EQ(c->result().error().code, errc::unavailable);
      ++n_unavailable;
    }
  }
  EXPECT_GE(n_unavailable, 1);
  // The count drops right after each on_done returns.
  const auto deadline = clock_type::now() + k_wait;
  while (tts->n_outstanding() != 0 && clock_type::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(tts->n_outstanding(), 0u);
}

TEST(espeak_synthesizer, destruction_completes_every_request_once) {
  std::vector<std::unique_ptr<capture>> captures;
  {
    auto tts = make();
    ASSERT_TRUE(tts);
    for (int i = 0; i < 6; ++i) {
      captures.push_back(std::make_unique<capture>());
      tts->synthesize(k_long_sentence, captures.back()->events(), {});
    }
  }  // returns only once every request has had its on_done
  for (auto& c : captures) {
    EXPECT_EQ(c->n_done(), 1);
    EXPECT_FALSE(c->audio_after_done());
  }
}

TEST(espeak_synthesizer, may_be_destroyed_from_its_own_callback) {
  auto tts = make();
  ASSERT_TRUE(tts);
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  auto* raw = tts.get();
  std::shared_ptr<espeak_synthesizer> holder = std::move(tts);
  raw->synthesize(k_sentence,
                  {.on_audio = {},
                   .on_done =
                       [&](status) {
                         holder.reset();  // the last reference goes away on the engine thread
                         std::lock_guard lock(m);
                         done = true;
                         cv.notify_all();
                       }},
                  {});
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, k_wait, [&] { return done; }));
  lock.unlock();
  auto next = make();  // a new engine thread starts cleanly afterwards
  ASSERT_TRUE(next);
  EXPECT_TRUE(speak(*next, k_sentence)->result().has_value());
}

TEST(espeak_synthesizer, text_without_words_completes_silently) {
  auto tts = make();
  ASSERT_TRUE(tts);
  for (const std::string text : {"", "   ", "...", "\xFF\xFE"}) {
    const auto c = speak(*tts, text);
    EXPECT_TRUE(c->result().has_value()) << text;
    EXPECT_EQ(c->n_chunks(), 0u) << text;
  }
}

}  // namespace
}  // namespace parley::espeak
