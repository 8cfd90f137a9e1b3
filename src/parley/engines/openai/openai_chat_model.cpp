#include "parley/engines/openai/openai_chat_model.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <stop_token>

#include "parley/core/log.hpp"
#include "parley/engines/openai/http_pool.hpp"
#include "parley/engines/openai/sse_parser.hpp"

namespace parley::openai {

using namespace detail;  // NOLINT: asio, beast, http aliases of this adapter
using nlohmann::json;

namespace {

constexpr std::size_t max_error_body_bytes = 64 * 1024;
constexpr std::size_t max_json_body_bytes = 4u << 20;

status check_tool(const tool& t) {
  if (t.name.empty()) return make_error(errc::invalid_argument, "tool without a name");
  if (!t.run) return make_error(errc::invalid_argument, "tool '" + t.name + "' has no run function");
  const json schema = json::parse(t.parameters_schema, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded() || !schema.is_object()) {
    return make_error(errc::invalid_argument, "tool '" + t.name + "': parameters_schema is not a JSON object");
  }
  return {};
}

std::string ms_text(int ms) { return std::to_string(ms) + " ms"; }

}  // namespace

struct openai_chat_model::impl {
  impl(chat_config c, std::unique_ptr<provider_client> p)
      : config(std::move(c)), owned_client(std::move(p)), client(*owned_client) {}

  chat_config config;
  std::mutex tools_mutex;
  std::shared_ptr<const std::vector<tool>> tools;  // guarded by tools_mutex (the pointer)
  std::stop_source shutdown;
  asio::thread_pool tool_pool{1};
  std::unique_ptr<provider_client> owned_client;  // last: destroyed first, after its coroutines ended
  provider_client& client;                         // *owned_client
};

namespace {

/// Everything one request/tool round produced.
struct round_output {
  std::string text;                 // content streamed in this round
  tool_call_accumulator calls;
  std::string finish_reason;
  bool saw_done = false;
  bool first = false;               // a token or tool fragment arrived (no retry from here on)
};

struct attempt_outcome {
  status st;
  bool retryable = false;  // may be retried (nothing was delivered)
  bool stale = false;      // a pooled connection turned out closed: retry without counting
  int retry_after_ms = -1; // 429 Retry-After, when given
};

}  // namespace

/// One stream() call: its state lives on the network thread.
struct chat_call : std::enable_shared_from_this<chat_call> {
  chat_call(openai_chat_model::impl& m, engine::chat_events ev)
      : model(m), events(std::move(ev)), timer(m.client.io()) {}

  openai_chat_model::impl& model;
  engine::chat_events events;
  json messages = json::array();
  std::optional<int> max_tokens;
  std::optional<double> temperature;
  std::shared_ptr<const std::vector<tool>> tools;
  std::shared_ptr<connection> conn;  // the connection in use, if any (cancel closes it)
  asio::steady_timer timer;          // retry waits
  utf8_carry carry;
  std::size_t n_tokens = 0;
  bool done = false;
  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  std::optional<std::stop_callback<std::function<void()>>> on_shutdown;

  void token(std::string_view piece) {
    if (done || piece.empty()) return;
    ++n_tokens;
    if (events.on_token) events.on_token(piece);
  }

  // Each call of a round as it starts (`results` empty) or with what it returned.
  void tool_progress(const std::vector<tool_call>& calls, const std::vector<std::string>& results) {
    if (done || !events.on_progress) return;
    using kind = engine::chat_progress::kind;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const bool finished = i < results.size();
      events.on_progress({.what = finished ? kind::tool_finished : kind::tool_started, .name = calls[i].name,
                          .call_id = calls[i].id, .arguments = calls[i].arguments_json,
                          .output = finished ? results[i] : std::string{}});
    }
  }

  void finish(status s) {
    if (done) return;
    done = true;
    auto on_done = std::move(events.on_done);
    events = {};
    if (on_done) on_done(std::move(s));
  }

