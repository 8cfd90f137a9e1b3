// openai_chat_model and openai_embedder against the scripted fake server: streaming, keep-alive,
// warm-up, timeouts, refused/reset connections, retries (500, 429 Retry-After), malformed events,
// cancellation, tool calls, embeddings and TLS. Time bounds are generous and only prove that
// nothing hangs; no test asserts how fast something is.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <openssl/ssl.h>

#include "fake_server.hpp"
#include "parley/engines/openai/openai_chat_model.hpp"
#include "parley/engines/openai/openai_embedder.hpp"
#include "parley/text/utf8.hpp"

namespace parley::openai {
namespace {

using testing::fake_conn;
using testing::fake_request;
using testing::fake_server;
using namespace std::chrono_literals;

constexpr auto no_hang_bound = 15s;
const std::string secret_key = "sk-test-secret-0123456789";

/// Collects one stream's callbacks; wait() proves on_done came (once) within the bound. Shared:
/// the callbacks keep it alive, so the network thread never touches a destroyed collector.
struct collector : std::enable_shared_from_this<collector> {
  std::mutex mutex;
  std::vector<std::string> tokens;
  std::vector<engine::chat_progress> progress;
  int n_done = 0;
  std::optional<status> done;
  std::promise<void> finished;
  std::shared_future<void> finished_future = finished.get_future().share();
  std::function<void(std::string_view)> also_on_token;

  engine::chat_events events() {
    auto self = shared_from_this();
    return {.on_token =
                [self](std::string_view t) {
                  {
                    std::lock_guard lock(self->mutex);
                    self->tokens.emplace_back(t);
                  }
                  if (self->also_on_token) self->also_on_token(t);
                },
            .on_done =
                [self](status s) {
                  bool first = false;
                  {
                    std::lock_guard lock(self->mutex);
                    first = ++self->n_done == 1;
                    if (first) self->done = std::move(s);
                  }
                  if (first) self->finished.set_value();
                },
            .on_progress =
                [self](const engine::chat_progress& p) {
                  std::lock_guard lock(self->mutex);
                  self->progress.push_back(p);
                }};
  }
  bool wait() { return finished_future.wait_for(no_hang_bound) == std::future_status::ready; }
  std::string text() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }
  int dones() {
    std::lock_guard lock(mutex);
    return n_done;
  }
};

/// The model of `cfg` (null, with a test failure, when create() refuses it).
std::shared_ptr<openai_chat_model> make_model(const chat_config& cfg) {
  auto made = openai_chat_model::create(cfg);
  EXPECT_TRUE(made) << (made ? "" : made.error().describe());
  return made ? std::move(*made) : nullptr;
}

/// The embedder of `cfg` (null, with a test failure, when create() refuses it).
std::shared_ptr<openai_embedder> make_embedder(const embedder_config& cfg) {
  auto made = openai_embedder::create(cfg);
  EXPECT_TRUE(made) << (made ? "" : made.error().describe());
  return made ? std::move(*made) : nullptr;
}

/// Warms the model and waits for the outcome.
status warm_and_wait(openai_chat_model& model) {
  auto p = std::make_shared<std::promise<status>>();
  auto f = p->get_future();
  model.warm([p](status s) { p->set_value(std::move(s)); });
  if (f.wait_for(no_hang_bound) != std::future_status::ready) return make_error(errc::timeout, "warm hung");
  return f.get();
}

chat_config config_for(const fake_server& server) {
  chat_config c;
  c.provider.base_url = server.base_url();
  c.provider.api_key = secret_key;
  c.model = "test-model";
  c.backoff_ms = 20;
  c.first_token_timeout_ms = 5000;
  c.inter_token_timeout_ms = 5000;
  return c;
}

engine::chat_request hello_request() {
  engine::chat_request r;
  r.messages = {{engine::chat_role::system, "Be brief."}, {engine::chat_role::user, "Say hello."}};
  return r;
}

/// Runs one stream to its end and returns the collector.
std::shared_ptr<collector> run(openai_chat_model& model, std::stop_token stop = {}) {
  auto c = std::make_shared<collector>();
  model.stream(hello_request(), c->events(), std::move(stop));
  EXPECT_TRUE(c->wait()) << "on_done never came";
  return c;
}

void stream_hello(fake_conn& conn) {
  conn.sse_headers();
  conn.event(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})");
  conn.token("Hello");
  conn.token(", world");
  conn.token("!");
  conn.finish();
}

