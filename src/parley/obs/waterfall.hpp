// obs/waterfall — terminal pictures of latency: one turn's waterfall and a percentile table.
//
// Role: render_waterfall() draws a turn's critical path as bars on one time axis starting at
// t_speech_end (or the earliest stamp), so the eye sees where the time to first audio went;
// render_summary_table() prints a metric_set's percentiles. Meant for `parley run` and
// `parley bench`. How to read them: docs/latency.md.
// Threading: pure functions. Output: UTF-8 text ending in '\n'; with color, ANSI SGR sequences.
// Units: milliseconds.
//
//   std::cout << obs::render_waterfall(timeline, {.width = 72, .color = isatty(1)});
//
//   turn 3 · streaming · llm
//   endpoint        ██████████████                        300 ms
//   asr                           ██                     40.0 ms
//   llm→first seg                   ▒▒▒▒▒▒▒█████          260 ms
//   tts first audio                             ██████    120 ms
//   out                                              ▏   0.30 ms
//                   0 ms                        721 ms
//   ttfa 721 ms · overhead 1.0 ms · llm ttft 150 ms
#pragma once

#include <string>

#include "parley/obs/histogram.hpp"
#include "parley/obs/timeline.hpp"

namespace parley::obs {

struct waterfall_options {
  int width = 60;      // total line width in terminal columns (code points); at least 40 is used
  bool color = false;  // ANSI colors
};

/// The turn's waterfall. Rows: endpoint (t_speech_end → t_turn_end), asr (→ t_asr_final),
/// llm→first seg (t_llm_request → t_first_segment; ▒ until t_llm_first_token, then █),
/// tts first audio (t_tts_request → t_tts_first_audio), out (the last of t_tts_first_audio,
/// t_first_segment, t_asr_final → t_first_audio_out). A row whose stamps are missing shows "—".
/// A turn that played a filler gets one more row, `filler` (t_filler_start → t_filler_end, ░).
std::string render_waterfall(const turn_timeline& t, const waterfall_options& options = {});

/// An aligned table, one row per histogram: metric, n, p50, p90, p95, p99, mean (ms).
std::string render_summary_table(const metric_set& metrics);

}  // namespace parley::obs
