// End-to-end tests of the flite adapter with the real engine and its bundled voices.
#include "parley/engines/flite/flite_synthesizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "parley/audio/resampler.hpp"
#include "parley/audio/vad.hpp"

namespace parley::flite {
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

double rms(std::span<const std::int16_t> pcm) {
  double sum = 0.0;
  for (const std::int16_t s : pcm) sum += static_cast<double>(s) * s;
  return pcm.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(pcm.size()));
}

std::shared_ptr<flite_synthesizer> make(flite_config config = {}) {
  auto tts = flite_synthesizer::create(std::move(config));
  EXPECT_TRUE(tts.has_value()) << (tts ? "" : tts.error().describe());
  return tts ? *tts : nullptr;
}

/// Synthesizes `text` and waits for on_done.
std::unique_ptr<capture> speak(flite_synthesizer& tts, std::string text, std::stop_token stop = {}) {
  auto c = std::make_unique<capture>();
  tts.synthesize(std::move(text), c->events(), std::move(stop));
  EXPECT_TRUE(c->wait());
  return c;
}

TEST(flite_synthesizer, lists_the_bundled_voices_default_first) {
  const auto names = flite_synthesizer::voices();
  EXPECT_EQ(names, (std::vector<std::string>{"rms", "slt", "awb", "kal16", "kal"}));
  EXPECT_EQ(flite_synthesizer::default_voice(), "rms");
  EXPECT_EQ(flite_config{}.voice, flite_synthesizer::default_voice());
  EXPECT_EQ(flite_synthesizer::voice_infos().size(), names.size());
}

class flite_voice : public ::testing::TestWithParam<std::string> {};

TEST_P(flite_voice, speaks_a_sentence_in_chunks) {
  auto tts = make({.voice = GetParam()});
  ASSERT_TRUE(tts);
  const int rate = tts->caps().sample_rate_hz;
  EXPECT_EQ(rate, GetParam() == "kal" ? 8000 : 16000);
  EXPECT_EQ(rate, tts->native_rate_hz());
  EXPECT_TRUE(tts->caps().streaming);
  EXPECT_EQ(tts->name(), "flite:" + GetParam());

  const auto c = speak(*tts, k_sentence);
  ASSERT_TRUE(c->result().has_value()) << c->result().error().describe();
  const auto pcm = c->pcm();
  const double seconds = static_cast<double>(pcm.size()) / rate;
  EXPECT_GT(seconds / k_sentence_words, 0.25) << seconds << " s";
  EXPECT_LT(seconds / k_sentence_words, 0.6) << seconds << " s";
  EXPECT_GT(rms(pcm), 300.0);            // not silent
  EXPECT_GT(c->n_chunks(), 1u);          // streamed, not one block
  EXPECT_LT(c->first_chunk_samples(), pcm.size() / 4);
  EXPECT_TRUE(c->first_chunk_before_done());
  EXPECT_EQ(c->n_done(), 1);
  EXPECT_FALSE(c->audio_after_done());
}

