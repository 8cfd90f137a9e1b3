// net/http_session — one HTTP connection of the server, plain or TLS (internal to net/).
//
// Role: the TLS handshake (for a TLS stream; bounded by handshake_timeout_s, failures counted),
// then one request after another, each bounded by http_timeout_s and the request limits of
// http_util.hpp, answered by route_request() (http_routes.hpp); an accepted WebSocket upgrade
// hands the stream to a ws_transport. The template is instantiated twice, for plain TCP in
// listener.cpp and for TLS in tls.cpp, so that the two (the heaviest code of net/) compile in
// parallel.
// Threading: one connection runs on its own strand. It is enrolled in the server's registry, whose
// drain callback (stop()) shuts its socket down.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <memory>
#include <type_traits>

#include "parley/core/log.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/http_routes.hpp"
#include "parley/net/http_util.hpp"
#include "parley/net/server_state.hpp"
#include "parley/net/speech_stream.hpp"
#include "parley/net/tls.hpp"
#include "parley/net/ws_transport.hpp"

namespace parley::net {

namespace http_session_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

// One HTTP connection's stream (plain TCP or TLS), shared with the drain callback of stop().
template <class Stream>
struct http_connection {
  Stream stream;
  explicit http_connection(Stream s) : stream(std::move(s)) {}
};

// After answering a request that was not read to its end: the client may still be sending it, and
// closing a socket with unread input resets the connection, which can destroy the answer before
// the client reads it. So stop sending, then read and discard for a moment (1 s, 1 MiB at most).
inline awaitable<void> linger_and_close(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(1));
  std::array<char, 4096> sink;
  for (std::size_t total = 0; total < (std::size_t{1} << 20);) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), as_tuple_awaitable);
    if (rec) break;
    total += n;
  }
  stream.close();
}

// An admitted OpenAI audio request (audio_api.hpp): a transcription runs on the server's audio pool
// (it blocks on the front-end and the recognizer) and is answered from here; speech streams from
// here as it is synthesized (speech_stream.hpp). Returns whether the connection may go on.
template <class Stream>
awaitable<bool> answer_audio(std::shared_ptr<server_state> server, Stream& stream, const http_request& req,
                             audio_request admitted) {
  const auto slot = std::move(admitted.slot);  // held until answered
  if (admitted.endpoint == audio_endpoint::speech) {
    const auto answer = co_await stream_speech(server, stream, req);
    server->metrics().count_audio_request("speech", answer.status);
    co_return answer.keep;
  }
  auto& state = *server;
  const time_point t_start = steady_clock::now();
  http_response res = co_await asio::co_spawn(
      server->audio_pool(),
      [&state, &req]() -> awaitable<http_response> { co_return answer_transcription(state, req, state.stop_token()); },
      asio::use_awaitable);
  server->metrics().count_audio_request("transcriptions", static_cast<unsigned>(res.result()));
  res.set("openai-processing-ms", std::to_string(std::llround(to_ms(steady_clock::now() - t_start))));
  res.keep_alive(req.keep_alive() && !server->stopping());
  const bool keep = res.keep_alive();
  beast::get_lowest_layer(stream).expires_after(seconds_f(server->config().http_timeout_s));
  auto [ec, n] = co_await http::async_write(stream, res, as_tuple_awaitable);
  co_return !ec && keep;
}

