// net/server — implementation. See server.hpp for the contract; docs/protocol.md for the wire.
#include "parley/net/server.hpp"

#include <algorithm>
#include <cctype>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "parley/audio/resampler.hpp"
#include "parley/core/log.hpp"
#include "parley/net/jwt_auth.hpp"
#include "parley/net/opus_codec.hpp"
#include "parley/net/prometheus.hpp"
#include "parley/net/protocol.hpp"
#include "parley/obs/histogram.hpp"
#include "parley/obs/json.hpp"

namespace parley::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
using strand_type = asio::strand<asio::any_io_executor>;
namespace ssl = asio::ssl;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

namespace {

// The concrete strand behind a socket's type-erased executor. Handlers that cross threads capture
// this type rather than an any_io_executor copy: its reference count is a std::shared_ptr, which
// ThreadSanitizer understands (Asio's own type-erased count uses a standalone fence it does not).
strand_type strand_of(const asio::any_io_executor& ex) {
  if (const auto* s = ex.target<strand_type>()) return *s;
  return asio::make_strand(ex);
}

std::chrono::steady_clock::duration seconds_f(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

// Logs an exception escaping a coroutine instead of losing it silently.
void log_coroutine_end(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    PARLEY_LOG(error, "net: connection task failed: " << x.what());
  } catch (...) {
    PARLEY_LOG(error, "net: connection task failed");
  }
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i] == '+' ? ' ' : in[i]);
    }
  }
  return out;
}

struct split_target {
  std::string path;
  std::string query;
};
split_target split(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {std::string(target), {}};
  return {std::string(target.substr(0, q)), std::string(target.substr(q + 1))};
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view content_type_of(const std::filesystem::path& p) {
  const auto ext = p.extension().string();
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".wav") return "audio/wav";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

// The file under `web_root` that a request path names, or nothing. Only plain relative paths:
// '/'-separated segments of letters, digits, '_', '-' and '.', none empty and none starting with
// '.' (so no "..", no hidden files, no "//" that would make the path absolute and escape the root).
std::optional<std::filesystem::path> static_file(const std::string& web_root, std::string_view request_path) {
  if (web_root.empty()) return std::nullopt;
  if (request_path == "/") request_path = "/index.html";
  if (request_path.size() < 2 || request_path.front() != '/') return std::nullopt;
  std::filesystem::path file(web_root);
  std::string_view rest = request_path.substr(1);
  while (true) {
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    const bool plain = std::all_of(segment.begin(), segment.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
    if (segment.empty() || segment.front() == '.' || !plain) return std::nullopt;
    file /= std::string(segment);
    if (slash == std::string_view::npos) return file;
    rest.remove_prefix(slash + 1);
  }
}

constexpr std::string_view k_placeholder_page =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>parley</title></head><body>"
    "<h1>parley</h1><p>The realtime server is running. The WebSocket endpoint is <code>/ws</code> "
    "(protocol v1, docs/protocol.md). The web client was not found: see <code>--web-root</code>.</p></body></html>\n";

constexpr std::size_t k_max_static_file_bytes = 8 * 1024 * 1024;

// One HTTP connection's stream (plain TCP or TLS), shared with the drain callback of stop().
template <class Stream>
struct http_connection {
  Stream stream;
  explicit http_connection(Stream s) : stream(std::move(s)) {}
};

// The TLS context of a server: TLS 1.2 or newer, the configured certificate chain and key.
result<std::shared_ptr<ssl::context>> make_tls_context(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return make_error(errc::invalid_argument, "TLS needs both a certificate (--tls-cert) and a private key (--tls-key)");
  }
  for (const auto& [what, file] : {std::pair{"certificate", &cert_file}, std::pair{"private key", &key_file}}) {
    std::ifstream probe(*file, std::ios::binary);
    if (!probe) return make_error(errc::invalid_argument, std::string("cannot read the TLS ") + what + " file '" + *file + "'");
  }
  try {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                     ssl::context::single_dh_use);
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
      return make_error(errc::internal, "TLS: cannot require TLS 1.2 or newer");
    }
    beast::error_code ec;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) return make_error(errc::invalid_argument, "bad TLS certificate '" + cert_file + "' (PEM expected): " + ec.message());
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    const bool mismatch = ec && ec.category() == asio::error::get_ssl_category() &&
                          ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
    if (ec && !mismatch) {  // a mismatch is reported below, in words
      return make_error(errc::invalid_argument, "bad TLS private key '" + key_file + "' (PEM expected): " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return make_error(errc::invalid_argument, "the TLS private key '" + key_file + "' does not match the certificate '" +
                                                    cert_file + "'");
    }
    return ctx;
  } catch (const std::exception& e) {
    return make_error(errc::invalid_argument, std::string("TLS setup failed: ") + e.what());
  }
}

}  // namespace

// ================================================================================================
// Shared state of one server: config, engines, counters, the registry of live connections.
class server_state : public std::enable_shared_from_this<server_state> {
 public:
  server_state(asio::any_io_executor executor, server_config config)
      : executor_(std::move(executor)),
        config_(std::move(config)),
        acceptor_(asio::make_strand(executor_)),
        input_lane_(std::make_shared<agent::bulk_lane>(executor_)),
        jwt_({.secret = config_.jwt_secret,
              .audience = config_.jwt_audience,
              .leeway_s = static_cast<std::int64_t>(config_.jwt_leeway_s)}) {
    reaper_ = std::thread([this] { reap(); });
  }
  ~server_state() {
    if (reaper_.joinable() && reaper_.get_id() != std::this_thread::get_id()) {
      stop_reaper();
    } else if (reaper_.joinable()) {
      reaper_.detach();  // cannot happen: the reaper holds no reference to the state
    }
  }

