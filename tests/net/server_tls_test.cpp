// The realtime server end to end over TLS: wss sessions, plain clients and silent ones on the TLS
// port, and clear start-up errors for missing, bad or mismatched certificates and keys.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "server_fixture.hpp"

namespace parley::net {
namespace {

using namespace test;

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

}  // namespace
}  // namespace parley::net
