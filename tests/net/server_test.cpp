// The realtime server end to end on 127.0.0.1 (port 0) with mock engines and a Beast client:
// spoken and text turns, barge-in, auth and origin checks, protocol errors, size limits, the
// health/readiness/metrics endpoints and graceful shutdown. Bounded waits only; no timing asserts.
#include "parley/net/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <filesystem>
#include <jwt.h>
#include <opus.h>
#include <fstream>
#include <future>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "parley/engines/mock/mock_engines.hpp"
#include "parley/net/protocol.hpp"

namespace parley::net {
namespace {

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

// ---- fixtures -------------------------------------------------------------------------------

class io_threads {
 public:
  explicit io_threads(int n = 2) : work_(asio::make_work_guard(io_)) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~io_threads() {
    work_.reset();
    for (auto& t : threads_) t.join();
  }
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

engine::engine_set make_engines(asio::any_io_executor ex, engine_knobs k = {}) {
  return {std::make_shared<mock::mock_recognizer>(mock::recognizer_config{.executor = ex, .transcripts = k.transcripts}),
          std::make_shared<mock::mock_chat_model>(mock::chat_config{.executor = ex, .profile = k.llm, .reply = k.reply}),
          std::make_shared<mock::mock_synthesizer>(mock::synthesizer_config{.executor = ex, .realtime_factor = k.tts_rtf})};
}

// A server on a free port with mock engines, torn down in order.
struct test_server {
  io_threads io;
  std::unique_ptr<server> srv;

  explicit test_server(server_config config = {}, engine_knobs knobs = {}, bool with_engines = true) {
    config.host = "127.0.0.1";
    config.port = 0;
    config.session.input_queue_chunks = 100'000;  // tests push audio faster than real time
    config.max_input_speed = 0;                   // ... so no input rate limit unless a test sets one
    auto s = server::start(io.executor(), config);
    EXPECT_TRUE(s) << (s ? "" : s.error().describe());
    srv = std::move(*s);
    if (with_engines) srv->set_engines(make_engines(io.executor(), knobs));
  }
  ~test_server() { srv.reset(); }
  std::uint16_t port() const { return srv->port(); }
};

// Input audio: silence '.' and speech-like 'S' stretches, in ms.
std::vector<std::int16_t> script_audio(std::initializer_list<std::pair<char, double>> parts, int rate_hz = k_rate) {
  std::vector<std::int16_t> pcm;
  for (auto [what, ms] : parts) {
    const auto n = static_cast<std::size_t>(ms_to_samples(ms, rate_hz));
    if (what == 'S') {
      auto voice = mock::speechlike_pcm(n, rate_hz, 800);
      pcm.insert(pcm.end(), voice.begin(), voice.end());
    } else {
      pcm.insert(pcm.end(), n, 0);
    }
  }
  return pcm;
}
const auto k_one_question = {std::pair{'.', 500.0}, std::pair{'S', 1200.0}, std::pair{'.', 1000.0}};

struct http_reply {
  int status = 0;
  std::string body;
  std::string content_type;
};

http_reply http_get(std::uint16_t port, const std::string& target) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {};
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) return {};
  return {static_cast<int>(res.result_int()), res.body(), std::string(res[http::field::content_type])};
}

// One message the client received: a JSON event or an audio frame.
struct message {
  bool binary = false;
  json j;
  audio_frame_view frame;
  std::vector<std::uint8_t> raw;  // a binary message as received
  std::string type() const { return binary ? "<audio>" : j.value("type", ""); }
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
  };

  /// Connects and upgrades; returns the HTTP status of a refused upgrade (0 when accepted).
  int connect(std::uint16_t port, const options& o) {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return -1;
    if constexpr (tls) {
      ws_.next_layer().set_verify_callback(ssl::host_name_verification("127.0.0.1"));
      ws_.next_layer().handshake(ssl::stream_base::client, ec);
      if (ec) {
        error_ = ec;
        return -2;
      }
    }
    ws_.set_option(websocket::stream_base::decorator([o](websocket::request_type& req) {
      if (!o.token.empty()) req.set(http::field::authorization, "Bearer " + o.token);
      if (!o.origin.empty()) req.set(http::field::origin, o.origin);
    }));
    websocket::response_type res;
    ws_.handshake(res, "127.0.0.1", o.target, ec);
    if (ec) {
      error_ = ec;
      refusal_body = res.body();
      return static_cast<int>(res.result_int());
    }
    return 0;
  }
  int connect(std::uint16_t port) { return connect(port, options{}); }

  void send_json(const json& j) {
    ws_.text(true);
    ws_.write(asio::buffer(j.dump()));
  }
  void send_text(const std::string& s) {
    ws_.text(true);
    ws_.write(asio::buffer(s));
  }
  beast::error_code send_audio(std::span<const std::int16_t> pcm, std::size_t samples_per_message = 320) {
    beast::error_code ec;
    ws_.binary(true);
    for (std::size_t i = 0; i < pcm.size() && !ec; i += samples_per_message) {
      const auto n = std::min(samples_per_message, pcm.size() - i);
      ws_.write(asio::buffer(pcm.data() + i, n * sizeof(std::int16_t)), ec);  // little-endian host
    }
    return ec;
  }
  void send_bytes(const std::vector<std::uint8_t>& bytes) {
    ws_.binary(true);
    ws_.write(asio::buffer(bytes));
  }
  void start(int rate_hz = k_rate, json extra = json::object()) {
    json session = {{"input_sample_rate_hz", rate_hz}};
    session.update(extra);
    send_json({{"type", "session.update"}, {"session", session}});
  }

