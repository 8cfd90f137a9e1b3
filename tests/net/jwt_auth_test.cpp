// HS256 JWT checks (net/jwt_auth): tokens made with libjwt in the test, one per refusal reason.
#include "parley/net/jwt_auth.hpp"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>
#include <ctime>
#include <string>

namespace parley::net {
namespace {

constexpr std::string_view k_secret = "test-secret-0123456789abcdef";
constexpr std::int64_t k_now = 1'800'000'000;

struct claims {
  std::optional<std::int64_t> exp = k_now + 600;
  std::optional<std::int64_t> nbf;
  std::string aud;
  jwt_alg_t alg = JWT_ALG_HS256;
  std::string secret = std::string(k_secret);
};

std::string make_token(const claims& c) {
  jwt_t* j = nullptr;
  EXPECT_EQ(jwt_new(&j), 0);
  if (c.exp) jwt_add_grant_int(j, "exp", *c.exp);
  if (c.nbf) jwt_add_grant_int(j, "nbf", *c.nbf);
  if (!c.aud.empty()) jwt_add_grant(j, "aud", c.aud.c_str());
  jwt_add_grant(j, "sub", "user-1");
  if (c.alg == JWT_ALG_NONE) {
    jwt_set_alg(j, JWT_ALG_NONE, nullptr, 0);
  } else {
    jwt_set_alg(j, c.alg, reinterpret_cast<const unsigned char*>(c.secret.data()), static_cast<int>(c.secret.size()));
  }
  char* s = jwt_encode_str(j);
  std::string out = s ? s : "";
  std::free(s);  // NOLINT(cppcoreguidelines-no-malloc)
  jwt_free(j);
  return out;
}

jwt_checker checker(std::string audience = "") {
  return jwt_checker({.secret = std::string(k_secret), .audience = std::move(audience), .leeway_s = 30});
}

TEST(jwt_auth, valid_token_is_accepted) {
  EXPECT_EQ(checker().check(make_token({}), k_now), std::nullopt);
}

TEST(jwt_auth, expired_token_is_refused_after_the_leeway) {
  EXPECT_EQ(checker().check(make_token({.exp = k_now - 10}), k_now), std::nullopt) << "within the 30 s leeway";
  EXPECT_EQ(checker().check(make_token({.exp = k_now - 31}), k_now), "token expired");
}

TEST(jwt_auth, wrong_secret_is_refused) {
  EXPECT_EQ(checker().check(make_token({.secret = "another-secret-0123456789abcdef"}), k_now), "invalid token signature");
}

TEST(jwt_auth, algorithm_none_and_others_are_refused) {
  const auto none = make_token({.alg = JWT_ALG_NONE});
  ASSERT_FALSE(none.empty());
  EXPECT_EQ(checker().check(none, k_now), "token algorithm not allowed (HS256 only)");
  // alg none with a made-up signature appended, and HS384 signed with the right secret.
  EXPECT_EQ(checker().check(none + "c2lnbmF0dXJl", k_now), "token algorithm not allowed (HS256 only)");
  EXPECT_EQ(checker().check(make_token({.alg = JWT_ALG_HS384}), k_now), "token algorithm not allowed (HS256 only)");
}

TEST(jwt_auth, missing_expiry_is_refused) {
  EXPECT_EQ(checker().check(make_token({.exp = std::nullopt}), k_now), "token has no expiry (exp)");
}

TEST(jwt_auth, not_before_is_checked_when_present) {
  EXPECT_EQ(checker().check(make_token({.nbf = k_now - 5}), k_now), std::nullopt);
  EXPECT_EQ(checker().check(make_token({.nbf = k_now + 120}), k_now), "token not yet valid (nbf)");
}

TEST(jwt_auth, audience_must_match_when_configured) {
  EXPECT_EQ(checker("parley").check(make_token({.aud = "parley"}), k_now), std::nullopt);
  EXPECT_EQ(checker("parley").check(make_token({.aud = "other"}), k_now), "token audience (aud) does not match");
  EXPECT_EQ(checker("parley").check(make_token({}), k_now), "token audience (aud) does not match");
  EXPECT_EQ(checker().check(make_token({.aud = "other"}), k_now), std::nullopt) << "no audience configured";
}

TEST(jwt_auth, malformed_tokens_are_refused) {
  const auto good = make_token({});
  for (const std::string bad : {"abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.sig", "bm90IGpzb24.e30.sig"}) {
    EXPECT_EQ(checker().check(bad, k_now), "malformed token") << bad;
  }
  EXPECT_EQ(checker().check("", k_now), "missing token");
  // A valid header with a damaged payload or signature fails the signature check.
  std::string damaged = good;
  damaged[damaged.find('.') + 3] ^= 1;
  EXPECT_EQ(checker().check(damaged, k_now), "invalid token signature");
  EXPECT_EQ(checker().check(good.substr(0, good.rfind('.') + 1), k_now), "token signature missing");
}

}  // namespace
}  // namespace parley::net