  result<std::uint16_t> listen() {
    if (!config_.tls_cert_file.empty() || !config_.tls_key_file.empty()) {
      auto ctx = make_tls_context(config_.tls_cert_file, config_.tls_key_file);
      if (!ctx) return ctx.error();
      tls_ = std::move(*ctx);
    }
    beast::error_code ec;
    auto address = asio::ip::make_address(config_.host, ec);
    if (ec) return make_error(errc::invalid_argument, "bad listen address '" + config_.host + "'");
    const tcp::endpoint endpoint(address, config_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error(errc::unavailable, "cannot listen on " + config_.host + ":" + std::to_string(config_.port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(acceptor_.get_executor(), accept_loop(shared_from_this()), log_coroutine_end);
    return port_;
  }

  awaitable<void> accept_loop(std::shared_ptr<server_state> self);
  template <class Stream>
  awaitable<void> handle_http(std::shared_ptr<server_state> self, std::shared_ptr<http_connection<Stream>> conn);
  bool tls() const { return tls_ != nullptr; }

  // ---- engines, readiness ----
  void set_engines(engine::engine_set engines, std::shared_ptr<agent::reply_router> router,
                   std::shared_ptr<const agent::filler_bank> fillers) {
    {
      std::lock_guard lock(engines_mutex_);
      engines_ = std::move(engines);
      if (router) router_ = std::move(router);
      if (fillers) fillers_ = std::move(fillers);
    }
    ready_.store(!stopping_.load());
  }
  engine::engine_set engines() const {
    std::lock_guard lock(engines_mutex_);
    return engines_;
  }
  std::shared_ptr<agent::reply_router> router() const {
    std::lock_guard lock(engines_mutex_);
    return router_;
  }
  std::shared_ptr<const agent::filler_bank> fillers() const {
    std::lock_guard lock(engines_mutex_);
    return fillers_;
  }
  bool ready() const { return ready_.load(); }
  bool stopping() const { return stopping_.load(); }

  // ---- registry of live connections (for stop()) ----
  std::uint64_t enroll(std::function<void()> drain) {
    std::lock_guard lock(registry_mutex_);
    const auto id = ++next_id_;
    registry_.emplace(id, std::move(drain));
    if (stopping_.load()) asio::post(executor_, registry_.at(id));  // raced with stop(): drain at once
    return id;
  }
  void withdraw(std::uint64_t id) {
    std::lock_guard lock(registry_mutex_);
    registry_.erase(id);
    registry_cv_.notify_all();
  }

  void stop() {
    if (stopping_.exchange(true)) {
      wait_for_connections();
      return;
    }
    ready_.store(false);
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
    std::vector<std::function<void()>> drains;
    {
      std::lock_guard lock(registry_mutex_);
      for (auto& [id, drain] : registry_) drains.push_back(drain);
    }
    for (auto& drain : drains) drain();
    wait_for_connections();
  }

  /// Joins the thread that closes sessions. Called by ~server (not on an io thread).
  void stop_reaper() {
    {
      std::lock_guard lock(reaper_mutex_);
      if (reaper_stopped_) return;
      reaper_stopped_ = true;
      reaper_cv_.notify_one();
    }
    if (reaper_.joinable()) reaper_.join();
  }

  void wait_for_connections() {
    std::unique_lock lock(registry_mutex_);
    registry_cv_.wait_for(lock, seconds_f(config_.drain_timeout_s + 5.0), [this] { return registry_.empty(); });
  }

  // ---- sessions are closed off the io threads: close() waits for the session strand ----
  void retire(std::unique_ptr<agent::session> s) {
    if (!s) return;
    std::lock_guard lock(reaper_mutex_);
    if (reaper_stopped_) {  // after ~server began: nothing waits on this thread any more
      s.reset();
      return;
    }
    to_close_.push_back(std::move(s));
    reaper_cv_.notify_one();
  }

  // ---- metrics ----
  void count_error(wire_errc code) {
    errors_[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
    n_protocol_errors_.fetch_add(1, std::memory_order_relaxed);
  }
  void count_interrupt(const std::string& reason) {
    std::lock_guard lock(labelled_counts_mutex_);
    ++interrupts_[reason];
  }
  void count_route(const std::string& route) {
    std::lock_guard lock(labelled_counts_mutex_);
    ++routes_[route.empty() ? "none" : route];
  }
  std::string metrics_text() const;
  server_stats stats() const {
    return {n_http_requests_.load(), n_sessions_total_.load(), n_active_sessions_.load(), n_rejected_upgrades_.load(),
            n_protocol_errors_.load(), n_slow_client_drops_.load(), n_stale_frames_dropped_.load(), n_barge_ins_.load(),
            n_turns_.load(), n_tls_handshake_failures_.load()};
  }

  const server_config& config() const { return config_; }
  asio::any_io_executor executor() const { return executor_; }
  /// Every session's input frames go through this one lane (agent/bulk_lane.hpp).
  const std::shared_ptr<agent::bulk_lane>& input_lane() const { return input_lane_; }
  std::uint16_t port() const { return port_; }

  std::atomic<std::uint64_t> n_http_requests_{0}, n_sessions_total_{0}, n_active_sessions_{0},
      n_rejected_upgrades_{0}, n_protocol_errors_{0}, n_slow_client_drops_{0}, n_stale_frames_dropped_{0},
      n_barge_ins_{0}, n_turns_{0}, n_input_chunks_dropped_{0}, n_rate_limited_chunks_{0},
      n_messages_in_text_{0}, n_messages_in_binary_{0}, n_messages_out_text_{0}, n_messages_out_binary_{0},
      n_bytes_in_{0}, n_bytes_out_{0}, n_oversized_messages_{0}, n_tls_handshake_failures_{0}, n_invalid_tokens_{0};
  obs::metric_set turn_metrics_;
  obs::histogram time_to_interrupt_;

 private:
  void reap() {
    std::unique_lock lock(reaper_mutex_);
    for (;;) {
      reaper_cv_.wait(lock, [this] { return reaper_stopped_ || !to_close_.empty(); });
      while (!to_close_.empty()) {
        auto s = std::move(to_close_.front());
        to_close_.pop_front();
        lock.unlock();
        s->close();
        s.reset();
        lock.lock();
      }
      if (reaper_stopped_) return;
    }
  }

  asio::any_io_executor executor_;
  server_config config_;
  tcp::acceptor acceptor_;
  std::shared_ptr<agent::bulk_lane> input_lane_;
  std::uint16_t port_ = 0;
  std::shared_ptr<ssl::context> tls_;  // set by listen() when TLS is configured; immutable afterwards
  jwt_checker jwt_;

  mutable std::mutex engines_mutex_;
  engine::engine_set engines_;
  std::shared_ptr<agent::reply_router> router_;
  std::shared_ptr<const agent::filler_bank> fillers_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};

  std::mutex registry_mutex_;
  std::condition_variable registry_cv_;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::function<void()>> registry_;

  std::mutex reaper_mutex_;
  std::condition_variable reaper_cv_;
  std::deque<std::unique_ptr<agent::session>> to_close_;
  bool reaper_stopped_ = false;
  std::thread reaper_;

  std::array<std::atomic<std::uint64_t>, n_wire_errcs> errors_{};
  mutable std::mutex labelled_counts_mutex_;
  std::map<std::string, std::uint64_t> interrupts_;
  std::map<std::string, std::uint64_t> routes_;  // turns by route (intent, cache, llm...): hit ratios per tier
};

// ================================================================================================
// One realtime WebSocket connection: a reader (this coroutine), ONE writer coroutine, and the
// agent session whose events are posted here. Everything below runs on the connection's strand.
template <class Stream>
class ws_connection : public std::enable_shared_from_this<ws_connection<Stream>> {
 public:
  ws_connection(std::shared_ptr<server_state> server, Stream stream)
      : server_(std::move(server)),
        ws_(std::move(stream)),
        strand_(strand_of(ws_.get_executor())),
        wake_(strand_),
        drain_timer_(strand_),
        detector_(server_->config().barge_in) {}

  awaitable<void> run(http::request<http::string_body> request);

 private:
  struct outgoing {
    std::string payload;
    bool binary = false;
    std::uint64_t generation = 0;             // audio of this generation (0: always sent)
    std::optional<time_point> t_speech_start;  // response.interrupted of a barge-in: measure it
  };

  // ---- writer ----
  awaitable<void> writer(std::shared_ptr<ws_connection> self);
  void send(const server_event& e, std::optional<time_point> t_speech_start = std::nullopt) {
    enqueue({encode(e), false, 0, t_speech_start});
  }
  void send_error(wire_error err) {
    server_->count_error(err.code);
    send(error_message{std::move(err)});
  }
  void enqueue(outgoing m) {
    if (dead_ || close_requested_) return;
    queued_bytes_ += m.payload.size();
    queue_.push_back(std::move(m));
    if (queued_bytes_ > server_->config().max_send_queue_bytes) {
      // Slow client (docs/protocol.md, "Limits"): it does not read; drop it rather than grow.
      server_->n_slow_client_drops_.fetch_add(1);
      PARLEY_LOG(warn, "net: session " << session_id_ << ": send queue over "
                                       << server_->config().max_send_queue_bytes << " bytes; dropping the client");
      abort();
      return;
    }
    wake_.cancel();
  }
  void request_close(websocket::close_code code, std::string reason, bool discard_queue) {
    if (close_requested_ || dead_) return;
    if (discard_queue) {
      queue_.clear();
      queued_bytes_ = 0;
    }
    close_requested_ = true;
    close_reason_ = websocket::close_reason(code, reason);
    wake_.cancel();
  }
  void abort() {
    if (dead_) return;
    dead_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    wake_.cancel();
    drain_timer_.cancel();
  }
  void purge_generation(std::uint64_t generation) {
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->generation != 0 && it->generation <= generation) {
        queued_bytes_ -= it->payload.size();
        server_->n_stale_frames_dropped_.fetch_add(1, std::memory_order_relaxed);
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // ---- client messages ----
  void on_text(std::string_view payload);
  void on_binary(std::span<const std::uint8_t> payload);
  void start_session(const session_update& u);
  void push_input(std::vector<std::int16_t> pcm_16k);

  // ---- session events (posted from the session strand) ----
  void on_session_event(const event& e);
  void on_turn(const obs::turn_timeline& t);
  void on_output_audio(const event& e, const output_audio_chunk& chunk);
  void emit_audio(std::uint64_t generation, std::span<const std::int16_t> pcm, bool last);
  void open_response(std::uint64_t turn, std::uint64_t generation) {
    if (generation <= announced_generation_) return;
    announced_generation_ = generation;
    send(response_created{turn, generation});
  }
  void interrupt_generation(std::uint64_t generation, std::string reason, std::optional<time_point> t_speech_start);
  void check_barge_in();
  time_point arrival_of(media_time t) const {
    for (const auto& [end, arrival] : arrivals_) {
      if (end >= t) return arrival;
    }
    return arrivals_.empty() ? steady_clock::now() : arrivals_.back().second;
  }

  // ---- shutdown ----
  void drain();

  std::shared_ptr<server_state> server_;
  websocket::stream<Stream> ws_;
  strand_type strand_;
  asio::steady_timer wake_;         // the writer waits on it; cancel() wakes it
  asio::steady_timer drain_timer_;  // shutdown deadline
  std::deque<outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  bool dead_ = false;               // the socket is gone
  bool close_requested_ = false;
  websocket::close_reason close_reason_;
  bool draining_ = false;
  bool shutting_down_reported_ = false;
  bool finished_ = false;  // end_of_stream seen: every reply after the end of input is done

  std::unique_ptr<agent::session> session_;
  std::uint64_t session_id_ = 0;
  int input_rate_hz_ = 16000;
  std::optional<int> output_rate_hz_;
  std::optional<audio::resampler> input_resampler_;
  std::optional<opus_input> opus_;  // input_audio_format "opus": decodes straight to 16 kHz
  bool opus_output_requested_ = false;   // output_audio_format "opus"
  std::optional<opus_output> opus_out_;  // the encoder of the generation being sent
  bool input_ended_ = false;
  media_time n_input_samples_ = 0;  // 16 kHz samples pushed: the input timeline's present
  std::deque<std::pair<media_time, time_point>> arrivals_;  // (end of pushed chunk, arrival)
  time_point t_connected_{};
  time_point t_last_rate_error_{};

  barge_in_detector detector_;
  std::optional<time_point> t_speech_start_;  // wall time of the pending speech onset
  std::uint64_t announced_generation_ = 0;    // response.created sent up to this generation
  std::uint64_t interrupted_upto_ = 0;        // generations ≤ this are interrupted: their audio is dropped
  std::uint64_t audio_generation_ = 0;        // generation whose audio is being sent
  std::uint64_t audio_offset_samples_ = 0;    // output samples of it sent so far
  int audio_rate_hz_ = 0;                     // rate of the frames sent for it
  std::optional<audio::resampler> output_resampler_;
  std::uint64_t last_turn_ = 0;
};

// ------------------------------------------------------------------------------------------------
template <class Stream>
awaitable<void> ws_connection<Stream>::run(http::request<http::string_body> request) {
  auto self = this->shared_from_this();
  const auto& cfg = server_->config();
  beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = seconds_f(cfg.handshake_timeout_s);
  timeouts.idle_timeout = cfg.idle_timeout_s > 0 ? seconds_f(cfg.idle_timeout_s) : websocket::stream_base::none();
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "parley"); }));
  ws_.read_message_max(cfg.max_message_bytes);

