// obs/timeline — the per-turn latency timeline: where a turn's time went.
//
// Role: one `turn_timeline` per user turn. The pipeline stamps it at fixed points (`stamp`, named
// t_* as in docs/latency.md) and annotates it (ids, mode, route, flags, text, notes); the derived
// latency metrics (`metric`) are computed from the stamps on demand. It is plain data: histograms
// (histogram.hpp), traces (trace.hpp) and the waterfall (waterfall.hpp) read it.
// Threading: not synchronised. A turn's timeline belongs to its session and is touched only on the
// session strand; a stage on a worker thread takes its time_point there and passes it along with
// its event (the event's wall time), and the strand marks it.
// Ownership: a value type; copy it freely (e.g. to hand a finished turn to a trace writer).
// Units: stamps are steady-clock time_points; every derived metric is in milliseconds (double).
//
//   obs::turn_timeline tl;
//   tl.mark(obs::stamp::speech_end, ev.wall_time);    // first mark wins
//   tl.mark(obs::stamp::first_audio_out, clock.now());
//   if (auto ms = tl.value(obs::metric::ttfa)) metrics.record("ttfa", *ms);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/ids.hpp"

namespace parley::obs {

/// The points of a turn, in pipeline order. to_string() gives the t_* name.
enum class stamp : std::uint8_t {
  speech_end,       // t_speech_end: last voiced audio of the user's turn
  turn_end,         // t_turn_end: the endpointer decided the turn is over
  asr_final,        // t_asr_final: final transcript ready
  llm_request,      // t_llm_request: chat request sent
  llm_first_token,  // t_llm_first_token: first token received
  first_segment,    // t_first_segment: first speakable segment ready for TTS
  tts_request,      // t_tts_request: first segment handed to the synthesizer
  tts_first_audio,  // t_tts_first_audio: synthesizer produced its first audio
  first_audio_out,  // t_first_audio_out: first reply audio left parley (sink/client)
  reply_done,       // t_reply_done: last reply audio out, or reply ended/interrupted
  // Off the critical path (a turn without a filler leaves them empty):
  filler_start,     // t_filler_start: the filler phrase's first audio left parley
  filler_end,       // t_filler_end: its sent audio ends playing (start + the words sent, at real time)
};
inline constexpr std::size_t n_stamps = 12;
inline constexpr std::array<stamp, n_stamps> all_stamps = {
    stamp::speech_end,      stamp::turn_end,      stamp::asr_final,   stamp::llm_request,
    stamp::llm_first_token, stamp::first_segment, stamp::tts_request, stamp::tts_first_audio,
    stamp::first_audio_out, stamp::reply_done,    stamp::filler_start, stamp::filler_end};

/// "t_speech_end", "t_turn_end", ...
std::string_view to_string(stamp s);

/// The derived latencies, in milliseconds (formulas in `all_metrics` and docs/latency.md).
enum class metric : std::uint8_t {
  endpoint_delay,  // t_turn_end − t_speech_end
  asr_final,       // t_asr_final − t_turn_end
  llm_ttft,        // t_llm_first_token − t_llm_request
  llm_ttfs,        // t_first_segment − t_llm_request
  tts_ttfb,        // t_tts_first_audio − t_tts_request
  ttfa,            // t_first_audio_out − t_speech_end
  overhead,        // ttfa − (endpoint_delay + asr_final + llm_ttfs + tts_ttfb); see turn_timeline
};
inline constexpr std::size_t n_metrics = 7;

/// One row of the metric table. Every metric is the span `from` → `to`, except overhead, which is
/// that span minus the provider latencies inside it (llm_ttfs, tts_ttfb).
struct metric_info {
  metric id;
  std::string_view name;  // the metric's name in histograms, JSON and reports
  stamp from;
  stamp to;
};
inline constexpr std::array<metric_info, n_metrics> all_metrics = {{
    {metric::endpoint_delay, "endpoint_delay", stamp::speech_end, stamp::turn_end},
    {metric::asr_final, "asr_final", stamp::turn_end, stamp::asr_final},
    {metric::llm_ttft, "llm_ttft", stamp::llm_request, stamp::llm_first_token},
    {metric::llm_ttfs, "llm_ttfs", stamp::llm_request, stamp::first_segment},
    {metric::tts_ttfb, "tts_ttfb", stamp::tts_request, stamp::tts_first_audio},
    {metric::ttfa, "ttfa", stamp::speech_end, stamp::first_audio_out},
    {metric::overhead, "overhead", stamp::asr_final, stamp::first_audio_out},
}};

constexpr const metric_info& info(metric m) { return all_metrics[static_cast<std::size_t>(m)]; }

/// "endpoint_delay", "asr_final", ...
std::string_view to_string(metric m);

/// What happened on the turn's way, beyond its route.
struct turn_flags {
  bool cache_hit = false;    // the reply came from the response cache
  bool fallback = false;     // the LLM request moved to a fallback provider (failure before the first token)
  bool hedge = false;        // a hedged (duplicate) request was sent
  bool filler = false;       // a filler phrase was played while waiting (stamps t_filler_*)
  bool interrupted = false;  // the user barged in before the reply finished
  bool failed = false;       // a provider failed (recognizer, LLM, synthesizer): the reply ends with the apology
};

/// A free-form (name, value) annotation, e.g. {"budget_breach", "llm_ttft"}.
struct note {
  std::string name;
  std::variant<double, std::string> value;
};

/// Names of the notes the pipeline writes (docs/latency.md §1 lists them with their values).
namespace note_name {
inline constexpr std::string_view budget_breach = "budget_breach";  // the stage: "llm_ttft", "tool_call", ...
inline constexpr std::string_view filler = "filler";                // the phrase played
inline constexpr std::string_view filler_words = "filler_words";    // words of it played (number)
inline constexpr std::string_view filler_cut = "filler_cut";        // why it stopped early: "reply", "interrupted", "ended"
inline constexpr std::string_view filler_overhang_ms = "filler_overhang_ms";  // t_filler_end − t_first_audio_out, when > 0
inline constexpr std::string_view llm_provider = "llm_provider";    // the provider whose reply was kept
inline constexpr std::string_view hedge_to = "hedge_to";            // the provider a hedge request went to
inline constexpr std::string_view hedge_won = "hedge_won";          // 1 when the hedge's reply was kept, else 0
inline constexpr std::string_view hedge_denied = "hedge_denied";    // 1: a hedge was due, the hedge budget was spent
inline constexpr std::string_view fallback_to = "fallback_to";      // the provider a failed request moved to
inline constexpr std::string_view tool_call = "tool_call";          // a tool the model called
inline constexpr std::string_view tool_ms = "tool_ms";              // how long the model's tool calls of one round ran (ms)
inline constexpr std::string_view asr_cleaned = "asr_cleaned_snr_db";  // the recognizer heard cleaned audio: the input SNR that decided
inline constexpr std::string_view asr_confidence = "asr_confidence";  // the recognizer's confidence in the transcript (0..1)
inline constexpr std::string_view heard_ms = "heard_ms";            // interrupted: reply audio the listener heard (fillers included)
inline constexpr std::string_view interrupt_reason = "interrupt_reason";  // interrupted: "barge_in", "new_turn", "client", ...
inline constexpr std::string_view turn_end_rule = "turn_end_rule";  // content-aware endpointing: the rule that set the silence
inline constexpr std::string_view turn_end_silence_ms = "turn_end_silence_ms";  // ... and that silence (ms)
inline constexpr std::string_view merged_with = "merged_with";      // this turn continues turn N (merged turns): N
inline constexpr std::string_view merged_heard_ms = "merged_heard_ms";  // ... whose withdrawn reply had been heard this long (ms)
inline constexpr std::string_view preempted_ms = "preempted_ms";  // a preemptive reply was released: it started this long before the final transcript (ms)
inline constexpr std::string_view resumed_after_ms = "resumed_after_ms";  // a false interruption: the cut reply resumed this long after the cut (ms)
inline constexpr std::string_view reply_capped = "reply_capped";    // the model's stream was stopped at the reply length cap: the text's length
inline constexpr std::string_view failure = "failure";              // failed: the first error, "<what>: <message>"
inline constexpr std::string_view apology = "apology";              // failed: "clip" (pre-synthesized) or "synthesized"
}  // namespace note_name

/// The timeline of one turn: stamps plus annotations.
class turn_timeline {
 public:
  // --- annotations (plain data) ---
  session_id session;
  turn_id turn;
  generation_id generation;
  std::string mode;   // "streaming" or "sequential"
  std::string route;  // e.g. "llm", "intent", "cache"
  turn_flags flags;
  std::string transcript;             // what the user said (final transcript)
  std::string reply;                  // what parley said (the text actually spoken, if interrupted)
  std::size_t n_segments = 0;         // text segments sent to TTS
  std::int64_t n_output_samples = 0;  // reply audio samples sent out
  int output_rate_hz = 0;             // rate of those samples; 0 = unknown
  std::vector<note> notes;