INSTANTIATE_TEST_SUITE_P(voices, flite_voice, ::testing::ValuesIn(flite_synthesizer::voices()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

TEST(flite_synthesizer, chunk_ms_sets_the_chunk_size) {
  auto tts = make({.voice = "kal16", .chunk_ms = 20.0});
  ASSERT_TRUE(tts);
  const auto c = speak(*tts, k_sentence);
  ASSERT_TRUE(c->result().has_value());
  // flite hands over at least chunk_ms (20 ms = 320 samples), a little more at frame edges.
  EXPECT_GE(c->first_chunk_samples(), 320u);
  EXPECT_LT(c->first_chunk_samples(), 2u * 320u);
}

TEST(flite_synthesizer, unknown_voice_is_a_clear_error_at_create) {
  const auto tts = flite_synthesizer::create({.voice = "nosuch"});
  ASSERT_FALSE(tts.has_value());
  EXPECT_EQ(tts.error().code, errc::not_found);
  EXPECT_NE(tts.error().message.find("nosuch"), std::string::npos);
  EXPECT_NE(tts.error().message.find("rms, slt, awb, kal16, kal"), std::string::npos);
}

TEST(flite_synthesizer, long_voice_names_work) {
  const auto tts = flite_synthesizer::create({.voice = "cmu_us_slt"});
  ASSERT_TRUE(tts.has_value());
  EXPECT_EQ((*tts)->name(), "flite:slt");
}

TEST(flite_synthesizer, bad_numbers_are_refused) {
  EXPECT_EQ(flite_synthesizer::create({.n_workers = 0}).error().code, errc::invalid_argument);
  EXPECT_EQ(flite_synthesizer::create({.n_workers = 99}).error().code, errc::invalid_argument);
  EXPECT_EQ(flite_synthesizer::create({.output_rate_hz = 1000}).error().code, errc::invalid_argument);
  EXPECT_EQ(flite_synthesizer::create({.chunk_ms = 0.0}).error().code, errc::invalid_argument);
  EXPECT_EQ(flite_synthesizer::create({.max_queued = 0}).error().code, errc::invalid_argument);
}

TEST(flite_synthesizer, cancel_mid_sentence_stops_within_one_chunk) {
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
  EXPECT_EQ(c.n_chunks(), 1u);  // the stop came during chunk 1: nothing after it
  EXPECT_LT(c.pcm().size(), full->pcm().size() / 4);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(c.n_done(), 1);
  EXPECT_FALSE(c.audio_after_done());

  // The worker is fine afterwards.
  const auto again = speak(*tts, k_sentence);
  EXPECT_TRUE(again->result().has_value());
}

TEST(flite_synthesizer, cancel_before_start_synthesizes_nothing) {
  auto tts = make();
  ASSERT_TRUE(tts);
  std::stop_source stop;
  stop.request_stop();
  const auto c = speak(*tts, k_sentence, stop.get_token());
  ASSERT_FALSE(c->result().has_value());
  EXPECT_EQ(c->result().error().code, errc::cancelled);
  EXPECT_EQ(c->n_chunks(), 0u);
}

TEST(flite_synthesizer, a_queued_request_cancelled_while_waiting_is_never_synthesized) {
  auto tts = make({.n_workers = 1});
  ASSERT_TRUE(tts);
  capture first, second;
  std::stop_source stop_second;
  tts->synthesize(k_long_sentence, first.events(), {});
  tts->synthesize(k_long_sentence, second.events(), stop_second.get_token());
  stop_second.request_stop();
  ASSERT_TRUE(first.wait());
  ASSERT_TRUE(second.wait());
  EXPECT_TRUE(first.result().has_value());
  ASSERT_FALSE(second.result().has_value());
  EXPECT_EQ(second.result().error().code, errc::cancelled);
  EXPECT_EQ(second.n_chunks(), 0u);
}

TEST(flite_synthesizer, eight_requests_from_four_threads_all_complete) {
  const std::vector<std::string> texts = {
      "Good morning, how can I help you today?",  "The weather will be sunny this afternoon.",
      "Your meeting starts in ten minutes.",      "I have set a timer for five minutes.",
      "The train leaves from platform three.",    "Please remember to take your umbrella.",
      "The library closes early on Sundays.",     "Would you like me to play some music?"};
  // Reference lengths, one at a time. flite's durations are deterministic (its samples are not:
  // clustergen's noise excitation draws from the shared rand()), so lengths must match exactly —
  // without the first-clause split, whose pause trimming depends on sample values.
  auto serial = make({.n_workers = 1, .split_first_clause = false});
  ASSERT_TRUE(serial);
  std::vector<std::size_t> expected;
  for (const auto& t : texts) expected.push_back(speak(*serial, t)->pcm().size());

  struct variant {
    std::string voice;
    bool split;
  };
  for (const auto& [voice, split] : {variant{"rms", false}, variant{"kal16", false}, variant{"rms", true}}) {
    auto tts = make({.voice = voice, .n_workers = 4, .split_first_clause = split});
    ASSERT_TRUE(tts);
    std::vector<std::unique_ptr<capture>> captures;
    for (std::size_t i = 0; i < texts.size(); ++i) captures.push_back(std::make_unique<capture>());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < 2; ++k) {
          const std::size_t i = static_cast<std::size_t>(t * 2 + k);
          tts->synthesize(texts[i], captures[i]->events(), {});
        }
      });
    }
    for (auto& th : threads) th.join();
    for (std::size_t i = 0; i < texts.size(); ++i) {
      ASSERT_TRUE(captures[i]->wait()) << i;
      EXPECT_TRUE(captures[i]->result().has_value()) << i;
      EXPECT_EQ(captures[i]->n_done(), 1);
      EXPECT_GT(captures[i]->n_chunks(), 1u);
      if (voice == "rms" && !split) {
        EXPECT_EQ(captures[i]->pcm().size(), expected[i]) << texts[i];
      } else if (voice == "rms") {  // split: within the trimmed pause
        EXPECT_NEAR(static_cast<double>(captures[i]->pcm().size()), static_cast<double>(expected[i]), 0.15 * 16000.0);
      }
      EXPECT_GT(rms(captures[i]->pcm()), 300.0);
    }
  }
}

