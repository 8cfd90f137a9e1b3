// A scripted fake OpenAI-compatible server for the client tests (plain HTTP or TLS on 127.0.0.1,
// port 0). Each request on each connection is handed to the test's script, which writes raw
// bytes with delays: headers, chunked SSE pieces split anywhere, resets, stalls.
// Threading: one accept thread plus one thread per connection, all blocking I/O; stop() (and the
// destructor) wakes every sleeper and blocked read via shutdown(2) on the registered sockets.
// Built once, in fake_server.cpp (the parley_fake_openai library the tests link).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace parley::openai::testing {

namespace asio = boost::asio;
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

  explicit fake_server(script s, asio::ssl::context* tls = nullptr);
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

  /// Wakes every sleeping script and blocked read, and joins every thread (idempotent).
  void stop();

 private:
  friend class fake_conn;

  void accept_loop();
  template <class Stream>
  void serve_stream(Stream& stream, fake_conn& conn, int index);
  void serve(tcp::socket sock, int index);
  void finish(tcp::socket& sock, int fd, bool reset);

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

}  // namespace parley::openai::testing
