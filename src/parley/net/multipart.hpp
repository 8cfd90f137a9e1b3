// net/multipart — a multipart/form-data parser (RFC 7578 over RFC 2046) for uploads to the HTTP
// server, such as the audio file of `POST /v1/audio/transcriptions`.
//
// Role: pure functions from a request's Content-Type and its whole body (already read, already
// size-limited by the caller) to the form's parts. Linear in the body's size: the delimiter
// "\r\n--<boundary>" is searched for once from left to right, and a lookalike inside file data
// (not followed by CRLF, transport padding + CRLF, or "--") is skipped over. Nothing is decoded:
// there is no Content-Transfer-Encoding in multipart/form-data (RFC 7578 §4.7), and `filename*`
// (RFC 5987) is ignored as RFC 7578 §4.2 says it must not be sent.
// Ownership: a form_part's `body` is a view into the body passed in; it lives as long as that.
// Threading: every function is pure and reentrant.
// Errors: values, never exceptions; the messages are short, specific, and never echo body bytes.
// Units: limits in parts and bytes.
//
//   auto parts = net::parse_multipart_form(req[http::field::content_type], req.body());
//   if (!parts) return bad_request(parts.error().message);
//   if (const auto* file = net::find_part(*parts, "file")) transcribe(file->body);
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::net {

/// One part of a form.
struct form_part {
  std::string name;                     // the Content-Disposition `name` parameter
  std::optional<std::string> filename;  // its `filename` parameter, when the part is a file
  std::string content_type;             // the part's Content-Type, "" when absent
  std::string_view body;                // the part's bytes: a view into the request body
};

/// Limits on what one form may hold (the body's own size is the caller's limit).
struct form_limits {
  std::size_t max_parts = 32;
  std::size_t max_part_header_bytes = 8 * 1024;  // all header lines of one part together
};

/// The boundary of a `multipart/form-data; boundary=...` Content-Type (quoted or not, parameters
/// in any order, type case-insensitive), or an errc::unsupported_format / invalid_argument error
/// whose message says what is wrong (not multipart/form-data; no boundary; boundary empty, longer
/// than 70 characters, or with a character outside printable ASCII; a malformed parameter).
result<std::string> multipart_boundary(std::string_view content_type);

/// The parts of a multipart/form-data body, in order. Errors (errc::invalid_argument, a short
/// specific message that never echoes body bytes; those of multipart_boundary as they are): no
/// opening boundary, a malformed header line, a part without Content-Disposition: form-data and a
/// name, header lines too long / too many parts (limits), no closing boundary.
/// A preamble before the first boundary and an epilogue after the closing one are ignored; CRLF
/// line endings (bare LF accepted in part headers too); header names case-insensitive; quoted
/// parameter values with backslash escapes; `filename*=` ignored in favour of `filename`. A part
/// whose headers are not followed by a blank line has an empty body; a form with no parts at all
/// (only the closing boundary) is an empty vector.
result<std::vector<form_part>> parse_multipart_form(std::string_view content_type, std::string_view body,
                                                    form_limits limits = {});

/// The first part named `name`, or nullptr.
const form_part* find_part(const std::vector<form_part>& parts, std::string_view name);

}  // namespace parley::net