  auto [accept_ec] = co_await ws_.async_accept(request, as_tuple_awaitable);
  if (accept_ec) co_return;

  const auto registration = server_->enroll([weak = this->weak_from_this(), strand = strand_] {
    asio::post(strand, [weak] {
      if (auto c = weak.lock()) c->drain();
    });
  });
  server_->n_sessions_total_.fetch_add(1);
  server_->n_active_sessions_.fetch_add(1);
  t_connected_ = steady_clock::now();
  asio::co_spawn(strand_, writer(self), log_coroutine_end);

  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws_.async_read(buffer, as_tuple_awaitable);
    if (ec) {
      if (ec == websocket::error::message_too_big) {
        server_->n_oversized_messages_.fetch_add(1);
        PARLEY_LOG(info, "net: session " << session_id_ << ": message over " << cfg.max_message_bytes
                                         << " bytes; closed with 1009");
      }
      break;
    }
    server_->n_bytes_in_.fetch_add(n, std::memory_order_relaxed);
    const auto data = buffer.cdata();
    if (ws_.got_text()) {
      server_->n_messages_in_text_.fetch_add(1, std::memory_order_relaxed);
      on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    } else {
      server_->n_messages_in_binary_.fetch_add(1, std::memory_order_relaxed);
      on_binary(std::span(static_cast<const std::uint8_t*>(data.data()), data.size()));
    }
    buffer.consume(buffer.size());
    if (dead_) break;
  }

  // The connection is over: stop the writer, release the session off the io threads.
  dead_ = true;
  wake_.cancel();
  drain_timer_.cancel();
  queue_.clear();
  queued_bytes_ = 0;
  if (session_) {
    const auto stats = session_->stats();
    server_->n_input_chunks_dropped_.fetch_add(stats.n_dropped_chunks);
    server_->retire(std::move(session_));
  }
  server_->n_active_sessions_.fetch_sub(1);
  server_->withdraw(registration);
}