TEST(openai_chat_model, streams_tokens_and_sends_a_proper_request) {
  fake_server server([](fake_conn& conn, const fake_request&, int) { stream_hello(conn); });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done.has_value());
  EXPECT_TRUE(c->done->has_value()) << c->done->error().describe();
  EXPECT_EQ(c->text(), "Hello, world!");
  EXPECT_EQ(c->dones(), 1);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/v1/chat/completions");
  EXPECT_EQ(requests[0].authorization, "Bearer " + secret_key);
  EXPECT_EQ(requests[0].accept, "text/event-stream");
  const auto body = requests[0].json();
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["stream"], true);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["content"], "Say hello.");
  EXPECT_FALSE(body.contains("tools"));

  // The key is a secret: never in names or descriptions.
  EXPECT_EQ(model->name().find(secret_key), std::string::npos);
  EXPECT_EQ(config_for(server).provider.describe().find(secret_key), std::string::npos);
  EXPECT_NE(config_for(server).provider.describe().find("key set"), std::string::npos);
}

TEST(openai_chat_model, sends_extra_headers_and_no_authorization_without_a_key) {
  fake_server server([](fake_conn& conn, const fake_request&, int) { stream_hello(conn); });
  auto cfg = config_for(server);
  cfg.provider.api_key.clear();
  cfg.provider.api_key_env = "PARLEY_TEST_UNSET_KEY_VARIABLE";
  cfg.provider.headers = {{"X-Parley-Test", "yes"}};
  cfg.max_tokens = 32;
  cfg.temperature = 0.5;
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && c->done->has_value());
  const auto req = server.requests().at(0);
  EXPECT_EQ(req.headers.count("authorization"), 0u);
  EXPECT_EQ(req.headers.at("x-parley-test"), "yes");
  EXPECT_EQ(req.json()["max_tokens"], 32);
  EXPECT_EQ(req.json()["temperature"], 0.5);
  EXPECT_NE(cfg.provider.describe().find("no key"), std::string::npos);
}

TEST(openai_chat_model, utf8_split_across_network_chunks_is_never_split_in_tokens) {
  const std::string text = "Caf\xC3\xA9 \xF0\x9F\x91\x8B \xE6\x97\xA5\xE6\x9C\xAC";
  fake_server server([&](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    const std::string ev = "data: " + fake_conn::content_chunk(text) + "\n\n";
    // Cut the event bytes inside the 4-byte emoji and inside a CRLF-free line, with pauses so
    // the client sees separate reads.
    const std::size_t cut1 = ev.find("\xF0\x9F") + 2;
    conn.chunk(ev.substr(0, cut1));
    conn.sleep_ms(30);
    conn.chunk(ev.substr(cut1, 5));
    conn.sleep_ms(30);
    conn.chunk(ev.substr(cut1 + 5));
    conn.finish();
  });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && c->done->has_value());
  EXPECT_EQ(c->text(), text);
  for (const auto& t : c->tokens) EXPECT_EQ(text::utf8_complete_prefix(t), t.size()) << "split character";
}

TEST(openai_chat_model, keep_alive_reuses_one_connection) {
  fake_server server([](fake_conn& conn, const fake_request&, int) { stream_hello(conn); });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  for (int i = 0; i < 3; ++i) {
    auto c = run(*model);
    ASSERT_TRUE(c->done && c->done->has_value());
    EXPECT_EQ(c->text(), "Hello, world!");
  }
  EXPECT_EQ(server.n_requests(), 3);
  EXPECT_EQ(server.n_accepts(), 1);
  EXPECT_EQ(model->n_connects(), 1u);
}

TEST(openai_chat_model, a_pooled_connection_the_server_closed_is_replaced_transparently) {
  // The server ends every response and then closes the connection without saying so (an idle
  // keep-alive timeout); the next request must not fail or count as a retry.
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    stream_hello(conn);
    conn.close();
  });
  auto cfg = config_for(server);
  cfg.max_retries = 0;
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  for (int i = 0; i < 3; ++i) {
    auto c = run(*model);
    ASSERT_TRUE(c->done && c->done->has_value()) << c->done->error().describe();
    EXPECT_EQ(c->text(), "Hello, world!");
  }
  EXPECT_EQ(server.n_requests(), 3);
  EXPECT_EQ(server.n_accepts(), 3);
}