  void cancel() {
    if (done) return;
    finish(make_error(errc::cancelled, "cancelled"));
    if (conn) conn->close();
    timer.cancel();
  }

  std::string body_json() const {
    const chat_config& cfg = model.config;
    json body = {{"model", cfg.model}, {"messages", messages}, {"stream", true}};
    if (max_tokens) body["max_tokens"] = *max_tokens;
    if (temperature) body["temperature"] = *temperature;
    if (tools && !tools->empty()) {
      json list = json::array();
      for (const auto& t : *tools) {
        list.push_back({{"type", "function"},
                        {"function",
                         {{"name", t.name}, {"description", t.description},
                          {"parameters", json::parse(t.parameters_schema, nullptr, false)}}}});
      }
      body["tools"] = std::move(list);
    }
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
  }
};

namespace {

/// Handles one server-sent event; an error ends the stream.
status handle_event(chat_call& call, connection& conn, round_output& out, const sse_event& e) {
  const auto& cfg = call.model.config;
  if (e.type == "error") {
    return make_error(errc::engine_failure, "provider error in stream: " + call.model.client.redact(e.data.substr(0, 300)));
  }
  if (e.is_done()) {
    out.saw_done = true;
    return {};
  }
  auto d = decode_chat_chunk(e.data);
  if (!d) {
    return make_error(errc::engine_failure, d.error().message + " (after " + std::to_string(call.n_tokens) +
                                                " tokens; nothing is repeated)");
  }
  if (d->error) {
    return make_error(errc::engine_failure, "provider error in stream: " + call.model.client.redact(*d->error));
  }
  const bool progress = !d->content.empty() || !d->tool_calls.empty();
  if (!d->content.empty()) {
    out.text += d->content;
    call.token(call.carry.push(d->content));
  }
  for (const auto& t : d->tool_calls) out.calls.add(t);
  if (!d->finish_reason.empty()) out.finish_reason = d->finish_reason;
  if (progress) {
    out.first = true;
    conn.tcp().expires_after(std::chrono::milliseconds(cfg.inter_token_timeout_ms));
  }
  return {};
}

/// Maps a socket error to an outcome, given what had happened so far.
attempt_outcome io_failure(const chat_call& call, const boost::system::error_code& ec, bool reused,
                           bool before_response, const round_output& out) {
  const auto& cfg = call.model.config;
  attempt_outcome a;
  if (ec == beast::error::timeout) {
    a.st = out.first ? make_error(errc::timeout, "no token for " + ms_text(cfg.inter_token_timeout_ms) +
                                                     " (inter-token timeout)")
                     : make_error(errc::timeout, "no first token within " + ms_text(cfg.first_token_timeout_ms));
    return a;
  }
  const bool closed_by_peer = ec == asio::error::eof || ec == http::error::end_of_stream ||
                              ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
                              ec == asio::ssl::error::stream_truncated;
  if (before_response && reused && closed_by_peer) {
    a.stale = true;
    a.st = make_error(errc::unavailable, "pooled connection was closed by the server");
    return a;
  }
  std::string what = out.first ? "connection lost mid-stream after " + std::to_string(call.n_tokens) +
                                     " tokens: " + ec.message()
                               : "connection failed before the first token: " + ec.message();
  a.st = make_error(errc::unavailable, std::move(what));
  a.retryable = !out.first;
  return a;
}

int parse_retry_after_ms(std::string_view v) {
  int seconds = 0;
  if (v.empty()) return -1;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;  // HTTP-date form: use the normal backoff
    seconds = std::min(seconds * 10 + (c - '0'), 1000000);
  }
  return seconds * 1000;
}