template <class Stream>
awaitable<void> ws_connection<Stream>::writer(std::shared_ptr<ws_connection> self) {
  const auto keep_alive = std::move(self);  // the connection lives while its writer runs
  for (;;) {
    while (queue_.empty() && !close_requested_ && !dead_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(as_tuple_awaitable);
    }
    if (dead_) co_return;
    if (queue_.empty()) {  // close requested and everything before it sent
      auto [ec] = co_await ws_.async_close(close_reason_, as_tuple_awaitable);
      if (ec) abort();
      co_return;
    }
    outgoing m = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= m.payload.size();
    if (m.generation != 0 && m.generation <= interrupted_upto_) {  // stale audio never leaves (DESIGN §4)
      server_->n_stale_frames_dropped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    ws_.binary(m.binary);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(m.payload), as_tuple_awaitable);
    if (ec) {
      abort();
      co_return;
    }
    server_->n_bytes_out_.fetch_add(n, std::memory_order_relaxed);
    (m.binary ? server_->n_messages_out_binary_ : server_->n_messages_out_text_).fetch_add(1, std::memory_order_relaxed);
    if (m.t_speech_start) {
      // The client has been told to stop: from here no audio of the generation leaves.
      server_->time_to_interrupt_.record(to_ms(steady_clock::now() - *m.t_speech_start));
    }
  }
}

// ------------------------------------------------------------------------------------------------
template <class Stream>
void ws_connection<Stream>::on_text(std::string_view payload) {
  auto decoded = decode_client_text(payload);
  if (auto* err = std::get_if<wire_error>(&decoded)) {
    send_error(std::move(*err));
    return;
  }
  auto& ev = std::get<client_event>(decoded);
  if (auto* update = std::get_if<session_update>(&ev)) {
    if (session_) {
      send_error({wire_errc::session_already_started, "session.update may come only once, first", update->event_id});
      return;
    }
    start_session(*update);
    return;
  }
  if (!session_) {
    send_error({wire_errc::session_not_started, "send session.update first", ""});
    return;
  }
  if (draining_) {
    send_error({wire_errc::shutting_down, "the server is shutting down", ""});
    return;
  }
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, input_commit>) {
          if (input_ended_) return;
          if (input_resampler_) {
            auto tail = input_resampler_->flush();
            if (!tail.empty()) push_input(std::move(tail));
          }
          input_ended_ = true;
          session_->end_input();
          send(input_committed{});
        } else if constexpr (std::is_same_v<T, text_input>) {
          session_->submit_text(std::move(m.text));
        } else if constexpr (std::is_same_v<T, playout_report>) {
          if (!detector_.on_playout(m.generation, m.played_samples) &&
              (m.generation == 0 || m.generation > announced_generation_)) {
            send_error({wire_errc::unknown_generation, "playout.progress for a generation that was never sent",
                        m.event_id});
          }
        } else if constexpr (std::is_same_v<T, response_cancel>) {
          const auto now = steady_clock::now();
          session_->interrupt("client");
          if (detector_.playing(now)) interrupt_generation(detector_.generation(), "client", std::nullopt);
        }
      },
      ev);
}

template <class Stream>
void ws_connection<Stream>::on_binary(std::span<const std::uint8_t> payload) {
  if (!session_) {
    send_error({wire_errc::session_not_started, "audio before session.update", ""});
    return;
  }
  if (draining_) {  // input is over; the turn in flight is finishing
    if (!shutting_down_reported_) send_error({wire_errc::shutting_down, "the server is shutting down", ""});
    shutting_down_reported_ = true;
    return;
  }
  if (input_ended_) {
    send_error({wire_errc::input_ended, "audio after input_audio_buffer.commit", ""});
    return;
  }
  auto decoded = opus_ ? opus_->decode(payload) : decode_client_audio(payload);
  if (auto* err = std::get_if<wire_error>(&decoded)) {
    send_error(std::move(*err));
    return;
  }
  auto& pcm = std::get<std::vector<std::int16_t>>(decoded);
  if (pcm.empty()) return;
  // Input rate limit: the audio may run ahead of real time by a 2 s burst, then at most
  // max_input_speed × real time; beyond that it is dropped and reported (at most once a second).
  const auto now = steady_clock::now();
  const double allowed_s = (to_ms(now - t_connected_) / 1000.0 + 2.0) * server_->config().max_input_speed;
  const double received_s = static_cast<double>(n_input_samples_) / k_input_rate_hz;
  if (server_->config().max_input_speed > 0 && received_s > allowed_s) {
    server_->n_rate_limited_chunks_.fetch_add(1, std::memory_order_relaxed);
    if (to_ms(now - t_last_rate_error_) >= 1000.0) {
      t_last_rate_error_ = now;
      send_error({wire_errc::rate_limited, "audio arrives faster than the allowed multiple of real time; dropped", ""});
    }
    return;
  }
  if (input_resampler_) {
    auto out = input_resampler_->process(pcm);
    if (!out.empty()) push_input(std::move(out));
  } else {
    push_input(std::move(pcm));
  }
  check_barge_in();
}

template <class Stream>
void ws_connection<Stream>::push_input(std::vector<std::int16_t> pcm_16k) {
  n_input_samples_ += static_cast<media_time>(pcm_16k.size());
  arrivals_.emplace_back(n_input_samples_, steady_clock::now());
  while (arrivals_.size() > 200) arrivals_.pop_front();  // ~4 s of 20 ms chunks
  session_->push_audio(std::move(pcm_16k));
}