TEST(openai_chat_model, warm_opens_the_connection_the_first_request_uses) {
  fake_server server([](fake_conn& conn, const fake_request&, int) { stream_hello(conn); });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  ASSERT_TRUE(warm_and_wait(*model).has_value());
  EXPECT_EQ(model->n_connects(), 1u);
  ASSERT_TRUE(warm_and_wait(*model).has_value());  // warming twice keeps the one idle connection
  EXPECT_EQ(model->n_connects(), 1u);

  auto c = run(*model);
  ASSERT_TRUE(c->done && c->done->has_value());
  EXPECT_EQ(model->n_connects(), 1u);
  EXPECT_EQ(server.n_accepts(), 1);
}

TEST(openai_chat_model, slow_first_token_is_a_timeout) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.sleep_ms(3000);
    conn.token("late");
    conn.finish();
  });
  auto cfg = config_for(server);
  cfg.first_token_timeout_ms = 200;
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::timeout);
  EXPECT_NE(c->done->error().message.find("first token"), std::string::npos);
  EXPECT_TRUE(c->tokens.empty());
  server.stop();
}

TEST(openai_chat_model, connection_refused_is_unavailable_quickly) {
  unsigned short port = 0;
  {
    boost::asio::io_context io;
    testing::tcp::acceptor a(io, testing::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }  // closed: connecting is refused
  chat_config cfg;
  cfg.provider.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  cfg.provider.api_key = secret_key;
  cfg.model = "m";
  cfg.max_retries = 1;
  cfg.backoff_ms = 10;
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  const auto t0 = std::chrono::steady_clock::now();
  auto c = run(*model);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::unavailable);
  EXPECT_EQ(c->done->error().message.find(secret_key), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(openai_chat_model, reset_mid_stream_errors_after_the_partial_text_without_repeating) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.token("Hello ");
    conn.token("there");
    conn.sleep_ms(50);
    conn.reset();
  });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::unavailable);
  EXPECT_EQ(c->text(), "Hello there");  // once: never retried after text
  EXPECT_EQ(server.n_requests(), 1);
}

TEST(openai_chat_model, http_500_is_retried_before_the_first_token) {
  fake_server server([](fake_conn& conn, const fake_request&, int i) {
    if (i == 0) {
      conn.respond(500, R"({"error":{"message":"overloaded"}})");
    } else {
      stream_hello(conn);
    }
  });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && c->done->has_value()) << c->done->error().describe();
  EXPECT_EQ(c->text(), "Hello, world!");
  EXPECT_EQ(server.n_requests(), 2);
}

TEST(openai_chat_model, http_500_every_time_gives_unavailable_with_the_message) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.respond(503, R"({"error":{"message":"model is loading"}})");
  });
  auto cfg = config_for(server);
  cfg.max_retries = 2;
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::unavailable);
  EXPECT_NE(c->done->error().message.find("503"), std::string::npos);
  EXPECT_NE(c->done->error().message.find("model is loading"), std::string::npos);
  EXPECT_EQ(server.n_requests(), 3);
}

TEST(openai_chat_model, http_429_waits_for_retry_after_then_retries) {
  fake_server server([](fake_conn& conn, const fake_request&, int i) {
    if (i == 0) {
      conn.respond(429, R"({"error":{"message":"rate limited"}})", "Retry-After: 1\r\n");
    } else {
      stream_hello(conn);
    }
  });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  const auto t0 = std::chrono::steady_clock::now();
  auto c = run(*model);
  ASSERT_TRUE(c->done && c->done->has_value());
  EXPECT_EQ(c->text(), "Hello, world!");
  EXPECT_EQ(server.n_requests(), 2);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);  // it honoured Retry-After (a lower bound)
}

TEST(openai_chat_model, http_401_is_an_engine_failure_naming_the_status_not_the_key) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.respond(401, R"({"error":{"message":"Incorrect API key provided: )" + secret_key + "\"}}");
  });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::engine_failure);
  const std::string msg = c->done->error().describe();
  EXPECT_NE(msg.find("401"), std::string::npos);
  EXPECT_NE(msg.find("Incorrect API key"), std::string::npos);
  EXPECT_EQ(msg.find(secret_key), std::string::npos) << msg;
  EXPECT_EQ(server.n_requests(), 1);  // not retried
}

