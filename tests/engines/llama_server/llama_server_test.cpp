// openai_chat_model against a real llama.cpp llama-server (built from the pinned source by
// scripts/llama/build_server.sh) serving a tiny random-weight llama model that the test writes
// itself (scripts/llama/make_model.py). Streams a chat completion, cancels one mid-stream, warms
// a connection, and runs two streams at once. The text is gibberish; the tests check the
// protocol: incremental tokens, valid UTF-8, on_done exactly once, prompt cancellation, keep-alive.
// Skipped only when the llama-server binary or numpy is missing. Time bounds are generous
// (sanitizer builds, a busy machine) and only prove that nothing hangs, except the cancellation
// bound, which is what "promptly" means here.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "llama_server_process.hpp"
#include "parley/engines/llama/llama_chat_model.hpp"
#include "parley/engines/openai/openai_chat_model.hpp"
#include "parley/text/utf8.hpp"

namespace parley::openai {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace pt = parley::testing;

constexpr auto no_hang_bound = 60s;
constexpr auto cancel_bound = 1s;  // request_stop() -> on_done(cancelled)
constexpr int model_ctx = 8192;    // the model's context length and the server's -c

/// One stream's callbacks, with arrival times. Shared with the callbacks, so the network thread
/// never touches a destroyed collector.
struct collector : std::enable_shared_from_this<collector> {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> tokens;
  std::vector<clock_type::time_point> token_times;
  int n_done = 0;
  int n_after_done = 0;  // callbacks that came after on_done (must stay 0)
  std::optional<status> done;
  clock_type::time_point done_at;

  engine::chat_events events() {
    auto self = shared_from_this();
    return {.on_token =
                [self](std::string_view t) {
                  std::lock_guard lock(self->mutex);
                  if (self->n_done > 0) ++self->n_after_done;
                  self->tokens.emplace_back(t);
                  self->token_times.push_back(clock_type::now());
                  self->cv.notify_all();
                },
            .on_done =
                [self](status s) {
                  std::lock_guard lock(self->mutex);
                  if (++self->n_done == 1) {
                    self->done = std::move(s);
                    self->done_at = clock_type::now();
                  } else {
                    ++self->n_after_done;
                  }
                  self->cv.notify_all();
                }};
  }
  bool wait_done(std::chrono::milliseconds bound = no_hang_bound) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, bound, [&] { return n_done > 0; });
  }
  bool wait_tokens(std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, no_hang_bound, [&] { return tokens.size() >= n || n_done > 0; }) && tokens.size() >= n;
  }
  std::string text() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }
};

engine::chat_request chat(int max_tokens, std::string user = "Tell me a long story about a lighthouse.") {
  engine::chat_request r;
  r.messages = {{engine::chat_role::system, "You are a helpful voice assistant. Be brief."},
                {engine::chat_role::user, std::move(user)}};
  r.max_tokens = max_tokens;
  r.temperature = 0.7;
  return r;
}

status warm_and_wait(openai_chat_model& model) {
  auto p = std::make_shared<std::promise<status>>();
  auto f = p->get_future();
  model.warm([p](status s) { p->set_value(std::move(s)); });
  if (f.wait_for(no_hang_bound) != std::future_status::ready) return make_error(errc::timeout, "warm hung");
  return f.get();
}

