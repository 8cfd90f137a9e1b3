// Shared fixtures for the obs tests.
#pragma once

#include "parley/core/clock.hpp"
#include "parley/obs/timeline.hpp"

namespace parley::obs::test {

/// A streaming LLM turn with every stamp, driven by `clock` (which it advances):
/// endpoint 300, asr 40, gap 0.5, ttft 150, ttfs 260, gap 0.2, ttfb 120, gap 0.3 → ttfa 721,
/// overhead 1.0, then 2 s of reply audio.
inline turn_timeline full_turn(manual_clock& clock) {
  turn_timeline t;
  t.session.value = 1;
  t.turn.value = 3;
  t.generation.value = 4;
  t.mode = "streaming";
  t.route = "llm";
  const auto step = [&](double ms, stamp s) {
    clock.advance_ms(ms);
    t.mark(s, clock.now());
  };
  step(0, stamp::speech_end);
  step(300, stamp::turn_end);
  step(40, stamp::asr_final);
  step(0.5, stamp::llm_request);
  step(150, stamp::llm_first_token);
  step(110, stamp::first_segment);
  step(0.2, stamp::tts_request);
  step(120, stamp::tts_first_audio);
  step(0.3, stamp::first_audio_out);
  step(2000, stamp::reply_done);
  return t;
}

}  // namespace parley::obs::test
