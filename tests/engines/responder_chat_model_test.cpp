// Tests of engines/intents' responder_chat_model: the chat_model contract over a responder
// (streaming, fallback below the threshold, stops, concurrency).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <numeric>
#include <stop_token>
#include <thread>

#include "parley/engines/intents/local_responder.hpp"
#include "parley/engines/intents/responder_chat_model.hpp"

#include "intents_test_util.hpp"

namespace parley::intents {
namespace {

// ---------------------------------------------------------------------------------------------
// responder_chat_model

class scripted_responder final : public engine::responder {
 public:
  scripted_responder(engine::responder_answer a) : answer_(std::move(a)) {}
  std::string name() const override { return "scripted"; }
  engine::responder_answer answer(std::string_view text, const engine::responder_context&) override {
    last_text = std::string(text);
    ++n_calls;
    return answer_;
  }
  std::vector<std::string> domain_phrases() const override { return {}; }
  std::string last_text;
  std::atomic<int> n_calls{0};

 private:
  engine::responder_answer answer_;
};

struct chat_result {
  std::vector<std::string> tokens;
  std::promise<status> done;
  std::atomic<int> n_done{0};
  std::thread::id caller;
  std::atomic<bool> synchronous{false};
};

engine::chat_events events_for(chat_result& out) {
  return {.on_token = [&out](std::string_view t) {
            if (std::this_thread::get_id() == out.caller) out.synchronous = true;
            out.tokens.emplace_back(t);
          },
          .on_done = [&out](status s) {
            if (std::this_thread::get_id() == out.caller) out.synchronous = true;
            if (out.n_done.fetch_add(1) == 0) out.done.set_value(std::move(s));
          }};
}

engine::chat_request user_says(std::string text) {
  engine::chat_request r;
  r.messages.push_back({engine::chat_role::system, "be brief", false});
  r.messages.push_back({engine::chat_role::user, std::move(text), false});
  return r;
}

TEST(responder_chat_model, streams_a_confident_reply_word_by_word) {
  io_thread io;
  manual_time_of_day tod(k_now);
  auto local = local_responder::create({.time_of_day = &tod});
  ASSERT_TRUE(local);
  responder_chat_model model(*local, {.executor = io.executor()});
  EXPECT_EQ(model.name(), "responder:local");
  EXPECT_TRUE(model.caps().streaming);
  chat_result out;
  out.caller = std::this_thread::get_id();
  auto done = out.done.get_future();
  model.stream(user_says("what is twelve times eight"), events_for(out), {});
  ASSERT_EQ(done.wait_for(k_wait), std::future_status::ready);
  EXPECT_TRUE(done.get().has_value());
  EXPECT_EQ(std::accumulate(out.tokens.begin(), out.tokens.end(), std::string()), "12 times 8 is 96.");
  EXPECT_EQ(out.tokens, (std::vector<std::string>{"12", " times", " 8", " is", " 96."}));
  EXPECT_FALSE(out.synchronous);
  EXPECT_EQ(out.n_done.load(), 1);
  EXPECT_EQ(model.n_fallbacks(), 0u);
}

TEST(responder_chat_model, falls_back_below_the_threshold) {
  io_thread io;
  auto scripted = std::make_shared<scripted_responder>(engine::responder_answer{"faq.hours", 0.3, "We open at 9."});
  responder_chat_model model(scripted, {.threshold = 0.5, .fallback_reply = "Sorry, I can't help with that.",
                                        .executor = io.executor()});
  chat_result out;
  auto done = out.done.get_future();
  model.stream(user_says("why is the sky blue"), events_for(out), {});
  ASSERT_EQ(done.wait_for(k_wait), std::future_status::ready);
  EXPECT_TRUE(done.get().has_value());
  EXPECT_EQ(std::accumulate(out.tokens.begin(), out.tokens.end(), std::string()), "Sorry, I can't help with that.");
  EXPECT_EQ(scripted->last_text, "why is the sky blue");
  EXPECT_EQ(model.n_fallbacks(), 1u);
  // The default fallback, with the real local responder.
  auto local = local_responder::create({});
  ASSERT_TRUE(local);
  responder_chat_model plain(*local, {.executor = io.executor()});
  chat_result out2;
  auto done2 = out2.done.get_future();
  plain.stream(user_says("tell me a joke"), events_for(out2), {});
  ASSERT_EQ(done2.wait_for(k_wait), std::future_status::ready);
  EXPECT_EQ(std::accumulate(out2.tokens.begin(), out2.tokens.end(), std::string()),
            responder_chat_config{}.fallback_reply);
}

TEST(responder_chat_model, honours_a_stop_requested_before_it_runs) {
  io_thread io;
  auto scripted = std::make_shared<scripted_responder>(engine::responder_answer{"x", 0.9, "one two three"});
  responder_chat_model model(scripted, {.executor = io.executor()});
  std::stop_source stop;
  stop.request_stop();
  chat_result out;
  auto done = out.done.get_future();
  model.stream(user_says("hi"), events_for(out), stop.get_token());
  ASSERT_EQ(done.wait_for(k_wait), std::future_status::ready);
  const status s = done.get();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, errc::cancelled);
  EXPECT_TRUE(out.tokens.empty());
  EXPECT_EQ(scripted->n_calls.load(), 0);  // nothing was answered (no side effects)
}

TEST(responder_chat_model, stops_within_one_token) {
  io_thread io;
  auto scripted = std::make_shared<scripted_responder>(engine::responder_answer{"x", 0.9, "one two three four five"});
  responder_chat_model model(scripted, {.executor = io.executor()});
  std::stop_source stop;
  chat_result out;
  auto done = out.done.get_future();
  engine::chat_events events = events_for(out);
  auto on_token = events.on_token;
  events.on_token = [&, on_token](std::string_view t) {
    on_token(t);
    stop.request_stop();  // the listener interrupts after the first word
  };
  model.stream(user_says("hi"), std::move(events), stop.get_token());
  ASSERT_EQ(done.wait_for(k_wait), std::future_status::ready);
  const status s = done.get();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, errc::cancelled);
  EXPECT_EQ(out.tokens, (std::vector<std::string>{"one"}));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(out.n_done.load(), 1);
}

