// net/http_routes — implementation. See http_routes.hpp.
#include "parley/net/http_routes.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "parley/core/log.hpp"
#include "parley/net/audio_api.hpp"
#include "parley/net/http_util.hpp"
#include "parley/net/server_state.hpp"

namespace parley::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace

std::optional<std::string> token_failure(const server_state& server, std::optional<std::string> token) {
  const auto& config = server.config();
  const auto& jwt = server.jwt();
  if (config.bearer_token.empty() && !jwt.enabled()) return std::nullopt;
  if (!jwt.enabled()) {
    if (token && constant_time_equal(*token, config.bearer_token)) return std::nullopt;
    return "missing or wrong bearer token";
  }
  if (!token || token->empty()) return "missing token";
  if (!config.bearer_token.empty() && constant_time_equal(*token, config.bearer_token)) return std::nullopt;
  return jwt.check(*token, static_cast<std::int64_t>(std::time(nullptr)));
}

namespace {

// Why the request is not authorized (the 401 body), or nullopt when it is. A token is taken from
// `Authorization: Bearer T`, else from `?access_token=T` (see token_failure()).
std::optional<std::string> auth_failure(const server_state& server, const http_request& req, std::string_view query) {
  const auto auth = req[http::field::authorization];
  constexpr std::string_view bearer = "Bearer ";
  if (auth.size() > bearer.size() && beast::iequals(auth.substr(0, bearer.size()), bearer)) {
    return token_failure(server, std::string(auth.substr(bearer.size())));
  }
  return token_failure(server, query_param(query, "access_token"));
}

http_response refuse_unauthorized(server_state& server, const http_request& req, std::string_view path, std::string why) {
  server.metrics().n_auth_failures.fetch_add(1, std::memory_order_relaxed);
  PARLEY_LOG(debug, "net: " << path << ": 401 (" << why << ")");
  auto res = make_response(req, http::status::unauthorized, why + "\n");
  res.set(http::field::www_authenticate, "Bearer realm=\"parley\"");
  return res;
}

bool origin_allowed(const server_config& config, const http_request& req) {
  const auto origin = req[http::field::origin];
  if (origin.empty() || config.allowed_origins.empty()) return true;
  const auto host = req[http::field::host];
  // "self": the page came from this server (the Origin names the Host the request was sent to).
  const bool same_origin = !host.empty() && (beast::iequals(origin, "http://" + std::string(host)) ||
                                             beast::iequals(origin, "https://" + std::string(host)));
  return std::any_of(config.allowed_origins.begin(), config.allowed_origins.end(), [&](const std::string& o) {
    return o == "*" || (o == "self" && same_origin) || beast::iequals(o, origin);
  });
}

http_response refuse_host(const http_request& req, std::string_view path) {
  PARLEY_LOG(debug, "net: " << path << ": 403 (Host " << req[http::field::host] << " not allowed)");
  return make_response(req, http::status::forbidden,
                       "host not allowed: this server answers to its addresses, localhost and --allowed-host names\n");
}

// How long a client refused for overload is asked to wait: a backlog of seconds drains in seconds.
constexpr int k_overload_retry_after_s = 5;

http_response service_unavailable(const http_request& req, std::string body) {
  auto res = make_response(req, http::status::service_unavailable, std::move(body));
  res.set(http::field::retry_after, "1");
  return res;
}

// GET /ws, /v1/realtime, /v1/media-stream: the checks before the upgrade; the session's slot when it may go ahead.
routed_request check_upgrade(server_state& server, const http_request& req, const request_target& target,
                             ws_endpoint endpoint) {
  auto& metrics = server.metrics();
  accepted_upgrade accepted{.endpoint = endpoint};
  if (!beast::websocket::is_upgrade(req)) {
    auto res = make_response(req, http::status::upgrade_required,
                             endpoint == ws_endpoint::media_stream ? "this endpoint speaks WebSocket (telephone media streams)\n"
                             : endpoint == ws_endpoint::realtime   ? "this endpoint speaks WebSocket (the OpenAI Realtime protocol)\n"
                                                                   : "this endpoint speaks WebSocket (protocol v1)\n");
    res.set(http::field::upgrade, "websocket");
    return res;
  }
  if (!host_allowed(server.config().allowed_hosts, req[http::field::host])) {
    metrics.n_rejected_upgrades.fetch_add(1);
    return refuse_host(req, target.path);
  }
  if (auto why = auth_failure(server, req, target.query)) {
    const bool no_token = req.find(http::field::authorization) == req.end() && !query_param(target.query, "access_token");
    if (endpoint == ws_endpoint::media_stream && no_token) {
      accepted.token_in_start = true;  // a provider's stream URL carries no query: `start` brings it
    } else {
      metrics.n_rejected_upgrades.fetch_add(1);
      return refuse_unauthorized(server, req, target.path, std::move(*why));
    }
  }
  if (!origin_allowed(server.config(), req)) {
    metrics.n_rejected_upgrades.fetch_add(1);
    return make_response(req, http::status::forbidden, "origin not allowed\n");
  }
  if (server.stopping() || !server.ready()) {
    metrics.n_rejected_upgrades.fetch_add(1);
    return service_unavailable(req, server.stopping() ? "shutting down\n" : "engines loading\n");
  }
  if (!server.admits_sessions()) {
    metrics.n_rejected_upgrades.fetch_add(1);
    metrics.n_refused_overloaded.fetch_add(1);
    auto res = service_unavailable(req, "overloaded: speech recognition is " +
                                            std::to_string(static_cast<long>(server.last_asr_backlog_ms())) +
                                            " ms behind the live audio; try again shortly\n");
    res.set(http::field::retry_after, std::to_string(k_overload_retry_after_s));
    return res;
  }
  // The count and the check are one step: simultaneous upgrades cannot all see room for one more.
  auto slot = admission_slot::take(metrics.n_active_sessions, server.config().max_sessions);
  if (!slot) {
    metrics.n_rejected_upgrades.fetch_add(1);
    return service_unavailable(req, "too many sessions\n");
  }
  accepted.slot = std::move(slot);
  return accepted;
}

// A request no route should see: HTTP/1.1 without Host (RFC 9112 §3.2), or a body framed by a
// transfer coding the server does not implement (RFC 9112 §6.1: only chunked is).
std::optional<http_response> malformed_request(const http_request& req) {
  if (req.version() >= 11 && req.find(http::field::host) == req.end()) {
    return make_response(req, http::status::bad_request, "HTTP/1.1 requests need a Host header\n");
  }
  if (const auto te = req.find(http::field::transfer_encoding); te != req.end() && !beast::iequals(te->value(), "chunked")) {
    return make_response(req, http::status::not_implemented, "only the chunked transfer coding is implemented\n");
  }
  return std::nullopt;
}

http_response static_content(const server_config& config, const http_request& req, std::string_view path) {
  if (config.web_root.empty() && (path == "/" || path == "/index.html")) {
    return make_response(req, http::status::ok, std::string(k_placeholder_page), "text/html; charset=utf-8");
  }
  if (const auto file = static_file(config.web_root, path)) {
    if (auto body = read_static_file(*file)) return make_response(req, http::status::ok, std::move(*body), content_type_of(*file));
  }
  return make_response(req, http::status::not_found, "not found\n");
}

// POST /v1/audio/...: the checks before any engine work; the request's slot when it may go ahead.
routed_request check_audio_request(server_state& server, const http_request& req, const request_target& target,
                                   audio_endpoint endpoint) {
  const auto& config = server.config();
  if (req.method() != http::verb::post) {
    auto res = openai_error(req, http::status::method_not_allowed, "use POST");
    res.set(http::field::allow, "POST");
    return res;
  }
  if (!host_allowed(config.allowed_hosts, req[http::field::host])) return refuse_host(req, target.path);
  if (auto why = auth_failure(server, req, target.query)) {
    auto res = refuse_unauthorized(server, req, target.path, *why);
    auto body = openai_error(req, http::status::unauthorized, *why);
    res.body() = std::move(body.body());
    res.set(http::field::content_type, "application/json");
    res.prepare_payload();
    return res;
  }
  if (!origin_allowed(config, req)) return openai_error(req, http::status::forbidden, "origin not allowed");
  if (server.stopping() || !server.ready()) {
    auto res = openai_error(req, http::status::service_unavailable, server.stopping() ? "shutting down" : "engines loading");
    res.set(http::field::retry_after, "1");
    return res;
  }
  if (!server.admits_sessions()) {
    server.metrics().n_refused_overloaded.fetch_add(1);
    auto res = openai_error(req, http::status::service_unavailable,
                            "overloaded: speech recognition is behind the live audio; try again shortly");
    res.set(http::field::retry_after, std::to_string(k_overload_retry_after_s));
    return res;
  }
  auto slot = admission_slot::take(server.metrics().n_active_audio_requests, config.max_audio_requests);
  if (!slot) {
    auto res = openai_error(req, http::status::service_unavailable,
                            "too many audio requests at once (max_audio_requests); try again shortly");
    res.set(http::field::retry_after, "1");
    return res;
  }
  return audio_request{.slot = std::move(slot), .endpoint = endpoint};
}

}  // namespace

