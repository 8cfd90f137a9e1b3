// agent/budget — per-stage latency budgets of a turn, and when a filler phrase is due.
//
// Role: the decision logic behind "when the LLM has not answered within its budget, say 'One
// moment.'" (DESIGN §5: plain synchronous code fed with timestamps, so it is tested with a manual
// clock; agent/session only wires it to a timer). A `budget_watch` follows one reply: the session
// tells it when the LLM request was sent, when the first token came, when tool calls start and
// end, and when the reply's first audio left; it answers when it next needs to be woken and, when
// polled, which budgets were breached (each at most once per reply) and whether to play a filler
// for the breach. Budgets of the other stages (ASR finalisation, TTS first audio, TTFA) cannot be
// helped by a filler; `finished_breaches()` checks them once the turn's timeline is complete.
// Exact definitions of every budget: docs/latency.md §8.
// Threading: not synchronised; one watch per reply, used on the session strand.
// Units: milliseconds (`_ms`), steady-clock time_points.
//
//   budget_watch w(options.budgets, options.fillers);
//   w.llm_requested(t);                                   // arm
//   if (auto t_wake = w.next_deadline()) timer.expires_at(*t_wake);
//   for (auto& b : w.poll(clock.now())) { note(b.stage); if (b.filler) play(*b.filler); }
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/obs/timeline.hpp"

namespace parley::agent {

/// Budgets per stage, in ms; 0 turns a budget off.
struct latency_budgets {
  /// t_llm_request → t_llm_first_token (the llm_ttft metric). Breached while waiting: a filler.
  double llm_ttft_ms = 800.0;
  /// One tool call of the model, from its start (the chat model reports it) to its result.
  /// Breached while the call runs and no reply audio has left: a filler ("Let me check.").
  double tool_call_ms = 1500.0;
  /// Checked when the turn completes (a filler cannot help these): the asr_final, tts_ttfb and
  /// ttfa metrics. Off by default.
  double asr_final_ms = 0.0;
  double tts_ttfb_ms = 0.0;
  double ttfa_ms = 0.0;
};

/// Whether and how fillers play (the phrases themselves are in agent/filler.hpp's filler_bank).
struct filler_policy {
  bool enabled = true;
  /// Fillers per reply. One: a second "One moment." a second later sounds like a stuck machine,
  /// and the breach is in the timeline either way.
  std::size_t max_per_reply = 1;
  /// How long before the word being heard ends the next word is sent (playout stays gapless
  /// while the client buffers at most this much beyond the current word).
  double lead_ms = 60.0;
};

/// Checks a budgets struct: every value finite and ≥ 0, lead_ms ≥ 0.
status validate(const latency_budgets& budgets, const filler_policy& fillers);

enum class filler_kind {
  waiting,  // the LLM is slow to start ("One moment.")
  tool,     // a tool call is running ("Let me check.")
};
std::string_view to_string(filler_kind kind);

/// One budget exceeded. `stage` names the budget as the timeline notes it ("llm_ttft",
/// "tool_call", "asr_final", "tts_ttfb", "ttfa"). `filler`: the filler to play for it, if any.
struct budget_breach {
  std::string_view stage;
  time_point t_deadline{};  // when the budget ran out
  std::optional<filler_kind> filler;
};

class budget_watch {
 public:
  budget_watch(latency_budgets budgets, filler_policy fillers) : budgets_(budgets), fillers_(fillers) {}

  /// The chat request was sent: the llm_ttft budget runs from `t`.
  void llm_requested(time_point t);
  /// The first token arrived: the llm_ttft budget is met (poll(t) first, to catch a late one).
  void first_token();
  /// A tool call started / ended. Calls may nest or overlap (a hedged request): the tool budget
  /// runs from the start of the oldest call still running.
  void tool_started(time_point t);
  void tool_finished();
  /// The reply's first audio left: no filler from now on (budgets are still noted).
  void reply_audio_started();
  /// A filler started for another reason (counts towards max_per_reply).
  void filler_played() { ++n_fillers_; }

  /// The earliest deadline still armed; nullopt when nothing can breach any more.
  std::optional<time_point> next_deadline() const;
  /// The budgets whose deadline is ≤ now (each once), oldest first, with their filler decisions.
  std::vector<budget_breach> poll(time_point now);

  std::size_t n_fillers() const { return n_fillers_; }
  bool waiting_for_first_token() const { return t_llm_request_.has_value() && !first_token_; }
  bool tool_running() const { return n_tools_running_ > 0; }

 private:
  std::optional<filler_kind> decide_filler(filler_kind kind);

  latency_budgets budgets_;
  filler_policy fillers_;
  std::optional<time_point> t_llm_request_;
  bool first_token_ = false;
  bool llm_breached_ = false;
  std::optional<time_point> t_tool_start_;
  std::size_t n_tools_running_ = 0;
  bool tool_breached_ = false;
  bool audio_started_ = false;
  std::size_t n_fillers_ = 0;
};

/// The stages of a finished turn over their budget, checked from its metrics: asr_final,
/// tts_ttfb and ttfa (llm_ttft and tool_call are watched live by budget_watch). Stages already
/// noted as breached in `t` are not repeated.
std::vector<std::string_view> finished_breaches(const latency_budgets& budgets, const obs::turn_timeline& t);

}  // namespace parley::agent
