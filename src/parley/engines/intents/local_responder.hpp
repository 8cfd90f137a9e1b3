// engines/intents/local_responder — answers a voice assistant must give instantly, without an LLM.
//
// Role: an engine::responder with deterministic handlers — time, date and weekday, timers (set,
// cancel, list; a timer fires as speech through responder_context::announce), arithmetic, unit
// conversions, greetings/thanks/goodbye, help, stop/cancel/repeat, yes/no — plus a FAQ knowledge
// file matched by meaning (faq.hpp). Input is recogniser output: lower-case words, numbers
// spelled out ("what is twelve times eight"); typed text works too.
//
// Confidence (responder_answer::confidence, in [0, 1]; 0.5 is the decision boundary: a router
// answers locally at ≥ 0.5 and passes the turn on below it):
//  * intents: confidence = base × c_content × (0.75 + 0.25 × c_function), where
//    - base is the handler's certainty when its pattern matches with every slot filled: 0.95 for
//      time/date/timers/arithmetic/conversions, 0.9 for social phrases and stop/repeat, 0.85 for
//      cancel and help, 0.75 for yes/no (their meaning depends on what was asked); a pattern with
//      a missing or unreadable slot ("set a timer" with no duration, "what is twelve times")
//      gets a lower base (0.6–0.8) and a reply that asks for the missing part;
//    - c_content is the share of the utterance's content words the interpretation explains (cue
//      words, slot values, the handler's vocabulary, politeness fillers), and c_function the
//      same for function words ("the", "is", "what"). An unexplained content word is evidence
//      the user meant something else: "what time do you open" explains "time" but not "open",
//      so c_content = 1/2 and time.now scores 0.475, below the FAQ's opening-hours answer.
//  * FAQ: the match score s (faq.hpp: cosine similarity of the best variant, lowered when
//    another entry is nearly as close) is calibrated so that s = faq_threshold maps to 0.5:
//    confidence = 0.5 · s / t below t, and 0.5 + 0.5 · (s − t) / (1 − t) above it.
//  * the answer is the interpretation with the highest confidence (intents win ties), except
//    that a handler explaining every content word with confidence ≥ 0.5 (a complete parse:
//    "cancel", "what day is it") is preferred to a FAQ similarity match. When
//    nothing matches, intent is "", confidence 0 and reply "". Below 0.5 the answer still names
//    its best guess (intent and reply), for logs and routers that want it.
// Side effects (setting or cancelling a timer) happen only at ≥ min_action_confidence, and for
// spoken words only at a recognizer confidence ≥ min_asr_confidence; a timer request below either
// is answered with a question and nothing is changed ("yes" then sets the timer asked about).
//
// Per-session state (keyed by responder_context::session): timers, the last reply (for
// "repeat that"), the last intent (so a bare "cancel" right after setting a timer cancels it) and a
// pending question ("For how long?"). The last reply is recorded for confident answers other than
// control and yes/no; call remember_reply() with what was actually spoken when another responder
// (an LLM) answered, so "repeat that" repeats it. forget_session() drops it all and cancels the
// session's timers; at most max_sessions sessions are kept (the least recently used session
// without timers is forgotten first).
//
// Threading: answer(), remember_reply() and forget_session() are thread-safe (one internal mutex
// around session state, held for microseconds; FAQ matching runs outside it). Timers wait on
// asio steady_timers on a strand of `executor`; when one fires, announce() is called on that
// executor's thread, outside the lock. With no executor, timers are refused politely.
// Timer times: the time left ("timer.list") is measured with `clk` (so a manual clock makes it
// deterministic); the firing itself follows the real steady clock.
// Lifetime: the destructor cancels every timer; a timer firing after it does nothing.
//
//   auto r = local_responder::create({.faq_path = "data/faq/store.json", .executor = io.get_executor()});
//   auto a = (*r)->answer("set a timer for five minutes", {session, [](std::string t) { say(t); }});
//   // a.intent == "timer.set", a.confidence == 0.95, a.reply == "Okay, timer set for 5 minutes."
//   // ...five minutes later, on the executor: announce("Your 5 minute timer is done.")
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/engine/responder.hpp"
#include "parley/engines/intents/faq.hpp"
#include "parley/engines/intents/time_of_day.hpp"

