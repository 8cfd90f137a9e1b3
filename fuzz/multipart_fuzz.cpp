// libFuzzer target for the multipart/form-data parser (net/multipart.hpp): every upload to the HTTP
// server (POST /v1/audio/transcriptions) comes from the network. Run it with scripts/fuzz.sh.
// The input is a Content-Type line, '\n', then the body.
//
// Properties checked beyond "no crash, no sanitizer report": an error has a non-empty message, and
// parse_multipart_form fails exactly when multipart_boundary does; every part's body is a view
// inside the input body; no more parts than the limit; tighter limits give an error or the very
// same parts; find_part finds each part's name at or before it; and the parts written back out as
// a canonical body (boundary at the start, quoted names, CRLF everywhere) parse to the same parts
// (but for one shape that has no canonical form, below).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parley/net/multipart.hpp"

namespace {

using parley::net::form_part;

bool same_parts(const std::vector<form_part>& a, const std::vector<form_part>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].filename != b[i].filename || a[i].content_type != b[i].content_type ||
        a[i].body != b[i].body) {
      return false;
    }
  }
  return true;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string serialize(const std::vector<form_part>& parts, const std::string& boundary) {
  std::string out;
  for (const auto& p : parts) {
    out += "--" + boundary + "\r\nContent-Disposition: form-data; name=" + quoted(p.name);
    if (p.filename) out += "; filename=" + quoted(*p.filename);
    out += "\r\n";
    if (!p.content_type.empty()) out += "Content-Type: " + p.content_type + "\r\n";
    out += "\r\n";
    out += p.body;
    out += "\r\n";
  }
  return out + "--" + boundary + "--\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace parley::net;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view content_type = input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  const auto boundary = multipart_boundary(content_type);
  if (!boundary && boundary.error().message.empty()) std::abort();
  if (boundary && (boundary->empty() || boundary->size() > 70)) std::abort();

  const form_limits limits;
  const auto parts = parse_multipart_form(content_type, body, limits);
  if (!parts) {
    if (parts.error().message.empty()) std::abort();
    if (!boundary && parts.error().message != boundary.error().message) std::abort();
    return 0;
  }
  if (!boundary) std::abort();
  if (parts->size() > limits.max_parts) std::abort();
  for (std::size_t i = 0; i < parts->size(); ++i) {
    const auto& p = (*parts)[i];
    if (p.body.data() < body.data() || p.body.data() + p.body.size() > body.data() + body.size()) std::abort();
    const form_part* found = find_part(*parts, p.name);
    if (!found || found > &p || found->name != p.name) std::abort();
  }

  const auto tight = parse_multipart_form(content_type, body, {.max_parts = 2, .max_part_header_bytes = 64});
  if (tight && !same_parts(*tight, *parts)) std::abort();
  if (!tight && tight.error().message.empty()) std::abort();

  // A body that starts with "--" + boundary (possible after a bare-LF blank line) cannot be written
  // back: after the canonical CRLF blank line it would be a delimiter.
  const std::string dash_boundary = "--" + *boundary;
  for (const auto& p : *parts) {
    if (p.body.starts_with(dash_boundary)) return 0;
  }
  const std::string again = serialize(*parts, *boundary);
  const auto reparsed = parse_multipart_form(content_type, again, {.max_parts = limits.max_parts,
                                                                   .max_part_header_bytes = again.size()});
  if (!reparsed || !same_parts(*reparsed, *parts)) std::abort();
  return 0;
}
