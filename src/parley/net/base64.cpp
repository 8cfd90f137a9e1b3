// net/base64 — implementation on Beast's codec. See base64.hpp.
#include "parley/net/base64.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace parley::net {

namespace base64 = boost::beast::detail::base64;

// (Beast's decoder writes a partial last group beyond decoded_size(): the length check keeps it
// inside the buffer.)
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < in.size() && in[in.size() - 1 - padding] == '=') ++padding;
  std::vector<std::uint8_t> out(base64::decoded_size(in.size()));
  const auto [written, read] = base64::decode(out.data(), in.data(), in.size() - padding);
  if (read != in.size() - padding) return std::nullopt;
  out.resize(written);
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> in) {
  std::string out(base64::encoded_size(in.size()), '\0');
  out.resize(base64::encode(out.data(), in.data(), in.size()));
  return out;
}

std::string base64_encode(std::string_view in) {
  return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(in.data()), in.size()));
}

}  // namespace parley::net