namespace parley::intents {

/// The FAQ score that maps to confidence 0.5, measured on the labelled questions of
/// tests/engines/intents_test.cpp (89 paraphrases of the store FAQ, 50 off-topic questions):
/// hit rate − false-hit rate is best (0.946: 86/89 hits, 1/50 false hits, no wrong entry) on the
/// plateau 0.41–0.45; 0.43 is its middle.
inline constexpr double k_default_faq_threshold = 0.43;
// Chosen on the dev voices (flite slt, rms) of the corpus, one fresh recognizer per file: below
// 0.05 are 68 % of the wrong transcripts and 16 % of the right ones (held-out awb and espeak-ng:
// 61 % and 25 %). docs/benchmarks.md, "Recognizer confidence".
inline constexpr double k_default_min_asr_confidence = 0.05;

struct local_responder_config {
  std::string faq_path;                        // a FAQ file (data/README.md); "" = no FAQ
  boost::asio::any_io_executor executor;       // runs the timers; empty = timers unavailable
  const clock* clk = nullptr;                  // steady time for "time left"; nullptr = steady clock
  const time_of_day_source* time_of_day = nullptr;  // wall clock; nullptr = system time in `timezone`
  std::string timezone;                        // "" = local zone, or a fixed offset ("UTC+02:00")
  double faq_threshold = k_default_faq_threshold;   // FAQ score that maps to confidence 0.5
  double min_action_confidence = 0.5;          // below it, timers are not set or cancelled
  /// Below this recognizer confidence in the words (responder_context::asr_confidence), a timer
  /// is not set or cancelled either: the responder asks ("Did you want me to set a timer for
  /// five minutes?") and "yes" sets it. Typed text has no recognizer confidence and is acted on.
  double min_asr_confidence = k_default_min_asr_confidence;
  bool use_24_hour_clock = false;              // "15:05" instead of "3:05 PM"
  std::size_t max_timers_per_session = 10;
  std::chrono::seconds max_timer_duration = std::chrono::hours(24);
  std::size_t max_sessions = 10000;            // per-session state kept (see above)
  /// The built-in intents: time, date, timers, sums and unit conversions. Off (an assistant that is
  /// not a general helper, e.g. a restaurant line): only the FAQ and the conversational basics
  /// (greetings, thanks, stop, repeat, yes/no, "what can you do") answer locally.
  bool builtin_intents = true;
};

/// One running timer, as listed by timers().
struct timer_info {
  std::uint64_t id = 0;
  std::string name;                   // "" when unnamed
  std::chrono::seconds duration{0};   // as set
  std::chrono::milliseconds left{0};  // measured with the config's clk
};

class local_responder final : public engine::responder {
 public:
  /// Fails when the FAQ file cannot be loaded or the time zone is not supported.
  static result<std::shared_ptr<local_responder>> create(local_responder_config config);
  ~local_responder() override;
  local_responder(const local_responder&) = delete;
  local_responder& operator=(const local_responder&) = delete;

  std::string name() const override { return "local"; }
  engine::responder_answer answer(std::string_view user_text, const engine::responder_context& context) override;
  std::vector<std::string> domain_phrases() const override;
  /// Four of the built-in intents, then the first question of up to four FAQ entries.
  std::vector<std::string> suggestions() const override;

  /// Records what was actually said to the user in `session` (for "repeat that").
  void remember_reply(session_id session, std::string reply);
  /// Cancels the session's timers and forgets everything about it.
  void forget_session(session_id session) override;
  bool quick() const override { return true; }  // rules and an in-memory FAQ index: microseconds
  std::optional<double> confidence(std::string_view user_text, session_id session) const override;
  /// The session's running timers, soonest first.
  std::vector<timer_info> timers(session_id session) const;
  /// The loaded FAQ, or nullptr.
  const faq_index* faq() const;

 private:
  struct state;  // sessions, timers, FAQ; shared (weakly) with pending timer handlers
  explicit local_responder(std::shared_ptr<state> s);
  std::shared_ptr<state> state_;
};

}  // namespace parley::intents