  void add_note(std::string_view name, std::variant<double, std::string> value) {
    notes.push_back({std::string(name), std::move(value)});
  }
  /// Whether a note named `name` (with value `value`, when given) exists.
  bool has_note(std::string_view name, std::optional<std::variant<double, std::string>> value = std::nullopt) const;
  /// The value of the first numeric note named `name`, if any.
  std::optional<double> note_number(std::string_view name) const;
  /// The value of the first text note named `name`, if any (valid while the notes are unchanged).
  const std::string* note_text(std::string_view name) const;

  /// Whether an LLM answered: the route is "llm", "local_llm" or "cloud_llm". (A local handler
  /// stamps an LLM request and first token too, but they are one instant, not a model's latency.)
  bool answered_by_llm() const { return route.ends_with("llm"); }

  /// Reply audio duration from n_output_samples; absent when the rate is unknown.
  std::optional<double> reply_audio_ms() const;

  // --- stamps ---
  /// Records `t` unless `s` is already stamped (first mark wins). Returns whether it recorded.
  bool mark(stamp s, time_point t);
  /// Records `t`, replacing any earlier stamp: for a caller that knows a truer value.
  void set(stamp s, time_point t) { stamps_[index(s)] = t; }
  void clear(stamp s) { stamps_[index(s)].reset(); }
  std::optional<time_point> at(stamp s) const { return stamps_[index(s)]; }
  bool has(stamp s) const { return stamps_[index(s)].has_value(); }