template <class Stream>
void ws_connection<Stream>::start_session(const session_update& u) {
  const auto& cfg = server_->config();
  agent::session_options options = cfg.session;
  if (auto router = server_->router()) options.router = std::move(router);
  if (options.filler.enabled && !options.filler_bank) options.filler_bank = server_->fillers();
  if (!options.input_lane) options.input_lane = server_->input_lane();
  if (u.mode) {
    auto mode = agent::parse_pipeline_mode(*u.mode);
    if (!mode) {
      send_error({wire_errc::invalid_mode, mode.error().message, u.event_id});
      return;
    }
    options.mode = *mode;
  }
  barge_in_config barge = cfg.barge_in;
  if (u.barge_in.enabled) barge.enabled = *u.barge_in.enabled;
  if (u.barge_in.min_speech_ms) barge.min_speech_ms = *u.barge_in.min_speech_ms;
  detector_ = barge_in_detector(barge);

  input_rate_hz_ = u.input_sample_rate_hz;
  if (u.input_audio_format == audio_format::opus) {
    auto decoder = opus_input::create();
    if (!decoder) {
      send_error({wire_errc::server_error, decoder.error().message, u.event_id});
      return;
    }
    opus_.emplace(std::move(*decoder));
  } else if (input_rate_hz_ != k_input_rate_hz) {
    auto rs = audio::resampler::create(input_rate_hz_, k_input_rate_hz);
    if (!rs) {
      send_error({wire_errc::unsupported_sample_rate, rs.error().message, u.event_id});
      return;
    }
    input_resampler_.emplace(std::move(*rs));
  }
  output_rate_hz_ = u.output_sample_rate_hz;
  opus_output_requested_ = u.output_audio_format == audio_format::opus;

  std::weak_ptr<ws_connection> weak = this->weak_from_this();
  auto strand = strand_;
  auto created = agent::session::create(
      server_->executor(), server_->engines(), options,
      {.on_event =
           [weak, strand](event e) {
             asio::post(strand, [weak, e = std::move(e)] {
               if (auto c = weak.lock()) c->on_session_event(e);
             });
           },
       .on_turn =
           [weak, strand, weak_server = std::weak_ptr(server_)](const obs::turn_timeline& t) {
             // A weak reference: the last reference to the server must never be dropped here.
             if (auto server = weak_server.lock()) {
               server->turn_metrics_.record(t);
               server->n_turns_.fetch_add(1, std::memory_order_relaxed);
               server->count_route(t.route);
             }
             asio::post(strand, [weak, t] {
               if (auto c = weak.lock()) c->on_turn(t);
             });
           }});
  if (!created) {
    send_error({wire_errc::server_error, "the session could not start: " + created.error().message, u.event_id});
    return;
  }
  session_ = std::move(*created);
  session_id_ = session_->id().value;
  PARLEY_LOG(info, "net: session " << session_id_ << " started (" << input_rate_hz_ << " Hz "
                                   << to_string(u.input_audio_format) << " in, "
                                   << agent::to_string(options.mode) << ")");
  session_created m;
  m.session = session_id_;
  m.input_sample_rate_hz = input_rate_hz_;
  m.output_sample_rate_hz = output_rate_hz_;
  m.input_audio_format = u.input_audio_format;
  m.output_audio_format = u.output_audio_format;
  m.mode = std::string(agent::to_string(options.mode));
  m.barge_in = barge.enabled;
  m.barge_in_min_speech_ms = barge.min_speech_ms;
  m.limits = {cfg.max_message_bytes, k_max_text_bytes, cfg.idle_timeout_s};
  send(m);
}

// ------------------------------------------------------------------------------------------------
template <class Stream>
void ws_connection<Stream>::on_session_event(const event& e) {
  if (dead_) return;
  const std::uint64_t turn = e.env.turn.value;
  const std::uint64_t gen = e.env.generation.value;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, speech_started>) {
          last_turn_ = turn;
          detector_.on_speech_started(e.env.t_media);
          t_speech_start_ = arrival_of(e.env.t_media);
          send(speech_started_message{turn, samples_to_ms(e.env.t_media)});
          check_barge_in();
        } else if constexpr (std::is_same_v<T, speech_stopped>) {
          detector_.on_speech_stopped(body.t_speech_end);
          send(speech_stopped_message{turn, samples_to_ms(body.t_speech_end)});
          check_barge_in();
        } else if constexpr (std::is_same_v<T, transcript_partial>) {
          send(transcription_delta{turn, body.text, body.stability});
        } else if constexpr (std::is_same_v<T, transcript_final>) {
          send(transcription_completed{turn, body.text});
        } else if constexpr (std::is_same_v<T, user_turn_committed>) {
          send(item_created{turn, body.text});
        } else if constexpr (std::is_same_v<T, token_chunk>) {
          if (gen <= interrupted_upto_) return;
          open_response(turn, gen);
          send(text_delta{gen, body.text});
        } else if constexpr (std::is_same_v<T, text_segment>) {
          if (gen > interrupted_upto_) open_response(turn, gen);
        } else if constexpr (std::is_same_v<T, output_audio_chunk>) {
          on_output_audio(e, body);
        } else if constexpr (std::is_same_v<T, reply_done>) {
          if (gen <= interrupted_upto_) return;
          open_response(turn, gen);
          if (gen == audio_generation_) {
            std::vector<std::int16_t> tail;
            if (output_resampler_) tail = output_resampler_->flush();
            emit_audio(gen, tail, true);
            send(audio_done{gen, audio_offset_samples_});
          }
          detector_.on_reply_done(gen);
          send(response_done{turn, gen, body.text});
        } else if constexpr (std::is_same_v<T, interrupt_event>) {
          interrupt_generation(gen, body.reason, std::nullopt);
        } else if constexpr (std::is_same_v<T, end_of_stream>) {
          finished_ = true;
          send(session_finished{});
          if (draining_) request_close(websocket::close_code::going_away, "server shutting down", false);
        } else if constexpr (std::is_same_v<T, error_event>) {
          send_error({wire_errc::engine_error, body.err.describe(), ""});
        }
      },
      e.body);
}