/// One server per test (each test is its own process under CTest); the model file is written
/// once into the build tree and shared.
class llama_server_test : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path binary = pt::find_llama_server(PARLEY_LLAMA_SERVER_BIN);
    if (binary.empty()) {
      const char* env = std::getenv("PARLEY_LLAMA_SERVER");
      GTEST_SKIP() << "no llama-server at " << (env != nullptr && *env != '\0' ? env : PARLEY_LLAMA_SERVER_BIN)
                   << " (run scripts/llama/build_server.sh, or set PARLEY_LLAMA_SERVER)";
    }
    const fs::path work = fs::path(PARLEY_TEST_WORK_DIR) / "llama_server_work";
    const auto model = pt::ensure_model(PARLEY_SOURCE_DIR, work, "tiny", 7, model_ctx);
    if (model.what == pt::model_result::kind::unavailable) {
      GTEST_SKIP() << "cannot write the test model (numpy or gguf-py missing): " << model.message;
    }
    ASSERT_EQ(model.what, pt::model_result::kind::ok) << model.message;

    pt::llama_server_options o;
    o.binary = binary;
    o.model = model.path;
    model_path_ = model.path;
    o.ctx = model_ctx;  // two slots of 4096 tokens
    o.slots = 2;
    o.threads = 1;  // the tiny model needs no parallelism, and spinning threads suffer on a busy machine
    o.log = work / ("llama-server-" + std::to_string(::getpid()) + ".log");
    log_ = o.log;
    const auto failed = server_.start(o);
    ASSERT_FALSE(failed.has_value()) << *failed;
  }

  void TearDown() override {
    server_.stop();
    std::error_code ec;
    if (!HasFailure() && !log_.empty()) fs::remove(log_, ec);
  }

  chat_config config() const {
    chat_config c;
    c.provider.base_url = server_.base_url();
    c.provider.api_key_env = "PARLEY_TEST_UNSET_KEY_VARIABLE";  // llama-server runs without a key
    c.model = "tiny";
    c.first_token_timeout_ms = 30000;
    c.inter_token_timeout_ms = 30000;
    return c;
  }

  pt::llama_server_process server_;
  fs::path log_;
  fs::path model_path_;
};

// The embedded backend (engines/llama) on the very file the server runs: both stream a greedy
// reply to the same conversation through the same chat_model interface.
TEST_F(llama_server_test, the_embedded_backend_runs_the_same_model_file) {
  auto embedded = llama::llama_chat_model::load({.model_path = model_path_, .context_tokens = 1024, .threads = 1});
  ASSERT_TRUE(embedded) << embedded.error().describe();
  auto http = openai_chat_model::create(config());
  ASSERT_TRUE(http) << http.error().describe();
  auto request = chat(12, "What time do you open?");
  request.temperature = 0.0;
  auto a = std::make_shared<collector>();
  auto b = std::make_shared<collector>();
  (*embedded)->stream(request, a->events(), {});
  (*http)->stream(request, b->events(), {});
  ASSERT_TRUE(a->wait_done());
  ASSERT_TRUE(b->wait_done());
  ASSERT_TRUE(a->done->has_value()) << a->done->error().describe();
  ASSERT_TRUE(b->done->has_value()) << b->done->error().describe();
  EXPECT_EQ(a->tokens.size(), 12U) << "the generated model never ends early";
  EXPECT_FALSE(b->text().empty());
  // Same weights, template and greedy sampling; the two builds of llama.cpp may still differ in
  // the last bits of a near tie, so equal text is reported, not required.
  if (a->text() != b->text()) std::cout << "note: embedded and server replies differ: '" << a->text() << "' vs '" << b->text() << "'\n";
}

TEST_F(llama_server_test, streams_a_chat_completion_incrementally) {
  auto model = openai_chat_model::create(config());
  ASSERT_TRUE(model) << model.error().describe();
  auto c = std::make_shared<collector>();
  const auto sent = clock_type::now();
  (*model)->stream(chat(32), c->events(), {});
  ASSERT_TRUE(c->wait_done()) << "on_done never came";

  std::lock_guard lock(c->mutex);
  ASSERT_TRUE(c->done.has_value());
  ASSERT_TRUE(c->done->has_value()) << c->done->error().describe();
  // The model never samples its end-of-turn token (make_model.py), so the reply runs to
  // max_tokens, one server-sent event per token.
  EXPECT_GE(c->tokens.size(), 16u) << "tokens were not streamed one by one";
  EXPECT_LE(c->tokens.size(), 32u);
  std::string all;
  for (const auto& t : c->tokens) {
    EXPECT_FALSE(t.empty());
    EXPECT_EQ(text::utf8_complete_prefix(t), t.size()) << "a token ends inside a character";
    all += t;
  }
  EXPECT_TRUE(text::is_valid_utf8(all));
  // Incremental: the first token arrived before the stream ended, and tokens kept arriving.
  ASSERT_FALSE(c->token_times.empty());
  EXPECT_GE(c->token_times.front(), sent);
  EXPECT_LT(c->token_times.front(), c->done_at);
  EXPECT_LE(c->token_times.back(), c->done_at);
  EXPECT_LT(c->token_times.front(), c->token_times.back());
  EXPECT_EQ(c->n_done, 1);
  EXPECT_EQ(c->n_after_done, 0);
  EXPECT_EQ((*model)->caps().model, "tiny");
}

