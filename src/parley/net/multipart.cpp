// net/multipart — implementation. See multipart.hpp; RFC 2046 §5.1.1 for the delimiters, RFC 7578
// for form-data.
#include "parley/net/multipart.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace parley::net {

namespace {

constexpr std::size_t k_max_boundary_chars = 70;  // RFC 2046 §5.1.1

bool is_ows(char c) { return c == ' ' || c == '\t'; }

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

error invalid(std::string message) { return make_error(errc::invalid_argument, std::move(message)); }

std::string part_label(std::size_t index) { return "part " + std::to_string(index + 1); }

// One `name=value` parameter of a header value (Content-Type, Content-Disposition).
struct parameter {
  std::string_view name;  // as written; compare with iequals
  std::string value;      // a quoted-string's escapes resolved
};

// The value before the first ';' (trimmed) and the parameters after it, or nullopt when a
// parameter is malformed (an unterminated quoted-string, text after one, an empty name). Lenient
// where real clients are: whitespace around '=' and ';', empty ";;", a parameter without '='
// (skipped), an unquoted value with spaces (read up to the next ';').
struct header_value {
  std::string_view value;
  std::vector<parameter> parameters;
};

std::optional<header_value> parse_header_value(std::string_view s) {
  header_value out;
  std::size_t i = s.find(';');
  out.value = trim(s.substr(0, i));
  const std::size_t n = s.size();
  while (i < n) {
    ++i;  // past ';'
    while (i < n && is_ows(s[i])) ++i;
    if (i == n) break;
    if (s[i] == ';') continue;
    const std::size_t name_start = i;
    while (i < n && s[i] != '=' && s[i] != ';' && !is_ows(s[i])) ++i;
    const std::string_view name = s.substr(name_start, i - name_start);
    while (i < n && is_ows(s[i])) ++i;
    if (i == n || s[i] == ';') continue;  // no '=': not a parameter parley reads
    if (s[i] != '=' || name.empty()) return std::nullopt;
    ++i;  // past '='
    while (i < n && is_ows(s[i])) ++i;
    parameter p{name, {}};
    if (i < n && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < n) {
          p.value += s[i++];
        } else {
          p.value += c;
        }
      }
      if (!closed) return std::nullopt;
      while (i < n && is_ows(s[i])) ++i;
      if (i < n && s[i] != ';') return std::nullopt;
    } else {
      const std::size_t end = std::min(s.find(';', i), n);
      p.value = std::string(trim(s.substr(i, end - i)));
      i = end;
    }
    out.parameters.push_back(std::move(p));
  }
  return out;
}

// The first parameter named `name` (case-insensitive), or nullptr.
const parameter* find_parameter(const header_value& h, std::string_view name) {
  for (const auto& p : h.parameters) {
    if (iequals(p.name, name)) return &p;
  }
  return nullptr;
}

enum class delimiter_kind { none, next_part, close };

// Whether "--" + boundary, which ends just before `after`, is a delimiter: followed by "--" (the
// close delimiter; what follows is the epilogue) or by transport padding and CRLF (a part
// follows). The position after it: the next part's first byte.
std::pair<delimiter_kind, std::size_t> delimiter_end(std::string_view body, std::size_t after) {
  if (body.substr(after).starts_with("--")) return {delimiter_kind::close, after + 2};
  std::size_t i = after;
  while (i < body.size() && is_ows(body[i])) ++i;
  if (body.substr(i).starts_with("\r\n")) return {delimiter_kind::next_part, i + 2};
  return {delimiter_kind::none, 0};
}

// The headers parley reads from one part: the first Content-Disposition and the first
// Content-Type (obs-folded continuation lines joined with a space).
struct part_headers {
  std::optional<std::string> disposition;
  std::optional<std::string> content_type;
};

// Parses the headers of the part that occupies body[start, end): header lines up to a blank line
// (CRLF or bare LF), then the part's bytes. A part with no blank line is all headers and has an
// empty body. Sets `body_start`.
result<part_headers> parse_part_headers(std::string_view body, std::size_t start, std::size_t end,
                                        std::size_t index, const form_limits& limits, std::size_t& body_start) {
  part_headers out;
  enum class last { none, disposition, content_type, other } last_header = last::none;
  const auto too_long = [&] {
    return invalid(part_label(index) + "'s headers are longer than " + std::to_string(limits.max_part_header_bytes) +
                   " bytes");
  };
  // A header block of exactly the limit may still be followed by its blank line ("\r\n"); the
  // std::max keeps a limit near SIZE_MAX from wrapping around.
  const std::size_t window_bytes = std::max(limits.max_part_header_bytes, limits.max_part_header_bytes + 2);
  const std::size_t window_end = start + std::min(end - start, window_bytes);
  std::size_t line_start = start;
  while (true) {
    const auto window = body.substr(line_start, window_end - line_start);
    const std::size_t lf = window.find('\n');
    if (lf == std::string_view::npos && window_end < end) return too_long();
    const bool has_lf = lf != std::string_view::npos;
    const std::size_t line_end = has_lf ? line_start + lf : end;  // the '\n', or the part's end
    std::string_view line = body.substr(line_start, line_end - line_start);
    if (has_lf && line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) {  // the blank line, or the end of a part that is all headers
      body_start = has_lf ? line_end + 1 : end;
      return out;
    }
    if ((has_lf ? line_end + 1 : line_end) - start > limits.max_part_header_bytes) return too_long();
    if (is_ows(line.front())) {  // obs-fold: a continuation of the previous header line
      if (last_header == last::none) return invalid(part_label(index) + " has a malformed header line");
      std::string* value = last_header == last::disposition    ? &*out.disposition
                           : last_header == last::content_type ? &*out.content_type
                                                               : nullptr;
      const std::string_view more = trim(line);
      if (value && !more.empty()) {
        if (!value->empty()) *value += ' ';
        *value += more;
      }
    } else {
      const std::size_t colon = line.find(':');
      const std::string_view name = colon == std::string_view::npos ? std::string_view{} : trim(line.substr(0, colon));
      if (name.empty()) return invalid(part_label(index) + " has a malformed header line");
      const std::string_view value = trim(line.substr(colon + 1));
      last_header = last::other;
      if (iequals(name, "content-disposition") && !out.disposition) {
        out.disposition = std::string(value);
        last_header = last::disposition;
      } else if (iequals(name, "content-type") && !out.content_type) {
        out.content_type = std::string(value);
        last_header = last::content_type;
      }
    }
    if (!has_lf) {
      body_start = end;
      return out;
    }
    line_start = line_end + 1;
  }
}