TEST(responder_chat_model, refuses_a_missing_executor_or_responder) {
  auto local = local_responder::create({});
  ASSERT_TRUE(local);
  EXPECT_THROW(responder_chat_model(*local, {}), std::invalid_argument);
  io_thread io;
  EXPECT_THROW(responder_chat_model(nullptr, {.executor = io.executor()}), std::invalid_argument);
}

TEST(responder_chat_model, many_concurrent_requests_each_finish_once) {
  io_thread io;
  auto local = local_responder::create({.faq_path = store_faq_path(), .executor = io.executor()});
  ASSERT_TRUE(local);
  auto model = std::make_shared<responder_chat_model>(*local, responder_chat_config{.executor = io.executor()});
  constexpr int n = 64;
  std::vector<std::unique_ptr<chat_result>> results;
  std::vector<std::future<status>> futures;
  std::vector<std::stop_source> stops(n);
  for (int i = 0; i < n; ++i) {
    results.push_back(std::make_unique<chat_result>());
    futures.push_back(results.back()->done.get_future());
    auto request = user_says(i % 2 ? "where is my order" : "what is seven times six");
    request.context = ctx(static_cast<std::uint64_t>(i));
    model->stream(std::move(request), events_for(*results.back()), stops[static_cast<std::size_t>(i)].get_token());
    if (i % 3 == 0) stops[static_cast<std::size_t>(i)].request_stop();
  }
  for (auto& f : futures) ASSERT_EQ(f.wait_for(k_wait), std::future_status::ready);
  for (auto& r : results) EXPECT_EQ(r->n_done.load(), 1);
  EXPECT_EQ(model->n_requests(), static_cast<std::uint64_t>(n));
}

}  // namespace
}  // namespace parley::intents
