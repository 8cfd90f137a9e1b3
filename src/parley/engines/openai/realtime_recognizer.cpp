// engines/openai/realtime_recognizer — implementation. See realtime_recognizer.hpp.
//
// Shape: every connection (`link`) and utterance state that is not the caller's lives on the
// HTTP client's network thread and is touched only there; a connection runs two coroutines, its
// reader (setup, then every event of the provider) and its writer (one message at a time, in
// order). The caller's side of an utterance (`pending_transcript`, http_pool.hpp) is the only
// state shared across threads.
#include "parley/engines/openai/realtime_recognizer.hpp"

#include <openssl/evp.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "parley/audio/resampler.hpp"
#include "parley/audio/wav.hpp"
#include "parley/engines/openai/http_pool.hpp"

// GCC 12 false positive on Asio's coroutine frames (see openai_speech.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace parley::openai {

using namespace detail;  // NOLINT: asio, beast, http aliases of this adapter
namespace websocket = beast::websocket;
using json = nlohmann::json;
using error_code = boost::system::error_code;

namespace {

constexpr int k_input_rate_hz = 16000;
constexpr int k_wire_rate_hz = 24000;
constexpr std::size_t k_min_commit_samples = k_input_rate_hz / 10;  // the protocol's least: 100 ms
constexpr std::size_t k_max_event_bytes = 1u << 20;
constexpr std::size_t k_max_pending_messages = 3000;  // ~60 s of 20 ms appends while connecting

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::string append_event(std::span<const std::int16_t> pcm) {
  return R"({"type":"input_audio_buffer.append","audio":")" + base64(audio::pcm16le_bytes(pcm)) + "\"}";
}

/// A WebSocket over the plain or TLS stream of a connection the HTTP client opened.
class ws_link {
 public:
  virtual ~ws_link() = default;
  /// The upgrade; `refused` gets the server's answer when it was not 101 (status 0: none came).
  virtual asio::awaitable<error_code> handshake(const std::string& host, const std::string& target,
                                                const std::string& authorization, int timeout_ms,
                                                websocket::response_type& answer) = 0;
  virtual asio::awaitable<error_code> write(const std::string& text) = 0;
  /// The next text message (binary ones are read and skipped by the caller).
  virtual asio::awaitable<error_code> read(std::string& text) = 0;
  virtual void close() = 0;
};

template <class Stream>
class ws_link_of final : public ws_link {
 public:
  explicit ws_link_of(Stream s) : ws_(std::move(s)) {}

  asio::awaitable<error_code> handshake(const std::string& host, const std::string& target,
                                        const std::string& authorization, int timeout_ms,
                                        websocket::response_type& answer) override {
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
    timeouts.handshake_timeout = std::chrono::milliseconds(timeout_ms);
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([authorization](websocket::request_type& req) {
      req.set(http::field::user_agent, "parley");
      if (!authorization.empty()) req.set(http::field::authorization, authorization);
    }));
    ws_.read_message_max(k_max_event_bytes);
    auto [ec] = co_await ws_.async_handshake(answer, host, target, use_nothrow);
    co_return ec;
  }

  asio::awaitable<error_code> write(const std::string& text) override {
    ws_.text(true);
    const auto buffer = asio::buffer(text);
    auto [ec, n] = co_await ws_.async_write(buffer, use_nothrow);
    (void)n;
    co_return ec;
  }

  asio::awaitable<error_code> read(std::string& text) override {
    buffer_.clear();
    auto [ec, n] = co_await ws_.async_read(buffer_, use_nothrow);
    (void)n;
    text = ec ? std::string() : beast::buffers_to_string(buffer_.data());
    co_return ec;
  }

  void close() override {
    auto& tcp = beast::get_lowest_layer(ws_);
    tcp.cancel();
    error_code ignored;
    tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp.socket().close(ignored);
  }

 private:
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
};

struct link_state;