  /// The zero of relative times (traces, waterfall): t_speech_end, else the earliest stamp (the
  /// first in pipeline order on a tie); absent when nothing is stamped.
  std::optional<stamp> origin_stamp() const;
  std::optional<time_point> origin() const;

  // --- derived metrics (ms) ---
  /// `to − from`; absent unless both are stamped. Negative if stamped out of order.
  std::optional<double> span_ms(stamp from, stamp to) const;
  /// A derived metric; absent when a stamp it needs is missing.
  ///
  /// overhead = ttfa − (endpoint_delay + asr_final + llm_ttfs + tts_ttfb): the time parley adds on
  /// the critical path. It needs t_speech_end, t_turn_end, t_asr_final and t_first_audio_out. A
  /// skipped provider stage (both of its stamps absent, e.g. a cache hit with no LLM/TTS) counts
  /// as 0; a half-stamped one (start without first output) makes overhead absent. With monotonic
  /// stamps it equals (t_llm_request − t_asr_final) + (t_tts_request − t_first_segment) +
  /// (t_first_audio_out − t_tts_first_audio) and so is ≥ 0; inconsistent stamps are reported as
  /// they are (possibly negative), never clamped.
  std::optional<double> value(metric m) const;

 private:
  static constexpr std::size_t index(stamp s) { return static_cast<std::size_t>(s); }
  std::optional<duration> span(stamp from, stamp to) const;
  std::optional<duration> overhead() const;

  std::array<std::optional<time_point>, n_stamps> stamps_{};
};

}  // namespace parley::obs