  /// The next message, or nullopt on close/error/timeout (then closed() and close_code() tell).
  std::optional<message> read(std::chrono::steady_clock::duration timeout = k_wait) {
    beast::flat_buffer buffer;
    bool done = false;
    beast::error_code result;
    ws_.async_read(buffer, [&](beast::error_code ec, std::size_t) {
      done = true;
      result = ec;
    });
    io_.restart();
    io_.run_for(timeout);
    if (!done) {  // timed out: cancel the read and give up on this connection
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).cancel(ignored);
      io_.restart();
      io_.run_for(1s);
      timed_out_ = true;
      return std::nullopt;
    }
    if (result) {
      closed_ = true;
      error_ = result;
      return std::nullopt;
    }
    message m;
    const auto data = buffer.cdata();
    if (ws_.got_binary()) {
      m.binary = true;
      const auto* bytes = static_cast<const std::uint8_t*>(data.data());
      m.raw.assign(bytes, bytes + data.size());
      if (opus_audio) {
        log.push_back(m);
        return m;
      }
      auto frame = decode_audio_frame(std::span(static_cast<const std::uint8_t*>(data.data()), data.size()));
      EXPECT_TRUE(frame) << "malformed server audio frame";
      if (frame) m.frame = std::move(*frame);
    } else {
      m.j = json::parse(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    log.push_back(m);
    return m;
  }

  /// Reads until a message of `type` arrives; returns it (nullopt if the connection ended first).
  std::optional<message> read_until(const std::string& type) {
    while (auto m = read()) {
      if (m->type() == type) return m;
    }
    return std::nullopt;
  }

  std::size_t index_of(const std::string& type, std::size_t from = 0) const {
    for (std::size_t i = from; i < log.size(); ++i) {
      if (log[i].type() == type) return i;
    }
    return SIZE_MAX;
  }
  std::size_t count(const std::string& type) const {
    return static_cast<std::size_t>(std::count_if(log.begin(), log.end(), [&](const message& m) { return m.type() == type; }));
  }

  bool closed() const { return closed_; }
  bool timed_out() const { return timed_out_; }
  beast::error_code error() const { return error_; }
  int close_code() const { return static_cast<int>(ws_.reason().code); }
  void close() {
    beast::error_code ec;
    ws_.close(websocket::close_code::normal, ec);
  }

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
using ws_client = basic_ws_client<tcp::socket>;
using wss_client = basic_ws_client<ssl::stream<tcp::socket>>;

// ---- tests ----------------------------------------------------------------------------------

TEST(server, spoken_turn_streams_transcript_reply_audio_and_metrics) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  auto created = c.read_until("session.created");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->j["protocol"], 1);
  EXPECT_EQ(created->j["session"]["input_sample_rate_hz"], k_rate);

  ASSERT_FALSE(c.send_audio(script_audio(k_one_question)));
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished")) << "closed=" << c.closed() << " timed_out=" << c.timed_out();

  const auto i_started = c.index_of("input_audio_buffer.speech_started");
  const auto i_stopped = c.index_of("input_audio_buffer.speech_stopped");
  const auto i_final = c.index_of("conversation.item.input_audio_transcription.completed");
  const auto i_item = c.index_of("conversation.item.created");
  const auto i_response = c.index_of("response.created");
  const auto i_delta = c.index_of("response.text.delta");
  const auto i_audio_start = c.index_of("response.audio.start");
  const auto i_first_frame = c.index_of("<audio>");
  const auto i_audio_done = c.index_of("response.audio.done");
  const auto i_done = c.index_of("response.done");
  const auto i_metrics = c.index_of("turn.metrics");
  ASSERT_NE(i_first_frame, SIZE_MAX);
  ASSERT_NE(i_metrics, SIZE_MAX);
  EXPECT_LT(i_started, i_stopped);
  EXPECT_LT(i_stopped, i_final);
  EXPECT_LT(i_final, i_item);
  EXPECT_LT(i_item, i_response);
  EXPECT_LT(i_response, i_delta);
  EXPECT_LT(i_audio_start, i_first_frame);
  EXPECT_LT(i_first_frame, i_audio_done);
  EXPECT_LT(i_audio_done, i_done);
  EXPECT_EQ(c.log[i_final].j["transcript"], "what time is it");
  EXPECT_EQ(c.log[i_done].j["text"], mock::default_mock_reply("what time is it"));

  // Every frame belongs to the response's generation, in order, without gaps.
  const auto generation = c.log[i_response].j["generation"].get<std::uint64_t>();
  EXPECT_EQ(c.log[i_audio_start].j["generation"], generation);
  EXPECT_EQ(c.log[i_audio_start].j["sample_rate_hz"], k_rate);
  std::uint64_t offset = 0;
  for (const auto& m : c.log) {
    if (!m.binary) continue;
    EXPECT_EQ(m.frame.generation, generation);
    EXPECT_EQ(m.frame.offset_samples, offset);
    offset += m.frame.samples.size();
  }
  EXPECT_GT(offset, 0u);
  EXPECT_EQ(c.log[i_audio_done].j["n_samples"], offset);