TEST(openai_chat_model, malformed_event_is_a_clear_error_after_what_streamed) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.token("Hi");
    conn.event("{not json");
    conn.token(" again");
    conn.finish();
  });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::engine_failure);
  EXPECT_NE(c->done->error().message.find("malformed"), std::string::npos);
  EXPECT_EQ(c->text(), "Hi");
  EXPECT_EQ(server.n_requests(), 1);
}

TEST(openai_chat_model, stream_that_never_ends_hits_the_inter_token_timeout) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.token("Once");
    conn.stall();
  });
  auto cfg = config_for(server);
  cfg.inter_token_timeout_ms = 200;
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::timeout);
  EXPECT_NE(c->done->error().message.find("inter-token"), std::string::npos);
  EXPECT_EQ(c->text(), "Once");
  server.stop();
}

TEST(openai_chat_model, cancel_mid_stream_ends_with_cancelled_promptly) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.token("Start");
    conn.stall();
  });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  auto stop = std::make_shared<std::stop_source>();
  auto c = std::make_shared<collector>();
  c->also_on_token = [stop](std::string_view) { stop->request_stop(); };  // from the callback thread
  model->stream(hello_request(), c->events(), stop->get_token());
  ASSERT_TRUE(c->wait());
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::cancelled);
  EXPECT_EQ(c->text(), "Start");
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(c->dones(), 1);
  server.stop();
}

TEST(openai_chat_model, stop_requested_before_stream_gives_cancelled) {
  fake_server server([](fake_conn& conn, const fake_request&, int) { stream_hello(conn); });
  auto model = make_model(config_for(server));
  ASSERT_TRUE(model);
  std::stop_source stop;
  stop.request_stop();
  auto c = run(*model, stop.get_token());
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::cancelled);
  EXPECT_TRUE(c->tokens.empty());
}

TEST(openai_chat_model, destroying_the_model_cancels_open_streams) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.token("x");
    conn.stall();
  });
  auto c = std::make_shared<collector>();
  {
    auto model = make_model(config_for(server));
    ASSERT_TRUE(model);
    model->stream(hello_request(), c->events(), {});
    const auto t0 = std::chrono::steady_clock::now();
    while (c->text().empty() && std::chrono::steady_clock::now() - t0 < no_hang_bound) {
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_EQ(c->text(), "x");
  }
  ASSERT_TRUE(c->wait());
  EXPECT_EQ(c->done->error().code, errc::cancelled);
  server.stop();
}

TEST(openai_chat_model, tool_call_round_trip) {
  fake_server server([](fake_conn& conn, const fake_request& req, int i) {
    conn.sse_headers();
    if (i == 0) {
      conn.token("Let me check. ");
      conn.event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_7","type":"function","function":{"name":"get_time","arguments":""}}]}}]})");
      conn.event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]})");
      conn.event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]})");
      conn.finish("tool_calls");
      return;
    }
    // Second round: the request carries the assistant tool call and the tool's result.
    const auto body = req.json();
    const auto& msgs = body["messages"];
    const bool ok = msgs.size() == 4 && msgs[2]["role"] == "assistant" &&
                    msgs[2]["tool_calls"][0]["id"] == "call_7" &&
                    msgs[2]["tool_calls"][0]["function"]["arguments"] == R"({"city":"Paris"})" &&
                    msgs[3]["role"] == "tool" && msgs[3]["tool_call_id"] == "call_7" &&
                    msgs[3]["content"] == R"({"time":"12:00"})";
    conn.token(ok ? "It is noon." : "bad follow-up request: " + body.dump());
    conn.finish();
  });
  auto cfg = config_for(server);
  std::atomic<int> n_runs{0};
  std::string seen_args;
  std::thread::id tool_thread;
  tool t;
  t.name = "get_time";
  t.description = "Current time in a city";
  t.parameters_schema = R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})";
  t.run = [&](std::string_view args) -> result<std::string> {
    ++n_runs;
    seen_args = std::string(args);
    tool_thread = std::this_thread::get_id();
    return std::string(R"({"time":"12:00"})");
  };
  cfg.tools.push_back(t);
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  auto c = run(*model);
  ASSERT_TRUE(c->done && c->done->has_value()) << c->done->error().describe();
  EXPECT_EQ(c->text(), "Let me check. It is noon.");
  EXPECT_EQ(n_runs.load(), 1);
  EXPECT_EQ(seen_args, R"({"city":"Paris"})");
  EXPECT_NE(tool_thread, std::this_thread::get_id());
  // The caller heard of the call as it started and as it returned, with its id, arguments, result.
  ASSERT_EQ(c->progress.size(), 2u);
  using kind = engine::chat_progress::kind;
  EXPECT_EQ(c->progress[0].what, kind::tool_started);
  EXPECT_EQ(c->progress[1].what, kind::tool_finished);
  for (const auto& p : c->progress) {
    EXPECT_EQ(p.name, "get_time");
    EXPECT_EQ(p.call_id, "call_7");
    EXPECT_EQ(p.arguments, R"({"city":"Paris"})");
  }
  EXPECT_EQ(c->progress[0].output, "");
  EXPECT_EQ(c->progress[1].output, R"({"time":"12:00"})");
  const auto first = server.requests().at(0).json();
  ASSERT_TRUE(first.contains("tools"));
  EXPECT_EQ(first["tools"][0]["function"]["name"], "get_time");
  EXPECT_EQ(first["tools"][0]["function"]["parameters"]["required"][0], "city");
}

