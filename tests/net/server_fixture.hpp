// The realtime server's test fixtures (server_*_test.cpp): io threads, a server on 127.0.0.1
// (port 0) with mock engines, scripted input audio, a one-shot HTTP GET, and a Beast WebSocket
// client over plain TCP or TLS. Bounded waits only; no timing asserts.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "parley/engines/mock/mock_engines.hpp"
#include "parley/net/protocol.hpp"
#include "parley/net/server.hpp"

namespace parley::net::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto k_wait = 20s;  // upper bound for "it arrives", never a timing assertion
constexpr int k_rate = 16000;

class io_threads {
 public:
  explicit io_threads(int n = 2);
  ~io_threads();
  asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

struct engine_knobs {
  std::vector<std::string> transcripts = {"what time is it"};
  mock::llm_profile llm{"test", mock::latency_dist::fixed(5), 400.0, 0.0};  // 2.5 ms per token
  double tts_rtf = 0.0;
  mock::reply_fn reply;  // empty: mock::default_mock_reply
};

engine::engine_set make_engines(asio::any_io_executor ex, engine_knobs k = {});

// A server on a free port with mock engines, torn down in order.
struct test_server {
  io_threads io;
  std::unique_ptr<server> srv;

  explicit test_server(server_config config = {}, engine_knobs knobs = {}, bool with_engines = true);
  ~test_server() { srv.reset(); }
  std::uint16_t port() const { return srv->port(); }
};

// Input audio: silence '.' and speech-like 'S' stretches, in ms.
std::vector<std::int16_t> script_audio(std::initializer_list<std::pair<char, double>> parts, int rate_hz = k_rate);
inline const auto k_one_question = {std::pair{'.', 500.0}, std::pair{'S', 1200.0}, std::pair{'.', 1000.0}};

struct http_reply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;
};
http_reply http_get(std::uint16_t port, const std::string& target);
/// Sends `request` as it is (any bytes) and reads one response; status 0 when none arrived.
http_reply http_raw(std::uint16_t port, const std::string& request);

// One message the client received: a JSON event or an audio frame.
struct message {
  bool binary = false;
  json j;
  audio_frame_view frame;
  std::vector<std::uint8_t> raw;  // a binary message as received
  // A protocol v1 event's `type`; a media-stream message's `event`.
  std::string type() const { return binary ? "<audio>" : j.value("type", j.value("event", "")); }
};

// A WebSocket client over plain TCP (ws_client) or TLS (wss_client, verifying the server's
// certificate against the given CA file and its address).
template <class Next>
class basic_ws_client {
 public:
  static constexpr bool tls = !std::is_same_v<Next, tcp::socket>;
  basic_ws_client() requires(!tls) : ws_(io_) {}
  explicit basic_ws_client(ssl::context& ctx) requires(tls) : ws_(io_, ctx) {}

  struct options {
    std::string target = "/ws";
    std::string token;
    std::string origin;
    std::string host = "127.0.0.1";  // the handshake's Host header
  };

  /// Connects and upgrades; returns the HTTP status of a refused upgrade (0 when accepted).
  int connect(std::uint16_t port, const options& o);
  int connect(std::uint16_t port) { return connect(port, options{}); }

  void send_json(const json& j);
  void send_text(const std::string& s);
  beast::error_code send_audio(std::span<const std::int16_t> pcm, std::size_t samples_per_message = 320);
  void send_bytes(const std::vector<std::uint8_t>& bytes);
  void start(int rate_hz = k_rate, json extra = json::object());

  /// The next message, or nullopt on close/error/timeout (then closed() and close_code() tell).
  std::optional<message> read(std::chrono::steady_clock::duration timeout = k_wait);
  /// Reads until a message of `type` arrives; returns it (nullopt if the connection ended first).
  std::optional<message> read_until(const std::string& type);

  /// Reads until response.done, then reports all of that reply's audio as played, as a client
  /// does when its playout ends: turn.metrics follow at once instead of after the reply's length
  /// in real time. Returns response.done (nullopt if the connection ended first).
  std::optional<message> play_out_reply();

  std::size_t index_of(const std::string& type, std::size_t from = 0) const;
  std::size_t count(const std::string& type) const;

  bool closed() const { return closed_; }
  bool timed_out() const { return timed_out_; }
  beast::error_code error() const { return error_; }
  int close_code() const { return static_cast<int>(ws_.reason().code); }
  void close();

  std::vector<message> log;
  std::string refusal_body;  // the body of a refused upgrade
  bool opus_audio = false;   // binary messages carry Opus packets: keep them raw

 private:
  asio::io_context io_;
  websocket::stream<Next> ws_;
  bool closed_ = false;
  bool timed_out_ = false;
  beast::error_code error_;
};
extern template class basic_ws_client<tcp::socket>;
extern template class basic_ws_client<ssl::stream<tcp::socket>>;
using ws_client = basic_ws_client<tcp::socket>;
using wss_client = basic_ws_client<ssl::stream<tcp::socket>>;

}  // namespace parley::net::test
