// Whole sessions with a router: cached replies, LLM routes, what goes back to the cache.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "session_test_util.hpp"
#include "parley/agent/session.hpp"
#include "parley/audio/framer.hpp"
#include "parley/engines/mock/mock_engines.hpp"

namespace parley::agent {
namespace {

using namespace std::chrono_literals;
// session_test_util.hpp: scripted audio, mock engines, make_session; io_threads, k_wait and the
// event recorder are shared with the filler tests.
using namespace testing;
using recorder = testing::session_recorder;

// ---- routed turns (session_options::router) ---------------------------------------------------

// A router scripted by the test: answers every turn with `reply` (after `delay`, on its own
// thread when delayed) and records what it is asked to remember.
class scripted_router final : public reply_router {
 public:
  explicit scripted_router(routed_reply reply, std::chrono::milliseconds delay = 0ms)
      : reply_(std::move(reply)), delay_(delay) {}
  ~scripted_router() override {
    for (auto& t : threads_) t.join();
  }
  void route(route_request request, std::function<void(routed_reply)> done) override {
    std::lock_guard lock(mutex_);
    EXPECT_FALSE(decide_inline) << "route() called although route_inline() decided";
    queries_.push_back(request.query);
    asr_confidences_.push_back(request.context.asr_confidence);
    if (delay_ == 0ms) {
      done(reply_);
      return;
    }
    threads_.emplace_back([reply = reply_, delay = delay_, done = std::move(done)] {
      std::this_thread::sleep_for(delay);
      done(reply);
    });
  }
  // With decide_inline, route_inline() answers (as turn_router does when nothing can block) and
  // route() must not be called at all.
  std::optional<routed_reply> route_inline(const route_request& request) override {
    if (!decide_inline) return std::nullopt;
    std::lock_guard lock(mutex_);
    queries_.push_back(request.query);
    ++n_inline_;
    return reply_;
  }
  bool decide_inline = false;
  int n_inline() {
    std::lock_guard lock(mutex_);
    return n_inline_;
  }
  void remember(std::string query, std::string reply_text, std::shared_ptr<const reply_audio> audio) override {
    std::lock_guard lock(mutex_);
    remembered_.push_back({std::move(query), std::move(reply_text), std::move(audio)});
  }
  void session_ended(session_id) override { n_ended_.fetch_add(1); }
  int n_ended() const { return n_ended_.load(); }
  struct memory {
    std::string query, reply;
    std::shared_ptr<const reply_audio> audio;
  };
  std::vector<memory> remembered() {
    std::lock_guard lock(mutex_);
    return remembered_;
  }
  std::vector<std::string> queries() {
    std::lock_guard lock(mutex_);
    return queries_;
  }
  std::vector<std::optional<double>> asr_confidences() {
    std::lock_guard lock(mutex_);
    return asr_confidences_;
  }

