// The hybrid router's shell: responder, PII check, response cache and LLM tiers wired to the
// routing policy (the policy's own cases are in tests/routing). Real cache, embedder and store.
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>
#include <future>

#include "parley/agent/turn_router.hpp"
#include "parley/cache/memory_store.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/engines/ngram/ngram_embedder.hpp"

namespace parley::agent {
namespace {

using namespace std::chrono_literals;

// Answers "what time is it" with confidence 0.95 and everything else with 0.
class fake_responder final : public engine::responder {
 public:
  std::string name() const override { return "fake"; }
  engine::responder_answer answer(std::string_view text, const engine::responder_context&) override {
    if (text == "what time is it") return {"time.now", 0.95, "It is noon."};
    return {"", 0.0, ""};
  }
  std::vector<std::string> domain_phrases() const override { return {"what time is it"}; }
  void forget_session(session_id s) override { forgotten.push_back(s); }
  std::vector<session_id> forgotten;
};

struct fixture {
  boost::asio::thread_pool pool{2};
  std::shared_ptr<cache::response_cache> cache = std::shared_ptr<cache::response_cache>(*cache::response_cache::create(
      cache::response_cache_config{}, std::make_shared<ngram::ngram_embedder>(), std::make_shared<cache::memory_store>(),
      nullptr));
  std::shared_ptr<engine::chat_model> cloud =
      std::make_shared<mock::mock_chat_model>(mock::chat_config{.executor = pool.get_executor()});
  std::shared_ptr<engine::chat_model> local =
      std::make_shared<mock::mock_chat_model>(mock::chat_config{.executor = pool.get_executor()});

