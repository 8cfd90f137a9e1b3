// engines/intents/responder_state — the local responder's per-session state and the answers it
// weighs (internal to engines/intents).
//
// Role: local_responder.cpp keeps sessions and timers and picks an answer; interpret.cpp turns
// one utterance into scored candidates (time, date, timers, sums, conversions, control, social)
// without touching any state. Threading: interpret() is a pure function of its arguments; the
// session state is guarded by the responder's mutex (local_responder.cpp). Ownership: timers are
// shared between the session and their pending asio handlers.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/engines/intents/faq.hpp"
#include "parley/engines/intents/local_responder.hpp"
#include "parley/engines/intents/rules.hpp"
#include "parley/engines/intents/time_of_day.hpp"

namespace parley::intents::detail {

struct timer_entry {
  std::uint64_t id = 0;
  std::string name;                  // "" when unnamed
  std::chrono::seconds duration{0};
  time_point deadline{};             // on the config's clk, for "time left"
  std::function<void(std::string)> announce;
  // Touched only on the responder's strand:
  std::unique_ptr<boost::asio::steady_timer> timer;
  bool cancelled = false;
};

enum class action { none, timer_set, timer_cancel, timer_list };
// confirm: "Did you want me to set a timer for …?" (or cancel one) was asked; "yes" does it.
enum class pending_kind { none, timer_duration, timer_which, confirm };

struct session_state {
  std::vector<std::shared_ptr<timer_entry>> timers;  // soonest first
  std::string last_reply;
  std::string last_intent;
  pending_kind pending = pending_kind::none;
  std::string pending_name;
  // confirm: the action asked about (its timer: duration, name, all)
  action pending_act = action::none;
  std::optional<std::chrono::seconds> pending_duration;
  bool pending_all = false;
  bool timer_fired = false;  // a timer went off since the last answer
  std::uint64_t last_used = 0;
};

struct candidate {
  std::string intent;
  double confidence = 0.0;
  std::string reply;
  action act = action::none;
  std::optional<std::chrono::seconds> duration;  // timer.set: the duration; cancel/list: which timer
  std::string timer_name;
  bool all = false;
  bool record = true;  // becomes the session's last reply (for "repeat")
  bool complete_parse = false;  // every content word explained (set by interpreter::push)
  pending_kind next_pending = pending_kind::none;
};

/// Every interpretation of `u` with a confidence above zero (see local_responder.hpp,
/// "Confidence"), given the session's state, the FAQ (nullptr: none) and the wall-clock time.
std::vector<candidate> interpret(const utterance& u, const session_state& s, const local_responder_config& config,
                                 const faq_index* faq, const civil_time& now);

}  // namespace parley::intents::detail
