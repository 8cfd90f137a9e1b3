// agent/turn_end — content-aware endpointing: how much silence ends the turn, given what was said.
//
// Role: a pure, synchronous policy (the "functional core", DESIGN §5). The silence that ends a
// turn depends on the words so far: a request that is complete ("what time is it", "stop", a full
// FAQ question) ends after a short silence; one that is unfinished (it ends on "and", "to", "my",
// "the", "is", "tell me", "um", or digits still being read: "the number is five two") waits
// longer; anything else waits a default silence; nothing waits beyond a hard cap.
// Inputs: the latest partial transcript (recogniser output: lower-case words, numbers spelled
// out; typed text with punctuation and numerals works too), optionally the local responder's
// confidence that the text is a complete request it can answer (engine::responder_answer::
// confidence, in [0, 1]), and the silence since the end of speech. The rules are in
// classify_ending(); their vocabulary lives in one table in turn_end.cpp. Precedence: an
// unfinished ending wins over the responder ("set a timer for ten minutes and" waits), then a
// complete text rule or a confident responder, then the default.
// The thresholds are chosen from bench/turns (parley_turn_end_sim over the dev split of the
// turn-taking corpus, never the test split); see bench/turns/README.md for the table behind them.
// The policy judges only the words it has: with a partial every 200 ms of audio, the last word
// said before a pause may reach the text ~60-260 ms later, and until then "how much is fifteen
// [plus]" reads as complete. The presets were measured with that cadence (bench/turns/README.md).
// Threading: stateless and const; a policy may be shared by any number of sessions and threads.
// Ownership: a small value (its config); nothing is kept between calls.
// Cost: one decision tokenises the text once (microseconds; bench/turns/README.md has the number).
// Units: milliseconds of silence, measured by the caller from the (estimated) true end of speech.
// Cancellation: nothing to cancel; the caller re-decides on every new partial and re-arms its
// one timer at the returned required_silence_ms (the policy never looks at a clock).
//
//   turn_end_policy policy(turn_end_config::preset(turn_taking::conversational));
//   auto d = policy.decide("set a timer for", std::nullopt, 300.0);
//   // d.ended == false, d.ending == text_ending::unfinished, d.reason == "preposition"
//   // arm the turn timer at t_speech_end + d.required_silence_ms; on a new partial, decide again:
//   d = policy.decide("what time is it", 0.95, 300.0);   // d.ended == true (complete, responder)
#pragma once

#include <optional>
#include <string_view>

#include "parley/core/error.hpp"

namespace parley::agent {

/// The three presets: how long the assistant lets a person pause.
enum class turn_taking {
  quick,           // shortest replies; a long mid-sentence pause may end the turn
  conversational,  // the default trade-off
  patient,         // waits through long pauses (dictation, hesitant speakers)
};

std::string_view to_string(turn_taking preset);
/// "quick" | "conversational" | "patient" (case-insensitive, surrounding blanks ignored);
/// errc::invalid_argument naming the choices otherwise.
result<turn_taking> parse_turn_taking(std::string_view name);

struct turn_end_config {
  double complete_silence_ms = 200.0;    // the text is a complete request (text rule or responder)
  double default_silence_ms = 350.0;     // nothing known either way (also: no text yet)
  double unfinished_silence_ms = 1000.0; // the text ends on a word that needs more
  double max_silence_ms = 2000.0;        // hard cap: no text makes a turn wait longer than this
  /// Responder confidence at or above which the text counts as a complete request.
  double p_complete_threshold = 0.8;
  /// Merged turns (used by the session, agent/session.hpp): speech that resumes within this long
  /// after a turn's endpoint (media time, endpoint → the new speech onset) continues that turn, as
  /// long as its reply has been heard for at most merge_max_heard_ms: the reply is withdrawn and the
  /// two utterances are answered as one. 0: never merged.
  double merge_window_ms = 1000.0;
  double merge_max_heard_ms = 600.0;
  /// Preemptive replies (used by the session): once the speech has been followed by this much
  /// silence and the words so far do not end unfinished, the reply to them is started (route, LLM,
  /// synthesis) and held; when the turn ends with the same words it is released at once, otherwise
  /// discarded. Only where no action runs (no intent with side effects, no tool). 0: never.
  double preempt_after_ms = 150.0;

  /// The measured settings of a preset (bench/turns/README.md); the defaults above are
  /// `conversational`'s.
  static turn_end_config preset(turn_taking preset);
};

/// Every silence finite and > 0, the threshold in [0, 1], the merge settings finite and >= 0, and
/// complete <= default <= unfinished <= max; errc::invalid_argument naming the field otherwise.
status validate(const turn_end_config& config);

/// How the text so far ends.
enum class text_ending {
  empty,       // no words yet
  neutral,     // no rule says either way
  complete,    // a complete request
  unfinished,  // ends on a word that needs more
};

/// Whether `text` (a final transcript) is only a backchannel or a filler — "uh-huh", "mm hmm",
/// "yeah", "okay", "right", "i see", "um" (repeats allowed) — and not a request: said over a reply,
/// it does not stop it for good (the session resumes the reply, barge_in_config::resume_within_ms).
/// "yes", "no", "stop" and "wait" are answers or commands, never backchannels.
bool is_backchannel(std::string_view text);

std::string_view to_string(text_ending ending);

struct ending_analysis {
  text_ending ending = text_ending::empty;
  /// The rule that decided, a static string: "conjunction", "preposition", "article",
  /// "possessive", "auxiliary", "modal_subject", "wh_word", "verb_object", "verb_me", "phrase",
  /// "operator", "digits", "filler", "subject", "subordinate", "control", "politeness"; "" for
  /// empty/neutral.
  std::string_view rule;
};

/// The text rules alone (no responder, no thresholds).
ending_analysis classify_ending(std::string_view text);

struct turn_end_decision {
  bool ended = false;                  // silence_ms >= required_silence_ms
  double required_silence_ms = 0.0;    // silence this text needs (already capped at max_silence_ms)
  text_ending ending = text_ending::empty;  // after combining the text rules with the responder
  std::string_view reason;             // the text rule, "responder", or "" (static string)
};

class turn_end_policy {
 public:
  explicit turn_end_policy(turn_end_config config = turn_end_config::preset(turn_taking::conversational));

  /// `p_complete`: the responder's confidence (nullopt or NaN: no responder); `silence_ms`: the
  /// silence so far since the end of speech (negative counts as 0).
  turn_end_decision decide(std::string_view partial_text, std::optional<double> p_complete,
                           double silence_ms) const;
  /// The silence this text needs (decide() without the comparison).
  double required_silence_ms(std::string_view partial_text, std::optional<double> p_complete) const {
    return decide(partial_text, p_complete, 0.0).required_silence_ms;
  }

  const turn_end_config& config() const { return config_; }

 private:
  turn_end_config config_;
};

}  // namespace parley::agent
