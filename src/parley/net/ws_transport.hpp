// net/ws_transport — one WebSocket connection's transport, for a plain or a TLS stream: the
// handshake, the read loop, ONE writer with a bounded send queue, and the close.
//
// Role: carries messages; what they mean is the bridge's (Bridge: session_bridge.hpp for protocol
// v1, media_stream_bridge.hpp for telephone media streams), which the transport owns, feeds every
// message it reads, and serves as its wire_link. Limits: a message
// over max_message_bytes closes with 1009; a client whose queue passes max_send_queue_bytes is
// dropped (TCP close, counted); WebSocket ping/pong with idle_timeout_s; the handshake bounded by
// handshake_timeout_s. A fenced generation's audio never leaves, even if it was queued before the
// fence (DESIGN §4). Counts messages and bytes each way (server_metrics.hpp).
// Threading: everything runs on the connection's strand (the socket's executor): the reader (run),
// the writer coroutine, and the bridge's calls back into send/fence/close.
// Ownership: shared; the reader and the writer each hold a reference while they run; the server's
// registry holds a drain callback with a weak reference.
// Cancellation: close() lets the writer finish the queue (or discards it) and send a close frame;
// a failed write or a full queue closes the socket at once, which ends the reader.
// Units: sizes in bytes, times in seconds (config).
#pragma once

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "parley/core/log.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/server_state.hpp"
#include "parley/net/media_stream_bridge.hpp"
#include "parley/net/session_bridge.hpp"
#include "parley/text/utf8.hpp"

namespace parley::net {

template <class Stream, class Bridge>
class ws_transport final : public wire_link, public std::enable_shared_from_this<ws_transport<Stream, Bridge>> {
 public:
  ws_transport(std::shared_ptr<server_state> server, Stream stream)
      : server_(std::move(server)),
        ws_(std::move(stream)),
        strand_(strand_of(ws_.get_executor())),
        wake_(strand_),
        bridge_(server_, *this, strand_) {}

  /// Accepts the upgrade `request`, then reads until the connection ends; `slot` (the session's
  /// place under max_sessions) is held until the session has closed.
  boost::asio::awaitable<void> run(boost::beast::http::request<boost::beast::http::string_body> request,
                                   admission_slot slot);
  Bridge& bridge() { return bridge_; }

  // ---- wire_link: called by the bridge, on the strand ----
  void send(wire_message m) override;
  void fence(std::uint64_t generation) override;
  void close(std::uint16_t code, std::string reason, bool discard_queue) override;
  bool closed() const override { return dead_; }

 private:
  boost::asio::awaitable<void> writer(std::shared_ptr<ws_transport> self);
  void abort();

  std::shared_ptr<server_state> server_;
  boost::beast::websocket::stream<Stream> ws_;
  strand_type strand_;
  boost::asio::steady_timer wake_;  // the writer waits on it; cancel() wakes it
  std::deque<wire_message> queue_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t fenced_upto_ = 0;   // messages of generations ≤ this never leave
  bool dead_ = false;               // the socket is gone
  bool close_requested_ = false;
  boost::beast::websocket::close_reason close_reason_;
  Bridge bridge_;
};

// ------------------------------------------------------------------------------------------------
template <class Stream, class Bridge>
boost::asio::awaitable<void> ws_transport<Stream, Bridge>::run(boost::beast::http::request<boost::beast::http::string_body> request,
                                                       admission_slot slot_parameter) {
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  const auto self = this->shared_from_this();
  admission_slot slot = std::move(slot_parameter);  // a local: given back before `self` (serve_http says why)
  auto& metrics = server_->metrics();
  const auto& cfg = server_->config();
  beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = seconds_f(cfg.handshake_timeout_s);
  timeouts.idle_timeout = cfg.idle_timeout_s > 0 ? seconds_f(cfg.idle_timeout_s) : websocket::stream_base::none();
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "parley"); }));
  ws_.read_message_max(cfg.max_message_bytes);

  auto [accept_ec] = co_await ws_.async_accept(request, as_tuple_awaitable);
  if (accept_ec) co_return;

  const std::shared_ptr<Bridge> bridge(self, &bridge_);  // shares the transport's ownership
  const auto registration = server_->enroll([weak = std::weak_ptr(bridge), strand = strand_] {
    boost::asio::post(strand, [weak] {
      if (auto b = weak.lock()) b->drain();
    });
  });
  metrics.n_sessions_total.fetch_add(1);
  bridge_.on_open(bridge);
  boost::asio::co_spawn(strand_, writer(self), log_coroutine_end);

  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws_.async_read(buffer, as_tuple_awaitable);
    if (ec) {
      if (ec == websocket::error::message_too_big) {
        metrics.n_oversized_messages.fetch_add(1);
        PARLEY_LOG(info, "net: session " << bridge_.session_id() << ": message over " << cfg.max_message_bytes
                                         << " bytes; closed with 1009");
      }
      break;
    }
    metrics.n_bytes_in.fetch_add(n, std::memory_order_relaxed);
    const auto data = buffer.cdata();
    if (ws_.got_text()) {
      metrics.n_messages_in_text.fetch_add(1, std::memory_order_relaxed);
      bridge_.on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    } else {
      metrics.n_messages_in_binary.fetch_add(1, std::memory_order_relaxed);
      bridge_.on_binary(std::span(static_cast<const std::uint8_t*>(data.data()), data.size()));
    }
    buffer.consume(buffer.size());
    if (dead_) break;
  }

  // The connection is over: stop the writer, release the session off the io threads.
  dead_ = true;
  wake_.cancel();
  queue_.clear();
  queued_bytes_ = 0;
  bridge_.on_closed();
  server_->withdraw(registration);
  slot = admission_slot{};  // the session's place is free once it has closed (or the handshake failed)
}