 private:
  routed_reply reply_;
  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::vector<std::string> queries_;
  std::vector<std::optional<double>> asr_confidences_;
  std::vector<memory> remembered_;
  std::vector<std::thread> threads_;
  std::atomic<int> n_ended_{0};
  int n_inline_ = 0;
};

// Streams two tokens, then fails (a provider dropping the connection mid-reply).
class failing_chat_model final : public engine::chat_model {
 public:
  std::string name() const override { return "failing"; }
  engine::chat_caps caps() const override { return {}; }
  void stream(engine::chat_request, engine::chat_events events, std::stop_token) override {
    events.on_token("Once upon ");
    events.on_token("a time.");
    events.on_done(make_error(errc::engine_failure, "connection reset"));
  }
};

std::unique_ptr<session> make_routed_session(boost::asio::any_io_executor ex, const mock_set& engines, recorder& rec,
                                             std::shared_ptr<reply_router> router) {
  session_options options;
  options.router = std::move(router);
  auto s = session::create(ex, engines.set(), options, rec.callbacks());
  EXPECT_TRUE(s) << (s ? "" : s.error().describe());
  return s ? std::move(*s) : nullptr;
}

TEST(session_routing, a_cached_reply_plays_its_audio_without_llm_or_tts) {
  io_threads io;
  auto engines = make_engines(io.executor());
  auto audio = std::make_shared<reply_audio>();
  audio->sample_rate_hz = 16000;
  audio->pcm.assign(16000 * 3 / 4, 7);  // 750 ms: 8 chunks of 100 ms
  auto router = std::make_shared<scripted_router>(routed_reply{
      .route = "cache", .reason = "semantic 0.91 >= 0.80", .text = "We open at nine.", .audio = audio,
      .cache_hit = true, .cache_similarity = 0.91});
  recorder rec;
  auto s = make_routed_session(io.executor(), engines, rec, router);
  s->submit_text("when do you open");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_EQ(engines.llm->n_requests(), 0u);
  EXPECT_EQ(engines.tts->n_requests(), 0u);
  std::size_t n_samples = 0;
  for (auto i : rec.indices<output_audio_chunk>()) n_samples += std::get<output_audio_chunk>(rec.at(i).body).samples.size();
  EXPECT_EQ(n_samples, audio->pcm.size());
  EXPECT_EQ(rec.indices<output_audio_chunk>().size(), 8u);
  ASSERT_EQ(rec.turns.size(), 1u);
  const auto& t = rec.turns[0];
  EXPECT_EQ(t.route, "cache");
  EXPECT_TRUE(t.flags.cache_hit);
  EXPECT_EQ(t.reply, "We open at nine.");
  EXPECT_TRUE(t.has(obs::stamp::first_audio_out));
  for (auto skipped : {obs::stamp::llm_request, obs::stamp::first_segment, obs::stamp::tts_request}) {
    EXPECT_FALSE(t.has(skipped)) << to_string(skipped);  // so overhead counts these stages as 0
  }
  EXPECT_TRUE(router->remembered().empty());  // not cacheable: it came from the cache
  EXPECT_EQ(router->n_ended(), 0);
  s->close();
  EXPECT_EQ(router->n_ended(), 1) << "the router hears that the session is gone (timers, state)";
}

TEST(session_routing, an_llm_route_streams_and_hands_text_and_audio_to_the_cache) {
  io_threads io;
  auto engines = make_engines(io.executor(), {.reply = [](const engine::chat_request&) {
                                                 return std::string("Paris is the capital. It is in France.");
                                               }});
  auto router = std::make_shared<scripted_router>(
      routed_reply{.route = "cloud_llm", .model = engines.llm, .cacheable = true});
  recorder rec;
  auto s = make_routed_session(io.executor(), engines, rec, router);
  s->submit_text("what is the capital of france");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_EQ(engines.llm->n_requests(), 1u);
  ASSERT_EQ(router->queries().size(), 1u);
  EXPECT_EQ(router->queries()[0], "what is the capital of france");
  auto remembered = router->remembered();
  ASSERT_EQ(remembered.size(), 1u);
  EXPECT_EQ(remembered[0].query, "what is the capital of france");
  EXPECT_EQ(remembered[0].reply, "Paris is the capital. It is in France.");
  ASSERT_TRUE(remembered[0].audio);
  std::size_t n_samples = 0;
  for (auto i : rec.indices<output_audio_chunk>()) n_samples += std::get<output_audio_chunk>(rec.at(i).body).samples.size();
  EXPECT_EQ(remembered[0].audio->pcm.size(), n_samples);
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_EQ(rec.turns[0].route, "cloud_llm");
}

// What the application knows about the caller reaches the LLM in the system prompt, and a reply
// that may be about this caller never goes into the shared cache.
TEST(session_routing, caller_context_is_in_the_llms_instructions_and_keeps_replies_out_of_the_cache) {
  io_threads io;
  std::mutex mutex;
  std::string system;
  auto engines = make_engines(io.executor(), {.reply = [&](const engine::chat_request& r) {
                                                 std::lock_guard lock(mutex);
                                                 system = r.messages.at(0).content;
                                                 return std::string("Your order A17 shipped yesterday.");
                                               }});
  auto router = std::make_shared<scripted_router>(
      routed_reply{.route = "cloud_llm", .model = engines.llm, .cacheable = true});
  recorder rec;
  session_options options;
  options.router = router;
  options.system_prompt = "You are Luigi's phone line.";
  options.caller_context = R"({"name":"Ada","last_order":"A17"})";
  auto s = session::create(io.executor(), engines.set(), options, rec.callbacks());
  ASSERT_TRUE(s);
  (*s)->submit_text("where is my order");
  (*s)->end_input();
  ASSERT_TRUE(rec.wait_end());
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(system.rfind("You are Luigi's phone line.\n\n", 0), 0u) << system;
    EXPECT_NE(system.find(R"({"name":"Ada","last_order":"A17"})"), std::string::npos) << system;
  }
  EXPECT_TRUE(router->remembered().empty()) << "a reply about one caller must not be served to another";
}

TEST(session_routing, a_whole_text_reply_is_synthesized_and_not_cached_unless_allowed) {
  io_threads io;
  auto engines = make_engines(io.executor());
  auto router = std::make_shared<scripted_router>(
      routed_reply{.route = "intent", .reason = "intent time.now 0.95 >= 0.60", .text = "It is noon. Enjoy lunch."});
  recorder rec;
  auto s = make_routed_session(io.executor(), engines, rec, router);
  s->submit_text("what time is it");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_EQ(engines.llm->n_requests(), 0u);
  EXPECT_EQ(engines.tts->n_requests(), 2u);  // two sentences
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_EQ(rec.turns[0].route, "intent");
  EXPECT_EQ(rec.turns[0].reply, "It is noon. Enjoy lunch.");
  // The local handler is the turn's provider: both LLM stamps are set, so overhead is defined.
  EXPECT_TRUE(rec.turns[0].has(obs::stamp::llm_request));
  EXPECT_TRUE(rec.turns[0].has(obs::stamp::llm_first_token));
  EXPECT_TRUE(router->remembered().empty());
}

// The recognizer's confidence travels with the words: in the transcript event, the turn's
// timeline and the responder context the router answers in (where a local handler asks before
// acting on doubtful words). Typed text has none.
TEST(session_routing, the_recognizers_confidence_reaches_the_transcript_the_timeline_and_the_router) {
  io_threads io;
  engine_knobs knobs;
  knobs.transcripts = {"set a timer for five minutes"};
  knobs.confidences = {0.02};
  auto engines = make_engines(io.executor(), knobs);
  auto router = std::make_shared<scripted_router>(routed_reply{.route = "intent", .text = "Did you want a timer?"});
  recorder rec;
  auto s = make_routed_session(io.executor(), engines, rec, router);
  push_in_frames(*s, script_audio(k_one_question));
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<reply_done>(); }));
  s->submit_text("yes");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto finals = rec.indices<transcript_final>();
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(std::get<transcript_final>(rec.at(finals[0]).body).confidence, 0.02);
  EXPECT_EQ(router->asr_confidences(), (std::vector<std::optional<double>>{0.02, std::nullopt}));
  ASSERT_EQ(rec.turns.size(), 2u);
  const auto note = std::find_if(rec.turns[0].notes.begin(), rec.turns[0].notes.end(),
                                 [](const auto& n) { return n.name == "asr_confidence"; });
  ASSERT_NE(note, rec.turns[0].notes.end());
  EXPECT_EQ(note->value, (std::variant<double, std::string>{0.02}));
}

