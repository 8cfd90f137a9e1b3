// engine/synthesizer — the text-to-speech (TTS) interface.
//
// Role: turns one segment of speakable text into PCM16 mono audio, streaming chunk by chunk.
// Threading: a synthesizer is shared by all sessions; synthesize() may be called from any thread
// and returns at once. Callbacks may run on any thread, never concurrently for one request, and
// must not block.
// Cancellation: when `stop` is requested the synthesizer stops within one chunk and calls on_done
// with errc::cancelled. on_done is called exactly once, after the last on_audio.
// Units: audio at caps().sample_rate_hz, mono, PCM16.
//
//   tts.synthesize("Hello there.", {.on_audio = [](std::span<const std::int16_t> pcm) { ... },
//                                   .on_done = [](status s) { ... }}, stop.get_token());
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>

#include "parley/core/error.hpp"

namespace parley::engine {

struct synthesizer_caps {
  int sample_rate_hz = 16000;  // rate of the audio it delivers
  bool streaming = true;       // delivers audio chunk by chunk while synthesizing
};

struct synthesizer_events {
  std::function<void(std::span<const std::int16_t> pcm)> on_audio;
  std::function<void(status done)> on_done;
};

class synthesizer {
 public:
  virtual ~synthesizer() = default;
  virtual std::string name() const = 0;
  virtual synthesizer_caps caps() const = 0;
  virtual void synthesize(std::string text, synthesizer_events events, std::stop_token stop) = 0;
  /// A session is starting: open now what its first reply will need (a provider's connection),
  /// without blocking. Any thread; the default does nothing.
  virtual void prepare() {}
};

}  // namespace parley::engine