template <class Stream>
void ws_connection<Stream>::on_output_audio(const event& e, const output_audio_chunk& chunk) {
  const std::uint64_t gen = e.env.generation.value;
  if (gen <= interrupted_upto_ || chunk.samples.empty()) return;
  if (gen != audio_generation_) {
    open_response(e.env.turn.value, gen);
    audio_generation_ = gen;
    audio_offset_samples_ = 0;
    output_resampler_.reset();
    opus_out_.reset();
    audio_rate_hz_ = chunk.rate_hz;
    int rate_hz = output_rate_hz_.value_or(chunk.rate_hz);
    if (opus_output_requested_ && !is_opus_rate(rate_hz)) rate_hz = 48000;  // Opus runs at its own rates only
    if (rate_hz != chunk.rate_hz) {
      if (auto rs = audio::resampler::create(chunk.rate_hz, rate_hz)) {
        output_resampler_.emplace(std::move(*rs));
        audio_rate_hz_ = rate_hz;
      }
    }
    if (opus_output_requested_) {
      // Fails only when no resampler could be made (a rate Opus does not run at): say so, send PCM.
      if (auto encoder = opus_output::create(audio_rate_hz_)) {
        opus_out_.emplace(std::move(*encoder));
      } else {
        send_error({wire_errc::server_error, "Opus output unavailable for this reply: " + encoder.error().message, ""});
      }
    }
    send(audio_start{gen, audio_rate_hz_, opus_out_ ? audio_format::opus : audio_format::pcm16});
  }
  std::vector<std::int16_t> resampled;
  std::span<const std::int16_t> pcm = chunk.samples;
  if (output_resampler_) {
    resampled = output_resampler_->process(chunk.samples);
    pcm = resampled;
  }
  emit_audio(gen, pcm, false);
}

// Queues reply audio of `generation` as binary frames: PCM16 as it comes, or Opus packets of 20 ms
// (`last`: the reply's audio is complete, so the partial frame is padded and sent).
template <class Stream>
void ws_connection<Stream>::emit_audio(std::uint64_t generation, std::span<const std::int16_t> pcm, bool last) {
  const auto now = steady_clock::now();
  if (opus_out_) {
    auto packets = opus_out_->push(pcm);
    if (last) {
      for (auto& p : opus_out_->flush()) packets.push_back(std::move(p));
    }
    for (const auto& p : packets) {
      if (p.bytes.empty()) continue;
      enqueue({encode_opus_frame(generation, audio_offset_samples_, p.bytes), true, generation, std::nullopt});
      audio_offset_samples_ += p.n_samples;
      detector_.on_audio_sent(generation, p.n_samples, audio_rate_hz_, now);
    }
    return;
  }
  if (pcm.empty()) return;
  enqueue({encode_audio_frame(generation, audio_offset_samples_, pcm), true, generation, std::nullopt});
  audio_offset_samples_ += pcm.size();
  detector_.on_audio_sent(generation, pcm.size(), audio_rate_hz_, now);
}

template <class Stream>
void ws_connection<Stream>::on_turn(const obs::turn_timeline& t) {
  if (dead_) return;
  send(turn_metrics{t.turn.value, t.generation.value, obs::to_json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
}

template <class Stream>
void ws_connection<Stream>::check_barge_in() {
  if (!session_) return;
  const auto now = steady_clock::now();
  if (auto gen = detector_.poll(now, n_input_samples_)) {
    server_->n_barge_ins_.fetch_add(1, std::memory_order_relaxed);
    session_->interrupt("barge_in");  // fences at once; a no-op if the reply is fully generated
    interrupt_generation(*gen, "barge_in", t_speech_start_);
  }
}

template <class Stream>
void ws_connection<Stream>::interrupt_generation(std::uint64_t generation, std::string reason,
                                         std::optional<time_point> t_speech_start) {
  if (generation == 0 || generation <= interrupted_upto_) return;  // already done: idempotent
  const auto now = steady_clock::now();
  const bool followed = generation == detector_.generation();
  const std::uint64_t sent = followed ? detector_.sent_samples() : 0;
  const std::uint64_t played = followed ? detector_.played_samples(now) : 0;
  detector_.on_interrupted(generation, now);
  interrupted_upto_ = generation;
  purge_generation(generation);
  server_->count_interrupt(reason);
  send(response_interrupted{generation, std::move(reason), sent, played}, t_speech_start);
}

template <class Stream>
void ws_connection<Stream>::drain() {
  if (draining_ || dead_) return;
  draining_ = true;
  if (!session_ || finished_) {  // nothing in flight: close now
    request_close(websocket::close_code::going_away, "server shutting down", false);
    return;
  }
  if (!input_ended_) {
    input_ended_ = true;
    session_->end_input();  // the turn in progress ends now; end_of_stream follows its reply
  }
  drain_timer_.expires_after(seconds_f(server_->config().drain_timeout_s));
  drain_timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
    if (ec) return;
    if (auto c = weak.lock()) c->request_close(websocket::close_code::going_away, "server shutting down", true);
  });
}

// ================================================================================================
awaitable<void> server_state::accept_loop(std::shared_ptr<server_state> self) {
  for (;;) {
    tcp::socket socket(asio::make_strand(executor_));
    auto [ec] = co_await acceptor_.async_accept(socket, as_tuple_awaitable);
    if (ec) {
      if (!acceptor_.is_open() || stopping_.load()) co_return;
      PARLEY_LOG(warn, "net: accept failed: " << ec.message());
      continue;
    }
    const auto ex = socket.get_executor();
    if (tls_) {
      auto conn = std::make_shared<http_connection<tls_stream>>(tls_stream(beast::tcp_stream(std::move(socket)), *tls_));
      asio::co_spawn(ex, handle_http(self, std::move(conn)), log_coroutine_end);
    } else {
      auto conn = std::make_shared<http_connection<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)));
      asio::co_spawn(ex, handle_http(self, std::move(conn)), log_coroutine_end);
    }
  }
}

namespace {

http::response<http::string_body> make_response(const http::request<http::string_body>& req, http::status status,
                                                std::string body, std::string_view content_type) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::server, "parley");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  if (req.method() != http::verb::head) res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