std::size_t body_limit_for(const server_state& server, std::string_view target) {
  const auto path = split_target(target).path;
  return path == "/v1/audio/transcriptions" && server.config().max_audio_requests > 0
             ? std::max(server.config().max_upload_bytes, k_max_request_body_bytes)
             : k_max_request_body_bytes;
}

bool host_allowed(const std::vector<std::string>& allowed_hosts, std::string_view host) {
  if (host.empty()) return true;  // HTTP/1.0 without Host: no browser sends that (1.1 needs one)
  std::string_view name = host;
  if (name.starts_with('[')) {  // an IPv6 literal, with or without a port
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(name.substr(1, close - 1)), ec);
    return !ec;
  }
  if (const auto colon = name.rfind(':'); colon != std::string_view::npos) name = name.substr(0, colon);
  if (name.empty()) return false;
  boost::system::error_code ec;
  boost::asio::ip::make_address_v4(std::string(name), ec);
  if (!ec) return true;  // an address cannot be rebound: the page's origin is that address
  if (beast::iequals(name, "localhost")) return true;
  constexpr std::string_view dot_localhost = ".localhost";  // RFC 6761: always loopback
  if (name.size() > dot_localhost.size() && beast::iequals(name.substr(name.size() - dot_localhost.size()), dot_localhost)) {
    return true;
  }
  return std::any_of(allowed_hosts.begin(), allowed_hosts.end(),
                     [&](const std::string& allowed) { return allowed == "*" || beast::iequals(allowed, name); });
}