TEST(openai_chat_model, tool_rounds_are_capped) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"loop","arguments":"{}"}}]}}]})");
    conn.finish("tool_calls");
  });
  auto cfg = config_for(server);
  cfg.max_tool_rounds = 3;
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  ASSERT_TRUE(model->add_tool(tool{"loop", "calls itself", R"({"type":"object"})",
                                   [](std::string_view) -> result<std::string> { return std::string("again"); }}));
  auto c = run(*model);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::engine_failure);
  EXPECT_EQ(server.n_requests(), 3);
}

TEST(openai_chat_model, a_bad_config_is_refused_at_creation) {
  const auto refused = [](const chat_config& cfg) {
    const auto made = openai_chat_model::create(cfg);
    return !made && made.error().code == errc::invalid_argument;
  };
  chat_config cfg;
  cfg.provider.base_url = "ftp://example.com";
  EXPECT_TRUE(refused(cfg));
  cfg.provider.base_url = "https://127.0.0.1:1/v1";
  cfg.provider.ca_file = "/nonexistent/parley-ca.pem";
  EXPECT_TRUE(refused(cfg));
  cfg.provider.ca_file.clear();
  cfg.provider.base_url = "http://127.0.0.1:1/v1";
  cfg.tools.push_back(tool{"t", "", "not json", [](std::string_view) -> result<std::string> { return std::string(); }});
  EXPECT_TRUE(refused(cfg));

  cfg.tools.clear();
  auto model = make_model(cfg);
  ASSERT_TRUE(model);
  const auto added = model->add_tool(tool{"", "", "{}", [](std::string_view) -> result<std::string> { return std::string(); }});
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, errc::invalid_argument);

  embedder_config ecfg;
  ecfg.provider.base_url = "not a url";
  const auto embedder = openai_embedder::create(ecfg);
  ASSERT_FALSE(embedder);
  EXPECT_EQ(embedder.error().code, errc::invalid_argument);
}

// ---- embeddings ------------------------------------------------------------------------------

TEST(openai_embedder, embeds_normalises_and_reuses_the_connection) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.respond(200, R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[3.0,4.0]}]})");
  });
  embedder_config cfg;
  cfg.provider.base_url = server.base_url();
  cfg.provider.api_key = secret_key;
  cfg.model = "embed-model";
  auto e = make_embedder(cfg);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dims(), 0u);
  for (int i = 0; i < 2; ++i) {
    auto v = e->embed("when do you open");
    ASSERT_TRUE(v.has_value()) << v.error().describe();
    ASSERT_EQ(v->size(), 2u);
    EXPECT_NEAR((*v)[0], 0.6f, 1e-6);
    EXPECT_NEAR((*v)[1], 0.8f, 1e-6);
  }
  EXPECT_EQ(e->dims(), 2u);
  EXPECT_EQ(server.n_accepts(), 1);
  const auto req = server.requests().at(0);
  EXPECT_EQ(req.target, "/v1/embeddings");
  EXPECT_EQ(req.json()["model"], "embed-model");
  EXPECT_EQ(req.json()["input"], "when do you open");
  auto zero = e->embed("");
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(*zero, std::vector<float>(2, 0.0f));
  EXPECT_EQ(server.n_requests(), 2);
}