/// One utterance on the network thread.
struct utterance {
  std::shared_ptr<pending_transcript> out;
  std::shared_ptr<link_state> link;  // bound once a connection is ready (or opening for it)
  std::vector<std::string> pending;  // messages before the connection was ready
  std::string partial;               // the transcript deltas so far
  bool finished = false;
  bool committed = false;
  bool cancelled = false;
};

/// One transcription session (a WebSocket) and its place in the pool.
struct link_state {
  enum class phase { connecting, ready, busy, dead };
  explicit link_state(asio::io_context& io) : timer(io) {}

  phase at = phase::connecting;
  std::shared_ptr<connection> opening;  // the TCP/TLS connection while it is opened
  std::unique_ptr<ws_link> ws;
  std::deque<std::string> outbox;
  bool writing = false;
  std::shared_ptr<utterance> owner;
  /// Clears sent and not yet confirmed: transcript deltas before the confirmation are of audio
  /// that was cleared, not of the utterance now using the link.
  int clears_pending = 0;
  asio::steady_timer timer;  // setup deadline, then each transcript's deadline
};

}  // namespace

struct realtime_recognizer::impl {
  speech_config config;
  std::string target;  // the WebSocket's path
  std::atomic<std::size_t> n_connects{0};

  // Network thread only.
  bool shutting_down = false;
  std::vector<std::shared_ptr<link_state>> idle;
  std::vector<std::weak_ptr<link_state>> all;
  std::size_t n_spare_opening = 0;  // connections opened for no utterance (prepare, warm)
  std::vector<std::function<void(status)>> on_spare;  // warm() waiting for a spare connection

  // Declared last, destroyed first: its destructor joins the network thread.
  std::unique_ptr<provider_client> client;

  asio::io_context& io() { return client->io(); }

  // ---- the network thread ----
  void send(const std::shared_ptr<link_state>& l, std::string message);
  asio::awaitable<void> write_loop(std::shared_ptr<link_state> l);
  void send_or_keep(const std::shared_ptr<utterance>& u, std::string message);
  void open_link(std::shared_ptr<utterance> owner);
  asio::awaitable<void> run_link(std::shared_ptr<link_state> l);
  asio::awaitable<status> set_up(const std::shared_ptr<link_state>& l);
  void on_ready(const std::shared_ptr<link_state>& l);
  void on_event(const std::shared_ptr<link_state>& l, const json& e);
  void release(const std::shared_ptr<link_state>& l);
  void kill(const std::shared_ptr<link_state>& l, const error& why);
  void bind(const std::shared_ptr<link_state>& l, const std::shared_ptr<utterance>& u);
  void acquire(const std::shared_ptr<utterance>& u);
  void finish(const std::shared_ptr<utterance>& u);
  void cancel(const std::shared_ptr<utterance>& u);
  void prepare_spare();
  void shut_down();
};

void realtime_recognizer::impl::send(const std::shared_ptr<link_state>& l, std::string message) {
  if (l->at == link_state::phase::dead) return;
  l->outbox.push_back(std::move(message));
  if (l->writing) return;
  l->writing = true;
  asio::co_spawn(io(), write_loop(l), asio::detached);
}

asio::awaitable<void> realtime_recognizer::impl::write_loop(std::shared_ptr<link_state> l) {
  while (!l->outbox.empty() && l->at != link_state::phase::dead) {
    const std::string message = std::move(l->outbox.front());
    l->outbox.pop_front();
    const error_code ec = co_await l->ws->write(message);
    if (ec) {
      kill(l, make_error(errc::unavailable, "the Realtime connection failed while sending: " + ec.message()));
      break;
    }
  }
  l->writing = false;
}

void realtime_recognizer::impl::send_or_keep(const std::shared_ptr<utterance>& u, std::string message) {
  if (u->link && u->link->at == link_state::phase::busy) {
    send(u->link, std::move(message));
  } else if (u->pending.size() < k_max_pending_messages) {
    u->pending.push_back(std::move(message));
  }
}

