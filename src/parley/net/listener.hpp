// net/listener — the server's accept loop.
//
// Role: accepts connections on the server's acceptor and hands each one, on a strand of its own,
// to an HTTP session (http_session.hpp): plain, or through spawn_tls_session() (tls.hpp) when the
// server speaks TLS.
// Threading: the loop runs on the acceptor's strand.
// Cancellation: the loop ends when the acceptor is closed (server_state::stop()).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>

namespace parley::net {

class server_state;

/// Accepts connections on `server`'s acceptor until it is closed.
boost::asio::awaitable<void> accept_loop(std::shared_ptr<server_state> server);

}  // namespace parley::net
