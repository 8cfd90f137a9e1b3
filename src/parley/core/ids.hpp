// core/ids — strong ids for sessions, turns and generations.
//
// A generation is one reply attempt; its id is bumped on every new reply and on every interrupt,
// and everything produced for a reply is stamped with it (see cancel.hpp: generation_fence).
// Ids are plain values; 0 means "none".
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace parley {

template <class Tag>
struct strong_id {
  std::uint64_t value = 0;
  constexpr explicit operator bool() const { return value != 0; }
  constexpr auto operator<=>(const strong_id&) const = default;
  std::string str() const { return std::to_string(value); }
};

using session_id = strong_id<struct session_tag>;
using turn_id = strong_id<struct turn_tag>;
using generation_id = strong_id<struct generation_tag>;

}  // namespace parley

template <class Tag>
struct std::hash<parley::strong_id<Tag>> {
  std::size_t operator()(const parley::strong_id<Tag>& id) const noexcept {
    return std::hash<std::uint64_t>{}(id.value);
  }
};
