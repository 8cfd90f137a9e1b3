// engines/llama: the embedded llama.cpp chat model (and embedder) on a tiny random-weight llama model that the
// test writes itself (scripts/llama/make_model.py, gguf-py from the pinned llama.cpp source).
// The text is gibberish; what is checked is the streaming contract, KV reuse between turns, the
// system-prompt state copy, context trimming and cancellation, through the model's counters.
#include "parley/engines/llama/llama_chat_model.hpp"
#include "parley/engines/llama/llama_embedder.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace parley::llama {
namespace {

namespace fs = std::filesystem;
using engine::chat_message;
using engine::chat_request;
using engine::chat_role;

// One request's outcome, collected from the callbacks.
struct reply {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> tokens;
  std::optional<status> done;
  int tokens_after_done = 0;

  engine::chat_events events(std::function<void(std::size_t)> after_token = {}) {
    return {.on_token = [this, after_token](std::string_view t) {
              std::size_t n = 0;
              {
                std::lock_guard lock(mutex);
                if (done) ++tokens_after_done;
                tokens.emplace_back(t);
                n = tokens.size();
              }
              if (after_token) after_token(n);
            },
            .on_done = [this](status s) {
              std::lock_guard lock(mutex);
              done = std::move(s);
              cv.notify_all();
            }};
  }
  bool wait(std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, limit, [&] { return done.has_value(); });
  }
  std::string text() {
    std::lock_guard lock(mutex);
    std::string all;
    for (const auto& t : tokens) all += t;
    return all;
  }
};

class LlamaChatModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("parley_llama_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    if (const char* given = std::getenv("PARLEY_LLAMA_TEST_MODEL"); given != nullptr && *given != '\0') {
      model_ = given;  // any GGUF model, e.g. a real one
      return;
    }
    model_ = dir_ / "tiny.gguf";
    const std::string cmd = std::string("/usr/bin/python3 ") + PARLEY_SOURCE_DIR +
                            "/scripts/llama/make_model.py --size tiny --seed 7 --out " + model_.string() +
                            " > " + (dir_ / "make_model.log").string() + " 2>&1";
    if (std::system(cmd.c_str()) != 0) model_.clear();
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    if (model_.empty()) GTEST_SKIP() << "could not write the tiny model (see " << (dir_ / "make_model.log") << ")";
  }

  static std::unique_ptr<llama_chat_model> load(llama_config config = {}) {
    config.model_path = model_;
    if (config.context_tokens == 4096) config.context_tokens = 1024;
    config.threads = 1;
    auto loaded = llama_chat_model::load(config);
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().describe());
    return loaded ? std::move(*loaded) : nullptr;
  }

  static chat_request request(std::uint64_t session, std::vector<chat_message> messages, int max_tokens = 8) {
    chat_request r;
    r.messages = std::move(messages);
    r.max_tokens = max_tokens;
    r.temperature = 0.0;  // greedy: the same prompt gives the same reply
    r.context.session = session_id{session};
    return r;
  }

  static inline fs::path dir_;
  static inline fs::path model_;
};

const chat_message kSystem{chat_role::system,
                           "You are a helpful voice assistant for a hardware store. Answer briefly, in plain words "
                           "that sound natural when spoken aloud."};

TEST_F(LlamaChatModel, MissingFileIsNotFoundAndGarbageIsAnEngineFailure) {
  auto missing = llama_chat_model::load({.model_path = dir_ / "nope.gguf"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);

  const fs::path garbage = dir_ / "garbage.gguf";
  std::ofstream(garbage) << "this is not a GGUF file";
  auto bad = llama_chat_model::load({.model_path = garbage});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::engine_failure);
}

