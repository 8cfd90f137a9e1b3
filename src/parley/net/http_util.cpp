// net/http_util — implementation. See http_util.hpp.
#include "parley/net/http_util.hpp"

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

namespace parley::net {

namespace http = boost::beast::http;

std::string percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i] == '+' ? ' ' : in[i]);
    }
  }
  return out;
}

request_target split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {std::string(target), {}};
  return {std::string(target.substr(0, q)), std::string(target.substr(q + 1))};
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view content_type_of(const std::filesystem::path& file) {
  const auto ext = file.extension().string();
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".wav") return "audio/wav";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

std::optional<std::filesystem::path> static_file(const std::string& web_root, std::string_view request_path) {
  if (web_root.empty()) return std::nullopt;
  if (request_path == "/") request_path = "/index.html";
  if (request_path.size() < 2 || request_path.front() != '/') return std::nullopt;
  std::filesystem::path file(web_root);
  std::string_view rest = request_path.substr(1);
  while (true) {
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    const bool plain = std::all_of(segment.begin(), segment.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
    if (segment.empty() || segment.front() == '.' || !plain) return std::nullopt;
    file /= std::string(segment);
    if (slash == std::string_view::npos) return file;
    rest.remove_prefix(slash + 1);
  }
}

std::optional<std::string> read_static_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec || !std::filesystem::is_regular_file(file, ec) || size > k_max_static_file_bytes) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  return body.str();
}

http::response<http::string_body> make_response(const http::request<http::string_body>& req, http::status status,
                                                std::string body, std::string_view content_type) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::server, "parley");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  if (req.method() != http::verb::head) res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::optional<http::response<http::string_body>> over_limit_response(boost::system::error_code ec,
                                                                   std::string_view received) {
  http::status status;
  std::string body;
  if (ec == http::error::header_limit) {
    const bool in_request_line = received.find("\r\n") == std::string_view::npos;
    status = in_request_line ? http::status::uri_too_long : http::status::request_header_fields_too_large;
    body = in_request_line ? "request target too long\n" : "request header fields too large\n";
  } else if (ec == http::error::body_limit) {
    status = http::status::payload_too_large;
    body = "request body too large\n";
  } else {
    return std::nullopt;
  }
  http::request<http::string_body> unread;  // what is known of the request: nothing reliable
  unread.keep_alive(false);
  auto res = make_response(unread, status, std::move(body));
  res.keep_alive(false);
  return res;
}

}  // namespace parley::net