  const auto& timeline = c.log[i_metrics].j["timeline"];
  EXPECT_TRUE(timeline["metrics_ms"]["ttfa"].is_number());
  EXPECT_TRUE(timeline["stamps_ms"]["t_speech_end"].is_number());
  c.close();
}

TEST(server, input_at_48khz_is_resampled_and_output_follows_the_requested_rate) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(48000, {{"output_sample_rate_hz", 24000}});
  ASSERT_TRUE(c.read_until("session.created"));
  ASSERT_FALSE(c.send_audio(script_audio(k_one_question, 48000), 960));
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished"));
  const auto i_final = c.index_of("conversation.item.input_audio_transcription.completed");
  ASSERT_NE(i_final, SIZE_MAX) << "the 48 kHz speech was heard";
  const auto i_start = c.index_of("response.audio.start");
  ASSERT_NE(i_start, SIZE_MAX);
  EXPECT_EQ(c.log[i_start].j["sample_rate_hz"], 24000);
}

TEST(server, text_input_gets_a_streamed_reply) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_json({{"type", "conversation.item.create"},
               {"item", {{"type", "message"}, {"role", "user"}, {"content", {{{"type", "input_text"}, {"text", "hello there"}}}}}}});
  auto done = c.read_until("response.done");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->j["text"], mock::default_mock_reply("hello there"));
  EXPECT_NE(c.index_of("conversation.item.created"), SIZE_MAX);
  EXPECT_NE(c.index_of("response.text.delta"), SIZE_MAX);
  EXPECT_NE(c.index_of("<audio>"), SIZE_MAX);
  ASSERT_TRUE(c.read_until("turn.metrics"));
}

TEST(server, a_late_first_token_plays_the_filler_the_server_was_given) {
  server_config config;
  config.session.budgets.llm_ttft_ms = 50;  // the mock model's first token comes after 400 ms
  engine_knobs knobs;
  knobs.llm = mock::llm_profile{"slow", mock::latency_dist::fixed(400), 400.0, 0.0};
  test_server ts(config, knobs, /*with_engines=*/false);
  const std::size_t word = 16000 / 5;  // 200 ms words, at the mock voice's rate
  agent::filler_clip clip{"One moment.", 16000, std::vector<std::int16_t>(2 * word, 1234), {word, 2 * word}};
  ts.srv->set_engines(make_engines(ts.io.executor(), knobs), nullptr,
                      std::make_shared<const agent::filler_bank>(agent::filler_bank{clip, clip}));
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_json({{"type", "conversation.item.create"}, {"text", "tell me something"}});
  auto metrics = c.read_until("turn.metrics");
  ASSERT_TRUE(metrics);
  const auto& timeline = metrics->j["timeline"];
  EXPECT_EQ(timeline["flags"]["filler"], true) << timeline.dump();
}