/// One HTTP request: acquire a connection, send, stream the reply into `out`.
asio::awaitable<attempt_outcome> attempt(std::shared_ptr<chat_call> self, round_output& out, std::string body) {
  auto& client = self->model.client;
  const auto& cfg = self->model.config;
  attempt_outcome a;
  out = round_output{};
  self->conn.reset();
  if (status s = co_await client.acquire(self->conn); !s) {
    self->conn.reset();
    a.retryable = s.error().code == errc::unavailable;
    a.st = std::move(s);
    co_return a;
  }
  if (self->done) co_return a;
  std::shared_ptr<connection> conn = self->conn;
  const bool reused = conn->n_requests > 0;
  ++conn->n_requests;
  auto fail = [&](attempt_outcome o) {
    conn->close();
    self->conn.reset();
    return o;
  };

  auto req = client.make_post("/chat/completions", std::move(body), /*event_stream=*/true);
  conn->tcp().expires_after(std::chrono::milliseconds(cfg.first_token_timeout_ms));
  {
    const auto ec = co_await conn->write(req);
    if (self->done) co_return a;
    if (ec) co_return fail(io_failure(*self, ec, reused, true, out));
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // a stream has no size limit; the SSE parser bounds lines
  {
    const auto ec = co_await conn->read_header(buffer, parser);
    if (self->done) co_return a;
    if (ec) co_return fail(io_failure(*self, ec, reused, true, out));
  }
  const unsigned code = parser.get().result_int();
  const std::string content_type(parser.get()[http::field::content_type]);
  const bool ok = code == 200;
  const bool json_body = ok && content_type.rfind("application/json", 0) == 0;
  std::string collected;  // error body or whole JSON body
  sse_parser sse;
  std::vector<sse_event> events;
  std::array<char, 16 * 1024> chunk{};

  auto take = [&](std::string_view bytes) -> status {
    if (!ok || json_body) {
      const std::size_t cap = ok ? max_json_body_bytes : max_error_body_bytes;
      collected.append(bytes.substr(0, cap - std::min(cap, collected.size())));
      return {};
    }
    events.clear();
    if (status s = sse.feed(bytes, events); !s) {
      return make_error(errc::engine_failure, "malformed event stream: " + s.error().message);
    }
    for (const auto& e : events) {
      if (status s = handle_event(*self, *conn, out, e); !s) return s;
      if (self->done) return {};
    }
    return {};
  };

  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto ec = co_await conn->read_some(buffer, parser);
    if (self->done) co_return a;
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = chunk.size() - parser.get().body().size;
    if (got > 0) {
      if (status s = take(std::string_view(chunk.data(), got)); !s) {
        a.st = std::move(s);
        co_return fail(std::move(a));
      }
      if (self->done) co_return a;
    }
    if (ec) co_return fail(io_failure(*self, ec, reused, false, out));
  }
  const bool keep_alive = parser.keep_alive();
  auto release = [&] {
    if (keep_alive) {
      client.release(std::move(self->conn));
    } else {
      conn->close();
    }
    self->conn.reset();
  };

  if (!ok) {
    release();
    a.st = make_error(code >= 500 || code == 429 ? errc::unavailable : errc::engine_failure,
                      client.redact(http_error_text(code, collected)));
    a.retryable = code >= 500 || code == 429;
    if (code == 429) a.retry_after_ms = parse_retry_after_ms(parser.get()[http::field::retry_after]);
    co_return a;
  }
  if (json_body) {  // a server that ignored stream:true
    if (status s = handle_event(*self, *conn, out, sse_event{"", collected}); !s) {
      a.st = std::move(s);
      co_return fail(std::move(a));
    }
    release();
    co_return a;
  }
  events.clear();
  if (status s = sse.finish(events); !s) {
    a.st = make_error(errc::engine_failure, "malformed event stream: " + s.error().message);
    co_return fail(std::move(a));
  }
  for (const auto& e : events) {
    if (status s = handle_event(*self, *conn, out, e); !s) {
      a.st = std::move(s);
      co_return fail(std::move(a));
    }
  }
  if (!out.saw_done && out.finish_reason.empty()) {
    a.st = make_error(errc::engine_failure, "stream ended without [DONE] after " +
                                                std::to_string(self->n_tokens) + " tokens");
    co_return fail(std::move(a));
  }
  release();
  co_return a;
}

