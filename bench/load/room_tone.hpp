// bench/load/room_tone — what the load client streams between turns: the room tone of a clip.
//
// Role: an open microphone keeps sending the room's background between turns; the load client
// sends the clip's own audio before its speech (the noise of its recording condition), looped in
// whole 20 ms frames, never a sample of the speech itself — or digital zeros without one.
// Threading: pure functions. Ownership: the frames returned view the caller's `room` (or a static
// block of zeros). Units: samples at 16 kHz, ms for the speech onset.
#pragma once

#include <cstdint>
#include <span>

#include "parley/core/clock.hpp"

namespace parley::load {

inline constexpr media_time k_frame_samples = 320;  // 20 ms at 16 kHz

/// The room tone of a clip whose speech starts at `speech_start_ms`: how many of its first samples
/// are background, i.e. all before the speech less a 50 ms margin before the onset, in whole 20 ms
/// frames (0 when that is shorter than a frame). Never more than `n_samples`.
media_time room_samples_before(double speech_start_ms, media_time n_samples);

/// The next 20 ms frame (320 samples) of the room tone `room` (a clip's first
/// room_samples_before() samples), looped: the frame at `pos`, which then moves on a frame; past
/// the last whole frame it starts again at 0. Digital zeros when `room` holds no whole frame.
std::span<const std::int16_t> next_room_tone_frame(std::span<const std::int16_t> room, media_time& pos);

}  // namespace parley::load