TEST_F(LlamaChatModel, StreamsTokensAndFinishesOnce) {
  auto model = load();
  ASSERT_TRUE(model);
  EXPECT_EQ(model->name(), "llama:" + model_.stem().string());
  EXPECT_NE(model->describe().find("ctx 1024"), std::string::npos);

  reply r;
  model->stream(request(1, {kSystem, {chat_role::user, "What time do you open?"}}), r.events(), {});
  ASSERT_TRUE(r.wait());
  ASSERT_TRUE(r.done->has_value()) << r.done->error().describe();
  EXPECT_EQ(r.tokens_after_done, 0);
  const auto s = model->stats();
  EXPECT_EQ(s.requests, 1U);
  EXPECT_LE(s.generated_tokens, 8U);
  EXPECT_GT(s.prompt_tokens, 20U);
  EXPECT_EQ(s.decoded_tokens, s.prompt_tokens);  // first turn: everything decoded
}

TEST_F(LlamaChatModel, GreedyRepliesAreDeterministicAcrossSessions) {
  auto model = load();
  ASSERT_TRUE(model);
  reply a;
  reply b;
  model->stream(request(1, {kSystem, {chat_role::user, "Do you sell paint?"}}), a.events(), {});
  model->stream(request(2, {kSystem, {chat_role::user, "Do you sell paint?"}}), b.events(), {});
  ASSERT_TRUE(a.wait());
  ASSERT_TRUE(b.wait());
  EXPECT_EQ(a.text(), b.text());
  // The second session got the system prompt's KV state copied, not decoded again.
  const auto s = model->stats();
  EXPECT_EQ(s.system_states, 1U);
  EXPECT_GT(s.copied_tokens, 20U);
}

TEST_F(LlamaChatModel, SecondTurnDecodesOnlyTheNewTokens) {
  auto model = load();
  ASSERT_TRUE(model);
  std::vector<chat_message> conversation{kSystem, {chat_role::user, "Do you sell paint?"}};
  reply first;
  model->stream(request(1, conversation), first.events(), {});
  ASSERT_TRUE(first.wait());
  const auto after_first = model->stats();

  conversation.push_back({chat_role::assistant, first.text()});
  conversation.push_back({chat_role::user, "And brushes?"});
  reply second;
  model->stream(request(1, conversation), second.events(), {});
  ASSERT_TRUE(second.wait());
  ASSERT_TRUE(second.done->has_value());
  const auto after_second = model->stats();

  const auto prompt1 = after_first.prompt_tokens;
  const auto prompt2 = after_second.prompt_tokens - after_first.prompt_tokens;
  const auto reused2 = after_second.reused_tokens - after_first.reused_tokens;
  const auto decoded2 = after_second.decoded_tokens - after_first.decoded_tokens;
  EXPECT_GE(reused2 + 2, prompt1) << "the first turn's prompt is a prefix of the second's";
  EXPECT_EQ(reused2 + decoded2, prompt2);
  EXPECT_LT(decoded2, prompt2 - prompt1 + 16U);
}

TEST_F(LlamaChatModel, WithoutReuseEveryTurnDecodesEverything) {
  auto model = load({.reuse_kv = false});
  ASSERT_TRUE(model);
  for (int turn = 0; turn < 2; ++turn) {
    reply r;
    model->stream(request(1, {kSystem, {chat_role::user, "Do you sell paint?"}}), r.events(), {});
    ASSERT_TRUE(r.wait());
  }
  const auto s = model->stats();
  EXPECT_EQ(s.reused_tokens, 0U);
  EXPECT_EQ(s.decoded_tokens, s.prompt_tokens);
}

TEST_F(LlamaChatModel, ForgettingASessionFreesItsContext) {
  auto model = load();
  ASSERT_TRUE(model);
  const std::vector<chat_message> conversation{kSystem, {chat_role::user, "Where are the hammers?"}};
  reply one;
  model->stream(request(5, conversation), one.events(), {});
  ASSERT_TRUE(one.wait());
  model->forget_session(session_id{5});
  const auto before = model->stats();
  reply two;
  model->stream(request(5, conversation), two.events(), {});
  ASSERT_TRUE(two.wait());
  const auto after = model->stats();
  // Only the system prompt came back (copied); the user turn was decoded again.
  EXPECT_EQ(after.reused_tokens - before.reused_tokens, after.copied_tokens - before.copied_tokens);
  EXPECT_GT(after.copied_tokens, before.copied_tokens);
}