template <class Stream>
awaitable<void> server_state::handle_http(std::shared_ptr<server_state> self, std::shared_ptr<http_connection<Stream>> conn) {
  const auto strand = strand_of(conn->stream.get_executor());
  const auto registration = enroll([weak = std::weak_ptr(conn), strand] {
    asio::post(strand, [weak] {
      if (auto c = weak.lock()) {
        beast::error_code ec;
        beast::get_lowest_layer(c->stream).socket().shutdown(tcp::socket::shutdown_both, ec);
        beast::get_lowest_layer(c->stream).close();
      }
    });
  });
  struct withdraw_at_exit {
    server_state* s;
    std::uint64_t id;
    ~withdraw_at_exit() { s->withdraw(id); }
  } guard{this, registration};

  if constexpr (is_tls<Stream>) {
    // A client that connects and stays silent holds a slot only until the handshake deadline.
    beast::get_lowest_layer(conn->stream).expires_after(seconds_f(config_.handshake_timeout_s));
    auto [hec] = co_await conn->stream.async_handshake(ssl::stream_base::server, as_tuple_awaitable);
    if (hec) {
      n_tls_handshake_failures_.fetch_add(1, std::memory_order_relaxed);
      PARLEY_LOG(debug, "net: TLS handshake failed: " << hec.message());
      beast::get_lowest_layer(conn->stream).close();
      co_return;
    }
  }

  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    beast::get_lowest_layer(conn->stream).expires_after(seconds_f(config_.http_timeout_s));
    auto [ec, n] = co_await http::async_read(conn->stream, buffer, parser, as_tuple_awaitable);
    if (ec) break;
    n_http_requests_.fetch_add(1, std::memory_order_relaxed);
    auto req = parser.release();
    const auto [path, query] = split(req.target());

    auto respond = [&](http::status status, std::string body, std::string_view type = "text/plain; charset=utf-8") {
      return make_response(req, status, std::move(body), type);
    };
    std::optional<http::response<http::string_body>> res;

    // Why the request is not authorized (the 401 body), or nullopt when it is. A token is taken from
    // `Authorization: Bearer T`, else from `?access_token=T`; it may be the static bearer token or,
    // with a JWT secret configured, an HS256 JWT. Neither the token nor its claims are ever logged.
    auto auth_failure = [&]() -> std::optional<std::string> {
      if (config_.bearer_token.empty() && !jwt_.enabled()) return std::nullopt;
      std::optional<std::string> token;
      const auto auth = req[http::field::authorization];
      constexpr std::string_view bearer = "Bearer ";
      if (auth.size() > bearer.size() && beast::iequals(auth.substr(0, bearer.size()), bearer)) {
        token = std::string(auth.substr(bearer.size()));
      } else {
        token = query_param(query, "access_token");
      }
      if (!jwt_.enabled()) {
        if (token && constant_time_equal(*token, config_.bearer_token)) return std::nullopt;
        return "missing or wrong bearer token";
      }
      if (!token || token->empty()) return "missing token";
      if (!config_.bearer_token.empty() && constant_time_equal(*token, config_.bearer_token)) return std::nullopt;
      return jwt_.check(*token, static_cast<std::int64_t>(std::time(nullptr)));
    };
    auto refuse_unauthorized = [&](std::string why) {
      n_invalid_tokens_.fetch_add(1, std::memory_order_relaxed);
      PARLEY_LOG(debug, "net: " << path << ": 401 (" << why << ")");
      auto r = respond(http::status::unauthorized, why + "\n");
      r.set(http::field::www_authenticate, "Bearer realm=\"parley\"");
      return r;
    };
    auto origin_allowed = [&] {
      const auto origin = req[http::field::origin];
      if (origin.empty() || config_.allowed_origins.empty()) return true;
      const auto host = req[http::field::host];
      // "self": the page came from this server (the Origin names the Host the request was sent to).
      const bool same_origin = !host.empty() && (beast::iequals(origin, "http://" + std::string(host)) ||
                                                 beast::iequals(origin, "https://" + std::string(host)));
      return std::any_of(config_.allowed_origins.begin(), config_.allowed_origins.end(), [&](const std::string& o) {
        return o == "*" || (o == "self" && same_origin) || beast::iequals(o, origin);
      });
    };

    if (path == "/ws") {
      if (!websocket::is_upgrade(req)) {
        res = respond(http::status::upgrade_required, "this endpoint speaks WebSocket (protocol v1)\n");
        res->set(http::field::upgrade, "websocket");
      } else if (auto why = auth_failure()) {
        n_rejected_upgrades_.fetch_add(1);
        res = refuse_unauthorized(std::move(*why));
      } else if (!origin_allowed()) {
        n_rejected_upgrades_.fetch_add(1);
        res = respond(http::status::forbidden, "origin not allowed\n");
      } else if (stopping_.load() || !ready_.load()) {
        n_rejected_upgrades_.fetch_add(1);
        res = respond(http::status::service_unavailable, stopping_.load() ? "shutting down\n" : "engines loading\n");
        res->set(http::field::retry_after, "1");
      } else if (n_active_sessions_.load() >= config_.max_sessions) {
        n_rejected_upgrades_.fetch_add(1);
        res = respond(http::status::service_unavailable, "too many sessions\n");
        res->set(http::field::retry_after, "1");
      } else {
        withdraw(registration);
        guard.id = 0;  // the websocket connection registers itself
        auto ws = std::make_shared<ws_connection<Stream>>(self, std::move(conn->stream));
        co_await ws->run(std::move(req));
        co_return;
      }
    } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res = respond(http::status::method_not_allowed, "only GET\n");
      res->set(http::field::allow, "GET, HEAD");
    } else if (path == "/healthz") {
      res = respond(http::status::ok, "ok\n");
    } else if (path == "/readyz") {
      res = ready_.load() ? respond(http::status::ok, "ready\n")
                          : respond(http::status::service_unavailable, stopping_.load() ? "stopping\n" : "loading\n");
    } else if (path == "/metrics") {
      std::optional<std::string> why;
      if (config_.metrics_need_token) why = auth_failure();
      res = why ? refuse_unauthorized(std::move(*why)) : respond(http::status::ok, metrics_text(), prometheus_writer::content_type);
    } else {
      // Static files: a plain relative path under web_root (static_file() says which).
      if (config_.web_root.empty() && (path == "/" || path == "/index.html")) {
        res = respond(http::status::ok, std::string(k_placeholder_page), "text/html; charset=utf-8");
      } else if (const auto found = static_file(config_.web_root, path)) {
        const std::filesystem::path& file = *found;
        std::error_code fec;
        const auto size = std::filesystem::file_size(file, fec);
        if (!fec && std::filesystem::is_regular_file(file, fec) && size <= k_max_static_file_bytes) {
          std::ifstream in(file, std::ios::binary);
          std::ostringstream body;
          body << in.rdbuf();
          res = respond(http::status::ok, body.str(), content_type_of(file));
        }
      }
      if (!res) res = respond(http::status::not_found, "not found\n");
    }

    res->keep_alive(req.keep_alive() && !stopping_.load());
    const bool keep = res->keep_alive();
    auto [wec, wn] = co_await http::async_write(conn->stream, *res, as_tuple_awaitable);
    if (wec || !keep) break;
  }
  if constexpr (is_tls<Stream>) {
    beast::get_lowest_layer(conn->stream).expires_after(std::chrono::seconds(2));
    co_await conn->stream.async_shutdown(as_tuple_awaitable);  // close_notify; errors do not matter now
  }
  beast::error_code ec;
  beast::get_lowest_layer(conn->stream).socket().shutdown(tcp::socket::shutdown_send, ec);
}

