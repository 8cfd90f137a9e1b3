// net/jwt_auth — implementation. See jwt_auth.hpp.
#include "parley/net/jwt_auth.hpp"

#include <jwt.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

namespace parley::net {
namespace {

using nlohmann::json;

// base64url without padding (RFC 7515 §2); nullopt on any other character or a bad length.
std::optional<std::string> base64url_decode(std::string_view in) {
  static constexpr auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
    return t;
  }();
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    const int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

struct jwt_deleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
struct c_string_deleter {
  void operator()(char* s) const { std::free(s); }  // NOLINT(cppcoreguidelines-no-malloc)
};

bool audience_matches(const json& aud, const std::string& want) {
  if (aud.is_string()) return aud.get<std::string>() == want;
  if (aud.is_array()) {
    for (const auto& a : aud) {
      if (a.is_string() && a.get<std::string>() == want) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> jwt_checker::check(std::string_view token, std::int64_t now_s) const {
  if (token.empty()) return "missing token";
  // Shape and algorithm first, from the header alone: libjwt must never see an algorithm we refuse.
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return "malformed token";
  }
  const auto header_text = base64url_decode(token.substr(0, dot1));
  if (!header_text) return "malformed token";
  const json header = json::parse(*header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object()) return "malformed token";
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return "malformed token";
  if (alg->get<std::string>() != "HS256") return "token algorithm not allowed (HS256 only)";
  if (dot2 + 1 == token.size()) return "token signature missing";

  const std::string token_z(token);
  jwt_t* raw = nullptr;
  const int rc = jwt_decode(&raw, token_z.c_str(), reinterpret_cast<const unsigned char*>(config_.secret.data()),
                            static_cast<int>(config_.secret.size()));
  std::unique_ptr<jwt_t, jwt_deleter> jwt(raw);
  if (rc != 0 || !jwt) return "invalid token signature";
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return "token algorithm not allowed (HS256 only)";

  std::unique_ptr<char, c_string_deleter> grants_text(jwt_get_grants_json(jwt.get(), nullptr));
  if (!grants_text) return "malformed token claims";
  const json claims = json::parse(grants_text.get(), nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) return "malformed token claims";

  const auto exp = claims.find("exp");
  if (exp == claims.end()) return "token has no expiry (exp)";
  if (!exp->is_number()) return "token expiry (exp) is not a number";
  if (exp->get<double>() + static_cast<double>(config_.leeway_s) <= static_cast<double>(now_s)) return "token expired";
  const auto nbf = claims.find("nbf");
  if (nbf != claims.end()) {
    if (!nbf->is_number()) return "token not-before (nbf) is not a number";
    if (nbf->get<double>() - static_cast<double>(config_.leeway_s) > static_cast<double>(now_s)) {
      return "token not yet valid (nbf)";
    }
  }
  if (!config_.audience.empty()) {
    const auto aud = claims.find("aud");
    if (aud == claims.end() || !audience_matches(*aud, config_.audience)) return "token audience (aud) does not match";
  }
  return std::nullopt;
}

}  // namespace parley::net
