// net/http_routes — what the server answers to one HTTP request.
//
// Role: the routes, as one plain function (Beast's handle_request shape):
//   GET /ws       the WebSocket upgrade, checked before it happens: 426 without an upgrade, 401
//                 without a valid token (the body says why), 403 for an Origin outside the
//                 allowlist, 503 while not ready, stopping or full; else "accept the upgrade"
//   GET /healthz  200;  GET /readyz 200 once ready, 503 before and while stopping
//   GET /metrics  the Prometheus page (401 without a token when metrics_need_token)
//   GET /...      static files under web_root (http_util.hpp), the placeholder page without one
// Other methods than GET and HEAD get 405. Every request is counted; refusals are counted as
// rejected upgrades and auth failures (server_metrics.hpp).
// Threading: safe from any thread (reads the shared server state).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

namespace parley::net {

class server_state;

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// The response to `req`, or nothing when it is a WebSocket upgrade on /ws that is accepted (the
/// caller then hands the connection to a WebSocket transport). A response keeps the connection
/// alive when the request asked for it and the server is not stopping.
std::optional<http_response> route_request(server_state& server, const http_request& req);

}  // namespace parley::net