TEST_F(LlamaChatModel, ContextsAreReusedBeyondMaxSessions) {
  auto model = load({.max_sessions = 2});
  ASSERT_TRUE(model);
  const std::vector<chat_message> conversation{kSystem, {chat_role::user, "Where are the hammers?"}};
  for (std::uint64_t session = 1; session <= 5; ++session) {
    reply r;
    model->stream(request(session, conversation, 2), r.events(), {});
    ASSERT_TRUE(r.wait());
    ASSERT_TRUE(r.done->has_value());
  }
  // Beyond two sessions the least recently used context is reused: never more than
  // max_sessions + the one spare are made.
  EXPECT_LE(model->stats().contexts_created, 3U);
  // Session 1's context went to another session, so its turn starts over from the system prompt.
  const auto before = model->stats();
  reply again;
  model->stream(request(1, conversation, 2), again.events(), {});
  ASSERT_TRUE(again.wait());
  const auto after = model->stats();
  EXPECT_EQ(after.reused_tokens - before.reused_tokens, after.copied_tokens - before.copied_tokens);
}

TEST_F(LlamaChatModel, CancelStopsWithinOneToken) {
  auto model = load();
  ASSERT_TRUE(model);
  std::stop_source stop;
  reply r;
  auto req = request(1, {kSystem, {chat_role::user, "Tell me a long story about tools."}}, 200);
  req.temperature = 0.8;  // sampled: a random model rarely ends early
  model->stream(std::move(req), r.events([&](std::size_t n) {
    if (n == 3) stop.request_stop();
  }), stop.get_token());
  ASSERT_TRUE(r.wait());
  if (r.tokens.size() < 3) GTEST_SKIP() << "the model ended its reply before the third token";
  ASSERT_FALSE(r.done->has_value());
  EXPECT_EQ(r.done->error().code, errc::cancelled);
  EXPECT_EQ(r.tokens.size(), 3U);
  EXPECT_EQ(r.tokens_after_done, 0);

  // The session stays usable after a cancel.
  reply next;
  model->stream(request(1, {kSystem, {chat_role::user, "Hello?"}}), next.events(), {});
  ASSERT_TRUE(next.wait());
  EXPECT_TRUE(next.done->has_value());
}

TEST_F(LlamaChatModel, ALongConversationDropsItsOldestTurns) {
  auto model = load({.context_tokens = 256, .reserve_tokens = 32});
  ASSERT_TRUE(model);
  std::vector<chat_message> conversation{kSystem};
  for (int i = 0; i < 12; ++i) {
    conversation.push_back({chat_role::user, "Question number " + std::to_string(i) + " about screws and nails?"});
    conversation.push_back({chat_role::assistant, "Answer number " + std::to_string(i) + " about screws and nails."});
  }
  conversation.push_back({chat_role::user, "Which aisle?"});
  reply r;
  model->stream(request(1, conversation), r.events(), {});
  ASSERT_TRUE(r.wait());
  ASSERT_TRUE(r.done->has_value()) << r.done->error().describe();
  const auto s = model->stats();
  EXPECT_GT(s.trimmed_turns, 0U);
  EXPECT_LE(s.prompt_tokens, 256U - 32U);

  // A single message larger than the whole context is refused with a clear error.
  reply too_long;
  model->stream(request(2, {{chat_role::user, std::string(4000, 'x') + " ?"}}), too_long.events(), {});
  ASSERT_TRUE(too_long.wait());
  ASSERT_FALSE(too_long.done->has_value());
  EXPECT_EQ(too_long.done->error().code, errc::invalid_argument);
}