/// Runs one round's request with the retry policy (only before the first token).
asio::awaitable<status> request_with_retries(std::shared_ptr<chat_call> self, round_output& out) {
  const auto& cfg = self->model.config;
  const std::string body = self->body_json();
  int retries = 0;
  std::size_t stale = 0;
  int backoff_ms = std::max(1, cfg.backoff_ms);
  for (;;) {
    attempt_outcome a = co_await attempt(self, out, body);
    if (self->done || a.st) co_return std::move(a.st);
    if (a.stale && stale++ <= self->model.config.provider.pool_size) continue;
    if (!a.retryable || out.first || retries >= cfg.max_retries) co_return std::move(a.st);
    ++retries;
    int wait_ms = backoff_ms;
    if (a.retry_after_ms >= 0) {
      wait_ms = std::min(a.retry_after_ms, cfg.max_retry_after_ms);
    } else {
      backoff_ms *= 2;
    }
    PARLEY_LOG(debug, self->model.client.config().describe() << ": retry " << retries << " in " << wait_ms
                                                              << " ms after " << a.st.error().describe());
    self->timer.expires_after(std::chrono::milliseconds(wait_ms));
    auto [ec] = co_await self->timer.async_wait(use_nothrow);
    (void)ec;
    if (self->done) co_return status{};
  }
}

asio::awaitable<std::vector<std::string>> run_tools(std::shared_ptr<const std::vector<tool>> tools,
                                                    std::vector<tool_call> calls) {
  std::vector<std::string> results;
  for (const auto& c : calls) {
    const tool* t = nullptr;
    if (tools) {
      for (const auto& candidate : *tools) {
        if (candidate.name == c.name) t = &candidate;
      }
    }
    if (t == nullptr) {
      results.push_back("error: no tool named '" + c.name + "'");
      continue;
    }
    try {
      auto r = t->run(c.arguments_json);
      results.push_back(r ? std::move(*r) : "error: " + r.error().message);
    } catch (const std::exception&) {
      results.push_back("error: the tool failed");
    }
  }
  co_return results;
}

asio::awaitable<void> run_call(std::shared_ptr<chat_call> self) {
  auto& m = self->model;
  for (int round = 0;; ++round) {
    if (self->done) co_return;
    round_output out;
    status s = co_await request_with_retries(self, out);
    if (self->done) co_return;
    if (!s) {
      self->finish(std::move(s));
      co_return;
    }
    std::vector<tool_call> calls = out.calls.calls();
    if (calls.empty()) {
      self->finish(status{});  // a cut-off UTF-8 tail still in the carry is invalid and dropped
      co_return;
    }
    if (round + 1 >= m.config.max_tool_rounds) {
      self->finish(make_error(errc::engine_failure, "the model still asked for tools after " +
                                                        std::to_string(m.config.max_tool_rounds) + " rounds"));
      co_return;
    }
    // Tools may block: run them on the tool thread, then resume here on the network thread.
    // The caller hears of them (a long tool call may announce itself: agent/session fillers).
    self->tool_progress(calls, {});
    std::vector<std::string> results =
        co_await asio::co_spawn(m.tool_pool.get_executor(), run_tools(self->tools, calls), asio::use_awaitable);
    if (self->done) co_return;
    self->tool_progress(calls, results);
    json tool_calls = json::array();
    for (const auto& c : calls) {
      tool_calls.push_back({{"id", c.id}, {"type", "function"},
                            {"function", {{"name", c.name}, {"arguments", c.arguments_json}}}});
    }
    json assistant = {{"role", "assistant"}, {"tool_calls", std::move(tool_calls)}};
    assistant["content"] = out.text.empty() ? json(nullptr) : json(out.text);
    self->messages.push_back(std::move(assistant));
    for (std::size_t i = 0; i < calls.size(); ++i) {
      self->messages.push_back({{"role", "tool"}, {"tool_call_id", calls[i].id}, {"content", results[i]}});
    }
  }
}

}  // namespace