void realtime_recognizer::impl::open_link(std::shared_ptr<utterance> owner) {
  auto l = std::make_shared<link_state>(io());
  all.push_back(l);
  std::erase_if(all, [](const std::weak_ptr<link_state>& w) { return w.expired(); });
  if (owner) {
    l->owner = owner;
    owner->link = l;
  } else {
    ++n_spare_opening;
  }
  asio::co_spawn(io(), run_link(l), asio::detached);
}

// Connect, upgrade, set the session up; then read the provider's events until the link dies.
asio::awaitable<void> realtime_recognizer::impl::run_link(std::shared_ptr<link_state> l) {
  if (status s = co_await set_up(l); !s) {
    kill(l, s.error());
    co_return;
  }
  n_connects.fetch_add(1, std::memory_order_relaxed);
  on_ready(l);
  std::string text;
  while (l->at != link_state::phase::dead) {
    const error_code ec = co_await l->ws->read(text);
    if (l->at == link_state::phase::dead) break;
    if (ec) {
      kill(l, make_error(errc::unavailable, "the Realtime connection was lost: " + ec.message()));
      break;
    }
    const json e = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (e.is_object() && e.contains("type") && e["type"].is_string()) on_event(l, e);
  }
}

asio::awaitable<status> realtime_recognizer::impl::set_up(const std::shared_ptr<link_state>& l) {
  const int timeout_ms = client->config().connect_timeout_ms;
  if (status s = co_await client->open_unpooled(l->opening); !s) co_return s;
  if (shutting_down || l->at == link_state::phase::dead) co_return make_error(errc::cancelled, "cancelled");
  if (l->opening->is_tls()) {
    l->ws = std::make_unique<ws_link_of<asio::ssl::stream<beast::tcp_stream>>>(l->opening->take_tls());
  } else {
    l->ws = std::make_unique<ws_link_of<beast::tcp_stream>>(l->opening->take_plain());
  }
  l->opening.reset();
  const std::string& host = client->where().host_header;
  const std::string authorization = client->authorization();
  websocket::response_type answer;
  if (const error_code ec = co_await l->ws->handshake(host, target, authorization, timeout_ms, answer); ec) {
    const unsigned code = answer.result_int();
    if (code != 0 && code != 101) {  // the provider answered, and refused: as an HTTP provider's refusal
      co_return make_error(code >= 500 || code == 429 ? errc::unavailable : errc::engine_failure,
                           client->redact(http_error_text(code, answer.body())));
    }
    co_return make_error(errc::unavailable, "the Realtime handshake with " + host + target + " failed: " + ec.message());
  }
  // The session: its first event is session.created; ours the update to a transcription session.
  l->timer.expires_after(std::chrono::milliseconds(timeout_ms));
  l->timer.async_wait([weak = std::weak_ptr<link_state>(l)](error_code ec) {
    if (auto self = weak.lock(); self && !ec && self->at == link_state::phase::connecting) self->ws->close();
  });
  json input = {{"format", {{"type", "audio/pcm"}, {"rate", k_wire_rate_hz}}}, {"turn_detection", nullptr}};
  input["transcription"] = {{"model", config.asr_model}};
  if (!config.language.empty()) input["transcription"]["language"] = config.language;
  const std::string update = json{{"type", "session.update"}, {"session", {{"type", "transcription"}, {"audio", {{"input", input}}}}}}.dump();
  bool sent = false;
  std::string text;
  while (true) {
    const error_code ec = co_await l->ws->read(text);
    if (ec) {
      l->timer.cancel();
      if (ec == asio::error::operation_aborted || ec == beast::error::timeout) {
        co_return make_error(errc::timeout, "the Realtime session was not set up within " + std::to_string(timeout_ms) + " ms");
      }
      co_return make_error(errc::unavailable, "the Realtime connection closed during set-up: " + ec.message());
    }
    const json e = json::parse(text, nullptr, false);
    const std::string type = e.is_object() && e.contains("type") && e["type"].is_string() ? e["type"].get<std::string>() : "";
    if (type == "error") {
      l->timer.cancel();
      const auto& err = e.contains("error") ? e["error"] : json::object();
      co_return make_error(errc::engine_failure,
                           "the provider refused the transcription session: " + client->redact(err.value("message", text)));
    }
    if (type == "session.created" && !sent) {
      sent = true;
      if (const error_code wec = co_await l->ws->write(update); wec) {
        l->timer.cancel();
        co_return make_error(errc::unavailable, "the Realtime connection failed during set-up: " + wec.message());
      }
    } else if (type == "session.updated") {
      l->timer.cancel();
      co_return status{};
    }
  }
}