// Barge-in: speech while the reply plays interrupts it; after response.interrupted no audio of
// that generation arrives. `tts_rtf` 0.5: the reply is still being synthesized (the session's
// interrupt cuts it); 0: it was fully generated and only the client still plays it.
void barge_in_case(double tts_rtf, bool with_playout_reports) {
  engine_knobs knobs;
  knobs.transcripts = {"tell me a story", ""};  // the barge-in itself is heard as nothing: no second reply
  knobs.tts_rtf = tts_rtf;
  test_server ts({}, knobs);
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(k_rate, {{"barge_in", {{"enabled", true}, {"min_speech_ms", 150}}}});
  ASSERT_TRUE(c.read_until("session.created"));
  ASSERT_FALSE(c.send_audio(script_audio(k_one_question)));
  auto start = c.read_until("response.audio.start");
  ASSERT_TRUE(start);
  const auto generation = start->j["generation"].get<std::uint64_t>();
  if (with_playout_reports) {
    c.send_json({{"type", "playout.progress"}, {"generation", generation}, {"played_samples", 320}});
  }
  // The user talks over the reply.
  ASSERT_FALSE(c.send_audio(script_audio({{'S', 800}, {'.', 800}})));
  auto interrupted = c.read_until("response.interrupted");
  ASSERT_TRUE(interrupted) << "closed=" << c.closed() << " timed_out=" << c.timed_out();
  EXPECT_EQ(interrupted->j["generation"], generation);
  EXPECT_EQ(interrupted->j["reason"], "barge_in");
  if (with_playout_reports) {
    EXPECT_EQ(interrupted->j["played_samples"], 320);
  }
  const auto i_interrupted = c.log.size() - 1;

  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished"));
  EXPECT_EQ(c.count("response.interrupted"), 1u) << "one interrupt message per generation";
  for (std::size_t i = i_interrupted + 1; i < c.log.size(); ++i) {
    if (c.log[i].binary) {
      EXPECT_NE(c.log[i].frame.generation, generation) << "stale audio after response.interrupted";
    }
    if (c.log[i].type() == "response.done") {
      EXPECT_NE(c.log[i].j["generation"], generation);
    }
  }
  const auto metrics = ts.srv->metrics_text();
  EXPECT_EQ(ts.srv->stats().n_barge_ins, 1u);
  EXPECT_NE(metrics.find("parley_barge_in_time_to_interrupt_milliseconds_count 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("parley_interrupts_total{reason=\"barge_in\"} 1\n"), std::string::npos);
}

TEST(server, barge_in_interrupts_a_reply_still_being_synthesized) { barge_in_case(0.5, false); }
TEST(server, barge_in_interrupts_a_reply_the_client_is_still_playing) { barge_in_case(0.0, true); }

TEST(server, response_cancel_interrupts_explicitly) {
  engine_knobs knobs;
  knobs.tts_rtf = 0.5;
  test_server ts({}, knobs);
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_json({{"type", "conversation.item.create"}, {"text", "a long answer please"}});
  auto start = c.read_until("response.audio.start");
  ASSERT_TRUE(start);
  c.send_json({{"type", "response.cancel"}});
  auto interrupted = c.read_until("response.interrupted");
  ASSERT_TRUE(interrupted);
  EXPECT_EQ(interrupted->j["generation"], start->j["generation"]);
  EXPECT_EQ(interrupted->j["reason"], "client");
}

TEST(server, bearer_token_is_checked_before_the_upgrade) {
  server_config config;
  config.bearer_token = "s3cret";
  test_server ts(config);
  ws_client none, wrong, header, query;
  EXPECT_EQ(none.connect(ts.port()), 401);
  EXPECT_EQ(wrong.connect(ts.port(), {.target = "/ws", .token = "guess", .origin = ""}), 401);
  EXPECT_EQ(header.connect(ts.port(), {.target = "/ws", .token = "s3cret", .origin = ""}), 0);
  EXPECT_EQ(query.connect(ts.port(), {.target = "/ws?access_token=s3cret", .token = "", .origin = ""}), 0);
  for (auto* c : {&header, &query}) {  // a round trip: the server has counted the session by then
    c->start();
    EXPECT_TRUE(c->read_until("session.created"));
  }
  EXPECT_EQ(ts.srv->stats().n_rejected_upgrades, 2u);
  EXPECT_EQ(ts.srv->stats().n_sessions_total, 2u);
}

TEST(server, origin_outside_the_allowlist_is_forbidden) {
  server_config config;
  config.allowed_origins = {"http://localhost:8080", "self"};
  test_server ts(config);
  ws_client bad, good, self, no_origin;
  EXPECT_EQ(bad.connect(ts.port(), {.target = "/ws", .token = "", .origin = "http://evil.example"}), 403);
  EXPECT_EQ(good.connect(ts.port(), {.target = "/ws", .token = "", .origin = "http://localhost:8080"}), 0);
  // The client's handshake sends Host: 127.0.0.1, so a page of this server has that origin.
  EXPECT_EQ(self.connect(ts.port(), {.target = "/ws", .token = "", .origin = "http://127.0.0.1"}), 0);
  ws_client other_port;
  EXPECT_EQ(other_port.connect(ts.port(), {.target = "/ws", .token = "", .origin = "http://127.0.0.1:9"}), 403);
  EXPECT_EQ(no_origin.connect(ts.port()), 0) << "non-browser clients send no Origin";
}

TEST(server, protocol_errors_get_error_events_and_the_connection_keeps_working) {
  test_server ts;
  ws_client c, other;
  ASSERT_EQ(c.connect(ts.port()), 0);
  ASSERT_EQ(other.connect(ts.port()), 0);

  const std::vector<std::int16_t> pcm(320, 0);
  ASSERT_FALSE(c.send_audio(pcm));
  auto e = c.read_until("error");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->j["error"]["code"], "session_not_started");

  c.send_json({{"type", "playout.progress"}, {"generation", 1}, {"played_samples", 1}});
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "session_not_started");

  c.send_text("{this is not json");
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "invalid_json");
  c.send_json({{"type", "no.such.event"}, {"event_id", "ev-7"}});
  e = c.read_until("error");
  EXPECT_EQ(e->j["error"]["code"], "unknown_type");
  EXPECT_EQ(e->j["error"]["event_id"], "ev-7");
  c.send_json({{"type", "session.update"}, {"session", {{"input_sample_rate_hz", 1000}}}});
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "unsupported_sample_rate");

  // Still serving: the session starts now, and other connections never noticed.
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.start();
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "session_already_started");
  c.send_json({{"type", "playout.progress"}, {"generation", 99}, {"played_samples", 1}});
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "unknown_generation");
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("input_audio_buffer.committed"));
  ASSERT_FALSE(c.send_audio(pcm));
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "input_ended");

  other.start();
  ASSERT_TRUE(other.read_until("session.created"));
  other.send_json({{"type", "conversation.item.create"}, {"text", "are you there"}});
  ASSERT_TRUE(other.read_until("response.done"));
  EXPECT_GE(ts.srv->stats().n_protocol_errors, 7u);
  EXPECT_NE(ts.srv->metrics_text().find("parley_protocol_errors_total{code=\"invalid_json\"} 1\n"), std::string::npos);
}

TEST(server, odd_sized_audio_is_an_invalid_audio_error) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_bytes(std::vector<std::uint8_t>(5, 0));  // not whole PCM16 samples
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "invalid_audio");
  c.send_text("");  // an empty text message is invalid JSON, and harmless
  EXPECT_EQ(c.read_until("error")->j["error"]["code"], "invalid_json");
  c.send_json({{"type", "conversation.item.create"}, {"text", "fine"}});
  EXPECT_TRUE(c.read_until("response.done"));
}

