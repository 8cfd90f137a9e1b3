// net/listener — implementation. See listener.hpp; http_session.hpp serves each connection.
#include "parley/net/listener.hpp"

#include <boost/beast/core/tcp_stream.hpp>

#include "parley/core/log.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/http_session.hpp"
#include "parley/net/server_state.hpp"
#include "parley/net/tls.hpp"

namespace parley::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<void> accept_loop(std::shared_ptr<server_state> server) {
  auto& acceptor = server->acceptor();
  for (;;) {
    tcp::socket socket(asio::make_strand(server->executor()));
    auto [ec] = co_await acceptor.async_accept(socket, as_tuple_awaitable);
    if (ec) {
      if (!acceptor.is_open() || server->stopping()) co_return;
      PARLEY_LOG(warn, "net: accept failed: " << ec.message());
      continue;
    }
    if (server->tls()) {
      spawn_tls_session(server, std::move(socket));  // tls.cpp
    } else {
      spawn_http_session(server, boost::beast::tcp_stream(std::move(socket)));
    }
  }
}

}  // namespace parley::net