// A link whose session is set up: it serves the utterance it was opened for, or waits in the pool.
void realtime_recognizer::impl::on_ready(const std::shared_ptr<link_state>& l) {
  if (auto u = l->owner) {
    if (u->cancelled) {
      l->owner.reset();
      release(l);
      return;
    }
    bind(l, u);
    auto pending = std::move(u->pending);
    u->pending.clear();
    for (auto& m : pending) send(l, std::move(m));
    if (u->finished) finish(u);
    return;
  }
  if (n_spare_opening > 0) --n_spare_opening;
  release(l);
  auto waiting = std::move(on_spare);
  on_spare.clear();
  for (auto& w : waiting) w(status{});
}

void realtime_recognizer::impl::on_event(const std::shared_ptr<link_state>& l, const json& e) {
  const auto& type = e["type"].get_ref<const std::string&>();
  auto u = l->owner;
  if (type == "input_audio_buffer.cleared") {
    if (l->clears_pending > 0) --l->clears_pending;
    return;
  }
  if (!u) return;
  if (type == "conversation.item.input_audio_transcription.delta") {
    const auto delta = e.find("delta");
    if (delta == e.end() || !delta->is_string() || u->cancelled || l->clears_pending > 0) return;
    u->partial += delta->get<std::string>();
    u->out->partial(u->partial, 0.5);
  } else if (type == "conversation.item.input_audio_transcription.completed") {
    const auto text = e.find("transcript");
    l->timer.cancel();
    l->owner.reset();
    u->link.reset();
    u->out->deliver(text != e.end() && text->is_string() ? result<engine::recognized>(engine::recognized{text->get<std::string>(), std::nullopt})
                                                         : result<engine::recognized>(make_error(errc::engine_failure, "the transcript event has no transcript")));
    release(l);
  } else if (type == "error") {
    // The provider refused something of this utterance: it fails; the session goes on, but the
    // link's buffer state is unknown now, so it is not reused.
    const auto& err = e.contains("error") && e["error"].is_object() ? e["error"] : json::object();
    kill(l, make_error(errc::engine_failure, "the provider: " + client->redact(err.value("message", std::string("error")))));
  }
}

// Back to the pool (a link no utterance holds), or closed when the pool is full.
void realtime_recognizer::impl::release(const std::shared_ptr<link_state>& l) {
  if (l->at == link_state::phase::dead) return;
  if (shutting_down || idle.size() >= std::max<std::size_t>(1, client->config().pool_size)) {
    l->at = link_state::phase::dead;
    l->ws->close();
    return;
  }
  l->at = link_state::phase::ready;
  idle.push_back(l);
}

// The link is finished with: its utterance (if any) fails with `why`.
void realtime_recognizer::impl::kill(const std::shared_ptr<link_state>& l, const error& why) {
  if (l->at == link_state::phase::dead) return;
  const bool spare = !l->owner && l->at == link_state::phase::connecting;
  l->at = link_state::phase::dead;
  l->timer.cancel();
  l->outbox.clear();
  if (l->ws) l->ws->close();
  if (l->opening) l->opening->close();
  std::erase(idle, l);
  if (auto u = std::move(l->owner)) {
    u->link.reset();
    if (!u->cancelled) u->out->deliver(why);  // also before finish(): a fallback takes over early
  }
  if (spare) {
    if (n_spare_opening > 0) --n_spare_opening;
    auto waiting = std::move(on_spare);
    on_spare.clear();
    for (auto& w : waiting) w(why);
  }
}

