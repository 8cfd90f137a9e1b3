// net/tls — the server's TLS: its context (TLS 1.2 or newer, the configured certificate chain and
// private key), the stream type of a TLS connection, and serving one (handshake, then HTTP and
// WebSocket as in http_session.hpp).
//
// Role: make_tls_context() is called once by server::start(); every TLS connection of the server
// then shares the context (immutable after creation). The listener hands each accepted socket to
// spawn_tls_session() when the server speaks TLS.
// Errors: a missing, unreadable or malformed file, or a key that does not match the certificate,
// is errc::invalid_argument with a message naming the file (never its contents).
// Threading: the context is read-only after creation and shared by every connection.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "parley/core/error.hpp"
#include "parley/net/server_metrics.hpp"

namespace parley::net {

/// One TLS connection: Beast's ssl_stream over a tcp_stream (timeouts on the TCP layer).
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

/// The server's TLS context from a PEM certificate chain and a PEM private key.
result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const std::string& cert_file,
                                                                     const std::string& key_file);

class server_state;

/// Serves an accepted socket over TLS with the server's context (server.tls() must be set).
void spawn_tls_session(std::shared_ptr<server_state> server, boost::asio::ip::tcp::socket socket,
                       admission_slot connection);

}  // namespace parley::net
