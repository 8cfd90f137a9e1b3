// engines/openai/http_pool — HTTP/1.1 keep-alive connections to one provider (internal).
//
// Role: the network shell shared by openai_chat_model and openai_embedder. A `provider_client`
// owns one io_context and the thread that runs it, the TLS context (OpenSSL, peer verification
// against the system CAs, SNI, host-name check), a DNS cache and a pool of idle keep-alive
// connections. Requests are C++20 coroutines (Asio awaitables) running on that thread.
// Threading: everything but the constructor, destructor, n_connects() and io() runs on the io
// thread only (no locks). Ownership: the client outlives every coroutine it runs — its
// destructor waits for them (callers cancel theirs first) and then joins the thread.
// Cancellation: close() on a connection aborts its pending operations at once.
// Units: milliseconds.
// Included only by this adapter's .cpp files (Beast and OpenSSL stay out of public headers).
#pragma once

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engine/recognizer.hpp"
#include "parley/engines/openai/openai_config.hpp"

namespace parley::openai::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

/// Awaitable completion that yields (error_code, values...) instead of throwing.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct endpoint {
  bool tls = false;
  std::string host;         // without brackets for IPv6
  std::string port;         // "443", "80" or explicit
  std::string base_path;    // "/v1" (no trailing slash; may be "")
  std::string host_header;  // host[:port] as sent in Host
};

/// Parses "http[s]://host[:port][/path]". Errors name the problem, never echo query strings.
result<endpoint> parse_base_url(std::string_view url);

/// One TCP (or TLS over TCP) connection.
class connection {
 public:
  connection(asio::io_context& io, asio::ssl::context* tls_context);

  beast::tcp_stream& tcp();
  bool is_tls() const { return tls_.has_value(); }
  asio::ssl::stream<beast::tcp_stream>& tls_stream() { return *tls_; }

  // HTTP on whichever stream this is (the deadline is tcp()'s). Defined in http_pool.cpp, so
  // Beast's read and write templates are compiled there once, for both kinds of stream.
  asio::awaitable<boost::system::error_code> write(const http::request<http::string_body>& req);
  asio::awaitable<boost::system::error_code> read(beast::flat_buffer& buffer,
                                                  http::response_parser<http::string_body>& parser);
  asio::awaitable<boost::system::error_code> read_header(beast::flat_buffer& buffer,
                                                         http::response_parser<http::buffer_body>& parser);
  asio::awaitable<boost::system::error_code> read_some(beast::flat_buffer& buffer,
                                                       http::response_parser<http::buffer_body>& parser);

  /// Aborts pending operations and closes the socket; the connection is then useless.
  void close();
  bool closed() const { return closed_; }
  /// Open, and the peer has neither closed it nor sent anything unexpected since.
  bool looks_alive();

  int n_requests = 0;  // requests sent on it so far (> 0: it came from the pool)

  /// Hands over the open stream (to a WebSocket layered on it); the connection is then empty.
  beast::tcp_stream take_plain() { return std::move(*plain_); }
  asio::ssl::stream<beast::tcp_stream> take_tls() { return std::move(*tls_); }

 private:
  std::optional<beast::tcp_stream> plain_;
  std::optional<asio::ssl::stream<beast::tcp_stream>> tls_;
  bool closed_ = false;
};

/// What became of a request for a whole reply (provider_client::fetch).
struct fetched {
  enum class failure { none, connect, timeout, too_long, io };
  failure failed = failure::none;
  error why;            // when failed: the connection's error, or the I/O error's text
  unsigned status = 0;  // when not: the reply's status and body
  std::string body;
};

class provider_client {
 public:
  /// The client of `config`, its network thread started; invalid_argument for a bad base_url
  /// or a CA file that cannot be loaded (config time). No connection is opened yet.
  static result<std::unique_ptr<provider_client>> create(provider_config config);
  ~provider_client();
  provider_client(const provider_client&) = delete;
  provider_client& operator=(const provider_client&) = delete;

  asio::io_context& io() { return io_; }
  const endpoint& where() const { return endpoint_; }
  const provider_config& config() const { return config_; }
  /// Connections opened so far (TCP connect + TLS handshake), for tests and metrics.
  std::size_t n_connects() const { return n_connects_.load(std::memory_order_relaxed); }

  // ---- io thread only ----
  /// An idle pooled connection if one is alive, else a new one. The connection being opened is
  /// stored in `slot` first, so a concurrent cancel can close it.
  asio::awaitable<status> acquire(std::shared_ptr<connection>& slot);
  /// Returns a connection after a complete response that allows keep-alive.
  void release(std::shared_ptr<connection> c);
  /// Makes sure one idle, connected (and TLS-handshaken) connection is in the pool.
  asio::awaitable<status> warm();
  /// A new connection that never joins the pool (one to upgrade to a WebSocket), stored in `slot`
  /// first so a concurrent cancel can close it.
  asio::awaitable<status> open_unpooled(std::shared_ptr<connection>& slot) { return connect(slot); }
  /// The Authorization header value ("Bearer <key>"), "" without a key. Never log it.
  std::string authorization() const { return api_key_.empty() ? std::string() : "Bearer " + api_key_; }

  /// Sends `req` and reads the whole reply (a body of at most `body_limit` bytes) within
  /// `timeout_ms`. A pooled connection the server had closed meanwhile is retried on a new one
  /// (twice at most); a keep-alive connection goes back to the pool after the reply.
  asio::awaitable<fetched> fetch(http::request<http::string_body> req, int timeout_ms, std::uint64_t body_limit);

  /// A POST with the auth and extra headers set. The key goes only into Authorization.
  http::request<http::string_body> make_post(std::string_view path, std::string body, bool event_stream) const;
  /// Replaces the key (if it appears) in a text that came from the provider.
  std::string redact(std::string text) const;

 private:
  provider_client(provider_config config, endpoint where, std::optional<asio::ssl::context> tls_context);
  asio::awaitable<status> connect(std::shared_ptr<connection>& slot);

  provider_config config_;
  endpoint endpoint_;
  std::string api_key_;
  asio::io_context io_;
  std::optional<asio::ssl::context> tls_context_;
  std::optional<tcp::resolver::results_type> resolved_;
  std::vector<std::shared_ptr<connection>> idle_;
  std::atomic<std::size_t> n_connects_{0};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

/// "HTTP <status>: <provider's message>" from an error body (JSON {"error":{"message"}} or text).
std::string http_error_text(unsigned status, std::string_view body);

/// One utterance's answer on its way back to a speech adapter's caller (either recognizer): its
/// partials and its final transcript, the final at most once, nothing after cancel() returned.
/// A recursive mutex, so that a callback may cancel its own stream.
struct pending_transcript {
  std::recursive_mutex mutex;
  bool closed = false;
  engine::recognizer_events events;

  void partial(const std::string& text, double stability) {
    std::lock_guard lock(mutex);
    if (!closed && events.on_partial) events.on_partial(text, stability);
  }
  void deliver(result<engine::recognized> r) {
    std::lock_guard lock(mutex);
    if (closed) return;
    closed = true;
    auto on_final = std::move(events.on_final);
    events = {};
    if (on_final) on_final(std::move(r));
  }
  void cancel() {
    std::lock_guard lock(mutex);
    closed = true;
    events = {};
  }
};

}  // namespace parley::openai::detail