  std::shared_ptr<turn_router> make(turn_router_parts parts, turn_router_config config = {}) {
    if (!parts.responder) parts.responder = std::make_shared<fake_responder>();
    return std::make_shared<turn_router>(std::move(parts), std::move(config), pool.get_executor());
  }
};

routed_reply route_sync(turn_router& router, std::string query) {
  std::promise<routed_reply> p;
  router.route({std::move(query), {}}, [&](routed_reply r) { p.set_value(std::move(r)); });
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
  return f.get();
}

void wait_stored(turn_router& router, std::uint64_t n) {
  for (int i = 0; i < 1000 && router.stats().n_stored < n; ++i) std::this_thread::sleep_for(2ms);
  ASSERT_EQ(router.stats().n_stored, n);
}

TEST(turn_router, a_confident_intent_wins_and_is_not_cacheable) {
  fixture f;
  auto router = f.make({.cache = f.cache, .cloud_llm = f.cloud});
  const auto r = route_sync(*router, "what time is it");
  EXPECT_EQ(r.route, "intent");
  EXPECT_EQ(r.text, "It is noon.");
  EXPECT_FALSE(r.model);
  EXPECT_FALSE(r.cacheable);
  EXPECT_NE(r.reason.find("time.now"), std::string::npos) << r.reason;
}

TEST(turn_router, an_llm_reply_is_cached_and_a_paraphrase_then_hits_with_its_audio) {
  fixture f;
  auto router = f.make({.cache = f.cache, .cloud_llm = f.cloud});
  const auto first = route_sync(*router, "what is the capital of france");
  EXPECT_EQ(first.route, "cloud_llm");
  ASSERT_TRUE(first.model);
  EXPECT_TRUE(first.cacheable);

  auto audio = std::make_shared<reply_audio>(reply_audio{16000, std::vector<std::int16_t>(1600, 3)});
  router->remember("what is the capital of france", "Paris is the capital of France.", audio);
  wait_stored(*router, 1);

  const auto again = route_sync(*router, "um, what's the capital of France?");
  EXPECT_EQ(again.route, "cache");
  EXPECT_TRUE(again.cache_hit);
  EXPECT_EQ(again.text, "Paris is the capital of France.");
  ASSERT_TRUE(again.audio);
  EXPECT_EQ(again.audio->pcm.size(), 1600u);
  EXPECT_FALSE(again.cacheable);

  const auto other = route_sync(*router, "what is the capital of spain");
  EXPECT_NE(other.route, "cache") << other.reason;
  const auto s = router->stats();
  EXPECT_EQ(s.n_turns, 3u);
  EXPECT_EQ(s.n_cache, 1u);
  EXPECT_EQ(s.n_cloud_llm, 2u);
}

TEST(turn_router, a_turn_with_pii_stays_local_and_is_never_cached) {
  fixture f;
  auto router = f.make({.cache = f.cache, .local_llm = f.local, .cloud_llm = f.cloud},
                       {.policy = {.order = routing::llm_order::cloud_first}});
  const std::string query = "my card number is 4111 1111 1111 1111, is my order shipped";
  const auto r = route_sync(*router, query);
  EXPECT_TRUE(r.pii);
  EXPECT_EQ(r.route, "local_llm") << r.reason;
  EXPECT_FALSE(r.cacheable);
  // Even if someone stored it, a PII turn is never looked up.
  ASSERT_TRUE(f.cache->store(query, {}, {.text = "Leaked."}));
  const auto again = route_sync(*router, query);
  EXPECT_NE(again.route, "cache");
  EXPECT_EQ(router->stats().n_pii, 2u);
}

TEST(turn_router, pii_with_no_local_llm_gets_the_fallback_reply_not_the_cloud) {
  fixture f;
  auto router = f.make({.cache = f.cache, .cloud_llm = f.cloud});
  const auto r = route_sync(*router, "call me back on five five five one two three four five six seven");
  EXPECT_TRUE(r.pii);
  EXPECT_EQ(r.route, "fallback") << r.reason;
  EXPECT_FALSE(r.model);
  EXPECT_FALSE(r.text.empty());
}

TEST(turn_router, a_failing_cloud_tier_becomes_unhealthy_and_is_skipped) {
  fixture f;
  class failing final : public engine::chat_model {
   public:
    std::string name() const override { return "down"; }
    engine::chat_caps caps() const override { return {}; }
    void stream(engine::chat_request, engine::chat_events e, std::stop_token) override {
      e.on_done(make_error(errc::unavailable, "connection refused"));
    }
  };
  auto router = f.make({.local_llm = f.local, .cloud_llm = std::make_shared<failing>()},
                       {.policy = {.order = routing::llm_order::cloud_first}});
  for (int i = 0; i < 4; ++i) {
    const auto r = route_sync(*router, "tell me a joke");
    ASSERT_EQ(r.route, "cloud_llm") << i << ": " << r.reason;
    r.model->stream({}, {.on_token = [](std::string_view) {}, .on_done = [](status) {}}, {});
  }
  EXPECT_FALSE(router->cloud_health()->healthy());
  const auto r = route_sync(*router, "tell me a joke");
  EXPECT_EQ(r.route, "local_llm") << r.reason;
}

TEST(turn_router, without_any_llm_unknown_questions_get_the_fallback_reply) {
  fixture f;
  auto router = f.make({.cache = f.cache}, {.fallback_reply = "I can't help with that."});
  const auto r = route_sync(*router, "who won the match");
  EXPECT_EQ(r.route, "fallback");
  EXPECT_EQ(r.text, "I can't help with that.");
}

TEST(turn_router, without_a_responder_every_turn_goes_past_the_intent_tier) {
  fixture f;
  auto router = std::make_shared<turn_router>(turn_router_parts{.cloud_llm = f.cloud}, turn_router_config{},
                                              f.pool.get_executor());
  EXPECT_EQ(route_sync(*router, "what time is it").route, "cloud_llm");
}

// A chat model that only remembers which sessions it was told to forget.
class forgetful_model final : public engine::chat_model {
 public:
  std::string name() const override { return "forgetful"; }
  engine::chat_caps caps() const override { return {}; }
  void stream(engine::chat_request, engine::chat_events events, std::stop_token) override { events.on_done({}); }
  void forget_session(session_id s) override { forgotten.push_back(s); }
  std::vector<session_id> forgotten;
};

TEST(turn_router, an_ended_session_is_forgotten_by_the_responder_and_both_llm_tiers) {
  fixture f;
  auto responder = std::make_shared<fake_responder>();
  auto local = std::make_shared<forgetful_model>();
  auto cloud = std::make_shared<forgetful_model>();
  auto router = f.make({.responder = responder, .local_llm = local, .cloud_llm = cloud});
  router->session_ended(session_id{7});
  ASSERT_EQ(responder->forgotten.size(), 1u);
  EXPECT_EQ(responder->forgotten[0], session_id{7});
  ASSERT_EQ(local->forgotten.size(), 1u) << "e.g. the embedded model frees the session's KV cache";
  EXPECT_EQ(local->forgotten[0], session_id{7});
  ASSERT_EQ(cloud->forgotten.size(), 1u);
}

// A quick responder: the fake's rules take microseconds (the real local_responder says the same).
class quick_responder final : public engine::responder {
 public:
  std::string name() const override { return "quick"; }
  engine::responder_answer answer(std::string_view text, const engine::responder_context& ctx) override {
    return inner.answer(text, ctx);
  }
  std::vector<std::string> domain_phrases() const override { return inner.domain_phrases(); }
  bool quick() const override { return true; }
  fake_responder inner;
};

// A store that answers like memory_store but does not promise to be quick (as Redis would).
class slow_store final : public cache::entry_store {
 public:
  std::string name() const override { return "slow"; }
  result<std::optional<std::string>> get(const std::string& k) override { return inner.get(k); }
  status put(const std::string& k, std::string_view v, std::chrono::seconds ttl) override { return inner.put(k, v, ttl); }
  status erase(const std::string& k) override { return inner.erase(k); }
  status erase_prefix(const std::string& p) override { return inner.erase_prefix(p); }
  status append(const std::string& k, std::string_view v, std::size_t keep) override { return inner.append(k, v, keep); }
  result<cache::list_slice> range(const std::string& k, std::size_t from) override { return inner.range(k, from); }
  cache::memory_store inner;
};

TEST(turn_router, decides_inline_only_when_nothing_it_consults_can_block) {
  fixture f;
  // Quick responder, memory store, n-gram embedder: decided on the calling thread, same answer as route().
  auto quick = f.make({.responder = std::make_shared<quick_responder>(), .cache = f.cache, .cloud_llm = f.cloud});
  const auto inline_reply = quick->route_inline({"what time is it", {}});
  ASSERT_TRUE(inline_reply);
  EXPECT_EQ(inline_reply->route, "intent");
  EXPECT_EQ(inline_reply->text, "It is noon.");
  const auto llm = quick->route_inline({"what is the capital of france", {}});
  ASSERT_TRUE(llm);
  EXPECT_EQ(llm->route, "cloud_llm");
  EXPECT_TRUE(llm->model);
  EXPECT_EQ(quick->stats().n_turns, 2u) << "an inline decision is counted like any other";

  // A responder that does not say it is quick (the fake: the default) → route() on the worker.
  EXPECT_FALSE(f.make({.cache = f.cache, .cloud_llm = f.cloud})->route_inline({"what time is it", {}}));

  // A store that may block (e.g. Redis) → not inline.
  auto slow_cache = std::shared_ptr<cache::response_cache>(*cache::response_cache::create(cache::response_cache_config{},
                                                            std::make_shared<ngram::ngram_embedder>(),
                                                            std::make_shared<slow_store>(), nullptr));
  EXPECT_FALSE(f.make({.responder = std::make_shared<quick_responder>(), .cache = slow_cache, .cloud_llm = f.cloud})
                   ->route_inline({"what time is it", {}}));

  // A shared tier → not inline, even with a quick local store.
  auto tiered = std::shared_ptr<cache::response_cache>(*cache::response_cache::create(cache::response_cache_config{},
                                                        std::make_shared<ngram::ngram_embedder>(),
                                                        std::make_shared<cache::memory_store>(),
                                                        std::make_shared<cache::memory_store>()));
  EXPECT_FALSE(f.make({.responder = std::make_shared<quick_responder>(), .cache = tiered, .cloud_llm = f.cloud})
                   ->route_inline({"what time is it", {}}));

  // No cache at all: only the responder matters.
  EXPECT_TRUE(f.make({.responder = std::make_shared<quick_responder>(), .cloud_llm = f.cloud})
                  ->route_inline({"what time is it", {}}));
}

TEST(turn_router, an_index_larger_than_the_quick_limit_moves_lookups_to_the_worker) {
  fixture f;
  cache::response_cache_config config;
  config.quick_index_entries = 2;
  auto cache = std::shared_ptr<cache::response_cache>(*cache::response_cache::create(config, std::make_shared<ngram::ngram_embedder>(),
                                                       std::make_shared<cache::memory_store>(), nullptr));
  auto router = f.make({.responder = std::make_shared<quick_responder>(), .cache = cache, .cloud_llm = f.cloud});
  EXPECT_TRUE(router->route_inline({"what is the capital of france", {}}));
  for (const char* q : {"what is the capital of france", "how tall is mount everest", "who wrote hamlet"}) {
    router->remember(q, std::string("An answer to ") + q + ".", nullptr);
  }
  wait_stored(*router, 3);
  EXPECT_FALSE(router->route_inline({"what is the capital of france", {}}));
  EXPECT_EQ(route_sync(*router, "what is the capital of france").route, "cache") << "route() still answers";
}

TEST(turn_router, rejects_a_missing_worker_or_a_bad_policy_at_start_up) {
  fixture f;
  EXPECT_THROW(turn_router({}, {}, boost::asio::any_io_executor{}), std::invalid_argument);
  EXPECT_THROW(turn_router({.responder = std::make_shared<fake_responder>()}, {.policy = {.intent_threshold = 2.0}},
                           f.pool.get_executor()),
               std::invalid_argument);
}

}  // namespace
}  // namespace parley::agent