TEST_F(LlamaChatModel, SessionsTakeTurnsTokenByToken) {
  auto model = load();
  ASSERT_TRUE(model);
  std::mutex mutex;
  std::vector<int> order;  // which session each token belonged to, in arrival order
  reply a;
  reply b;
  auto note = [&](int who) {
    return [&, who](std::size_t) {
      std::lock_guard lock(mutex);
      order.push_back(who);
    };
  };
  auto ra = request(1, {kSystem, {chat_role::user, "Tell me about drills."}}, 24);
  auto rb = request(2, {kSystem, {chat_role::user, "Tell me about saws."}}, 24);
  ra.temperature = rb.temperature = 0.8;
  model->stream(std::move(ra), a.events(note(1)), {});
  model->stream(std::move(rb), b.events(note(2)), {});
  ASSERT_TRUE(a.wait());
  ASSERT_TRUE(b.wait());
  if (a.tokens.size() < 4 || b.tokens.size() < 4) GTEST_SKIP() << "a reply ended too early to show interleaving";
  // Round robin: the second session's first token comes before the first session's last one.
  const auto first_b = std::find(order.begin(), order.end(), 2);
  const auto last_a = std::find(order.rbegin(), order.rend(), 1).base();
  EXPECT_LT(first_b - order.begin(), last_a - order.begin());
}

TEST_F(LlamaChatModel, DestroyingTheModelCancelsWhatIsQueued) {
  auto model = load();
  ASSERT_TRUE(model);
  std::vector<std::unique_ptr<reply>> replies;
  for (int i = 0; i < 4; ++i) {
    replies.push_back(std::make_unique<reply>());
    model->stream(request(static_cast<std::uint64_t>(i + 1), {kSystem, {chat_role::user, "Hi?"}}, 64),
                  replies.back()->events(), {});
  }
  model.reset();
  for (auto& r : replies) {
    ASSERT_TRUE(r->wait(std::chrono::seconds(1)));  // already called: the destructor joined
    if (!r->done->has_value()) {
      EXPECT_EQ(r->done->error().code, errc::cancelled);
    }
  }
}

TEST_F(LlamaChatModel, AnEmptyRequestIsRefused) {
  auto model = load();
  ASSERT_TRUE(model);
  reply r;
  model->stream(chat_request{}, r.events(), {});
  ASSERT_TRUE(r.wait());
  ASSERT_FALSE(r.done->has_value());
  EXPECT_EQ(r.done->error().code, errc::invalid_argument);
}

// The embedder on the same (generative, so mean-pooled) model: what is checked is the contract —
// unit vectors of the model's width, deterministic, distinct texts apart — not semantic quality.
class LlamaEmbedder : public LlamaChatModel {};

TEST_F(LlamaEmbedder, GivesDeterministicUnitVectors) {
  auto loaded = llama_embedder::load({.model_path = model_, .threads = 1});
  ASSERT_TRUE(loaded) << loaded.error().describe();
  auto& e = **loaded;
  EXPECT_EQ(e.name(), "llama:" + model_.stem().string());
  ASSERT_GT(e.dims(), 0U);
  auto a = e.embed("when do you open on saturday");
  auto b = e.embed("when do you open on saturday");
  auto c = e.embed("can I return a can of paint");
  ASSERT_TRUE(a && b && c);
  ASSERT_EQ(a->size(), e.dims());
  EXPECT_NEAR(engine::dot(*a, *a), 1.0, 1e-4);
  EXPECT_NEAR(engine::dot(*a, *b), 1.0, 1e-6);
  EXPECT_LT(engine::dot(*a, *c), 0.9999);

  auto empty = e.embed("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(engine::dot(*empty, *empty), 0.0);
  // Longer than the context: cut to it, still a unit vector.
  std::string essay;
  for (int i = 0; i < 400; ++i) essay += "paint brushes and rollers ";
  auto long_one = e.embed(essay);
  ASSERT_TRUE(long_one);
  EXPECT_NEAR(engine::dot(*long_one, *long_one), 1.0, 1e-4);
}

TEST_F(LlamaEmbedder, IsSafeToShareAcrossThreads) {
  auto loaded = llama_embedder::load({.model_path = model_, .threads = 1});
  ASSERT_TRUE(loaded);
  auto& e = **loaded;
  const auto expected = e.embed("where are the hammers");
  ASSERT_TRUE(expected);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto v = e.embed("where are the hammers");
        if (!v || engine::dot(*v, *expected) < 1.0 - 1e-6) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(LlamaEmbedder, AMissingModelIsNotFound) {
  auto missing = llama_embedder::load({.model_path = dir_ / "nope.gguf"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
}

}  // namespace
}  // namespace parley::llama