std::string server_state::metrics_text() const {
  prometheus_writer w;
  w.gauge("parley_ready", "1 once engines are loaded and warmed and the server is not stopping", ready_.load() ? 1 : 0);
  w.counter("parley_http_requests_total", "HTTP requests read (including WebSocket upgrades)",
            static_cast<double>(n_http_requests_.load()));
  w.gauge("parley_ws_sessions", "Realtime WebSocket sessions open now", static_cast<double>(n_active_sessions_.load()));
  w.counter("parley_ws_sessions_total", "Realtime WebSocket sessions accepted", static_cast<double>(n_sessions_total_.load()));
  w.counter("parley_ws_rejected_upgrades_total", "WebSocket upgrades refused (401, 403, 503)",
            static_cast<double>(n_rejected_upgrades_.load()));
  w.family("parley_ws_messages_total", "WebSocket messages by direction and kind", "counter");
  w.sample("parley_ws_messages_total", {{"direction", "in"}, {"kind", "text"}}, static_cast<double>(n_messages_in_text_.load()));
  w.sample("parley_ws_messages_total", {{"direction", "in"}, {"kind", "binary"}}, static_cast<double>(n_messages_in_binary_.load()));
  w.sample("parley_ws_messages_total", {{"direction", "out"}, {"kind", "text"}}, static_cast<double>(n_messages_out_text_.load()));
  w.sample("parley_ws_messages_total", {{"direction", "out"}, {"kind", "binary"}}, static_cast<double>(n_messages_out_binary_.load()));
  w.family("parley_ws_bytes_total", "WebSocket payload bytes by direction", "counter");
  w.sample("parley_ws_bytes_total", {{"direction", "in"}}, static_cast<double>(n_bytes_in_.load()));
  w.sample("parley_ws_bytes_total", {{"direction", "out"}}, static_cast<double>(n_bytes_out_.load()));
  w.family("parley_protocol_errors_total", "error events sent to clients, by code", "counter");
  for (std::size_t i = 0; i < n_wire_errcs; ++i) {
    w.sample("parley_protocol_errors_total", {{"code", std::string(to_string(static_cast<wire_errc>(i)))}},
             static_cast<double>(errors_[i].load()));
  }
  w.counter("parley_tls_handshake_failures_total", "TLS handshakes that failed or timed out (plain HTTP on the TLS port, ...)",
            static_cast<double>(n_tls_handshake_failures_.load()));
  w.counter("parley_auth_failures_total", "Requests refused with 401 (missing, wrong, expired or malformed token)",
            static_cast<double>(n_invalid_tokens_.load()));
  w.counter("parley_ws_oversized_messages_total", "Client messages over max_message_bytes (connection closed with 1009)",
            static_cast<double>(n_oversized_messages_.load()));
  w.counter("parley_ws_slow_client_drops_total", "Connections dropped because their send queue was full",
            static_cast<double>(n_slow_client_drops_.load()));
  w.counter("parley_ws_stale_frames_dropped_total", "Queued audio frames of interrupted replies that were never sent",
            static_cast<double>(n_stale_frames_dropped_.load()));
  w.counter("parley_input_rate_limited_chunks_total", "Input audio messages dropped by the input rate limit",
            static_cast<double>(n_rate_limited_chunks_.load()));
  w.counter("parley_input_chunks_dropped_total", "Input audio chunks dropped by full session rings (closed sessions)",
            static_cast<double>(n_input_chunks_dropped_.load()));
  w.counter("parley_input_lane_yields_total",
            "Times input-frame processing gave way to a turn's critical hops with frames still queued",
            static_cast<double>(input_lane_->n_yields()));
  w.gauge("parley_input_lane_queued", "Sessions' input drains waiting in the input lane",
          static_cast<double>(input_lane_->n_queued()));
  w.counter("parley_turns_total", "User turns completed", static_cast<double>(n_turns_.load()));
  w.counter("parley_barge_ins_total", "Replies interrupted because the user started speaking",
            static_cast<double>(n_barge_ins_.load()));
  w.family("parley_interrupts_total", "Replies interrupted, by reason", "counter");
  {
    std::lock_guard lock(labelled_counts_mutex_);
    for (const auto& [reason, n] : interrupts_) w.sample("parley_interrupts_total", {{"reason", reason}}, static_cast<double>(n));
  }
  w.family("parley_turns_by_route_total",
           "User turns by the route that answered them (intent, cache, local_llm, cloud_llm, fallback, llm): "
           "a tier's hit ratio is its share of parley_turns_total",
           "counter");
  {
    std::lock_guard lock(labelled_counts_mutex_);
    for (const auto& [route, n] : routes_) w.sample("parley_turns_by_route_total", {{"route", route}}, static_cast<double>(n));
  }
  w.summary("parley_barge_in_time_to_interrupt_milliseconds",
            "User speech start (arrival of its first audio) to the interrupt message leaving the server",
            time_to_interrupt_);
  for (const auto& m : obs::all_metrics) {
    const std::string name = "parley_turn_" + std::string(m.name) + "_milliseconds";
    if (const auto* h = turn_metrics_.find(m.name)) {
      w.summary(name, "Per-turn " + std::string(m.name) + " (docs/latency.md)", *h);
    } else {
      const obs::histogram empty;
      w.summary(name, "Per-turn " + std::string(m.name) + " (docs/latency.md)", empty);
    }
  }
  return w.str();
}

// ================================================================================================
server::server(std::shared_ptr<server_state> state) : state_(std::move(state)) {}
server::~server() {
  if (!state_) return;
  stop();
  state_->stop_reaper();  // every session retired so far is closed now
}

result<std::unique_ptr<server>> server::start(asio::any_io_executor executor, server_config config) {
  auto state = std::make_shared<server_state>(std::move(executor), std::move(config));
  auto port = state->listen();
  if (!port) {
    state->stop();
    return port.error();
  }
  PARLEY_LOG(info, "net: listening on " << state->config().host << ":" << *port << (state->tls() ? " (TLS)" : ""));
  return std::unique_ptr<server>(new server(std::move(state)));
}

std::uint16_t server::port() const { return state_->port(); }
void server::set_engines(engine::engine_set engines, std::shared_ptr<agent::reply_router> router,
                         std::shared_ptr<const agent::filler_bank> fillers) {
  state_->set_engines(std::move(engines), std::move(router), std::move(fillers));
}
bool server::ready() const { return state_->ready(); }
void server::stop() { state_->stop(); }
server_stats server::stats() const { return state_->stats(); }
std::string server::metrics_text() const { return state_->metrics_text(); }

}  // namespace parley::net