namespace {

// The model's state for `config`: its tools checked, its client (and network thread) started.
result<std::shared_ptr<openai_chat_model::impl>> make_impl(chat_config config) {
  std::vector<tool> tools = std::move(config.tools);
  config.tools.clear();
  for (const auto& t : tools) {
    if (auto s = check_tool(t); !s) return s.error();
  }
  if (config.max_tool_rounds < 1) config.max_tool_rounds = 1;
  auto client = provider_client::create(config.provider);
  if (!client) return client.error();
  auto state = std::make_shared<openai_chat_model::impl>(std::move(config), std::move(*client));
  state->tools = std::make_shared<const std::vector<tool>>(std::move(tools));
  return state;
}

}  // namespace

result<std::shared_ptr<openai_chat_model>> openai_chat_model::create(chat_config config) {
  auto state = make_impl(std::move(config));
  if (!state) return state.error();
  return std::shared_ptr<openai_chat_model>(new openai_chat_model(std::move(*state)));
}

openai_chat_model::openai_chat_model(std::shared_ptr<impl> state) : impl_(std::move(state)) {}

openai_chat_model::~openai_chat_model() {
  impl_->shutdown.request_stop();  // every open stream ends with cancelled
  impl_.reset();                   // joins the network thread, then the tool thread
}

std::string openai_chat_model::name() const {
  const auto& p = impl_->config.provider;
  if (!p.name.empty()) return p.name;
  return "openai:" + impl_->config.model + "@" + impl_->client.where().host;
}

engine::chat_caps openai_chat_model::caps() const {
  std::lock_guard lock(impl_->tools_mutex);
  return {true, impl_->config.model, impl_->tools && !impl_->tools->empty()};
}

std::size_t openai_chat_model::n_connects() const { return impl_->client.n_connects(); }

status openai_chat_model::add_tool(tool t) {
  if (auto s = check_tool(t); !s) return s;
  std::lock_guard lock(impl_->tools_mutex);
  auto next = std::make_shared<std::vector<tool>>(*impl_->tools);
  std::erase_if(*next, [&](const tool& x) { return x.name == t.name; });
  next->push_back(std::move(t));
  impl_->tools = std::move(next);
  return {};
}

void openai_chat_model::stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) {
  auto call = std::make_shared<chat_call>(*impl_, std::move(events));
  for (const auto& m : request.messages) {
    call->messages.push_back({{"role", engine::to_string(m.role)}, {"content", m.content}});
  }
  call->max_tokens = request.max_tokens ? request.max_tokens : impl_->config.max_tokens;
  call->temperature = request.temperature ? request.temperature : impl_->config.temperature;
  {
    std::lock_guard lock(impl_->tools_mutex);
    call->tools = impl_->tools;
  }
  asio::io_context& io = impl_->client.io();
  std::weak_ptr<chat_call> weak = call;
  std::function<void()> cancel = [weak, &io] {
    if (auto c = weak.lock()) asio::post(io, [c = std::move(c)] { c->cancel(); });
  };
  call->on_stop.emplace(std::move(stop), cancel);
  call->on_shutdown.emplace(impl_->shutdown.get_token(), std::move(cancel));
  asio::co_spawn(io, run_call(call), [call](std::exception_ptr e) {
    if (e) call->finish(make_error(errc::internal, "chat stream failed unexpectedly"));
  });
}

void openai_chat_model::warm(std::function<void(status)> done) {
  auto* m = impl_.get();
  asio::co_spawn(
      m->client.io(),
      [m]() -> asio::awaitable<status> { co_return co_await m->client.warm(); },
      [done = std::move(done)](std::exception_ptr e, status s) {
        if (!done) return;
        done(e ? status(make_error(errc::internal, "warm-up failed unexpectedly")) : std::move(s));
      });
}

}  // namespace parley::openai