namespace parley::agent {
namespace {

// A quick responder that says how sure it is without answering, and counts its answers.
class sure_responder final : public engine::responder {
 public:
  std::string name() const override { return "sure"; }
  engine::responder_answer answer(std::string_view text, const engine::responder_context&) override {
    ++n_answers;
    if (text == "what time is it") return {"time.now", 0.95, "It is noon."};
    return {"", 0.0, ""};
  }
  std::vector<std::string> domain_phrases() const override { return {}; }
  bool quick() const override { return true; }
  std::optional<double> confidence(std::string_view text, session_id) const override {
    return text == "what time is it" ? 0.95 : 0.0;
  }
  std::atomic<int> n_answers{0};
};

// A model that may call tools (an OpenAI-compatible server with tools declared).
class tool_calling_model final : public engine::chat_model {
 public:
  explicit tool_calling_model(std::shared_ptr<engine::chat_model> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return "with-tools"; }
  engine::chat_caps caps() const override { return {true, "with-tools", true}; }
  void stream(engine::chat_request r, engine::chat_events e, std::stop_token stop) override {
    inner_->stream(std::move(r), std::move(e), std::move(stop));
  }

 private:
  std::shared_ptr<engine::chat_model> inner_;
};

routed_reply route_preemptive(turn_router& router, std::string query) {
  route_request request{std::move(query), {}, /*preemptive=*/true};
  auto r = router.route_inline(request);
  EXPECT_TRUE(r.has_value()) << "quick parts: decided inline";
  return r ? *r : routed_reply{};
}

TEST(turn_router_preemptive, nothing_acts_and_nothing_is_counted) {
  fixture f;
  auto responder = std::make_shared<sure_responder>();
  auto router = f.make({.responder = responder, .cache = f.cache, .cloud_llm = f.cloud});
  EXPECT_EQ(route_preemptive(*router, "what time is it").route, "") << "the intent would act: declined";
  const auto open = route_preemptive(*router, "what is the capital of france");
  EXPECT_EQ(open.route, "cloud_llm");
  EXPECT_TRUE(open.model);
  EXPECT_EQ(responder->n_answers.load(), 0) << "the responder is only asked how sure it is";
  EXPECT_EQ(router->stats().n_turns, 0u);
  // A model that may call tools never runs preemptively.
  auto with_tools = f.make({.responder = responder, .cloud_llm = std::make_shared<tool_calling_model>(f.cloud)});
  EXPECT_EQ(route_preemptive(*with_tools, "what is the capital of france").route, "");
  // A responder that cannot say how sure it is without answering: declined too.
  auto slow = f.make({.cloud_llm = f.cloud});  // fake_responder: not quick
  route_request request{"what is the capital of france", {}, true};
  EXPECT_EQ(slow->route_now(request).route, "");
}

}  // namespace
}  // namespace parley::agent
