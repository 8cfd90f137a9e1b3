// net/jwt_auth — HS256 JSON Web Token checks for the WebSocket upgrade (libjwt).
//
// Role: decides whether a token from `Authorization: Bearer` or `?access_token=` is a valid HS256
// JWT signed with the configured secret. Checked, in order: shape (three base64url parts, a JSON
// header), algorithm (HS256 only: `none`, HS384, RS256... are refused before any signature work),
// signature, `exp` (required, a number, with `leeway_s`), `nbf` (when present), `aud` (when an
// audience is configured: the claim, a string or an array of strings, must contain it).
// Threading: the checker is immutable after construction; check() is reentrant.
// Ownership: holds a copy of the secret; it never appears in a message or a log line.
// Errors: check() returns the reason for a refusal (a short sentence for the 401 body; it never
// echoes the token or its claims).
// Units: times in seconds since the Unix epoch.
//
//   net::jwt_checker jwt({.secret = s, .audience = "parley"});
//   if (auto why = jwt.check(token, std::time(nullptr))) reply_401(*why);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::net {

struct jwt_config {
  std::string secret;    // HS256 key (raw bytes); empty disables JWT authentication
  std::string audience;  // "" = `aud` not checked
  std::int64_t leeway_s = 30;  // clock skew allowed on exp and nbf
};

class jwt_checker {
 public:
  explicit jwt_checker(jwt_config config) : config_(std::move(config)) {}
  bool enabled() const { return !config_.secret.empty(); }
  /// nullopt when the token is valid at `now_s`; otherwise why it is refused.
  std::optional<std::string> check(std::string_view token, std::int64_t now_s) const;

 private:
  jwt_config config_;
};

}  // namespace parley::net
