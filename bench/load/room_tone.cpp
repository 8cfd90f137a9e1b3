// The load client's room tone (see room_tone.hpp).
#include "bench/load/room_tone.hpp"

#include <algorithm>
#include <array>

namespace parley::load {

media_time room_samples_before(double speech_start_ms, media_time n_samples) {
  const media_time before = std::min(ms_to_samples(std::max(0.0, speech_start_ms - 50.0)), n_samples);
  return before / k_frame_samples * k_frame_samples;
}

std::span<const std::int16_t> next_room_tone_frame(std::span<const std::int16_t> room, media_time& pos) {
  static const std::array<std::int16_t, k_frame_samples> zeros{};
  const auto whole = static_cast<media_time>(room.size()) / k_frame_samples * k_frame_samples;
  if (whole == 0) return zeros;
  if (pos < 0 || pos + k_frame_samples > whole) pos = 0;
  const auto frame = room.subspan(static_cast<std::size_t>(pos), static_cast<std::size_t>(k_frame_samples));
  pos += k_frame_samples;
  return frame;
}

}  // namespace parley::load
