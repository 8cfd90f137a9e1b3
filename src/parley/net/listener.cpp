// net/listener — implementation. See listener.hpp; http_session.hpp serves each connection.
#include "parley/net/listener.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>

#include "parley/core/log.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/http_session.hpp"
#include "parley/net/server_state.hpp"
#include "parley/net/tls.hpp"

namespace parley::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// One warning line per kind of trouble and per 10 s at most, with the count since the last line:
// a listener out of descriptors must not fill the disk with identical lines.
class rate_limited_warning {
 public:
  explicit rate_limited_warning(std::chrono::steady_clock::duration every = std::chrono::seconds(10)) : every_(every) {}
  template <class Say>
  void operator()(Say&& say) {
    const auto now = std::chrono::steady_clock::now();
    ++n_;
    if (said_ && now - last_ < every_) return;
    say(n_);
    said_ = true;
    last_ = now;
    n_ = 0;
  }

 private:
  std::chrono::steady_clock::duration every_;
  bool said_ = false;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t n_ = 0;
};

constexpr std::chrono::milliseconds k_first_backoff{10};
constexpr std::chrono::milliseconds k_max_backoff{1000};

}  // namespace

asio::awaitable<void> accept_loop(std::shared_ptr<server_state> server) {
  auto& acceptor = server->acceptor();
  auto& metrics = server->metrics();
  asio::steady_timer backoff_timer(acceptor.get_executor());
  auto backoff = k_first_backoff;
  rate_limited_warning accept_failed, over_capacity;
  for (;;) {
    tcp::socket socket(asio::make_strand(server->executor()));
    auto [ec] = co_await acceptor.async_accept(socket, as_tuple_awaitable);
    if (ec) {
      if (!acceptor.is_open() || server->stopping()) co_return;
      // Out of descriptors (EMFILE, ENFILE) or memory: the pending connection stays queued, so an
      // immediate retry fails again at once. Wait, longer each time, until an accept succeeds.
      metrics.n_accept_errors.fetch_add(1, std::memory_order_relaxed);
      accept_failed([&](std::uint64_t n) {
        PARLEY_LOG(warn, "net: accept failed: " << ec.message() << " (" << n << " time(s) since the last such line; "
                                                << "backing off up to 1 s; raise `ulimit -n` or lower --max-connections)");
      });
      backoff_timer.expires_after(backoff);
      co_await backoff_timer.async_wait(as_tuple_awaitable);
      backoff = std::min(backoff * 2, k_max_backoff);
      continue;
    }
    backoff = k_first_backoff;
    auto connection = admission_slot::take(metrics.n_open_connections, server->config().max_connections);
    if (!connection) {
      metrics.n_refused_connections.fetch_add(1, std::memory_order_relaxed);
      over_capacity([&](std::uint64_t n) {
        PARLEY_LOG(warn, "net: " << server->config().max_connections << " connections open: closed " << n
                                 << " new one(s) at once (--max-connections)");
      });
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    if (server->tls()) {
      spawn_tls_session(server, std::move(socket), std::move(connection));  // tls.cpp
    } else {
      spawn_http_session(server, boost::beast::tcp_stream(std::move(socket)), std::move(connection));
    }
  }
}

}  // namespace parley::net