routed_request route_request(server_state& server, const http_request& req) {
  server.metrics().n_http_requests.fetch_add(1, std::memory_order_relaxed);
  const auto& config = server.config();
  const auto target = split_target(req.target());
  const auto& path = target.path;

  std::optional<http_response> res = malformed_request(req);
  if (res) {
    res->keep_alive(false);  // what follows such a request cannot be trusted to be framed right
    return std::move(*res);
  }
  if (path == "/ws" || path == "/v1/media-stream" || path == "/v1/realtime") {
    const auto endpoint = path == "/ws"                ? ws_endpoint::protocol_v1
                          : path == "/v1/realtime"     ? ws_endpoint::realtime
                                                       : ws_endpoint::media_stream;
    auto routed = check_upgrade(server, req, target, endpoint);
    if (std::holds_alternative<accepted_upgrade>(routed)) return routed;  // accepted: the caller upgrades
    res = std::move(std::get<http_response>(routed));
  } else if ((path == "/v1/audio/transcriptions" || path == "/v1/audio/speech") && config.max_audio_requests == 0) {
    res = openai_error(req, http::status::not_found, "the audio endpoints are off on this server (--max-audio-requests 0)");
  } else if (path == "/v1/audio/transcriptions" || path == "/v1/audio/speech") {
    auto routed = check_audio_request(server, req, target,
                                      path == "/v1/audio/speech" ? audio_endpoint::speech : audio_endpoint::transcriptions);
    if (std::holds_alternative<audio_request>(routed)) return routed;
    res = std::move(std::get<http_response>(routed));
    server.metrics().count_audio_request(path == "/v1/audio/speech" ? "speech" : "transcriptions",
                                         static_cast<unsigned>(res->result()));
  } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res = make_response(req, http::status::method_not_allowed, "only GET\n");
    res->set(http::field::allow, "GET, HEAD");
  } else if (path == "/healthz") {
    res = make_response(req, http::status::ok, "ok\n");
  } else if (path == "/readyz") {
    res = !server.ready()             ? make_response(req, http::status::service_unavailable,
                                                      server.stopping() ? "stopping\n" : "loading\n")
          : !server.admits_sessions() ? service_unavailable(req, "overloaded\n")
                                      : make_response(req, http::status::ok, "ready\n");
  } else if (path == "/v1/assistant") {  // what the web page shows before a session starts
    const nlohmann::json info = {{"name", config.assistant_name},
                                 {"greeting", config.session.greeting},
                                 {"suggestions", server.suggestions()}};
    res = make_response(req, http::status::ok, info.dump() + "\n", "application/json");
  } else if (path == "/metrics") {
    std::optional<std::string> why;
    if (config.metrics_need_token) why = auth_failure(server, req, target.query);
    res = !host_allowed(config.allowed_hosts, req[http::field::host]) ? refuse_host(req, path)
          : why ? refuse_unauthorized(server, req, path, std::move(*why))
                : make_response(req, http::status::ok, server.metrics_text(), server_metrics::content_type);
  } else {
    res = static_content(config, req, path);
  }
  res->keep_alive(req.keep_alive() && !server.stopping());
  return std::move(*res);
}

}  // namespace parley::net
