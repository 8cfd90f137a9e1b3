// The realtime server's test fixtures. See server_fixture.hpp.
#include "server_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/http.hpp>

namespace parley::net::test {

io_threads::io_threads(int n) : work_(asio::make_work_guard(io_)) {
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
}

io_threads::~io_threads() {
  work_.reset();
  for (auto& t : threads_) t.join();
}

engine::engine_set make_engines(asio::any_io_executor ex, engine_knobs k) {
  return {std::make_shared<mock::mock_recognizer>(mock::recognizer_config{.executor = ex, .transcripts = k.transcripts}),
          std::make_shared<mock::mock_chat_model>(mock::chat_config{.executor = ex, .profile = k.llm, .reply = k.reply}),
          std::make_shared<mock::mock_synthesizer>(mock::synthesizer_config{.executor = ex, .realtime_factor = k.tts_rtf})};
}

test_server::test_server(server_config config, engine_knobs knobs, bool with_engines) {
  config.host = "127.0.0.1";
  config.port = 0;
  config.session.input_queue_chunks = 100'000;  // tests push audio faster than real time
  config.max_input_speed = 0;                   // ... so no input rate limit unless a test sets one
  auto s = server::start(io.executor(), config);
  EXPECT_TRUE(s) << (s ? "" : s.error().describe());
  srv = std::move(*s);
  if (with_engines) srv->set_engines(make_engines(io.executor(), knobs));
}

std::vector<std::int16_t> script_audio(std::initializer_list<std::pair<char, double>> parts, int rate_hz) {
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
  return {static_cast<int>(res.result_int()), res.body(), std::string(res[http::field::content_type]),
          std::string(res[http::field::retry_after])};
}

http_reply http_raw(std::uint16_t port, const std::string& request) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {};
  stream.expires_after(k_wait);
  asio::write(stream, asio::buffer(request), ec);  // may fail when the server has answered already
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) return {};
  return {static_cast<int>(res.result_int()), res.body(), std::string(res[http::field::content_type]),
          std::string(res[http::field::retry_after])};
}

// ---- the WebSocket client ----------------------------------------------------------------------

template <class Next>
int basic_ws_client<Next>::connect(std::uint16_t port, const options& o) {
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
  ws_.handshake(res, o.host, o.target, ec);
  if (ec) {
    error_ = ec;
    refusal_body = res.body();
    return static_cast<int>(res.result_int());
  }
  return 0;
}

template <class Next>
void basic_ws_client<Next>::send_json(const json& j) {
  ws_.text(true);
  ws_.write(asio::buffer(j.dump()));
}

template <class Next>
void basic_ws_client<Next>::send_text(const std::string& s) {
  ws_.text(true);
  ws_.write(asio::buffer(s));
}

template <class Next>
beast::error_code basic_ws_client<Next>::send_audio(std::span<const std::int16_t> pcm, std::size_t samples_per_message) {
  beast::error_code ec;
  ws_.binary(true);
  for (std::size_t i = 0; i < pcm.size() && !ec; i += samples_per_message) {
    const auto n = std::min(samples_per_message, pcm.size() - i);
    ws_.write(asio::buffer(pcm.data() + i, n * sizeof(std::int16_t)), ec);  // little-endian host
  }
  return ec;
}

template <class Next>
void basic_ws_client<Next>::send_bytes(const std::vector<std::uint8_t>& bytes) {
  ws_.binary(true);
  ws_.write(asio::buffer(bytes));
}

template <class Next>
void basic_ws_client<Next>::start(int rate_hz, json extra) {
  json session = {{"input_sample_rate_hz", rate_hz}};
  session.update(extra);
  send_json({{"type", "session.update"}, {"session", session}});
}

template <class Next>
std::optional<message> basic_ws_client<Next>::read(std::chrono::steady_clock::duration timeout) {
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

template <class Next>
std::optional<message> basic_ws_client<Next>::read_until(const std::string& type) {
  while (auto m = read()) {
    if (m->type() == type) return m;
  }
  return std::nullopt;
}

template <class Next>
std::optional<message> basic_ws_client<Next>::play_out_reply() {
  auto done = read_until("response.done");
  if (!done) return done;
  const auto generation = done->j.value("generation", 0u);
  std::size_t played = 0;
  for (const auto& m : log) {
    if (m.binary && m.frame.generation == generation) {
      played = std::max<std::size_t>(played, m.frame.offset_samples + m.frame.samples.size());
    }
  }
  send_json({{"type", "playout.progress"}, {"generation", generation}, {"played_samples", played}});
  return done;
}

template <class Next>
std::size_t basic_ws_client<Next>::index_of(const std::string& type, std::size_t from) const {
  for (std::size_t i = from; i < log.size(); ++i) {
    if (log[i].type() == type) return i;
  }
  return SIZE_MAX;
}

template <class Next>
std::size_t basic_ws_client<Next>::count(const std::string& type) const {
  return static_cast<std::size_t>(std::count_if(log.begin(), log.end(), [&](const message& m) { return m.type() == type; }));
}

template <class Next>
void basic_ws_client<Next>::close() {
  beast::error_code ec;
  ws_.close(websocket::close_code::normal, ec);
}

template class basic_ws_client<tcp::socket>;
template class basic_ws_client<ssl::stream<tcp::socket>>;

}  // namespace parley::net::test
