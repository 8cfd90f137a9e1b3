// engine/responder — a local, deterministic answerer (intent handlers, FAQ), scored.
//
// Role: answers what a voice assistant must answer instantly without any LLM (time, timers,
// arithmetic, FAQ...). Unlike a chat_model it answers synchronously and says how sure it is, so
// a router can pass a turn on when the confidence is below its threshold.
// Threading: shared by all sessions; answer() is thread-safe and fast (microseconds, no I/O).
// Per-session state (timers) is keyed by responder_context::session.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/ids.hpp"

namespace parley::engine {

struct responder_context {
  session_id session;
  /// Speaks `text` later, unprompted, in this session (e.g. a timer firing). Callable from any
  /// thread, any time; does nothing once the session is gone. May be empty (nobody to tell).
  std::function<void(std::string text)> announce;
  /// The recognizer's confidence in the words being answered, in [0, 1]; nullopt for typed text
  /// or a recognizer that gives none. Responders ask before acting (setting a timer) on words
  /// heard with low confidence.
  std::optional<double> asr_confidence;
};

struct responder_answer {
  std::string intent;       // e.g. "time.now", "timer.set", "faq.returns"; "" when nothing matched
  double confidence = 0.0;  // in [0, 1]
  std::string reply;        // the spoken answer (plain text); may be empty when confidence is 0
};

class responder {
 public:
  virtual ~responder() = default;
  virtual std::string name() const = 0;
  virtual responder_answer answer(std::string_view user_text, const responder_context& context) = 0;
  /// Sentences typical of what this responder handles (intent phrasings, FAQ questions): the
  /// recognizer is biased towards them.
  virtual std::vector<std::string> domain_phrases() const = 0;
  /// A few requests this responder answers, written as a person would type them ("What time is
  /// it?"), to show a new user what to ask (the web page's "try asking"). None by default.
  virtual std::vector<std::string> suggestions() const { return {}; }
  /// The session ended: drop what the responder keeps for it (timers, last reply). Thread-safe.
  virtual void forget_session(session_id) {}
  /// True when answer() does no I/O and takes microseconds, so it may run on a session strand.
  virtual bool quick() const { return false; }
  /// The confidence answer() would report for `user_text` in `session`, without answering: no
  /// action runs and nothing the responder keeps changes. Content-aware endpointing asks it of
  /// every partial transcript (agent/turn_end.hpp: "is this a complete request?"). Quick
  /// responders only; none (the default): the text rules decide alone. Thread-safe.
  virtual std::optional<double> confidence(std::string_view /*user_text*/, session_id /*session*/) const {
    return std::nullopt;
  }
};

}  // namespace parley::engine
