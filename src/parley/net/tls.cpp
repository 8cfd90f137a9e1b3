// net/tls — implementation. See tls.hpp. This file also instantiates the HTTP and WebSocket code
// for TLS streams (http_session.hpp), in parallel with listener.cpp's plain ones.
#include "parley/net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <exception>
#include <fstream>
#include <utility>

#include "parley/net/http_session.hpp"

namespace parley::net {

namespace ssl = boost::asio::ssl;

result<std::shared_ptr<ssl::context>> make_tls_context(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return make_error(errc::invalid_argument, "TLS needs both a certificate (--tls-cert) and a private key (--tls-key)");
  }
  for (const auto& [what, file] : {std::pair{"certificate", &cert_file}, std::pair{"private key", &key_file}}) {
    std::ifstream probe(*file, std::ios::binary);
    if (!probe) return make_error(errc::invalid_argument, std::string("cannot read the TLS ") + what + " file '" + *file + "'");
  }
  try {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                     ssl::context::single_dh_use);
    if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
      return make_error(errc::internal, "TLS: cannot require TLS 1.2 or newer");
    }
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) return make_error(errc::invalid_argument, "bad TLS certificate '" + cert_file + "' (PEM expected): " + ec.message());
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    const bool mismatch = ec && ec.category() == boost::asio::error::get_ssl_category() &&
                          ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
    if (ec && !mismatch) {  // a mismatch is reported below, in words
      return make_error(errc::invalid_argument, "bad TLS private key '" + key_file + "' (PEM expected): " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return make_error(errc::invalid_argument, "the TLS private key '" + key_file + "' does not match the certificate '" +
                                                    cert_file + "'");
    }
    return ctx;
  } catch (const std::exception& e) {  // start-up only: Asio reports allocation failures by throwing
    return make_error(errc::invalid_argument, std::string("TLS setup failed: ") + e.what());
  }
}

void spawn_tls_session(std::shared_ptr<server_state> server, boost::asio::ip::tcp::socket socket,
                       admission_slot connection) {
  auto& context = *server->tls();
  spawn_http_session(std::move(server), tls_stream(boost::beast::tcp_stream(std::move(socket)), context),
                     std::move(connection));
}

}  // namespace parley::net
