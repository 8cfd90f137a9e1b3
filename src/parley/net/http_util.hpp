// net/http_util — the small HTTP pieces of the server: request targets and query strings, static
// files under the web root and their content types, the limits on one request, the common shape of
// a response.
//
// Role: plain functions with no state, used by the routes (http_routes.hpp) and the listener.
// Static files: only plain relative paths are served — '/'-separated segments of letters, digits,
// '_', '-' and '.', none empty and none starting with '.' (so no "..", no hidden files, no "//"
// that would make the path absolute and escape the root); percent escapes are not decoded.
// Threading: pure functions (read_static_file reads the file system).
// Units: sizes in bytes.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace parley::net {

/// Limits on one HTTP request (the WebSocket upgrade included).
constexpr std::size_t k_max_request_header_bytes = 16 * 1024;
constexpr std::size_t k_max_request_body_bytes = 64 * 1024;
/// Static files larger than this are not served (404).
constexpr std::size_t k_max_static_file_bytes = 8 * 1024 * 1024;

/// GET / when no web root is configured.
constexpr std::string_view k_placeholder_page =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>parley</title></head><body>"
    "<h1>parley</h1><p>The realtime server is running. The WebSocket endpoint is <code>/ws</code> "
    "(protocol v1, docs/protocol.md). The web client was not found: see <code>--web-root</code>.</p></body></html>\n";

/// `%XX` escapes decoded and '+' read as a space (query-string values).
std::string percent_decode(std::string_view in);

/// A request target cut at its first '?'.
struct request_target {
  std::string path;
  std::string query;
};
request_target split_target(std::string_view target);

/// The percent-decoded value of `name` in a query string ("a=1&b=2"); "" for a bare name.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

/// The Content-Type of a static file, by its extension (application/octet-stream when unknown).
std::string_view content_type_of(const std::filesystem::path& file);

/// The file under `web_root` that a request path names ("/" is index.html), or nothing when the
/// path is not a plain relative path (see the header comment) or no web root is set.
std::optional<std::filesystem::path> static_file(const std::string& web_root, std::string_view request_path);

/// The contents of a regular file of at most k_max_static_file_bytes, or nothing.
std::optional<std::string> read_static_file(const std::filesystem::path& file);

/// A response in the server's shape: Server: parley, Cache-Control: no-store, keep-alive as the
/// request asked, no body for HEAD.
boost::beast::http::response<boost::beast::http::string_body> make_response(
    const boost::beast::http::request<boost::beast::http::string_body>& req, boost::beast::http::status status,
    std::string body, std::string_view content_type = "text/plain; charset=utf-8");

/// The answer to a request that broke a limit while it was read: 414 when the request line alone
/// was over the header limit (no line end in `received`, the bytes read so far), 431 when the
/// header fields were, 413 when the body was; nothing for other read errors (the connection just
/// ends). The connection closes after it.
std::optional<boost::beast::http::response<boost::beast::http::string_body>> over_limit_response(
    boost::system::error_code ec, std::string_view received);

}  // namespace parley::net