// `connection`: the connection's place under max_connections, held until it ends.
template <class Stream>
awaitable<void> serve_http(std::shared_ptr<server_state> server, std::shared_ptr<http_connection<Stream>> conn,
                           admission_slot connection_parameter) {
  // The slot counts in `server`'s metrics, so it must be given back while `server` still lives. A
  // local is destroyed at co_return, before the frame's parameter copies (whose order of
  // destruction GCC does not guarantee): moved here, it can never outlive the state it counts in.
  admission_slot connection = std::move(connection_parameter);
  const auto& config = server->config();
  const auto strand = strand_of(conn->stream.get_executor());
  const auto registration = server->enroll([weak = std::weak_ptr(conn), strand] {
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
  } guard{server.get(), registration};

  if constexpr (is_tls<Stream>) {
    // A client that connects and stays silent holds a slot only until the handshake deadline.
    beast::get_lowest_layer(conn->stream).expires_after(seconds_f(config.handshake_timeout_s));
    auto [hec] = co_await conn->stream.async_handshake(asio::ssl::stream_base::server, as_tuple_awaitable);
    if (hec) {
      server->metrics().n_tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
      PARLEY_LOG(debug, "net: TLS handshake failed: " << hec.message());
      beast::get_lowest_layer(conn->stream).close();
      co_return;
    }
  }

  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(k_max_request_header_bytes);
    parser.body_limit(k_max_request_body_bytes);
    beast::get_lowest_layer(conn->stream).expires_after(seconds_f(config.http_timeout_s));
    // The header first: an upload's body may be larger than other requests' (body_limit_for).
    // Beast checks a Content-Length against the limit as the header ends, so the header is read
    // under the largest limit and the request's own is applied here.
    parser.body_limit(std::max<std::uint64_t>(k_max_request_body_bytes, config.max_upload_bytes));
    auto [hec, hn] = co_await http::async_read_header(conn->stream, buffer, parser, as_tuple_awaitable);
    beast::error_code ec = hec;
    if (!ec) {
      const auto limit = body_limit_for(*server, parser.get().target());
      if (const auto length = parser.content_length(); length && *length > limit) {
        ec = http::error::body_limit;
      } else {
        parser.body_limit(limit);  // a chunked body is held to it as it arrives
        if (beast::iequals(parser.get()[http::field::expect], "100-continue") && !parser.is_done()) {
          // The client waits for this before it sends the body (curl does, for uploads over 1 MiB).
          http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
          auto [cec, cn] = co_await http::async_write(conn->stream, go_on, as_tuple_awaitable);
          ec = cec;
        }
        if (!ec) {
          auto [bec, bn] = co_await http::async_read(conn->stream, buffer, parser, as_tuple_awaitable);
          ec = bec;
        }
      }
    }
    if (ec) {
      const auto bytes = buffer.cdata();
      if (auto refusal = over_limit_response(ec, {static_cast<const char*>(bytes.data()), bytes.size()})) {
        co_await http::async_write(conn->stream, *refusal, as_tuple_awaitable);  // 414, 431 or 413
        co_await linger_and_close(beast::get_lowest_layer(conn->stream));
        co_return;
      }
      break;
    }
    auto req = parser.release();
    auto routed = route_request(*server, req);
    if (auto* upgrade = std::get_if<accepted_upgrade>(&routed)) {  // the transport registers itself
      server->withdraw(registration);
      guard.id = 0;
      if (upgrade->endpoint == ws_endpoint::media_stream) {
        auto ws = std::make_shared<ws_transport<Stream, media_stream_bridge>>(server, std::move(conn->stream));
        if (upgrade->token_in_start) ws->bridge().require_token_in_start();
        co_await ws->run(std::move(req), std::move(upgrade->slot));
      } else {
        auto ws = std::make_shared<ws_transport<Stream, session_bridge>>(server, std::move(conn->stream));
        if (upgrade->endpoint == ws_endpoint::realtime) ws->bridge().speak_realtime();
        co_await ws->run(std::move(req), std::move(upgrade->slot));
      }
      co_return;  // `connection` is given back with the coroutine
    }
    if (auto* audio = std::get_if<audio_request>(&routed)) {
      // No deadline while the engines work (they bound themselves); each write has its own.
      beast::get_lowest_layer(conn->stream).expires_never();
      const bool keep = co_await answer_audio(server, conn->stream, req, std::move(*audio));
      if (!keep) break;
      continue;
    }
    auto& res = std::get<http_response>(routed);
    const bool keep = res.keep_alive();
    auto [wec, wn] = co_await http::async_write(conn->stream, res, as_tuple_awaitable);
    if (wec || !keep) break;
  }
  if constexpr (is_tls<Stream>) {
    beast::get_lowest_layer(conn->stream).expires_after(std::chrono::seconds(2));
    co_await conn->stream.async_shutdown(as_tuple_awaitable);  // close_notify; errors do not matter now
  }
  beast::error_code ec;
  beast::get_lowest_layer(conn->stream).socket().shutdown(tcp::socket::shutdown_send, ec);
  connection = admission_slot{};  // the socket closes with conn: its place is free
}

}  // namespace http_session_detail

/// Serves `stream` (a freshly accepted connection) on its own strand until it ends; `connection`
/// (its place under max_connections) is given back then.
template <class Stream>
void spawn_http_session(std::shared_ptr<server_state> server, Stream stream, admission_slot connection) {
  const auto ex = stream.get_executor();
  auto conn = std::make_shared<http_session_detail::http_connection<Stream>>(std::move(stream));
  boost::asio::co_spawn(ex, http_session_detail::serve_http(std::move(server), std::move(conn), std::move(connection)),
                        log_coroutine_end);
}

}  // namespace parley::net
