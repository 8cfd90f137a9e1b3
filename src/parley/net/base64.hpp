// net/base64 — standard base64 (RFC 4648 §4, with padding) for audio carried in JSON: telephone
// media streams, the Realtime protocol's audio events, the speech endpoint's server-sent events.
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::net {

/// The bytes of `in`, or nullopt when it is not a multiple of 4 characters or holds a character
/// outside the alphabet.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view in);
std::string base64_encode(std::span<const std::uint8_t> in);
std::string base64_encode(std::string_view in);

}  // namespace parley::net