TEST(flite_synthesizer, full_queue_answers_unavailable_at_once) {
  auto tts = make({.n_workers = 1, .max_queued = 1});
  ASSERT_TRUE(tts);
  std::vector<std::unique_ptr<capture>> captures;
  for (int i = 0; i < 4; ++i) {
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
  EXPECT_GE(n_unavailable, 2);  // one running, one waiting, the rest refused
}

TEST(flite_synthesizer, resamples_to_the_requested_rate) {
  auto native = make({.voice = "kal"});
  auto wide = make({.voice = "kal", .output_rate_hz = 16000});
  ASSERT_TRUE(native && wide);
  EXPECT_EQ(wide->caps().sample_rate_hz, 16000);
  EXPECT_EQ(wide->native_rate_hz(), 8000);
  const auto a = speak(*native, k_sentence);
  const auto b = speak(*wide, k_sentence);
  ASSERT_TRUE(a->result().has_value() && b->result().has_value());
  const double native_s = static_cast<double>(a->pcm().size()) / 8000.0;
  const double wide_s = static_cast<double>(b->pcm().size()) / 16000.0;
  EXPECT_NEAR(wide_s, native_s, 0.005);
  EXPECT_GT(b->n_chunks(), 1u);
}

TEST(flite_synthesizer, output_is_speech_to_the_vad) {
  auto tts = make({.output_rate_hz = 16000});
  ASSERT_TRUE(tts);
  const auto c = speak(*tts, k_sentence);
  ASSERT_TRUE(c->result().has_value());
  const auto pcm = c->pcm();
  auto vad = audio::webrtc_vad::create({.aggressiveness = 2});
  ASSERT_TRUE(vad.has_value());
  std::size_t n_frames = 0, n_voiced = 0;
  for (std::size_t i = 0; i + 320 <= pcm.size(); i += 320, ++n_frames) {
    if (vad->is_speech(std::span<const std::int16_t>(pcm).subspan(i, 320))) ++n_voiced;
  }
  ASSERT_GT(n_frames, 50u);
  EXPECT_GT(static_cast<double>(n_voiced) / static_cast<double>(n_frames), 0.7) << n_voiced << "/" << n_frames;
}

/// Longest run of near-silence strictly inside the audio (not the leading or trailing pause), in ms.
double longest_inner_pause_ms(std::span<const std::int16_t> pcm, int rate_hz) {
  auto loud = [](std::int16_t x) { return x >= 300 || x <= -300; };
  const auto first = std::ranges::find_if(pcm, loud);
  const auto last = std::find_if(pcm.rbegin(), pcm.rend(), loud).base();
  std::size_t longest = 0, run = 0;
  for (auto it = first; it < last; ++it) {
    run = loud(*it) ? 0 : run + 1;
    longest = std::max(longest, run);
  }
  return 1000.0 * static_cast<double>(longest) / rate_hz;
}

TEST(flite_synthesizer, first_clause_split_keeps_the_pause_natural) {
  constexpr const char* text = "Sure, the nearest pharmacy is open until nine tonight on Main Street.";
  for (const std::string voice : {"rms", "slt", "kal16"}) {
    auto split = make({.voice = voice});
    auto whole = make({.voice = voice, .split_first_clause = false});
    ASSERT_TRUE(split && whole);
    const auto a = speak(*split, text);
    const auto b = speak(*whole, text);
    ASSERT_TRUE(a->result().has_value() && b->result().has_value());
    const int rate = split->caps().sample_rate_hz;
    const double split_s = static_cast<double>(a->pcm().size()) / rate;
    const double whole_s = static_cast<double>(b->pcm().size()) / rate;
    EXPECT_NEAR(split_s, whole_s, 0.1) << voice;
    EXPECT_NEAR(longest_inner_pause_ms(a->pcm(), rate), longest_inner_pause_ms(b->pcm(), rate), 60.0) << voice;
  }
}

TEST(flite_synthesizer, text_without_words_completes_silently) {
  auto tts = make();
  ASSERT_TRUE(tts);
  for (const std::string text : {"", "   ", "...", "\xF0\x9F\x98\x80"}) {
    const auto c = speak(*tts, text);
    EXPECT_TRUE(c->result().has_value()) << text;
    EXPECT_EQ(c->n_chunks(), 0u) << text;
  }
}

TEST(flite_synthesizer, normalises_text_unless_told_not_to) {
  auto tts = make({.voice = "kal16"});
  ASSERT_TRUE(tts);
  const auto written = speak(*tts, "Call Dr. Smith at 5:05 pm about the $3.50 fee.");
  const auto spoken = speak(*tts, "Call doctor Smith at five oh five p m about the three dollars and fifty cents fee.");
  EXPECT_EQ(written->pcm().size(), spoken->pcm().size());
  auto raw = make({.voice = "kal16", .normalize_text = false});
  ASSERT_TRUE(raw);
  const auto unnormalised = speak(*raw, "Call Dr. Smith at 5:05 pm about the $3.50 fee.");
  EXPECT_NE(unnormalised->pcm().size(), spoken->pcm().size());
}

TEST(flite_synthesizer, a_throwing_callback_fails_the_request_not_the_process) {
  auto tts = make();
  ASSERT_TRUE(tts);
  std::atomic<int> n_done{0};
  std::optional<status> result;
  std::mutex m;
  std::condition_variable cv;
  tts->synthesize(k_sentence,
                  {.on_audio = [](std::span<const std::int16_t>) { throw std::runtime_error("boom"); },
                   .on_done =
                       [&](status s) {
                         std::lock_guard lock(m);
                         result = std::move(s);
                         ++n_done;
                         cv.notify_all();
                       }},
                  {});
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, k_wait, [&] { return result.has_value(); }));
  EXPECT_EQ(result->error().code, errc::internal);
  EXPECT_EQ(n_done.load(), 1);
}

