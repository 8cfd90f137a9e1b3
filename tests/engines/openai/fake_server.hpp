// A scripted fake OpenAI-compatible server for the client tests (plain HTTP or TLS on 127.0.0.1,
// port 0). Each request on each connection is handed to the test's script, which writes raw
// bytes with delays: headers, chunked SSE pieces split anywhere, resets, stalls.
// Threading: one accept thread plus one thread per connection, all blocking I/O; stop() (and the
// destructor) wakes every sleeper and blocked read via shutdown(2) on the registered sockets.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace parley::openai::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct fake_request {
  std::string target;
  std::string body;
  std::string authorization;
  std::string accept;
  std::map<std::string, std::string> headers;  // every header, names lower-cased
  int connection_index = 0;  // which accepted connection it came on (0-based)
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class fake_server;

/// What a script uses to answer one request.
class fake_conn {
 public:
  void send(std::string_view raw);
  /// Status line and headers of a chunked event stream.
  void sse_headers() {
    send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
         "Transfer-Encoding: chunked\r\n\r\n");
  }
  /// One HTTP chunk holding `data` (any bytes: may cut an event or a character anywhere).
  void chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    send(std::string(size) + std::string(data) + "\r\n");
  }
  void event(std::string_view data) { chunk("data: " + std::string(data) + "\n\n"); }
  void token(std::string_view text) { event(content_chunk(text)); }
  void finish(std::string_view reason = "stop") {
    event(R"({"choices":[{"index":0,"delta":{},"finish_reason":")" + std::string(reason) + "\"}]}");
    event("[DONE]");
    send("0\r\n\r\n");
  }
  /// A complete response with a Content-Length body.
  void respond(int status, std::string_view body, std::string_view extra_headers = "",
               std::string_view content_type = "application/json") {
    send("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + std::string(content_type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" +
         std::string(body));
  }
  /// Sleeps; returns early (false) when the server stops.
  bool sleep_ms(int ms);
  /// Blocks until the server stops (a stream that never ends).
  void stall() { sleep_ms(60 * 60 * 1000); }
  void close() { closed_ = true; }
  /// Closes with a TCP reset (SO_LINGER 0).
  void reset() {
    reset_ = true;
    closed_ = true;
  }

  static std::string content_chunk(std::string_view text) {
    nlohmann::json j = {{"choices", {{{"index", 0}, {"delta", {{"content", std::string(text)}}}}}}};
    return j.dump();
  }

 private:
  friend class fake_server;
  fake_server* server_ = nullptr;
  tcp::socket* plain_ = nullptr;
  asio::ssl::stream<tcp::socket>* tls_ = nullptr;
  bool closed_ = false;
  bool reset_ = false;
  bool write_failed_ = false;
};

class fake_server {
 public:
  using script = std::function<void(fake_conn&, const fake_request&, int request_index)>;

  explicit fake_server(script s, asio::ssl::context* tls = nullptr)
      : script_(std::move(s)), tls_(tls), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~fake_server() { stop(); }
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  unsigned short port() const { return port_; }
  std::string base_url(const char* host = "127.0.0.1") const {
    return std::string(tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_) + "/v1";
  }
  int n_accepts() const { return n_accepts_.load(); }
  int n_requests() const { return n_requests_.load(); }
  std::vector<fake_request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(conn_threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  friend class fake_conn;

  void accept_loop() {
    for (int index = 0;; ++index) {
      boost::system::error_code ec;
      tcp::socket sock(io_);
      acceptor_.accept(sock, ec);
      std::lock_guard lock(mutex_);
      if (ec || stopping_) return;
      n_accepts_.fetch_add(1);
      fds_.insert(sock.native_handle());
      conn_threads_.emplace_back([this, s = std::move(sock), index]() mutable { serve(std::move(s), index); });
    }
  }

  template <class Stream>
  void serve_stream(Stream& stream, fake_conn& conn, int index) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(stream, buffer, req, ec);
      if (ec) return;
      fake_request r;
      r.target = std::string(req.target());
      r.body = req.body();
      r.authorization = std::string(req[http::field::authorization]);
      r.accept = std::string(req[http::field::accept]);
      r.connection_index = index;
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        r.headers[name] = std::string(f.value());
      }
      int request_index = 0;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
        request_index = n_requests_.fetch_add(1);
      }
      script_(conn, r, request_index);
      if (conn.closed_ || conn.write_failed_) return;
    }
  }

  void serve(tcp::socket sock, int index) {
    const int fd = sock.native_handle();
    fake_conn conn;
    conn.server_ = this;
    if (tls_ != nullptr) {
      asio::ssl::stream<tcp::socket> stream(std::move(sock), *tls_);
      boost::system::error_code ec;
      stream.handshake(asio::ssl::stream_base::server, ec);
      conn.tls_ = &stream;
      if (!ec) serve_stream(stream, conn, index);
      finish(stream.next_layer(), fd, conn.reset_);
    } else {
      conn.plain_ = &sock;
      serve_stream(sock, conn, index);
      finish(sock, fd, conn.reset_);
    }
  }

  void finish(tcp::socket& sock, int fd, bool reset) {
    std::lock_guard lock(mutex_);
    fds_.erase(fd);
    boost::system::error_code ec;
    if (reset) sock.set_option(asio::socket_base::linger(true, 0), ec);
    sock.close(ec);
  }

  script script_;
  asio::ssl::context* tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::set<int> fds_;
  std::vector<std::thread> conn_threads_;
  std::vector<fake_request> requests_;
  std::atomic<int> n_accepts_{0};
  std::atomic<int> n_requests_{0};
};

inline void fake_conn::send(std::string_view raw) {
  if (write_failed_) return;
  boost::system::error_code ec;
  if (tls_ != nullptr) {
    asio::write(*tls_, asio::buffer(raw.data(), raw.size()), ec);
  } else {
    asio::write(*plain_, asio::buffer(raw.data(), raw.size()), ec);
  }
  if (ec) write_failed_ = true;
}

inline bool fake_conn::sleep_ms(int ms) {
  std::unique_lock lock(server_->mutex_);
  return !server_->cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return server_->stopping_; });
}

}  // namespace parley::openai::testing