void realtime_recognizer::impl::bind(const std::shared_ptr<link_state>& l, const std::shared_ptr<utterance>& u) {
  l->owner = u;
  l->at = link_state::phase::busy;
  u->link = l;
}

void realtime_recognizer::impl::acquire(const std::shared_ptr<utterance>& u) {
  if (shutting_down) {
    u->out->deliver(make_error(errc::unavailable, "the recognizer is shutting down"));
    return;
  }
  while (!idle.empty()) {
    auto l = std::move(idle.back());
    idle.pop_back();
    if (l->at == link_state::phase::ready) {
      bind(l, u);
      return;
    }
  }
  open_link(u);
}

void realtime_recognizer::impl::finish(const std::shared_ptr<utterance>& u) {
  u->finished = true;
  if (u->cancelled) return;
  auto l = u->link;
  if (!l || l->at != link_state::phase::busy) return;  // on_ready finishes it once the link is ready
  if (u->committed) return;
  u->committed = true;
  l->timer.expires_after(std::chrono::milliseconds(config.transcription_timeout_ms));
  l->timer.async_wait([this, weak = std::weak_ptr<link_state>(l)](error_code ec) {
    if (auto self = weak.lock(); self && !ec && self->owner) {
      kill(self, make_error(errc::timeout, "no transcript within " + std::to_string(config.transcription_timeout_ms) + " ms"));
    }
  });
  send(l, R"({"type":"input_audio_buffer.commit"})");
}

void realtime_recognizer::impl::cancel(const std::shared_ptr<utterance>& u) {
  u->cancelled = true;
  u->pending.clear();
  auto l = std::move(u->link);
  if (!l || l->at == link_state::phase::dead) return;
  if (l->at == link_state::phase::connecting) return;  // on_ready releases it
  if (u->committed) {
    // Its transcript is on the way and would be taken for the next utterance's: not reused.
    l->owner.reset();
    kill(l, make_error(errc::cancelled, "cancelled"));
    return;
  }
  // The clear applies to the audio before it: the link can serve the next utterance at once.
  send(l, R"({"type":"input_audio_buffer.clear"})");
  ++l->clears_pending;
  l->owner.reset();
  release(l);
}

void realtime_recognizer::impl::prepare_spare() {
  if (shutting_down || n_spare_opening > 0) return;
  for (const auto& l : idle) {
    if (l->at == link_state::phase::ready) return;
  }
  open_link(nullptr);
}

void realtime_recognizer::impl::shut_down() {
  shutting_down = true;
  idle.clear();
  for (auto& w : all) {
    if (auto l = w.lock()) kill(l, make_error(errc::cancelled, "the recognizer is shutting down"));
  }
  all.clear();
}

namespace {

class realtime_stream final : public engine::recognizer_stream {
 public:
  realtime_stream(realtime_recognizer::impl* m, std::shared_ptr<utterance> u, audio::resampler rs)
      : m_(m), u_(std::move(u)), out_(u_->out), resampler_(std::move(rs)) {}
  ~realtime_stream() override { cancel(); }

  void feed(std::span<const std::int16_t> samples) override {
    if (finished_ || cancelled_ || samples.empty()) return;
    n_fed_ += samples.size();
    const auto pcm = resampler_.process(samples);
    if (!pcm.empty()) post_message(append_event(pcm));
  }

  void finish() override {
    if (finished_ || cancelled_) return;
    finished_ = true;
    if (n_fed_ < k_min_commit_samples) {
      // Too short for the protocol to commit: nothing was said. Its audio is cleared.
      cancel_link();
      out_->deliver(engine::recognized{});
      return;
    }
    const auto tail = resampler_.flush();
    if (!tail.empty()) post_message(append_event(tail));
    asio::post(m_->io(), [m = m_, u = u_] { m->finish(u); });
  }

  void cancel() override {
    if (cancelled_) return;
    out_->cancel();
    cancel_link();
  }

