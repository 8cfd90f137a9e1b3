#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <numeric>
#include <thread>

#include "parley/engines/mock/mock_engines.hpp"

namespace parley::mock {
namespace {

using namespace std::chrono_literals;

// An io_context on one background thread, like the runtime's.
class io_thread {
 public:
  io_thread() : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~io_thread() {
    work_.reset();
    thread_.join();
  }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

constexpr auto k_wait = 10s;  // an upper bound for "it happened", never a timing assertion

struct chat_result {
  std::vector<std::string> tokens;
  std::promise<status> done;
};

engine::chat_request ask(std::string text) {
  engine::chat_request r;
  r.messages.push_back({engine::chat_role::user, std::move(text), false});
  return r;
}

TEST(split_into_tokens, concatenates_back_to_the_text) {
  const std::string text = "Hello, world! Internationalization costs 3.14 dollars… ok";
  const auto tokens = split_into_tokens(text);
  EXPECT_EQ(std::accumulate(tokens.begin(), tokens.end(), std::string()), text);
  EXPECT_EQ(tokens[0], "Hello");
  EXPECT_EQ(tokens[1], ",");
  EXPECT_EQ(tokens[2], " world");
  for (const auto& t : tokens) EXPECT_LE(t.size(), 6u) << t;  // space + at most 5 bytes
}

TEST(latency_dist, matches_its_median_and_p99) {
  std::mt19937_64 rng(42);
  const latency_dist d{300, 900, {}};
  std::vector<double> xs(20000);
  for (auto& x : xs) x = d.sample(rng);
  std::sort(xs.begin(), xs.end());
  EXPECT_NEAR(xs[xs.size() / 2], 300, 15);
  EXPECT_NEAR(xs[xs.size() * 99 / 100], 900, 90);
  EXPECT_EQ(latency_dist::fixed(5).sample(rng), 5);
}

TEST(latency_dist, spikes_add_rare_delays) {
  std::mt19937_64 rng(7);
  const latency_dist d{100, 100, {0.1, 2000}};
  int n_spiky = 0;
  for (int i = 0; i < 10000; ++i) n_spiky += d.sample(rng) > 1000 ? 1 : 0;
  EXPECT_NEAR(n_spiky, 1000, 120);
}

TEST(llm_profiles, builtins_and_parsing) {
  ASSERT_TRUE(find_llm_profile("cloud-fast-tier"));
  EXPECT_EQ(find_llm_profile("cloud-fast-tier")->tokens_per_s, 90);
  ASSERT_TRUE(find_llm_profile("zero"));
  EXPECT_TRUE(find_llm_profile("zero")->ttft.is_zero());
  auto missing = find_llm_profile("nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cloud-fast-tier"), std::string::npos);  // lists the known ones

  auto parsed = parse_llm_profiles(R"({"llm": {"x": {"ttft_ms": {"p50": 10, "p99": 20}, "tokens_per_s": 5,
                                        "spike": {"p": 0.5, "extra_ms": 100}}}})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->at("x").ttft.p99_ms, 20);
  EXPECT_EQ(parsed->at("x").ttft.spike.p, 0.5);
  EXPECT_FALSE(parse_llm_profiles("{not json"));
  EXPECT_FALSE(parse_llm_profiles(R"({"llm": {"x": {}}})"));
  // Wrong types are errors, never exceptions.
  for (const char* bad : {R"({"llm": {"x": 5}})", R"({"llm": {"x": {"ttft_ms": 5}}})",
                          R"({"llm": {"x": {"ttft_ms": {"p50": 10, "p99": "slow"}}}})",
                          R"({"llm": {"x": {"ttft_ms": {"p50": 10}, "tokens_per_s": "fast"}}})",
                          R"({"llm": {"x": {"ttft_ms": {"p50": 10}, "spike": {"p": "often"}}}})"}) {
    const auto r = parse_llm_profiles(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, errc::invalid_argument) << bad;
  }
  ASSERT_TRUE(find_tts_profile("piper-cpu"));
  EXPECT_FALSE(find_tts_profile("nope"));
}

TEST(mock_chat_model, streams_the_whole_reply_then_done) {
  io_thread io;
  mock_chat_model model({.executor = io.executor(), .profile = llm_profile::zero()});
  chat_result r;
  std::stop_source stop;
  model.stream(ask("what time is it"),
               {.on_token = [&](std::string_view t) { r.tokens.emplace_back(t); },
                .on_done = [&](status s) { r.done.set_value(s); }},
               stop.get_token());
  auto f = r.done.get_future();
  ASSERT_EQ(f.wait_for(k_wait), std::future_status::ready);
  EXPECT_TRUE(f.get());
  const auto text = std::accumulate(r.tokens.begin(), r.tokens.end(), std::string());
  EXPECT_EQ(text, default_mock_reply("what time is it"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '.'), 3);  // three sentences
}

TEST(mock_chat_model, paces_tokens_and_stops_within_a_token) {
  io_thread io;
  llm_profile slow{"slow", latency_dist::fixed(0), 200.0, 0.0};  // 5 ms per token
  mock_chat_model model({.executor = io.executor(), .profile = slow});
  chat_result r;
  std::stop_source stop;
  std::promise<void> three_tokens;
  model.stream(ask("tell me a story"),
               {.on_token =
                    [&](std::string_view t) {
                      r.tokens.emplace_back(t);
                      if (r.tokens.size() == 3) three_tokens.set_value();
                    },
                .on_done = [&](status s) { r.done.set_value(s); }},
               stop.get_token());
  ASSERT_EQ(three_tokens.get_future().wait_for(k_wait), std::future_status::ready);
  stop.request_stop();
  auto f = r.done.get_future();
  ASSERT_EQ(f.wait_for(k_wait), std::future_status::ready);
  const auto s = f.get();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, errc::cancelled);
  EXPECT_LT(r.tokens.size(), split_into_tokens(default_mock_reply("tell me a story")).size());
}