TEST(server, input_faster_than_allowed_is_rate_limited) {
  // test_server disables the limit; this test runs its own server with it on.
  server_config config;
  io_threads io;
  config.host = "127.0.0.1";
  config.port = 0;
  config.max_input_speed = 1.0;  // real time, after a 2 s burst
  auto s = server::start(io.executor(), config);
  ASSERT_TRUE(s);
  (*s)->set_engines(make_engines(io.executor()));
  ws_client c;
  ASSERT_EQ(c.connect((*s)->port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  ASSERT_FALSE(c.send_audio(std::vector<std::int16_t>(6 * k_rate, 0)));  // 6 s of audio at once
  auto e = c.read_until("error");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->j["error"]["code"], "rate_limited");
  c.close();
  (*s)->stop();
}

TEST(server, oversized_message_closes_with_1009_and_others_keep_going) {
  server_config config;
  config.max_message_bytes = 4096;
  test_server ts(config);
  ws_client c, other;
  ASSERT_EQ(c.connect(ts.port()), 0);
  ASSERT_EQ(other.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  (void)c.send_audio(std::vector<std::int16_t>(4096, 0), 4096);  // 8 KiB in one message
  while (c.read()) {
  }
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.close_code(), 1009);

  other.start();
  ASSERT_TRUE(other.read_until("session.created"));
  other.send_json({{"type", "conversation.item.create"}, {"text", "still there"}});
  EXPECT_TRUE(other.read_until("response.done"));
}

TEST(server, a_client_that_does_not_read_is_dropped_when_its_send_queue_is_full) {
  server_config config;
  config.max_send_queue_bytes = 1024 * 1024;
  engine_knobs knobs;
  knobs.llm = mock::llm_profile::zero();
  knobs.reply = [](const engine::chat_request& r) {
    // "long": ~6 minutes of audio (~12 MB), produced at once by the instant mock TTS.
    if (r.last_user_text() != "long") return mock::default_mock_reply(r.last_user_text());
    std::string text;
    for (int i = 0; i < 100; ++i) text += "This is sentence number " + std::to_string(i) + " of a very long answer. ";
    return text;
  };
  test_server ts(config, knobs);
  ws_client slow, other;
  ASSERT_EQ(slow.connect(ts.port()), 0);
  ASSERT_EQ(other.connect(ts.port()), 0);
  slow.start();
  ASSERT_TRUE(slow.read_until("session.created"));
  slow.send_json({{"type", "conversation.item.create"}, {"text", "long"}});  // and never reads
  const auto deadline = std::chrono::steady_clock::now() + k_wait;
  while (ts.srv->stats().n_slow_client_drops == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(ts.srv->stats().n_slow_client_drops, 1u);
  while (slow.read()) {
  }
  EXPECT_TRUE(slow.closed()) << "the server closed the connection";

  other.start();  // everyone else is served as before
  ASSERT_TRUE(other.read_until("session.created"));
  other.send_json({{"type", "conversation.item.create"}, {"text", "hi"}});
  EXPECT_TRUE(other.read_until("response.done")) << other.closed() << " " << other.timed_out() << " " << other.error().message();
}

TEST(server, health_readiness_and_metrics_endpoints) {
  test_server ts({}, {}, /*with_engines=*/false);
  EXPECT_EQ(http_get(ts.port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(ts.port(), "/readyz").status, 503) << "no engines yet";
  ws_client early;
  EXPECT_EQ(early.connect(ts.port()), 503);
  ts.srv->set_engines(make_engines(ts.io.executor()));
  EXPECT_EQ(http_get(ts.port(), "/readyz").status, 200);

  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  c.send_json({{"type", "conversation.item.create"}, {"text", "hi"}});
  ASSERT_TRUE(c.read_until("turn.metrics"));

  const auto metrics = http_get(ts.port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.content_type.find("text/plain; version=0.0.4"), std::string::npos);
  for (const char* needle :
       {"# TYPE parley_ready gauge\nparley_ready 1\n", "# TYPE parley_ws_sessions gauge\nparley_ws_sessions 1\n",
        "# TYPE parley_turns_total counter\nparley_turns_total 1\n", "# TYPE parley_turn_ttfa_milliseconds summary\n",
        "parley_turn_llm_ttft_milliseconds{quantile=\"0.99\"} ", "parley_turn_llm_ttft_milliseconds_count 1\n",
        "# TYPE parley_protocol_errors_total counter\n", "# TYPE parley_turns_by_route_total counter\nparley_turns_by_route_total{route=\"", "parley_barge_in_time_to_interrupt_milliseconds_count 0\n",
        "# TYPE parley_input_lane_yields_total counter\n", "# TYPE parley_input_lane_queued gauge\n"}) {
    EXPECT_NE(metrics.body.find(needle), std::string::npos) << needle;
  }
  const auto index = http_get(ts.port(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("/ws"), std::string::npos);
  EXPECT_EQ(http_get(ts.port(), "/../etc/passwd").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/nothing.js").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/ws").status, 426);
}

TEST(server, serves_static_files_from_the_web_root) {
  const auto root = std::filesystem::temp_directory_path() / ("parley_web_" + std::to_string(::getpid()));
  std::filesystem::create_directories(root);
  std::ofstream(root / "index.html") << "<html>hello parley</html>";
  std::ofstream(root / "app.js") << "console.log(1);";
  // The web client's layout: ES modules and AudioWorklet processors in subdirectories.
  std::filesystem::create_directories(root / "js");
  std::filesystem::create_directories(root / "worklets");
  std::ofstream(root / "js" / "main.js") << "export const x = 1;";
  std::ofstream(root / "worklets" / "playout.js") << "registerProcessor('p', class {});";
  std::ofstream(root / "style.css") << "body {}";
  std::ofstream(root / "js" / ".secret") << "no";
  server_config config;
  config.web_root = root.string();
  test_server ts(config);
  const auto index = http_get(ts.port(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>hello parley</html>");
  EXPECT_NE(index.content_type.find("text/html"), std::string::npos);
  const auto js = http_get(ts.port(), "/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.content_type.find("javascript"), std::string::npos);
  // Module scripts and worklets load only with a JavaScript content type.
  const auto module = http_get(ts.port(), "/js/main.js?v=2");
  EXPECT_EQ(module.status, 200);
  EXPECT_EQ(module.body, "export const x = 1;");
  EXPECT_NE(module.content_type.find("text/javascript"), std::string::npos);
  const auto worklet = http_get(ts.port(), "/worklets/playout.js");
  EXPECT_EQ(worklet.status, 200);
  EXPECT_NE(worklet.content_type.find("text/javascript"), std::string::npos);
  EXPECT_NE(http_get(ts.port(), "/style.css").content_type.find("text/css"), std::string::npos);
  EXPECT_EQ(http_get(ts.port(), "/.hidden").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/js/.secret").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/js").status, 404) << "a directory is not a file";
  EXPECT_EQ(http_get(ts.port(), "/js/").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/js/../app.js").status, 404) << "no '..', even inside the root";
  EXPECT_EQ(http_get(ts.port(), "/js/%2e%2e/app.js").status, 404) << "not decoded: no such file";
  EXPECT_EQ(http_get(ts.port(), "//etc/passwd").status, 404) << "not an absolute path";
  std::filesystem::remove_all(root);
}

TEST(server, graceful_shutdown_finishes_the_turn_in_flight_then_closes_with_1001) {
  engine_knobs knobs;
  knobs.llm = {"slow", mock::latency_dist::fixed(200), 100.0, 0.0};  // first token after 200 ms
  test_server ts({}, knobs);
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_json({{"type", "conversation.item.create"}, {"text", "one more thing"}});
  ASSERT_TRUE(c.read_until("conversation.item.created"));

  auto stopped = std::async(std::launch::async, [&] { ts.srv->stop(); });
  while (c.read()) {
  }
  stopped.get();
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.close_code(), 1001);
  EXPECT_NE(c.index_of("response.done"), SIZE_MAX) << "the turn in flight finished before the close";
  EXPECT_NE(c.index_of("session.finished"), SIZE_MAX);
  EXPECT_FALSE(ts.srv->ready());
  ws_client late;
  EXPECT_NE(late.connect(ts.port()), 0) << "no longer accepting";
}

TEST(server, an_idle_connection_without_a_session_closes_with_1001_on_shutdown) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  auto stopped = std::async(std::launch::async, [&] { ts.srv->stop(); });
  while (c.read()) {
  }
  stopped.get();
  EXPECT_EQ(c.close_code(), 1001);
}

}  // namespace
}  // namespace parley::net

namespace parley::net {
namespace {

// ---- TLS ---------------------------------------------------------------------------------------

struct cert_files {
  std::filesystem::path dir;
  std::string cert, key, other_key;
};

/// A self-signed certificate for 127.0.0.1 (and a second, unrelated key) made with the openssl CLI.
std::optional<cert_files> make_cert() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("parley_net_tls_" + std::to_string(::getpid()) + "_" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  cert_files f{dir, (dir / "cert.pem").string(), (dir / "key.pem").string(), (dir / "other_key.pem").string()};
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " + f.key + " -out " + f.cert +
      " >/dev/null 2>&1 && openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out " + f.other_key +
      " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return std::nullopt;  // NOLINT(concurrency-mt-unsafe)
  return f;
}

/// A client TLS context that trusts exactly the test certificate.
std::unique_ptr<ssl::context> client_tls(const cert_files& f) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->load_verify_file(f.cert);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

TEST(server_tls, a_spoken_session_runs_over_wss_and_plain_clients_fail_cleanly) {
  const auto certs = make_cert();
  if (!certs) GTEST_SKIP() << "openssl CLI not available";
  server_config config;
  config.tls_cert_file = certs->cert;
  config.tls_key_file = certs->key;
  config.handshake_timeout_s = 0.5;
  test_server ts(config);
  auto tls = client_tls(*certs);

  // A plain WebSocket client on the TLS port: its upgrade fails, nothing hangs.
  ws_client plain;
  EXPECT_NE(plain.connect(ts.port()), 0);
  EXPECT_EQ(http_get(ts.port(), "/healthz").status, 0) << "plain HTTP gets no answer from the TLS port";

  // A silent TCP client is dropped at the handshake deadline.
  {
    asio::io_context io;
    tcp::socket silent(io);
    silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ts.port()));
    beast::tcp_stream stream(std::move(silent));
    stream.expires_after(10s);
    char byte = 0;
    beast::error_code ec;
    stream.socket().read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
  }

  // ... and the server keeps serving wss.
  wss_client c(*tls);
  ASSERT_EQ(c.connect(ts.port()), 0) << c.error().message();
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  ASSERT_FALSE(c.send_audio(script_audio(k_one_question)));
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished")) << "closed=" << c.closed() << " timed_out=" << c.timed_out();
  const auto i_final = c.index_of("conversation.item.input_audio_transcription.completed");
  ASSERT_NE(i_final, SIZE_MAX);
  EXPECT_EQ(c.log[i_final].j["transcript"], "what time is it");
  EXPECT_NE(c.index_of("<audio>"), SIZE_MAX);
  c.close();
  EXPECT_GE(ts.srv->stats().n_tls_handshake_failures, 2u);
  EXPECT_NE(ts.srv->metrics_text().find("parley_tls_handshake_failures_total"), std::string::npos);
  std::filesystem::remove_all(certs->dir);
}

TEST(server_tls, missing_or_bad_certificate_and_key_fail_at_start_with_a_clear_error) {
  const auto certs = make_cert();
  if (!certs) GTEST_SKIP() << "openssl CLI not available";
  io_threads io;
  const auto garbage = (certs->dir / "garbage.pem").string();
  std::ofstream(garbage) << "not a certificate\n";
  struct scenario {
    std::string cert, key, expect;
  };
  const std::vector<scenario> scenarios = {
      {certs->cert, "", "needs both"},
      {(certs->dir / "absent.pem").string(), certs->key, "cannot read the TLS certificate"},
      {certs->cert, (certs->dir / "absent.pem").string(), "cannot read the TLS private key"},
      {garbage, certs->key, "bad TLS certificate"},
      {certs->cert, garbage, "bad TLS private key"},
      {certs->cert, certs->other_key, "does not match"},
  };
  for (const auto& sc : scenarios) {
    server_config config;
    config.port = 0;
    config.tls_cert_file = sc.cert;
    config.tls_key_file = sc.key;
    auto s = server::start(io.executor(), config);
    ASSERT_FALSE(s) << sc.expect;
    EXPECT_EQ(s.error().code, errc::invalid_argument);
    EXPECT_NE(s.error().message.find(sc.expect), std::string::npos) << s.error().message;
  }
  std::filesystem::remove_all(certs->dir);
}

// ---- JWT -----------------------------------------------------------------------------------------

constexpr std::string_view k_jwt_secret = "server-test-secret-0123456789";

std::string jwt_token(std::optional<std::int64_t> exp_from_now, std::string aud = "parley",
                      jwt_alg_t alg = JWT_ALG_HS256, std::string_view secret = k_jwt_secret) {
  jwt_t* j = nullptr;
  jwt_new(&j);
  if (exp_from_now) jwt_add_grant_int(j, "exp", static_cast<long>(std::time(nullptr) + *exp_from_now));
  if (!aud.empty()) jwt_add_grant(j, "aud", aud.c_str());
  if (alg == JWT_ALG_NONE) {
    jwt_set_alg(j, alg, nullptr, 0);
  } else {
    jwt_set_alg(j, alg, reinterpret_cast<const unsigned char*>(secret.data()), static_cast<int>(secret.size()));
  }
  char* s = jwt_encode_str(j);
  std::string out = s ? s : "";
  std::free(s);  // NOLINT(cppcoreguidelines-no-malloc)
  jwt_free(j);
  return out;
}

TEST(server_jwt, the_upgrade_needs_a_valid_hs256_token_and_401_says_why) {
  server_config config;
  config.jwt_secret = std::string(k_jwt_secret);
  config.jwt_audience = "parley";
  config.bearer_token = "static-token";
  test_server ts(config);

  ws_client header, query, static_token;
  EXPECT_EQ(header.connect(ts.port(), {.target = "/ws", .token = jwt_token(600), .origin = ""}), 0);
  EXPECT_EQ(query.connect(ts.port(), {.target = "/ws?access_token=" + jwt_token(600), .token = "", .origin = ""}), 0);
  EXPECT_EQ(static_token.connect(ts.port(), {.target = "/ws", .token = "static-token", .origin = ""}), 0);
  header.start();
  EXPECT_TRUE(header.read_until("session.created"));

  struct refusal {
    std::string name, token, reason;
  };
  const std::vector<refusal> refusals = {
      {"none", "", "missing token"},
      {"expired", jwt_token(-120), "token expired"},
      {"wrong secret", jwt_token(600, "parley", JWT_ALG_HS256, "not-the-secret-0123456789"), "invalid token signature"},
      {"alg none", jwt_token(600, "parley", JWT_ALG_NONE), "token algorithm not allowed (HS256 only)"},
      {"alg HS512", jwt_token(600, "parley", JWT_ALG_HS512), "token algorithm not allowed (HS256 only)"},
      {"missing exp", jwt_token(std::nullopt), "token has no expiry (exp)"},
      {"wrong audience", jwt_token(600, "someone-else"), "token audience (aud) does not match"},
      {"malformed", "not.a-jwt", "malformed token"},
  };
  for (const auto& r : refusals) {
    ws_client c;
    EXPECT_EQ(c.connect(ts.port(), {.target = "/ws", .token = r.token, .origin = ""}), 401) << r.name;
    EXPECT_EQ(c.refusal_body, r.reason + "\n") << r.name;
  }
  EXPECT_GE(ts.srv->stats().n_rejected_upgrades, refusals.size());
  header.close();
}

// ---- Opus input ----------------------------------------------------------------------------------

/// 20 ms Opus packets of `pcm` (mono at rate_hz), one per element.
std::vector<std::vector<std::uint8_t>> opus_packets(const std::vector<std::int16_t>& pcm, int rate_hz) {
  int err = 0;
  OpusEncoder* enc = opus_encoder_create(rate_hz, 1, OPUS_APPLICATION_VOIP, &err);
  EXPECT_EQ(err, OPUS_OK);
  const auto frame = static_cast<std::size_t>(rate_hz / 50);
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<std::int16_t> block(frame);
  for (std::size_t i = 0; i < pcm.size(); i += frame) {
    std::fill(block.begin(), block.end(), 0);
    std::copy_n(pcm.begin() + static_cast<std::ptrdiff_t>(i), std::min(frame, pcm.size() - i), block.begin());
    std::vector<std::uint8_t> packet(1500);
    const int n = opus_encode(enc, block.data(), static_cast<int>(frame), packet.data(), static_cast<opus_int32>(packet.size()));
    EXPECT_GT(n, 0);
    // Shrink with erase, not resize: GCC 12 at -O2 cannot see that n <= 1500 and warns about a
    // growing resize that never happens (-Wstringop-overflow).
    packet.erase(packet.begin() + std::clamp<std::ptrdiff_t>(n, 0, static_cast<std::ptrdiff_t>(packet.size())),
                 packet.end());
    packets.push_back(std::move(packet));
  }
  opus_encoder_destroy(enc);
  return packets;
}

TEST(server_opus, opus_input_at_48khz_is_decoded_and_heard) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(48000, {{"input_audio_format", "opus"}});
  auto created = c.read_until("session.created");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->j["session"]["input_audio_format"], "opus");
  EXPECT_EQ(created->j["session"]["output_audio_format"], "pcm16");

  // An undecodable packet and an empty message: specific errors, the session goes on.
  c.send_bytes({0xff, 0xff, 0xff});
  auto err = c.read_until("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->j["error"]["code"], "invalid_opus");
  c.send_bytes({});
  err = c.read_until("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->j["error"]["code"], "invalid_opus");

  for (const auto& packet : opus_packets(script_audio(k_one_question, 48000), 48000)) c.send_bytes(packet);
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished")) << "closed=" << c.closed() << " timed_out=" << c.timed_out();
  EXPECT_NE(c.index_of("input_audio_buffer.speech_started"), SIZE_MAX);
  const auto i_final = c.index_of("conversation.item.input_audio_transcription.completed");
  ASSERT_NE(i_final, SIZE_MAX);
  EXPECT_EQ(c.log[i_final].j["transcript"], "what time is it");
  EXPECT_NE(c.index_of("<audio>"), SIZE_MAX) << "the reply is PCM16 as before";
  c.close();
}

TEST(server_opus, unknown_audio_formats_are_refused) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(16000, {{"input_audio_format", "mp3"}});
  auto err = c.read_until("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->j["error"]["code"], "unsupported_audio_format");
  c.start(44100, {{"input_audio_format", "opus"}});
  err = c.read_until("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->j["error"]["code"], "unsupported_sample_rate");
  c.close();
}

TEST(server_opus, opus_output_sends_20ms_packets_that_decode_to_the_reply) {
  test_server ts;
  ws_client c;
  c.opus_audio = true;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(16000, {{"output_audio_format", "opus"}, {"output_sample_rate_hz", 48000}});
  auto created = c.read_until("session.created");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->j["session"]["output_audio_format"], "opus");
  c.send_json({{"type", "conversation.item.create"}, {"text", "what time is it"}});
  auto done = c.read_until("response.audio.done");
  ASSERT_TRUE(done);
  const auto i_start = c.index_of("response.audio.start");
  ASSERT_NE(i_start, SIZE_MAX);
  EXPECT_EQ(c.log[i_start].j["format"], "opus");
  EXPECT_EQ(c.log[i_start].j["sample_rate_hz"], 48000);

  int err = 0;
  OpusDecoder* dec = opus_decoder_create(48000, 1, &err);
  ASSERT_EQ(err, OPUS_OK);
  std::uint64_t offset = 0;
  double energy = 0;
  std::vector<std::int16_t> pcm(5760);
  for (const auto& m : c.log) {
    if (!m.binary) continue;
    ASSERT_GT(m.raw.size(), k_audio_header_bytes);
    const std::uint32_t frame_offset = m.raw[4] | (m.raw[5] << 8) | (m.raw[6] << 16) | (static_cast<std::uint32_t>(m.raw[7]) << 24);
    EXPECT_EQ(frame_offset, offset);
    const int n = opus_decode(dec, m.raw.data() + k_audio_header_bytes, static_cast<opus_int32>(m.raw.size() - k_audio_header_bytes),
                              pcm.data(), static_cast<int>(pcm.size()), 0);
    ASSERT_EQ(n, 960) << "one 20 ms packet per message";
    for (int i = 0; i < n; ++i) energy += static_cast<double>(pcm[static_cast<std::size_t>(i)]) * pcm[static_cast<std::size_t>(i)];
    offset += static_cast<std::uint64_t>(n);
  }
  opus_decoder_destroy(dec);
  EXPECT_GT(offset, 0u);
  EXPECT_EQ(done->j["n_samples"], offset);
  EXPECT_GT(energy, 0.0) << "the decoded reply is not silence";
  c.close();
}

}  // namespace
}  // namespace parley::net
