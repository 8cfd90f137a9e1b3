// net/http_routes — implementation. See http_routes.hpp.
#include "parley/net/http_routes.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <ctime>
#include <string>
#include <string_view>

#include "parley/core/log.hpp"
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

// Why the request is not authorized (the 401 body), or nullopt when it is. A token is taken from
// `Authorization: Bearer T`, else from `?access_token=T`; it may be the static bearer token or,
// with a JWT secret configured, an HS256 JWT. Neither the token nor its claims are ever logged.
std::optional<std::string> auth_failure(const server_state& server, const http_request& req, std::string_view query) {
  const auto& config = server.config();
  const auto& jwt = server.jwt();
  if (config.bearer_token.empty() && !jwt.enabled()) return std::nullopt;
  std::optional<std::string> token;
  const auto auth = req[http::field::authorization];
  constexpr std::string_view bearer = "Bearer ";
  if (auth.size() > bearer.size() && beast::iequals(auth.substr(0, bearer.size()), bearer)) {
    token = std::string(auth.substr(bearer.size()));
  } else {
    token = query_param(query, "access_token");
  }
  if (!jwt.enabled()) {
    if (token && constant_time_equal(*token, config.bearer_token)) return std::nullopt;
    return "missing or wrong bearer token";
  }
  if (!token || token->empty()) return "missing token";
  if (!config.bearer_token.empty() && constant_time_equal(*token, config.bearer_token)) return std::nullopt;
  return jwt.check(*token, static_cast<std::int64_t>(std::time(nullptr)));
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

// GET /ws: the checks before the upgrade; nothing when it may go ahead.
std::optional<http_response> check_upgrade(server_state& server, const http_request& req, const request_target& target) {
  auto& metrics = server.metrics();
  if (!beast::websocket::is_upgrade(req)) {
    auto res = make_response(req, http::status::upgrade_required, "this endpoint speaks WebSocket (protocol v1)\n");
    res.set(http::field::upgrade, "websocket");
    return res;
  }
  if (auto why = auth_failure(server, req, target.query)) {
    metrics.n_rejected_upgrades.fetch_add(1);
    return refuse_unauthorized(server, req, target.path, std::move(*why));
  }
  if (!origin_allowed(server.config(), req)) {
    metrics.n_rejected_upgrades.fetch_add(1);
    return make_response(req, http::status::forbidden, "origin not allowed\n");
  }
  if (server.stopping() || !server.ready()) {
    metrics.n_rejected_upgrades.fetch_add(1);
    auto res = make_response(req, http::status::service_unavailable,
                             server.stopping() ? "shutting down\n" : "engines loading\n");
    res.set(http::field::retry_after, "1");
    return res;
  }
  if (metrics.n_active_sessions.load() >= server.config().max_sessions) {
    metrics.n_rejected_upgrades.fetch_add(1);
    auto res = make_response(req, http::status::service_unavailable, "too many sessions\n");
    res.set(http::field::retry_after, "1");
    return res;
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

}  // namespace

std::optional<http_response> route_request(server_state& server, const http_request& req) {
  server.metrics().n_http_requests.fetch_add(1, std::memory_order_relaxed);
  const auto& config = server.config();
  const auto target = split_target(req.target());
  const auto& path = target.path;

  std::optional<http_response> res;
  if (path == "/ws") {
    res = check_upgrade(server, req, target);
    if (!res) return std::nullopt;  // accepted: the caller upgrades
  } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res = make_response(req, http::status::method_not_allowed, "only GET\n");
    res->set(http::field::allow, "GET, HEAD");
  } else if (path == "/healthz") {
    res = make_response(req, http::status::ok, "ok\n");
  } else if (path == "/readyz") {
    res = server.ready() ? make_response(req, http::status::ok, "ready\n")
                         : make_response(req, http::status::service_unavailable, server.stopping() ? "stopping\n" : "loading\n");
  } else if (path == "/metrics") {
    std::optional<std::string> why;
    if (config.metrics_need_token) why = auth_failure(server, req, target.query);
    res = why ? refuse_unauthorized(server, req, path, std::move(*why))
              : make_response(req, http::status::ok, server.metrics_text(), server_metrics::content_type);
  } else {
    res = static_content(config, req, path);
  }
  res->keep_alive(req.keep_alive() && !server.stopping());
  return res;
}

}  // namespace parley::net
