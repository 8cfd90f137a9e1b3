#include "parley/engines/openai/http_pool.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>

namespace parley::openai::detail {

namespace {

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

result<endpoint> parse_base_url(std::string_view url) {
  endpoint ep;
  std::string lower(url.substr(0, 8));
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("https://", 0) == 0) {
    ep.tls = true;
    url.remove_prefix(8);
  } else if (lower.rfind("http://", 0) == 0) {
    url.remove_prefix(7);
  } else {
    return make_error(errc::invalid_argument, "base_url must start with http:// or https://");
  }
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  if (authority.empty()) return make_error(errc::invalid_argument, "base_url has no host");
  if (authority.find('@') != std::string_view::npos || path.find_first_of("?#") != std::string_view::npos) {
    return make_error(errc::invalid_argument, "base_url must not hold credentials, a query or a fragment");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  ep.base_path = std::string(path);
  std::string_view port;
  if (authority.front() == '[') {  // [v6]:port
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error(errc::invalid_argument, "base_url has a bad IPv6 host");
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return make_error(errc::invalid_argument, "base_url has a bad port");
      port = rest.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return make_error(errc::invalid_argument, "base_url has no host");
  if (!port.empty()) {
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return make_error(errc::invalid_argument, "base_url has a bad port");
    }
    ep.port = std::string(port);
  } else {
    ep.port = ep.tls ? "443" : "80";
  }
  ep.host_header = std::string(authority);
  return ep;
}

// ---- connection ------------------------------------------------------------------------------

connection::connection(asio::io_context& io, asio::ssl::context* tls_context) {
  if (tls_context != nullptr) {
    tls_.emplace(io, *tls_context);
  } else {
    plain_.emplace(io);
  }
}

beast::tcp_stream& connection::tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

void connection::close() {
  closed_ = true;
  beast::tcp_stream& s = tcp();
  s.cancel();
  boost::system::error_code ignored;
  s.socket().shutdown(tcp::socket::shutdown_both, ignored);
  s.socket().close(ignored);
}

bool connection::looks_alive() {
  auto& sock = tcp().socket();
  if (closed_ || !sock.is_open()) return false;
  char byte = 0;
  const auto r = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (r == 0) return false;  // the peer closed it
  // TLS 1.3 servers send session tickets after the handshake; unread bytes are normal there.
  if (r > 0) return is_tls();
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

namespace {

/// Runs `op(stream)` on the connection's plain or TLS stream and yields its error.
template <class Op>
asio::awaitable<boost::system::error_code> on_stream(std::optional<beast::tcp_stream>& plain,
                                                     std::optional<asio::ssl::stream<beast::tcp_stream>>& tls, Op op) {
  if (tls) {
    auto [ec, n] = co_await op(*tls);
    (void)n;
    co_return ec;
  }
  auto [ec, n] = co_await op(*plain);
  (void)n;
  co_return ec;
}

}  // namespace

asio::awaitable<boost::system::error_code> connection::write(const http::request<http::string_body>& req) {
  return on_stream(plain_, tls_, [&](auto& s) { return http::async_write(s, req, use_nothrow); });
}

asio::awaitable<boost::system::error_code> connection::read(beast::flat_buffer& buffer,
                                                            http::response_parser<http::string_body>& parser) {
  return on_stream(plain_, tls_, [&](auto& s) { return http::async_read(s, buffer, parser, use_nothrow); });
}

asio::awaitable<boost::system::error_code> connection::read_header(beast::flat_buffer& buffer,
                                                                   http::response_parser<http::buffer_body>& parser) {
  return on_stream(plain_, tls_, [&](auto& s) { return http::async_read_header(s, buffer, parser, use_nothrow); });
}

asio::awaitable<boost::system::error_code> connection::read_some(beast::flat_buffer& buffer,
                                                                 http::response_parser<http::buffer_body>& parser) {
  return on_stream(plain_, tls_, [&](auto& s) { return http::async_read_some(s, buffer, parser, use_nothrow); });
}

// ---- provider_client -------------------------------------------------------------------------

result<std::unique_ptr<provider_client>> provider_client::create(provider_config config) {
  auto ep = parse_base_url(config.base_url);
  if (!ep) return ep.error();
  std::optional<asio::ssl::context> tls_context;
  if (ep->tls) {
    tls_context.emplace(asio::ssl::context::tls_client);
    tls_context->set_default_verify_paths();
    if (!config.ca_file.empty()) {
      boost::system::error_code ec;
      tls_context->load_verify_file(config.ca_file, ec);
      if (ec) return make_error(errc::invalid_argument, "cannot load CA file " + config.ca_file + ": " + ec.message());
    }
    tls_context->set_verify_mode(config.tls_verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
  }
  return std::unique_ptr<provider_client>(
      new provider_client(std::move(config), std::move(*ep), std::move(tls_context)));
}

provider_client::provider_client(provider_config config, endpoint where, std::optional<asio::ssl::context> tls_context)
    : config_(std::move(config)), endpoint_(std::move(where)), work_(asio::make_work_guard(io_)) {
  api_key_ = config_.resolve_api_key();
  if (tls_context) tls_context_.emplace(std::move(*tls_context));
  thread_ = std::thread([this] { io_.run(); });
}

provider_client::~provider_client() {
  work_.reset();
  // Idle connections have no pending operations; closing them here lets run() return.
  asio::post(io_, [this] {
    for (auto& c : idle_) c->close();
    idle_.clear();
  });
  thread_.join();
}

asio::awaitable<status> provider_client::acquire(std::shared_ptr<connection>& slot) {
  while (!idle_.empty()) {
    std::shared_ptr<connection> c = std::move(idle_.back());
    idle_.pop_back();
    if (c->looks_alive()) {
      slot = std::move(c);
      co_return status{};
    }
    c->close();
  }
  co_return co_await connect(slot);
}

void provider_client::release(std::shared_ptr<connection> c) {
  if (!c) return;
  c->tcp().expires_never();
  if (idle_.size() < config_.pool_size && c->tcp().socket().is_open()) {
    idle_.push_back(std::move(c));
  } else {
    c->close();
  }
}

asio::awaitable<fetched> provider_client::fetch(http::request<http::string_body> req, int timeout_ms,
                                                std::uint64_t body_limit) {
  fetched out;
  for (int tries = 0;; ++tries) {
    std::shared_ptr<connection> conn;
    if (status s = co_await acquire(conn); !s) {
      out.failed = fetched::failure::connect;
      out.why = s.error();
      co_return out;
    }
    const bool reused = conn->n_requests++ > 0;
    conn->tcp().expires_after(std::chrono::milliseconds(timeout_ms));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    boost::system::error_code ec = co_await conn->write(req);
    if (!ec) ec = co_await conn->read(buffer, parser);
    if (ec) {
      conn->close();
      if (reused && !parser.is_header_done() && tries < 2 &&
          (ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe)) {
        continue;  // a pooled connection the server had closed
      }
      out.failed = ec == beast::error::timeout     ? fetched::failure::timeout
                   : ec == http::error::body_limit ? fetched::failure::too_long
                                                   : fetched::failure::io;
      out.why = make_error(out.failed == fetched::failure::timeout ? errc::timeout : errc::unavailable, ec.message());
      co_return out;
    }
    out.status = parser.get().result_int();
    out.body = std::move(parser.get().body());
    if (parser.keep_alive()) {
      release(std::move(conn));
    } else {
      conn->close();
    }
    co_return out;
  }
}

asio::awaitable<status> provider_client::warm() {
  for (auto& c : idle_) {
    if (c->looks_alive()) co_return status{};
  }
  std::shared_ptr<connection> c;
  status s = co_await connect(c);
  if (s) release(std::move(c));
  co_return s;
}

asio::awaitable<status> provider_client::connect(std::shared_ptr<connection>& slot) {
  const std::string where = endpoint_.host + ":" + endpoint_.port;
  auto c = std::make_shared<connection>(io_, tls_context_ ? &*tls_context_ : nullptr);
  slot = c;
  if (!resolved_) {
    tcp::resolver resolver(io_);
    auto [ec, results] = co_await resolver.async_resolve(endpoint_.host, endpoint_.port, use_nothrow);
    if (ec) co_return make_error(errc::unavailable, "cannot resolve " + endpoint_.host + ": " + ec.message());
    resolved_ = std::move(results);
  }
  if (c->closed()) co_return make_error(errc::cancelled, "connect cancelled");
  c->tcp().expires_after(std::chrono::milliseconds(config_.connect_timeout_ms));
  {
    auto [ec, ep] = co_await c->tcp().async_connect(*resolved_, use_nothrow);
    (void)ep;
    if (ec) {
      resolved_.reset();  // re-resolve next time: the address may have moved
      if (ec == beast::error::timeout) {
        co_return make_error(errc::timeout, "connect to " + where + " timed out after " +
                                                std::to_string(config_.connect_timeout_ms) + " ms");
      }
      if (ec == asio::error::operation_aborted) co_return make_error(errc::cancelled, "connect cancelled");
      co_return make_error(errc::unavailable, "cannot connect to " + where + ": " + ec.message());
    }
  }
  c->tcp().socket().set_option(tcp::no_delay(true));
  if (c->is_tls()) {
    auto& s = c->tls_stream();
    if (!is_ip_literal(endpoint_.host)) {
      // SNI: the server picks its certificate by name.
      if (SSL_set_tlsext_host_name(s.native_handle(), endpoint_.host.c_str()) != 1) {
        co_return make_error(errc::internal, "cannot set TLS server name");
      }
    }
    if (config_.tls_verify) s.set_verify_callback(asio::ssl::host_name_verification(endpoint_.host));
    auto [ec] = co_await s.async_handshake(asio::ssl::stream_base::client, use_nothrow);
    if (ec) {
      if (ec == beast::error::timeout) {
        co_return make_error(errc::timeout, "TLS handshake with " + where + " timed out");
      }
      if (ec == asio::error::operation_aborted) co_return make_error(errc::cancelled, "connect cancelled");
      co_return make_error(errc::unavailable, "TLS handshake with " + where + " failed: " + ec.message());
    }
  }
  c->tcp().expires_never();
  n_connects_.fetch_add(1, std::memory_order_relaxed);
  co_return status{};
}

http::request<http::string_body> provider_client::make_post(std::string_view path, std::string body,
                                                            bool event_stream) const {
  http::request<http::string_body> req{http::verb::post, endpoint_.base_path + std::string(path), 11};
  req.set(http::field::host, endpoint_.host_header);
  req.set(http::field::user_agent, "parley");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, event_stream ? "text/event-stream" : "application/json");
  if (!api_key_.empty()) req.set(http::field::authorization, "Bearer " + api_key_);
  for (const auto& [name, value] : config_.headers) req.set(name, value);
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

std::string provider_client::redact(std::string text) const {
  if (api_key_.size() < 4) return text;  // too short to search for without false hits
  for (std::size_t at = text.find(api_key_); at != std::string::npos; at = text.find(api_key_, at)) {
    text.replace(at, api_key_.size(), "***");
  }
  return text;
}

std::string http_error_text(unsigned status, std::string_view body) {
  std::string message;
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    const auto e = j.find("error");
    if (e != j.end() && e->is_object() && e->contains("message") && (*e)["message"].is_string()) {
      message = (*e)["message"].get<std::string>();
    } else if (e != j.end() && e->is_string()) {
      message = e->get<std::string>();
    } else if (j.contains("message") && j["message"].is_string()) {
      message = j["message"].get<std::string>();
    } else if (j.contains("detail") && j["detail"].is_string()) {
      message = j["detail"].get<std::string>();
    }
  }
  if (message.empty()) message = std::string(body);
  for (auto& c : message) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  constexpr std::size_t max_message_bytes = 300;
  if (message.size() > max_message_bytes) message = message.substr(0, max_message_bytes) + "...";
  std::string out = "HTTP " + std::to_string(status);
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace parley::openai::detail

namespace parley::openai {

// ---- provider_config -------------------------------------------------------------------------

std::string provider_config::resolve_api_key() const {
  if (!api_key.empty()) return api_key;
  if (api_key_env.empty()) return {};
  const char* v = std::getenv(api_key_env.c_str());  // NOLINT(concurrency-mt-unsafe): start-up only
  return v != nullptr ? std::string(v) : std::string();
}

std::string provider_config::describe() const {
  auto ep = detail::parse_base_url(base_url);
  std::string out = !name.empty() ? name : (ep ? "openai@" + ep->host : std::string("openai@?"));
  if (ep) out += ep->tls ? " https" : " http";
  out += resolve_api_key().empty() ? ", no key" : ", key set";
  return out;
}

}  // namespace parley::openai