template <class Stream, class Bridge>
boost::asio::awaitable<void> ws_transport<Stream, Bridge>::writer(std::shared_ptr<ws_transport> self) {
  const auto keep_alive = std::move(self);  // the connection lives while its writer runs
  auto& metrics = server_->metrics();
  for (;;) {
    while (queue_.empty() && !close_requested_ && !dead_) {
      wake_.expires_at(boost::asio::steady_timer::time_point::max());
      co_await wake_.async_wait(as_tuple_awaitable);
    }
    if (dead_) co_return;
    if (queue_.empty()) {  // close requested and everything before it sent
      auto [ec] = co_await ws_.async_close(close_reason_, as_tuple_awaitable);
      if (ec) abort();
      co_return;
    }
    wire_message m = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= m.payload.size();
    if (m.generation != 0 && m.generation <= fenced_upto_) {  // stale audio never leaves (DESIGN §4)
      metrics.n_stale_frames_dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    ws_.binary(m.binary);
    auto [ec, n] = co_await ws_.async_write(boost::asio::buffer(m.payload), as_tuple_awaitable);
    if (ec) {
      abort();
      co_return;
    }
    metrics.n_bytes_out.fetch_add(n, std::memory_order_relaxed);
    (m.binary ? metrics.n_messages_out_binary : metrics.n_messages_out_text).fetch_add(1, std::memory_order_relaxed);
    if (m.t_speech_start) {
      // The client has been told to stop: from here no audio of the generation leaves.
      metrics.time_to_interrupt.record(to_ms(steady_clock::now() - *m.t_speech_start));
    }
  }
}

template <class Stream, class Bridge>
void ws_transport<Stream, Bridge>::send(wire_message m) {
  if (dead_ || close_requested_) return;
  queued_bytes_ += m.payload.size();
  queue_.push_back(std::move(m));
  if (queued_bytes_ > server_->config().max_send_queue_bytes) {
    // Slow client (docs/protocol.md, "Limits"): it does not read; drop it rather than grow.
    server_->metrics().n_slow_client_drops.fetch_add(1);
    PARLEY_LOG(warn, "net: session " << bridge_.session_id() << ": send queue over "
                                     << server_->config().max_send_queue_bytes << " bytes; dropping the client");
    abort();
    return;
  }
  wake_.cancel();
}

template <class Stream, class Bridge>
void ws_transport<Stream, Bridge>::fence(std::uint64_t generation) {
  fenced_upto_ = std::max(fenced_upto_, generation);
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->generation != 0 && it->generation <= generation) {
      queued_bytes_ -= it->payload.size();
      server_->metrics().n_stale_frames_dropped.fetch_add(1, std::memory_order_relaxed);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
}

template <class Stream, class Bridge>
void ws_transport<Stream, Bridge>::close(std::uint16_t code, std::string reason, bool discard_queue) {
  if (close_requested_ || dead_) return;
  if (discard_queue) {
    queue_.clear();
    queued_bytes_ = 0;
  }
  close_requested_ = true;
  // RFC 6455 §5.5: a close frame carries at most 123 bytes of reason (Beast would throw on more);
  // a longer one is cut on a character boundary.
  constexpr std::size_t k_max_reason_bytes = 123;
  std::string_view why = reason;
  if (why.size() > k_max_reason_bytes) why = why.substr(0, text::utf8_complete_prefix(why.substr(0, k_max_reason_bytes)));
  close_reason_ = boost::beast::websocket::close_reason(static_cast<boost::beast::websocket::close_code>(code), why);
  wake_.cancel();
}

template <class Stream, class Bridge>
void ws_transport<Stream, Bridge>::abort() {
  if (dead_) return;
  dead_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  boost::system::error_code ec;
  boost::beast::get_lowest_layer(ws_).socket().close(ec);
  wake_.cancel();
}

}  // namespace parley::net