// One part from its headers and bytes.
result<form_part> make_part(part_headers headers, std::string_view bytes, std::size_t index) {
  if (!headers.disposition) return invalid(part_label(index) + " has no Content-Disposition header");
  const auto disposition = parse_header_value(*headers.disposition);
  if (!disposition) return invalid(part_label(index) + "'s Content-Disposition has a malformed parameter");
  if (!iequals(disposition->value, "form-data")) {
    return invalid(part_label(index) + "'s Content-Disposition is not form-data");
  }
  const parameter* name = find_parameter(*disposition, "name");
  if (!name) return invalid(part_label(index) + "'s Content-Disposition has no name");
  form_part part;
  part.name = name->value;
  if (const parameter* filename = find_parameter(*disposition, "filename")) part.filename = filename->value;
  part.content_type = headers.content_type.value_or("");
  part.body = bytes;
  return part;
}

}  // namespace

result<std::string> multipart_boundary(std::string_view content_type) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  if (!iequals(type, "multipart/form-data")) {
    return make_error(errc::unsupported_format, "Content-Type is not multipart/form-data");
  }
  const auto parsed = parse_header_value(content_type);
  if (!parsed) return invalid("malformed Content-Type parameter");
  const parameter* boundary = find_parameter(*parsed, "boundary");
  if (!boundary) return invalid("multipart/form-data without a boundary");
  const std::string& b = boundary->value;
  if (b.empty()) return invalid("the multipart boundary is empty");
  if (b.size() > k_max_boundary_chars) return invalid("the multipart boundary is longer than 70 characters");
  // Printable ASCII only (RFC 2046's bchars are a subset): no CR or LF, so "\r\n--" + boundary
  // cannot overlap itself and a match is never hidden inside another.
  if (!std::all_of(b.begin(), b.end(), [](char c) { return c >= 0x20 && c <= 0x7E; })) {
    return invalid("the multipart boundary has a character outside printable ASCII");
  }
  return b;
}

result<std::vector<form_part>> parse_multipart_form(std::string_view content_type, std::string_view body,
                                                    form_limits limits) {
  auto boundary = multipart_boundary(content_type);
  if (!boundary) return boundary.error();
  const std::string delimiter = "\r\n--" + *boundary;
  const std::string_view dash_boundary = std::string_view(delimiter).substr(2);
  const std::boyer_moore_horspool_searcher searcher(delimiter.begin(), delimiter.end());
  const char* const begin = body.data();
  const char* const end = body.data() + body.size();
  // The next delimiter at or after `from` ("\r\n--boundary" followed by "--" or padding + CRLF):
  // its position, kind, and where what follows it starts. Each candidate that is only a lookalike
  // resumes the search one byte further on, so the body is scanned once.
  struct found {
    std::size_t at = std::string_view::npos;
    delimiter_kind kind = delimiter_kind::none;
    std::size_t next = 0;
  };
  const auto next_delimiter = [&](std::size_t from) {
    while (from <= body.size()) {
      const char* hit = searcher(begin + from, end).first;
      if (hit == end) break;
      const auto at = static_cast<std::size_t>(hit - begin);
      const auto [kind, next] = delimiter_end(body, at + delimiter.size());
      if (kind != delimiter_kind::none) return found{at, kind, next};
      from = at + 1;
    }
    return found{};
  };

  // The opening boundary: at the very start, or after a preamble that ends with CRLF.
  found open;
  if (body.starts_with(dash_boundary)) {
    const auto [kind, next] = delimiter_end(body, dash_boundary.size());
    if (kind != delimiter_kind::none) open = found{0, kind, next};
  }
  if (open.kind == delimiter_kind::none) open = next_delimiter(0);
  if (open.kind == delimiter_kind::none) return invalid("no opening boundary");

  std::vector<form_part> parts;
  delimiter_kind kind = open.kind;
  std::size_t pos = open.next;
  while (kind == delimiter_kind::next_part) {
    if (parts.size() >= limits.max_parts) return invalid("more than " + std::to_string(limits.max_parts) + " parts");
    const found close = next_delimiter(pos);
    if (close.kind == delimiter_kind::none) return invalid("no closing boundary");
    std::size_t body_start = pos;
    auto headers = parse_part_headers(body, pos, close.at, parts.size(), limits, body_start);
    if (!headers) return headers.error();
    auto part = make_part(std::move(*headers), body.substr(body_start, close.at - body_start), parts.size());
    if (!part) return part.error();
    parts.push_back(std::move(*part));
    kind = close.kind;
    pos = close.next;
  }
  return parts;
}

const form_part* find_part(const std::vector<form_part>& parts, std::string_view name) {
  const auto it = std::find_if(parts.begin(), parts.end(), [&](const form_part& p) { return p.name == name; });
  return it == parts.end() ? nullptr : &*it;
}

}  // namespace parley::net