TEST(session_routing, a_router_that_decides_inline_is_followed_without_a_hop) {
  io_threads io;
  auto engines = make_engines(io.executor(), {.reply = [](const engine::chat_request&) {
                                                 return std::string("Paris is the capital.");
                                               }});
  auto router = std::make_shared<scripted_router>(
      routed_reply{.route = "cloud_llm", .model = engines.llm, .cacheable = true});
  router->decide_inline = true;
  recorder rec;
  auto s = make_routed_session(io.executor(), engines, rec, router);
  s->submit_text("what is the capital of france");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_EQ(router->n_inline(), 1);
  EXPECT_EQ(engines.llm->n_requests(), 1u);
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_EQ(rec.turns[0].route, "cloud_llm");
  EXPECT_EQ(rec.turns[0].reply, "Paris is the capital.");
  ASSERT_TRUE(rec.turns[0].has(obs::stamp::llm_request));
  EXPECT_GE(*rec.turns[0].at(obs::stamp::llm_request), *rec.turns[0].at(obs::stamp::asr_final));
  EXPECT_EQ(router->remembered().size(), 1u) << "a cacheable reply still goes back to the cache";
}

TEST(session_routing, a_failed_reply_is_never_cached) {
  io_threads io;
  auto engines = make_engines(io.executor());
  auto failing = std::make_shared<failing_chat_model>();
  auto router = std::make_shared<scripted_router>(routed_reply{.route = "cloud_llm", .model = failing, .cacheable = true});
  recorder rec;
  auto s = make_routed_session(io.executor(), engines, rec, router);
  s->submit_text("tell me a story");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_FALSE(rec.indices<error_event>().empty());
  EXPECT_TRUE(router->remembered().empty());
}

TEST(session_routing, an_answer_arriving_after_an_interrupt_is_dropped) {
  io_threads io;
  auto engines = make_engines(io.executor());
  auto router = std::make_shared<scripted_router>(routed_reply{.route = "intent", .text = "Too late."}, 100ms);
  recorder rec;
  auto s = make_routed_session(io.executor(), engines, rec, router);
  s->submit_text("what time is it");
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<user_turn_committed>(); }));
  s->interrupt("test");
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<interrupt_event>(); }));
  std::this_thread::sleep_for(200ms);  // let the late answer arrive (no timing is asserted)
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_TRUE(rec.indices<output_audio_chunk>().empty());
  EXPECT_EQ(engines.tts->n_requests(), 0u);
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_TRUE(rec.turns[0].flags.interrupted);
}

}  // namespace
}  // namespace parley::agent