 private:
  void post_message(std::string message) {
    asio::post(m_->io(), [m = m_, u = u_, message = std::move(message)]() mutable { m->send_or_keep(u, std::move(message)); });
  }
  void cancel_link() {
    cancelled_ = true;
    asio::post(m_->io(), [m = m_, u = u_] { m->cancel(u); });
  }

  realtime_recognizer::impl* m_;  // the recognizer outlives its streams (engine/recognizer.hpp)
  std::shared_ptr<utterance> u_;  // touched on the network thread only
  std::shared_ptr<pending_transcript> out_;
  audio::resampler resampler_;
  std::size_t n_fed_ = 0;
  bool finished_ = false;
  bool cancelled_ = false;
};

}  // namespace

bool is_realtime_url(std::string_view url) { return url.starts_with("ws://") || url.starts_with("wss://"); }

result<std::shared_ptr<realtime_recognizer>> realtime_recognizer::create(speech_config config) {
  std::string url = config.provider.base_url;
  if (url.starts_with("ws://")) url.replace(0, 2, "http");
  if (url.starts_with("wss://")) url.replace(0, 3, "https");
  auto where = parse_base_url(url);
  if (!where) return where.error();
  if (auto rs = audio::resampler::create(k_input_rate_hz, k_wire_rate_hz); !rs) return rs.error();
  provider_config provider = config.provider;
  provider.base_url = url;
  auto client = provider_client::create(std::move(provider));
  if (!client) return client.error();
  auto state = std::make_shared<impl>();
  state->target = where->base_path.ends_with("/realtime") ? where->base_path : where->base_path + "/realtime";
  state->config = std::move(config);
  state->client = std::move(*client);
  return std::shared_ptr<realtime_recognizer>(new realtime_recognizer(std::move(state)));
}

realtime_recognizer::realtime_recognizer(std::shared_ptr<impl> state) : impl_(std::move(state)) {}

realtime_recognizer::~realtime_recognizer() {
  // Every link is closed on the network thread and its coroutines end; then the client joins it.
  std::promise<void> done;
  asio::post(impl_->io(), [m = impl_.get(), &done] {
    m->shut_down();
    done.set_value();
  });
  done.get_future().wait();
  impl_->client.reset();
}

std::string realtime_recognizer::name() const {
  const auto& p = impl_->config.provider;
  return p.name.empty() ? "realtime-asr:" + impl_->config.asr_model + "@" + impl_->client->where().host_header : p.name;
}

result<std::unique_ptr<engine::recognizer_stream>> realtime_recognizer::open(engine::recognizer_events events) {
  auto rs = audio::resampler::create(k_input_rate_hz, k_wire_rate_hz);
  if (!rs) return rs.error();
  auto u = std::make_shared<utterance>();
  u->out = std::make_shared<pending_transcript>();
  u->out->events = std::move(events);
  asio::post(impl_->io(), [m = impl_.get(), u] { m->acquire(u); });
  return std::unique_ptr<engine::recognizer_stream>(new realtime_stream(impl_.get(), u, std::move(*rs)));
}

void realtime_recognizer::prepare() {
  asio::post(impl_->io(), [m = impl_.get()] { m->prepare_spare(); });
}

status realtime_recognizer::warm() {
  auto done = std::make_shared<std::promise<status>>();
  auto future = done->get_future();
  asio::post(impl_->io(), [m = impl_.get(), done] {
    for (const auto& l : m->idle) {
      if (l->at == link_state::phase::ready) {
        done->set_value(status{});
        return;
      }
    }
    m->on_spare.push_back([done](status s) { done->set_value(std::move(s)); });
    m->prepare_spare();
  });
  const int bound_ms = 2 * impl_->client->config().connect_timeout_ms + 2000;
  if (future.wait_for(std::chrono::milliseconds(bound_ms)) != std::future_status::ready) {
    return make_error(errc::timeout, "the Realtime session was not set up in time");
  }
  return future.get();
}

std::size_t realtime_recognizer::n_connects() const { return impl_->n_connects.load(std::memory_order_relaxed); }

}  // namespace parley::openai