TEST_F(llama_server_test, cancel_mid_stream_ends_at_once_and_nothing_follows) {
  auto model = openai_chat_model::create(config());
  ASSERT_TRUE(model) << model.error().describe();
  auto c = std::make_shared<collector>();
  std::stop_source stop;
  // Far more tokens than arrive before the cancel: ~2 s of generation even at the tiny model's
  // speed (the slot's context is 4096 tokens).
  (*model)->stream(chat(4000), c->events(), stop.get_token());
  ASSERT_TRUE(c->wait_tokens(5)) << "fewer than 5 tokens before the stream ended: " << c->text();

  const auto asked = clock_type::now();
  stop.request_stop();
  ASSERT_TRUE(c->wait_done(cancel_bound)) << "on_done(cancelled) did not come within the bound";
  std::size_t n_at_done = 0;
  {
    std::lock_guard lock(c->mutex);
    ASSERT_TRUE(c->done.has_value());
    ASSERT_FALSE(c->done->has_value()) << "the stream finished before the cancel";
    EXPECT_EQ(c->done->error().code, errc::cancelled);
    EXPECT_LT(c->done_at - asked, cancel_bound);
    n_at_done = c->tokens.size();
    EXPECT_LT(n_at_done, 4000u);
  }
  // The server keeps generating for a moment; none of it may reach the caller.
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard lock(c->mutex);
    EXPECT_EQ(c->tokens.size(), n_at_done);
    EXPECT_EQ(c->n_done, 1);
    EXPECT_EQ(c->n_after_done, 0);
  }

  // The cancelled connection is not reused; the next request streams normally.
  auto next = std::make_shared<collector>();
  (*model)->stream(chat(8, "And now a short one."), next->events(), {});
  ASSERT_TRUE(next->wait_done());
  ASSERT_TRUE(next->done && next->done->has_value()) << next->done->error().describe();
  EXPECT_FALSE(next->text().empty());
  EXPECT_EQ(pt::http_get(server_.port(), "/health").first, 200);
}

TEST_F(llama_server_test, warm_opens_the_connection_the_first_request_reuses) {
  auto model = openai_chat_model::create(config());
  ASSERT_TRUE(model) << model.error().describe();
  EXPECT_EQ((*model)->n_connects(), 0u);
  const status warmed = warm_and_wait(**model);
  ASSERT_TRUE(warmed.has_value()) << warmed.error().describe();
  EXPECT_EQ((*model)->n_connects(), 1u);
  // Warming again with an idle connection pooled does nothing.
  ASSERT_TRUE(warm_and_wait(**model).has_value());
  EXPECT_EQ((*model)->n_connects(), 1u);

  // The first turn goes over the warmed connection: no connect of its own.
  for (int turn = 0; turn < 2; ++turn) {
    auto c = std::make_shared<collector>();
    (*model)->stream(chat(8), c->events(), {});
    ASSERT_TRUE(c->wait_done());
    ASSERT_TRUE(c->done && c->done->has_value()) << c->done->error().describe();
    EXPECT_FALSE(c->text().empty());
    if (turn == 0) {
      EXPECT_EQ((*model)->n_connects(), 1u);
    }
  }
  // This llama-server closes the connection after every streamed response (its chunked content
  // provider reports an error after the final chunk, so cpp-httplib drops keep-alive), hence the
  // second turn connects again — once, without an error or a retry reaching the caller.
  EXPECT_LE((*model)->n_connects(), 2u);
}

TEST_F(llama_server_test, two_streams_at_once_each_complete) {
  auto model = openai_chat_model::create(config());
  ASSERT_TRUE(model) << model.error().describe();
  auto a = std::make_shared<collector>();
  auto b = std::make_shared<collector>();
  (*model)->stream(chat(24, "First question."), a->events(), {});
  (*model)->stream(chat(24, "Second question."), b->events(), {});
  ASSERT_TRUE(a->wait_done());
  ASSERT_TRUE(b->wait_done());
  for (auto* c : {a.get(), b.get()}) {
    std::lock_guard lock(c->mutex);
    ASSERT_TRUE(c->done && c->done->has_value()) << c->done->error().describe();
    EXPECT_GE(c->tokens.size(), 12u);
    EXPECT_EQ(c->n_done, 1);
    EXPECT_EQ(c->n_after_done, 0);
  }
  EXPECT_EQ((*model)->n_connects(), 2u);
}

}  // namespace
}  // namespace parley::openai