TEST(mock_chat_model, cancels_during_a_long_first_token_wait) {
  io_thread io;
  llm_profile stuck{"stuck", latency_dist::fixed(600'000), 50.0, 0.0};  // ten minutes to first token
  mock_chat_model model({.executor = io.executor(), .profile = stuck});
  chat_result r;
  std::stop_source stop;
  model.stream(ask("hi"), {.on_token = [&](std::string_view t) { r.tokens.emplace_back(t); },
                           .on_done = [&](status s) { r.done.set_value(s); }},
               stop.get_token());
  stop.request_stop();
  auto f = r.done.get_future();
  ASSERT_EQ(f.wait_for(k_wait), std::future_status::ready);
  EXPECT_EQ(f.get().error().code, errc::cancelled);
  EXPECT_TRUE(r.tokens.empty());
}

TEST(mock_synthesizer, produces_audio_of_plausible_duration) {
  io_thread io;
  mock_synthesizer tts({.executor = io.executor()});
  const std::string text = "The quick brown fox jumps over the lazy dog.";
  std::size_t n_samples = 0, n_chunks = 0;
  std::int16_t peak = 0;
  std::promise<status> done;
  std::stop_source stop;
  tts.synthesize(text,
                 {.on_audio =
                      [&](std::span<const std::int16_t> pcm) {
                        n_samples += pcm.size();
                        ++n_chunks;
                        for (auto s : pcm) peak = std::max<std::int16_t>(peak, static_cast<std::int16_t>(std::abs(s)));
                      },
                  .on_done = [&](status s) { done.set_value(s); }},
                 stop.get_token());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(k_wait), std::future_status::ready);
  EXPECT_TRUE(f.get());
  const double seconds = static_cast<double>(n_samples) / 16000.0;
  EXPECT_NEAR(seconds, tts.audio_ms_for(text) / 1000.0, 0.001);
  EXPECT_GT(seconds, 2.0);  // ~9 words: a couple of seconds of speech
  EXPECT_LT(seconds, 4.5);
  EXPECT_GT(n_chunks, 10u);
  EXPECT_GT(peak, 1000);  // real, audible PCM
}

TEST(mock_synthesizer, stops_within_a_chunk) {
  io_thread io;
  mock_synthesizer tts({.executor = io.executor(), .realtime_factor = 0.25});  // 10 ms per 40 ms chunk
  std::size_t n_chunks = 0;
  std::promise<void> first;
  std::promise<status> done;
  std::stop_source stop;
  tts.synthesize("A long sentence that would take several seconds to speak out loud.",
                 {.on_audio = [&](std::span<const std::int16_t>) { if (++n_chunks == 1) first.set_value(); },
                  .on_done = [&](status s) { done.set_value(s); }},
                 stop.get_token());
  ASSERT_EQ(first.get_future().wait_for(k_wait), std::future_status::ready);
  stop.request_stop();
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(k_wait), std::future_status::ready);
  EXPECT_EQ(f.get().error().code, errc::cancelled);
  EXPECT_LT(n_chunks, 20u);  // the whole sentence is ~100 chunks
}

TEST(mock_recognizer, returns_scripted_transcripts_with_partials) {
  io_thread io;
  mock_recognizer asr({.executor = io.executor(), .transcripts = {"what time is it", "thanks"}, .confidences = {0.9, 0.2}});
  std::vector<std::string> partials;
  std::promise<result<engine::recognized>> final_text;
  auto stream = asr.open({.on_partial = [&](std::string t, double) { partials.push_back(std::move(t)); },
                          .on_final = [&](result<engine::recognized> t) { final_text.set_value(std::move(t)); }});
  ASSERT_TRUE(stream);
  const std::vector<std::int16_t> second(16000);
  (*stream)->feed(second);
  (*stream)->finish();
  auto f = final_text.get_future();
  ASSERT_EQ(f.wait_for(k_wait), std::future_status::ready);
  const auto first = f.get();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->text, "what time is it");
  EXPECT_EQ(first->confidence, 0.9);
  ASSERT_FALSE(partials.empty());
  EXPECT_EQ(partials.back(), "what time is");  // 1 s of audio reveals three words at 300 ms each

  std::promise<result<engine::recognized>> second_final;
  auto next = asr.open({.on_partial = {}, .on_final = [&](result<engine::recognized> t) { second_final.set_value(std::move(t)); }});
  (*next)->finish();
  auto f2 = second_final.get_future();
  ASSERT_EQ(f2.wait_for(k_wait), std::future_status::ready);
  const auto second_heard = f2.get();
  ASSERT_TRUE(second_heard);
  EXPECT_EQ(second_heard->text, "thanks");
  EXPECT_EQ(second_heard->confidence, 0.2);
}

TEST(mock_recognizer, cancel_means_no_more_callbacks) {
  io_thread io;
  mock_recognizer asr({.executor = io.executor(), .transcripts = {"hello"}, .finalize = latency_dist::fixed(50)});
  std::atomic<int> n_calls{0};
  auto stream = asr.open({.on_partial = {}, .on_final = [&](result<engine::recognized>) { ++n_calls; }});
  (*stream)->finish();
  (*stream)->cancel();
  std::this_thread::sleep_for(150ms);  // past the finalisation delay: the callback would have run by now
  EXPECT_EQ(n_calls.load(), 0);
}

}  // namespace
}  // namespace parley::mock