TEST(openai_embedder, errors_are_specific) {
  fake_server server([](fake_conn& conn, const fake_request&, int i) {
    if (i == 0) conn.respond(404, R"({"error":{"message":"model not found"}})");
    else if (i == 1) conn.respond(200, R"({"data":[]})");
    else conn.stall();
  });
  embedder_config cfg;
  cfg.provider.base_url = server.base_url();
  cfg.model = "nope";
  cfg.request_timeout_ms = 200;
  auto e = make_embedder(cfg);
  ASSERT_TRUE(e);
  auto a = e->embed("x");
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code, errc::engine_failure);
  EXPECT_NE(a.error().message.find("model not found"), std::string::npos);
  auto b = e->embed("x");
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, errc::engine_failure);
  auto c = e->embed("x");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, errc::timeout);
  server.stop();
}

// ---- TLS -------------------------------------------------------------------------------------

/// A self-signed certificate for "localhost" made with the openssl CLI; empty when unavailable.
std::filesystem::path make_cert_dir() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("parley_openai_tls_" + std::to_string(::getpid()) + "_" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return {};  // NOLINT(concurrency-mt-unsafe)
  return dir;
}

TEST(openai_chat_model_tls, streams_over_tls_with_verification_and_sni) {
  const auto dir = make_cert_dir();
  if (dir.empty()) GTEST_SKIP() << "openssl CLI not available";
  boost::asio::ssl::context server_tls(boost::asio::ssl::context::tls_server);
  server_tls.use_certificate_chain_file((dir / "cert.pem").string());
  server_tls.use_private_key_file((dir / "key.pem").string(), boost::asio::ssl::context::pem);
  // Record the server name the client sends (SNI).
  struct sni_record {
    std::mutex mutex;
    std::vector<std::string> names;
  } sni;
  SSL_CTX_set_tlsext_servername_arg(server_tls.native_handle(), &sni);
  SSL_CTX_set_tlsext_servername_callback(server_tls.native_handle(), +[](SSL* ssl, int*, void* arg) -> int {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    auto* rec = static_cast<sni_record*>(arg);
    std::lock_guard lock(rec->mutex);
    rec->names.emplace_back(name != nullptr ? name : "");
    return SSL_TLSEXT_ERR_OK;
  });
  fake_server server([](fake_conn& conn, const fake_request&, int) { stream_hello(conn); }, &server_tls);

  auto cfg = config_for(server);
  cfg.provider.base_url = server.base_url("localhost");
  cfg.provider.ca_file = (dir / "cert.pem").string();
  {
    auto model = make_model(cfg);
    ASSERT_TRUE(model);
    ASSERT_TRUE(warm_and_wait(*model).has_value());
    for (int i = 0; i < 2; ++i) {
      auto c = run(*model);
      ASSERT_TRUE(c->done && c->done->has_value()) << c->done->error().describe();
      EXPECT_EQ(c->text(), "Hello, world!");
    }
    EXPECT_EQ(model->n_connects(), 1u);  // warmed, then reused: one handshake in all
  }
  EXPECT_EQ(server.n_accepts(), 1);
  {
    std::lock_guard lock(sni.mutex);
    ASSERT_FALSE(sni.names.empty());
    EXPECT_EQ(sni.names[0], "localhost");
  }

  // Without trusting the certificate, verification fails: unavailable, nothing streamed.
  cfg.provider.ca_file.clear();
  cfg.max_retries = 0;
  auto untrusting = make_model(cfg);
  ASSERT_TRUE(untrusting);
  auto c = run(*untrusting);
  ASSERT_TRUE(c->done && !c->done->has_value());
  EXPECT_EQ(c->done->error().code, errc::unavailable);
  EXPECT_NE(c->done->error().message.find("TLS"), std::string::npos);
  EXPECT_TRUE(c->tokens.empty());
  server.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace parley::openai