TEST(flite_synthesizer, destruction_completes_every_request_once) {
  std::vector<std::unique_ptr<capture>> captures;
  {
    auto tts = make({.n_workers = 2});
    ASSERT_TRUE(tts);
    for (int i = 0; i < 6; ++i) {
      captures.push_back(std::make_unique<capture>());
      tts->synthesize(k_long_sentence, captures.back()->events(), {});
    }
  }  // destroyed with requests running and waiting
  for (auto& c : captures) {
    ASSERT_TRUE(c->wait());
    EXPECT_EQ(c->n_done(), 1);
    EXPECT_FALSE(c->audio_after_done());
  }
}

TEST(flite_synthesizer, may_be_destroyed_from_its_own_callback) {
  auto tts = make();
  ASSERT_TRUE(tts);
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  auto* raw = tts.get();
  std::shared_ptr<flite_synthesizer> holder = std::move(tts);
  raw->synthesize(k_sentence,
                  {.on_audio = {},
                   .on_done =
                       [&](status) {
                         holder.reset();  // the last reference goes away on the worker thread
                         std::lock_guard lock(m);
                         done = true;
                         cv.notify_all();
                       }},
                  {});
  std::unique_lock lock(m);
  EXPECT_TRUE(cv.wait_for(lock, k_wait, [&] { return done; }));
}

TEST(to_flite_text, makes_ascii_for_flite) {
  EXPECT_EQ(to_flite_text("Caf\u00E9 na\u00EFve \u00C5ngstr\u00F6m"), "Cafe naive Angstrom");
  EXPECT_EQ(to_flite_text("stra\u00DFe \u0141\u00F3d\u017A"), "strasse Lodz");
  EXPECT_EQ(to_flite_text("it\u2019s \u201Cok\u201D\u2026"), "it's \"ok\"...");
  EXPECT_EQ(to_flite_text("a\tb\nc  \xFF d \U0001F600 e"), "a b c d e");
  EXPECT_EQ(to_flite_text("  "), "");
}

}  // namespace
}  // namespace parley::flite
