// `parley serve`: the realtime WebSocket server (net/server.hpp) over the chosen engines.
//
// Start-up order: listen first (so /healthz answers and /readyz says 503 while models load), then
// build and warm the engines, then mark the server ready. SIGINT/SIGTERM start a graceful
// shutdown: stop accepting, let turns in flight finish (up to --drain-s), close with 1001.
#include <boost/asio/ip/address.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "parley/apps/commands.hpp"
#include "parley/apps/runtime.hpp"
#include "parley/core/log.hpp"
#include "parley/net/server.hpp"

#ifndef PARLEY_WEB_DIR
#define PARLEY_WEB_DIR ""
#endif

namespace parley::app {
namespace {

std::mutex log_mutex;

result<log_level> parse_log_level(const std::string& text) {
  for (auto level : {log_level::trace, log_level::debug, log_level::info, log_level::warn, log_level::error, log_level::off}) {
    if (text == to_string(level)) return level;
  }
  return make_error(errc::invalid_argument, "unknown log level '" + text + "' (trace, debug, info, warn, error, off)");
}

std::string default_web_root() {
  const std::filesystem::path bundled = PARLEY_WEB_DIR;
  std::error_code ec;
  if (!bundled.empty() && std::filesystem::is_regular_file(bundled / "index.html", ec)) return bundled.string();
  return {};
}

}  // namespace

int serve_command(const serve_options& options) {
  auto level = parse_log_level(options.log_level);
  if (!level) return print_error(level.error().message), exit_usage;
  set_log_level(*level);
  set_log_sink([](log_level lvl, std::string_view message) {
    std::lock_guard lock(log_mutex);
    std::cerr << "parley: " << to_string(lvl) << ": " << message << "\n";
  });
  auto mode = agent::parse_pipeline_mode(options.pipeline.mode);
  if (!mode) return print_error(mode.error().message), exit_usage;
  if (options.port < 0 || options.port > 65535) return print_error("--port must be 0..65535"), exit_usage;

  net::server_config config;
  config.host = options.host;
  config.port = static_cast<std::uint16_t>(options.port);
  config.bearer_token = options.token;
  if (config.bearer_token.empty()) {
    if (const char* env = std::getenv("PARLEY_TOKEN")) config.bearer_token = env;
  }
  config.metrics_need_token = options.metrics_need_token;
  if (options.metrics_need_token && config.bearer_token.empty() && options.jwt_secret_env.empty()) {
    return print_error("--metrics-token needs a token to check: --token, $PARLEY_TOKEN or --jwt-secret-env"),
           exit_usage;
  }
  if (!options.jwt_secret_env.empty()) {
    const char* secret = std::getenv(options.jwt_secret_env.c_str());
    if (!secret || !*secret) {
      return print_error("--jwt-secret-env: the environment variable " + options.jwt_secret_env + " is not set or empty"),
             exit_usage;
    }
    config.jwt_secret = secret;
  } else if (!options.jwt_audience.empty() || options.jwt_leeway_s) {
    return print_error(std::string(options.jwt_audience.empty() ? "--jwt-leeway-s" : "--jwt-audience") +
                       " needs --jwt-secret-env"),
           exit_usage;
  }
  config.jwt_audience = options.jwt_audience;
  if (options.jwt_leeway_s) config.jwt_leeway_s = *options.jwt_leeway_s;
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return print_error("TLS needs both --tls-cert and --tls-key"), exit_usage;
  }
  config.tls_cert_file = options.tls_cert;
  config.tls_key_file = options.tls_key;
  config.web_root = options.web_root.empty() ? default_web_root() : options.web_root;
  config.allowed_origins = options.allow_origins;
  if (config.allowed_origins.empty()) config.allowed_origins = {"self"};  // pages served by this very server
  config.allowed_hosts = options.allowed_hosts;
  boost::system::error_code not_an_address;
  boost::asio::ip::make_address(options.host, not_an_address);
  if (not_an_address) config.allowed_hosts.push_back(options.host);  // listening on a name: it is this server's
  config.max_sessions = options.max_sessions;
  config.max_audio_requests = options.max_audio_requests;
  config.max_upload_bytes = static_cast<std::size_t>(options.max_upload_mb * 1024 * 1024);
  config.max_asr_backlog_ms = options.max_asr_backlog_ms;
  config.max_connections = options.max_connections;
  config.max_message_bytes = options.max_message_bytes;
  config.idle_timeout_s = options.idle_timeout_s;
  config.drain_timeout_s = options.drain_s;
  config.max_input_speed = options.max_input_speed;
  config.max_text_turns_per_minute = options.max_text_turns_per_minute;
  config.session = session_options_from(options.pipeline, *mode);
  // Budgets from the flags; the filler audio is built with the engines, after the server listens,
  // and reaches the sessions through net::server::set_engines.
  apply_reply_settings(config.session, options.engines, built_engines{});
  config.assistant_name = options.engines.assistant_name;
  config.barge_in.enabled = options.pipeline.barge_in;
  config.barge_in.min_speech_ms = options.pipeline.barge_in_min_ms;
  config.barge_in.resume_within_ms = options.pipeline.resume_within_ms;

  // SIGINT/SIGTERM are taken synchronously by this thread (sigwait), so block them before any
  // other thread starts: every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  runtime rt;
  auto srv = net::server::start(rt.executor(), config);
  if (!srv) return print_error(srv.error().message), exit_failure;
  const bool tls = !config.tls_cert_file.empty();
  const char* auth = !config.jwt_secret.empty() ? (config.bearer_token.empty() ? " · JWT required" : " · bearer token or JWT required")
                     : config.bearer_token.empty() ? " · no authentication"
                                                   : " · bearer token required";
  std::cout << "parley serve: " << (tls ? "https://" : "http://") << options.host << ":" << (*srv)->port()
            << "/ (WebSocket /ws" << (tls ? " over TLS" : "") << ", protocol v1; OpenAI Realtime /v1/realtime; phone calls /v1/media-stream"
            << (config.max_audio_requests > 0 ? "; OpenAI audio /v1/audio/transcriptions, /v1/audio/speech" : "") << ")" << auth
            << (config.web_root.empty() ? " · placeholder page" : " · web client: " + config.web_root) << "\n"
            << "loading engines…" << std::endl;

  auto engines = build_engines(options.engines, rt.executor());
  if (!engines) {
    (*srv)->stop();
    return print_error(engines.error().message), exit_usage;
  }
  if (!engines->notice.empty()) std::cout << engines->notice << "\n";
  std::cout << engines->summary << "\nready · " << agent::to_string(*mode) << " · Ctrl-C stops gracefully" << std::endl;
  if (engines->responder) (*srv)->set_suggestions(engines->responder->suggestions());
  (*srv)->set_engines(engines->set, engines->router, engines->fillers);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cout << "\nshutting down (turns in flight get up to " << options.drain_s << " s)…" << std::endl;
  (*srv)->stop();
  const auto stats = (*srv)->stats();
  srv->reset();
  if (engines->prober) engines->prober->stop();  // its timers would keep the runtime busy
  rt.stop();
  std::cout << "served " << stats.n_sessions_total << " session" << (stats.n_sessions_total == 1 ? "" : "s") << ", "
            << stats.n_turns << " turn" << (stats.n_turns == 1 ? "" : "s") << "\n";
  return exit_ok;
}

}  // namespace parley::app
