// net/http_routes — what the server answers to one HTTP request.
//
// Role: the routes, as one plain function (Beast's handle_request shape):
//   GET /v1/media-stream  the same checks, for a telephony provider's media stream; without any
//                 token in the upgrade, the stream's `start` message must bring it
//   GET /ws       the WebSocket upgrade, checked before it happens: 426 without an upgrade, 403
//                 for a Host the server does not answer to (DNS rebinding), 401 without a valid
//                 token (the body says why), 403 for an Origin outside the allowlist, 503 while
//                 not ready, stopping or full; else "accept the upgrade" with the session's slot
//   GET /v1/realtime  the same checks, for the OpenAI Realtime protocol (realtime_protocol.hpp)
//   POST /v1/audio/transcriptions, POST /v1/audio/speech  the OpenAI audio endpoints (audio_api.hpp):
//                 403 for a Host not answered to, 401 without a valid token, 403 for an Origin outside
//                 the allowlist, 503 while not ready, stopping, overloaded or max_audio_requests are
//                 being answered; else "answer it" with the request's slot (http_session.hpp does)
//   GET /healthz  200;  GET /readyz 200 once ready, 503 before and while stopping
//   GET /metrics  the Prometheus page (401 without a token when metrics_need_token; 403 for a
//                 Host the server does not answer to)
//   GET /...      static files under web_root (http_util.hpp), the placeholder page without one
// Before any route: HTTP/1.1 without Host gets 400, a Transfer-Encoding other than chunked 501.
// Other methods than GET and HEAD get 405. Every request is counted; refusals are counted as
// rejected upgrades and auth failures (server_metrics.hpp).
// Threading: safe from any thread (reads the shared server state).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "parley/net/server_metrics.hpp"

namespace parley::net {

class server_state;

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Which protocol an accepted WebSocket upgrade speaks.
enum class ws_endpoint : std::uint8_t {
  protocol_v1,   // GET /ws: parley's protocol (session_bridge.hpp)
  media_stream,  // GET /v1/media-stream: a telephony provider's media stream (media_stream_bridge.hpp)
  realtime,      // GET /v1/realtime: the OpenAI Realtime protocol (session_bridge.hpp, realtime_protocol.hpp)
};

/// An accepted upgrade: the transport holds the session's slot until the session ends.
struct accepted_upgrade {
  admission_slot slot;
  ws_endpoint endpoint = ws_endpoint::protocol_v1;
  /// A media stream whose upgrade carried no token although the server needs one: its `start`
  /// message must bring it (customParameters.access_token).
  bool token_in_start = false;
};

/// Which OpenAI audio endpoint an admitted request is for.
enum class audio_endpoint : std::uint8_t { transcriptions, speech };

/// An admitted audio request: its slot under max_audio_requests is held until it is answered.
struct audio_request {
  admission_slot slot;
  audio_endpoint endpoint = audio_endpoint::transcriptions;
};

/// What to do with one request: answer it, hand the connection to a WebSocket transport, or
/// answer an audio request (which takes engine work).
using routed_request = std::variant<http_response, accepted_upgrade, audio_request>;

/// The largest body a request for `path` may have (decided after its header was read): an upload
/// to /v1/audio/transcriptions may be max_upload_bytes, everything else k_max_request_body_bytes.
std::size_t body_limit_for(const server_state& server, std::string_view target);

/// The response to `req`, or the slot of an accepted upgrade. A response keeps the connection
/// alive when the request asked for it and the server is not stopping.
routed_request route_request(server_state& server, const http_request& req);

/// Why `token` does not authorize a session (a readable reason), or nullopt when it does or the
/// server needs none. It may be the static bearer token or, with a JWT secret configured, an HS256
/// JWT. Neither the token nor its claims are ever logged.
std::optional<std::string> token_failure(const server_state& server, std::optional<std::string> token);

/// Whether the server answers requests naming `host` (a Host header: name or address, optional
/// port): any IP address, "localhost" and names under ".localhost", and the names in
/// `allowed_hosts` ("*" allows every name); no Host at all (HTTP/1.0) too. A page served from another name that resolves to
/// this server (DNS rebinding) is refused, whatever its Origin says.
bool host_allowed(const std::vector<std::string>& allowed_hosts, std::string_view host);

}  // namespace parley::net
