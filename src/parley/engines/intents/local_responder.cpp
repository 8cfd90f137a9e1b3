#include "parley/engines/intents/local_responder.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "parley/core/log.hpp"
#include "parley/engines/intents/rules.hpp"
#include "parley/engines/intents/spoken_numbers.hpp"
#include "parley/engines/intents/units.hpp"
#include "parley/engines/intents/words.hpp"

namespace parley::intents {

using detail::evidence;
using detail::utterance;

namespace {

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

std::string timer_label(const timer_entry& t) {
  return (t.name.empty() ? detail::describe_duration_adjective(t.duration) : t.name) + " timer";
}

enum class pending_kind { none, timer_duration, timer_which };

struct session_state {
  std::vector<std::shared_ptr<timer_entry>> timers;  // soonest first
  std::string last_reply;
  std::string last_intent;
  pending_kind pending = pending_kind::none;
  std::string pending_name;
  bool timer_fired = false;  // a timer went off since the last answer
  std::uint64_t last_used = 0;
};

enum class action { none, timer_set, timer_cancel, timer_list };

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

constexpr double k_min_faq_score = 0.1;  // below it a FAQ "match" is noise, not a guess worth naming

double calibrate(double score, double threshold) {
  const double t = std::clamp(threshold, 0.01, 0.99);
  const double c = score < t ? 0.5 * score / t : 0.5 + 0.5 * (score - t) / (1.0 - t);
  return std::clamp(c, 0.0, 1.0);
}

std::chrono::seconds whole_seconds(double s) {
  return std::chrono::seconds(std::llround(std::clamp(s, 0.0, 1e12)));  // (absurd durations stay representable)
}

std::string format_clock(const civil_time& t, bool h24) {
  char buf[32];
  if (h24) {
    std::snprintf(buf, sizeof buf, "%02d:%02d", t.hour, t.minute);
  } else {
    const int h = t.hour % 12 == 0 ? 12 : t.hour % 12;
    std::snprintf(buf, sizeof buf, "%d:%02d %s", h, t.minute, t.hour < 12 ? "AM" : "PM");
  }
  return buf;
}

std::string format_date(const civil_time& t) {
  return std::string(weekday_name(weekday_of(t))) + ", " + std::string(month_name(t.month)) + " " +
         std::to_string(t.day) + ", " + std::to_string(t.year);
}

const std::vector<std::string_view>& weekday_words() {
  static const std::vector<std::string_view> w = {"sunday",   "monday", "tuesday", "wednesday",
                                                  "thursday", "friday", "saturday"};
  return w;
}

bool is_number_or_unit(const utterance& u, std::size_t i) {
  return parse_number_at(u.words(), i).has_value() || parse_unit_at(u.words(), i).has_value();
}

/// A timer's name: "called pasta", "for the eggs", "pasta timer". Marks the words it uses.
std::string parse_timer_name(const utterance& u, const std::vector<char>& taken, evidence& ev) {
  static const std::vector<std::string_view> not_names = {
      "set",    "start", "new",    "another", "second", "first", "next", "last",   "current", "running",
      "active", "cancel", "stop",  "delete",  "remove", "clear", "end",  "kill",   "my",      "the",
      "timer",  "timers", "create", "make",   "add",    "begin", "put",  "quick",  "one",     "all",
      "both",   "every",  "list",  "show",    "check",  "countdown", "dismiss", "other", "that", "this"};
  auto nameable = [&](std::size_t j) {
    const std::string_view w = u.at(j);
    return !w.empty() && !(j < taken.size() && taken[j]) && !is_function_word(w) && !detail::is_filler(w) &&
           std::find(not_names.begin(), not_names.end(), w) == not_names.end() && !is_number_or_unit(u, j);
  };
  for (std::size_t k = 0; k < u.size(); ++k) {
    const std::string_view w = u.at(k);
    if (w != "called" && w != "named" && w != "labelled" && w != "labeled" && w != "for") continue;
    std::size_t j = k + 1;
    while (u.at(j) == "the" || u.at(j) == "my" || u.at(j) == "a" || u.at(j) == "an") ++j;
    std::string name;
    const std::size_t first = j;
    while (j < u.size() && j - first < 3 && nameable(j)) name += (name.empty() ? "" : " ") + u.words()[j++];
    if (!name.empty()) {
      ev.mark(k, j);
      if (u.at(j) == "timer") ev.mark(j);
      return name;
    }
  }
  if (auto t = u.find("timer"); t && *t > 0 && nameable(*t - 1)) {
    ev.mark(*t - 1);
    return u.words()[*t - 1];
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
struct local_responder::state : std::enable_shared_from_this<local_responder::state> {
  local_responder_config config;
  std::optional<faq_index> faq;
  std::unique_ptr<system_time_of_day> own_time;
  const time_of_day_source* time_of_day = nullptr;
  const clock* clk = nullptr;
  std::optional<boost::asio::strand<boost::asio::any_io_executor>> strand;

  mutable std::mutex mutex;
  std::unordered_map<session_id, session_state> sessions;  // guarded by mutex
  std::uint64_t next_timer_id = 1;                          // guarded by mutex
  std::uint64_t use_counter = 0;                            // guarded by mutex

  session_state& session_for(session_id id) {
    auto it = sessions.find(id);
    if (it == sessions.end()) {
      if (sessions.size() >= config.max_sessions) evict_one();
      it = sessions.emplace(id, session_state{}).first;
    }
    it->second.last_used = ++use_counter;
    return it->second;
  }

  void evict_one() {
    auto victim = sessions.end();
    for (auto it = sessions.begin(); it != sessions.end(); ++it) {
      if (it->second.timers.empty() && (victim == sessions.end() || it->second.last_used < victim->second.last_used)) {
        victim = it;
      }
    }
    if (victim != sessions.end()) sessions.erase(victim);
  }

  void arm(session_id session, const std::shared_ptr<timer_entry>& entry) {
    boost::asio::post(*strand, [weak = weak_from_this(), entry, session, strand = *strand] {
      if (entry->cancelled) return;
      entry->timer = std::make_unique<boost::asio::steady_timer>(strand, entry->duration);
      entry->timer->async_wait([weak, entry, session](const boost::system::error_code& ec) {
        if (ec || entry->cancelled) return;
        if (auto self = weak.lock()) self->fire(session, entry->id);
      });
    });
  }

  void disarm(const std::shared_ptr<timer_entry>& entry) {
    boost::asio::post(*strand, [entry] {
      entry->cancelled = true;
      if (entry->timer) entry->timer->cancel();
    });
  }

  void fire(session_id session, std::uint64_t timer_id) {
    std::function<void(std::string)> announce;
    std::string text;
    {
      std::lock_guard lock(mutex);
      auto it = sessions.find(session);
      if (it == sessions.end()) return;
      auto& timers = it->second.timers;
      auto t = std::find_if(timers.begin(), timers.end(), [&](const auto& e) { return e->id == timer_id; });
      if (t == timers.end()) return;  // cancelled meanwhile
      announce = (*t)->announce;
      text = "Your " + timer_label(**t) + " is done.";
      timers.erase(t);
      it->second.timer_fired = true;
    }
    if (!announce) return;
    try {
      announce(std::move(text));
    } catch (const std::exception& e) {
      PARLEY_LOG(warn, "local responder: announcing a timer failed: " << e.what());
    } catch (...) {
      PARLEY_LOG(warn, "local responder: announcing a timer failed");
    }
  }

  std::chrono::milliseconds left_of(const timer_entry& t) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.deadline - clk->now());
  }

  // --- interpretation ---------------------------------------------------------------------------
  std::vector<candidate> interpret(const utterance& u, const session_state& s, const civil_time& now) const;
  void execute(candidate& c, session_state& s, const engine::responder_context& context);
  std::string describe_timers(const std::vector<std::shared_ptr<timer_entry>>& timers) const;
};

namespace {

class interpreter {
 public:
  interpreter(const utterance& u, const session_state& s, const local_responder_config& config,
              const faq_index* faq, const civil_time& now)
      : u_(u), s_(s), config_(config), faq_(faq), now_(now) {
    timer_word_ = u.has("timer") || u.has("timers") || u.has("countdown");
    cancel_verb_ = u.has_any({"cancel", "stop", "delete", "remove", "clear", "end", "kill", "dismiss", "abort"}) ||
                   u.has_phrase({"turn", "off"}) || u.has_phrase({"switch", "off"}) ||
                   u.has_phrase({"get", "rid", "of"});
    set_verb_ = u.has_any({"set", "start", "create", "make", "add", "begin", "put", "new", "run", "another"});
    duration_ = detail::parse_duration(u);
  }

  std::vector<candidate> run() {
    timers();
    time_now();
    dates();
    arithmetic();
    conversion();
    control();
    social();
    return std::move(out_);
  }

 private:
  void push(candidate c, const evidence& ev, double base) {
    c.confidence = ev.confidence(base);
    c.complete_parse = ev.n_unexplained_content() == 0;
    if (c.confidence > 0.0) out_.push_back(std::move(c));
  }

  bool timer_context() const { return (s_.last_intent.starts_with("timer.") || s_.timer_fired) && !s_.timers.empty(); }

  std::vector<char> duration_used() const {
    return duration_ ? duration_->used : std::vector<char>(u_.size(), 0);
  }

  /// Which timer the utterance names (for cancel and list): a duration, an existing timer's name,
  /// or any other name. Marks the words it reads.
  void read_timer_spec(candidate& c, evidence& ev) const {
    if (duration_) {
      c.duration = whole_seconds(duration_->seconds);
      ev.mark(duration_->used);
    }
    for (const auto& t : s_.timers) {
      if (t->name.empty()) continue;
      const utterance name(t->name);
      for (std::size_t i = 0; i + name.size() <= u_.size(); ++i) {
        if (std::equal(name.words().begin(), name.words().end(), u_.words().begin() + static_cast<std::ptrdiff_t>(i))) {
          c.timer_name = t->name;
          ev.mark(i, i + name.size());
        }
      }
    }
    if (c.timer_name.empty() && !c.duration) c.timer_name = parse_timer_name(u_, duration_used(), ev);
    c.all = u_.has_any({"all", "both", "every", "everything"}) || (u_.has("timers") && !c.duration && c.timer_name.empty());
  }

  void timers() {
    // timer.set
    const bool reminder = u_.has_phrase({"remind", "me", "in"}) && duration_;  // a reminder with no subject
    if ((timer_word_ && (set_verb_ || duration_) && !cancel_verb_) || reminder) {
      evidence ev(u_);
      ev.mark_words({"set", "start", "create", "make", "add", "begin", "put", "new", "run", "another", "a", "an",
                     "the", "my", "for", "of", "on", "please", "timer", "timers", "me", "up", "countdown", "and",
                     "with", "in", "one", "go", "going", "quick", "called", "named", "from", "now", "remind"});
      candidate c{"timer.set"};
      c.timer_name = parse_timer_name(u_, duration_used(), ev);
      if (duration_) {
        ev.mark(duration_->used);
        c.duration = whole_seconds(duration_->seconds);
        c.act = action::timer_set;
        push(std::move(c), ev, 0.95);
      } else {
        c.reply = "For how long?";
        c.next_pending = pending_kind::timer_duration;
        push(std::move(c), ev, 0.75);
      }
    } else if (s_.pending == pending_kind::timer_duration && duration_ && !cancel_verb_) {
      evidence ev(u_);
      ev.mark(duration_->used);
      ev.mark_words({"for", "make", "it", "a", "an", "please", "set", "the", "timer", "about", "just", "say", "lets"});
      candidate c{"timer.set"};
      c.duration = whole_seconds(duration_->seconds);
      c.timer_name = s_.pending_name;
      c.act = action::timer_set;
      push(std::move(c), ev, 0.9);
    }

    // timer.cancel
    const bool bare_cancel = u_.has("cancel") && timer_context() && !timer_word_;
    const bool answering_which = s_.pending == pending_kind::timer_which;
    if ((timer_word_ && cancel_verb_) || bare_cancel || answering_which) {
      evidence ev(u_);
      ev.mark_words({"cancel", "stop", "delete", "remove", "clear", "end", "kill", "dismiss", "abort", "turn", "switch",
                     "off", "get", "rid", "of", "the", "my", "a", "an", "timer", "timers", "all", "both", "every",
                     "everything", "please", "that", "it", "one", "ones", "running", "current", "active", "for",
                     "called", "named", "set"});
      candidate c{"timer.cancel"};
      c.act = action::timer_cancel;
      read_timer_spec(c, ev);
      const bool specified = c.duration || !c.timer_name.empty() || c.all;
      if (timer_word_ && cancel_verb_) {
        push(std::move(c), ev, 0.95);
      } else if (answering_which && specified) {
        push(std::move(c), ev, 0.9);
      } else if (bare_cancel) {
        push(std::move(c), ev, 0.85);
      }
    }

    // timer.list
    const bool list_cue = u_.has_any({"list", "what", "which", "show", "how", "many", "any", "have", "left",
                                      "remaining", "check", "status", "running", "active", "tell", "long", "much"});
    const bool time_left = (u_.has_phrase({"how", "much", "time"}) || u_.has_phrase({"how", "long"})) &&
                           u_.has_any({"left", "remaining", "until", "before"});
    if ((timer_word_ && list_cue && !cancel_verb_) || (!timer_word_ && time_left)) {
      evidence ev(u_);
      ev.mark_words({"what", "which", "timers", "timer", "do", "i", "have", "are", "there", "any", "list", "show",
                     "me", "my", "the", "how", "many", "much", "time", "long", "left", "remaining", "is", "on",
                     "running", "active", "check", "status", "of", "all", "set", "still", "until", "before", "it",
                     "goes", "go", "off", "done", "rings", "ring", "a", "an", "tell", "about", "got", "currently",
                     "right", "now"});
      candidate c{"timer.list"};
      c.act = action::timer_list;
      read_timer_spec(c, ev);
      c.all = false;
      const double base = timer_word_ ? 0.95 : (s_.timers.empty() ? 0.7 : 0.9);
      push(std::move(c), ev, base);
    }
  }

  void time_now() {
    if (!u_.has("time") || timer_word_) return;
    // A question about the clock ("what time is it", "do you have the time", "time please"), not
    // any sentence with "time" in it ("i don't have time", "how much time do i have").
    const bool question = u_.has_any({"what", "tell", "current", "check", "please"}) || u_.size() == 1 ||
                          u_.has_phrase({"the", "time"}) || u_.has_phrase({"time", "is", "it"});
    if (!question || u_.has_phrase({"how", "much", "time"})) return;
    evidence ev(u_);
    ev.mark_words({"time", "what", "is", "it", "the", "current", "currently", "exact", "exactly", "right", "now",
                   "tell", "me", "do", "you", "have", "know", "got", "please", "check", "say", "clock", "o'clock",
                   "local", "at", "moment", "present", "here", "does"});
    candidate c{"time.now"};
    c.reply = "It's " + format_clock(now_, config_.use_24_hour_clock) + ".";
    push(std::move(c), ev, u_.size() == 1 ? 0.7 : 0.95);
  }

  void dates() {
    int offset = 0;
    std::string_view which = "Today";
    if (u_.has_phrase({"day", "after", "tomorrow"})) {
      offset = 2;
      which = "The day after tomorrow";
    } else if (u_.has_phrase({"day", "before", "yesterday"})) {
      offset = -2;
      which = "The day before yesterday";
    } else if (u_.has("tomorrow")) {
      offset = 1;
      which = "Tomorrow";
    } else if (u_.has("yesterday")) {
      offset = -1;
      which = "Yesterday";
    }
    const bool past = offset < 0;
    const civil_time day = add_days(now_, offset);
    const bool asks = u_.has_any({"what", "which", "current", "this", "tell"});
    const bool relative_day = u_.has_any({"today", "tomorrow", "yesterday"});

    std::optional<int> named_weekday;
    for (std::size_t d = 0; d < weekday_words().size(); ++d) {
      if (u_.has(weekday_words()[d])) named_weekday = static_cast<int>(d);
    }

    candidate c;
    if (u_.has("date") || u_.has_phrase({"day", "of", "the", "month"}) ||
        (relative_day && asks && !u_.has("day") && !u_.has("month") && !u_.has("year"))) {
      c.intent = "date.today";
      c.reply = std::string(which) + (past ? " was " : " is ") + format_date(day) + ".";
    } else if (named_weekday && u_.has("is") && (relative_day || u_.has_phrase({"is", "it"}))) {
      c.intent = "date.weekday";
      const bool yes = weekday_of(day) == *named_weekday;
      std::string subject(which);
      subject[0] = static_cast<char>(subject[0] - 'A' + 'a');  // "Yes, today is Friday."
      c.reply = std::string(yes ? "Yes, " : "No, ") + subject + (past ? " was " : " is ") +
                std::string(weekday_name(weekday_of(day))) + ".";
    } else if ((u_.has("day") && (asks || relative_day)) || u_.has_phrase({"day", "of", "the", "week"})) {
      c.intent = "date.weekday";
      c.reply = std::string(which) + (past ? " was " : " is ") + std::string(weekday_name(weekday_of(day))) + ".";
    } else if (u_.has("month") && asks) {
      c.intent = "date.today";
      c.reply = "It's " + std::string(month_name(now_.month)) + ".";
    } else if (u_.has("year") && asks) {
      c.intent = "date.today";
      c.reply = "It's " + std::to_string(now_.year) + ".";
    } else {
      return;
    }
    evidence ev(u_);
    ev.mark_words({"what", "which", "is", "it", "the", "date", "day", "today", "tomorrow", "yesterday", "of", "week",
                   "month", "year", "current", "this", "was", "will", "be", "please", "tell", "me", "after", "before",
                   "going", "to", "on", "know", "do", "you", "have", "name", "calendar", "s", "todays", "full",
                   "exact", "now", "right", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                   "saturday", "we", "are", "in"});
    push(std::move(c), ev, 0.95);
  }

  void arithmetic() {
    auto m = detail::parse_arithmetic(u_);
    if (!m) return;
    evidence ev(u_);
    ev.mark(m->used);
    ev.mark_words({"what", "is", "how", "much", "calculate", "compute", "work", "out", "solve", "equals", "equal",
                   "makes", "make", "does", "do", "you", "get", "if", "i", "the", "answer", "result", "of", "please",
                   "quick", "together", "tell", "me", "it", "come", "comes", "to", "are", "whats", "figure"});
    candidate c{"math.arithmetic"};
    double base = 0.95;
    if (!m->complete) {
      c.reply = "Sorry, I didn't catch all the numbers. Could you say the sum again?";
      base = 0.6;
    } else if (!m->problem.empty()) {
      c.reply = m->problem;
      base = 0.9;
    } else if (!std::isfinite(m->value) || std::fabs(m->value) >= 1e15) {
      c.reply = "That number is too big for me to say.";
      base = 0.9;
    } else {
      bool rounded = false;
      const std::string value = format_number(m->value, 2, &rounded);
      c.reply = detail::capitalise(m->expression) + " is " + (rounded ? "about " : "") + value + ".";
    }
    push(std::move(c), ev, base);
  }

  void conversion() {
    auto r = detail::parse_conversion(u_);
    if (!r) return;
    evidence ev(u_);
    ev.mark(r->used);
    ev.mark_words({"how", "many", "much", "convert", "conversion", "in", "into", "to", "as", "is", "are", "what",
                   "equals", "equal", "make", "makes", "there", "a", "an", "the", "of", "please", "from", "does", "do",
                   "get", "would", "be", "that", "it", "go", "goes", "per", "one", "far", "long", "heavy", "big",
                   "hot", "cold", "warm", "tall", "high", "fast", "quick", "equivalent", "converted"});
    candidate c{"units.convert"};
    c.reply = r->reply;
    push(std::move(c), ev, r->convertible ? 0.95 : 0.8);
  }

  void control() {
    // control.stop
    if ((u_.has_any({"stop", "quiet", "silence", "hush", "shush", "enough"}) || u_.has_phrase({"shut", "up"})) &&
        !timer_word_) {
      evidence ev(u_);
      ev.mark_words({"stop", "quiet", "silence", "hush", "shush", "enough", "shut", "up", "be", "talking",
                     "speaking", "it", "that", "is", "please", "now", "just", "right", "there", "thanks", "thank",
                     "you", "already", "ok", "okay"});
      candidate c{"control.stop", 0, "Okay."};
      c.record = false;
      push(std::move(c), ev, 0.9);
    }
    // control.cancel (cancel = stop talking, unless a timer was just being talked about)
    const bool cancel_cue = u_.has("cancel") || u_.has_phrase({"never", "mind"}) || u_.has("nevermind") ||
                            u_.has_phrase({"forget", "it"}) || u_.has_phrase({"forget", "about", "it"}) ||
                            u_.has_phrase({"scratch", "that"});
    if (cancel_cue && !timer_word_ && !(u_.has("cancel") && timer_context())) {
      evidence ev(u_);
      ev.mark_words({"cancel", "that", "it", "please", "never", "mind", "nevermind", "forget", "about", "scratch",
                     "the", "whole", "thing", "request", "ok", "okay", "then", "just", "oh"});
      candidate c{"control.cancel", 0, "Okay."};
      c.record = false;
      push(std::move(c), ev, 0.85);
    }
    // control.repeat
    const bool repeat_cue = u_.has("repeat") || u_.has_phrase({"say", "that", "again"}) ||
                            u_.has_phrase({"say", "it", "again"}) || u_.has_phrase({"come", "again"}) ||
                            u_.has("pardon") || u_.has_phrase({"what", "did", "you", "say"}) ||
                            u_.has_phrase({"what", "was", "that"}) || u_.has_phrase({"one", "more", "time"}) ||
                            u_.has_phrase({"did", "not", "hear"}) || u_.has_phrase({"did", "not", "catch"});
    if (repeat_cue) {
      evidence ev(u_);
      ev.mark_words({"repeat", "that", "it", "please", "again", "say", "come", "pardon", "what", "did", "you", "just",
                     "was", "one", "more", "time", "i", "not", "hear", "catch", "sorry", "could", "can", "the", "last",
                     "answer", "reply", "me", "said", "excuse", "would", "mind", "repeating", "yourself", "once"});
      candidate c{"control.repeat"};
      c.record = false;
      c.reply = s_.last_reply.empty() ? "I haven't said anything yet." : s_.last_reply;
      push(std::move(c), ev, s_.last_reply.empty() ? 0.7 : 0.9);
    }
  }

  void social() {
    // greeting
    if (u_.has_any({"hello", "hi", "hey", "hiya", "howdy", "greetings", "yo"}) ||
        u_.has_phrase({"good", "morning"}) || u_.has_phrase({"good", "afternoon"}) ||
        u_.has_phrase({"good", "evening"}) || u_.has_phrase({"how", "are", "you"}) ||
        u_.has_phrase({"how", "is", "it", "going"}) || u_.has_phrase({"what", "is", "up"}) ||
        u_.has_phrase({"nice", "to", "meet", "you"})) {
      evidence ev(u_);
      ev.mark_words({"hello", "hi", "hey", "hiya", "howdy", "greetings", "yo", "there", "good", "morning", "afternoon",
                     "evening", "how", "are", "you", "doing", "is", "it", "going", "what", "up", "everyone", "all",
                     "nice", "to", "meet", "again", "today", "assistant", "well", "this", "there"});
      candidate c{"greeting"};
      if (u_.has_phrase({"good", "morning"})) c.reply = "Good morning! How can I help?";
      else if (u_.has_phrase({"good", "afternoon"})) c.reply = "Good afternoon! How can I help?";
      else if (u_.has_phrase({"good", "evening"})) c.reply = "Good evening! How can I help?";
      else if (u_.has_phrase({"how", "are", "you"}) || u_.has_phrase({"how", "is", "it", "going"}))
        c.reply = "I'm doing well, thanks for asking. How can I help?";
      else c.reply = "Hello! How can I help?";
      push(std::move(c), ev, 0.9);
    }
    // thanks
    const bool thanks = u_.has_any({"thanks", "thank", "cheers", "appreciate", "appreciated", "thx"});
    // "no thank you", "yes thanks" answer a question: yes/no below, not thanks.
    const bool answers = u_.has_any({"no", "nope", "nah", "yes", "yeah", "yep", "sure"}) &&
                         (u_.at(0) == "no" || u_.at(0) == "nope" || u_.at(0) == "nah" || u_.at(0) == "yes" ||
                          u_.at(0) == "yeah" || u_.at(0) == "yep" || u_.at(0) == "sure");
    if (thanks && !answers) {
      evidence ev(u_);
      ev.mark_words({"thanks", "thank", "you", "so", "very", "much", "a", "lot", "lots", "that", "is", "was", "great",
                     "helpful", "perfect", "appreciate", "appreciated", "it", "cheers", "awesome", "ok", "okay",
                     "many", "kind", "of", "really", "for", "the", "help", "your", "thx", "that's", "good", "nice"});
      candidate c{"thanks", 0, "You're welcome!"};
      push(std::move(c), ev, 0.9);
    }
    // goodbye
    if (u_.has_any({"bye", "goodbye", "farewell", "goodnight"}) || u_.has_phrase({"good", "night"}) ||
        u_.has_phrase({"see", "you"}) || u_.has_phrase({"that", "is", "all"}) ||
        u_.has_phrase({"that", "will", "be", "all"}) || u_.has_phrase({"talk", "to", "you", "later"})) {
      evidence ev(u_);
      ev.mark_words({"bye", "goodbye", "good", "night", "goodnight", "see", "you", "later", "soon", "that", "is", "all",
                     "will", "be", "for", "now", "talk", "to", "farewell", "have", "a", "nice", "great", "day",
                     "thanks", "thank", "then", "ok", "okay", "i", "am", "done", "tomorrow", "so", "much"});
      candidate c{"goodbye"};
      if (u_.has_phrase({"good", "night"}) || u_.has("goodnight")) c.reply = "Good night!";
      else c.reply = thanks ? "You're welcome. Goodbye!" : "Goodbye!";
      push(std::move(c), ev, 0.9);
    }
    // help
    if (u_.has_phrase({"what", "can", "you", "do"}) || u_.has("help") || u_.has_phrase({"what", "can", "i", "ask"}) ||
        u_.has_phrase({"what", "do", "you", "do"})) {
      evidence ev(u_);
      ev.mark_words({"what", "can", "you", "do", "help", "me", "with", "i", "ask", "how", "does", "this", "work",
                     "are", "your", "features", "things", "options", "skills", "please", "out", "need", "some",
                     "else", "other", "about", "for"});
      candidate c{"help"};
      c.reply = "I can tell you the time and the date, set timers, do quick sums and unit conversions";
      if (faq_) {
        c.reply += ", and answer questions about " + (faq_->topic().empty() ? std::string("this service") : faq_->topic());
      }
      c.reply += ".";
      push(std::move(c), ev, 0.85);
    }
    // yes / no
    const bool yes = u_.has_any({"yes", "yeah", "yep", "yup", "sure", "correct", "absolutely", "definitely",
                                 "affirmative", "alright"}) ||
                     u_.has_phrase({"of", "course"}) || u_.has_phrase({"go", "ahead"}) ||
                     u_.has_phrase({"that", "is", "right"});
    const bool okay_only = u_.has_any({"ok", "okay"});
    if (yes || okay_only) {
      evidence ev(u_);
      ev.mark_words({"yes", "yeah", "yep", "yup", "sure", "correct", "absolutely", "definitely", "affirmative", "of",
                     "course", "go", "ahead", "that", "is", "right", "please", "ok", "okay", "do", "it", "exactly",
                     "alright", "fine", "sounds", "good", "great", "thanks", "thank", "you"});
      candidate c{"ack.yes", 0, "Okay."};
      c.record = false;
      push(std::move(c), ev, yes ? 0.75 : 0.6);
    }
    if (u_.has_any({"no", "nope", "nah", "negative"}) || u_.has_phrase({"not", "really"})) {
      evidence ev(u_);
      ev.mark_words({"no", "nope", "nah", "negative", "not", "really", "thanks", "thank", "you", "that", "is", "ok",
                     "okay", "it", "do", "please", "i", "am", "good", "fine", "all", "right", "need", "need"});
      candidate c{"ack.no", 0, "Okay."};
      c.record = false;
      push(std::move(c), ev, 0.75);
    }
  }

  const utterance& u_;
  const session_state& s_;
  const local_responder_config& config_;
  const faq_index* faq_;
  const civil_time& now_;
  bool timer_word_ = false;
  bool cancel_verb_ = false;
  bool set_verb_ = false;
  std::optional<detail::duration_parse> duration_;
  std::vector<candidate> out_;
};

}  // namespace

std::vector<candidate> local_responder::state::interpret(const utterance& u, const session_state& s,
                                                         const civil_time& now) const {
  return interpreter(u, s, config, faq ? &*faq : nullptr, now).run();
}

std::string local_responder::state::describe_timers(const std::vector<std::shared_ptr<timer_entry>>& timers) const {
  std::string out;
  for (std::size_t i = 0; i < timers.size(); ++i) {
    if (i > 0) out += i + 1 == timers.size() ? (timers.size() == 2 ? " and " : ", and ") : ", ";
    out += "the " + timer_label(*timers[i]);
  }
  return out;
}

void local_responder::state::execute(candidate& c, session_state& s, const engine::responder_context& context) {
  const bool act = c.confidence >= config.min_action_confidence;
  switch (c.act) {
    case action::none: return;
    case action::timer_set: {
      const std::chrono::seconds d = c.duration.value_or(std::chrono::seconds(0));
      if (!act) {
        c.reply = "Did you want me to set a timer for " + detail::describe_duration(d) + "?";
        return;
      }
      if (!strand) {
        c.reply = "Sorry, I can't set timers here.";
        return;
      }
      if (d.count() <= 0) {
        c.reply = "A timer needs to run for at least one second.";
        return;
      }
      if (d > config.max_timer_duration) {
        c.reply = "I can only set timers for up to " + detail::describe_duration(config.max_timer_duration) + ".";
        return;
      }
      if (s.timers.size() >= config.max_timers_per_session) {
        c.reply = "You already have " + std::to_string(s.timers.size()) +
                  " timers, which is as many as I can keep. Cancel one first.";
        return;
      }
      auto entry = std::make_shared<timer_entry>();
      entry->id = next_timer_id++;
      entry->name = c.timer_name;
      entry->duration = d;
      entry->deadline = clk->now() + d;
      entry->announce = context.announce;
      s.timers.push_back(entry);
      std::stable_sort(s.timers.begin(), s.timers.end(),
                       [](const auto& a, const auto& b) { return a->deadline < b->deadline; });
      arm(context.session, entry);
      c.reply = "Okay, " + (entry->name.empty() ? std::string("timer") : entry->name + " timer") + " set for " +
                detail::describe_duration(d) + ".";
      return;
    }
    case action::timer_cancel: {
      if (!act) {
        c.reply = "Did you want me to cancel a timer?";
        return;
      }
      if (s.timers.empty()) {
        c.reply = "You don't have any timers running.";
        return;
      }
      std::vector<std::shared_ptr<timer_entry>> chosen;
      if (c.all) {
        chosen = s.timers;
      } else if (!c.timer_name.empty() || c.duration) {
        for (const auto& t : s.timers) {
          const bool hit = !c.timer_name.empty() ? t->name == c.timer_name : t->duration == *c.duration;
          if (hit) {
            chosen.push_back(t);
            break;  // the soonest of its kind
          }
        }
        if (chosen.empty()) {
          const std::string wanted = !c.timer_name.empty() ? c.timer_name : detail::describe_duration_adjective(*c.duration);
          c.reply = "You don't have a " + wanted + " timer. You have " + describe_timers(s.timers) + ".";
          return;
        }
      } else if (s.timers.size() == 1) {
        chosen = s.timers;
      } else {
        c.reply = "You have " + std::to_string(s.timers.size()) + " timers: " + describe_timers(s.timers) +
                  ". Which one should I cancel?";
        c.next_pending = pending_kind::timer_which;
        return;
      }
      for (const auto& t : chosen) {
        disarm(t);
        std::erase(s.timers, t);
      }
      if (chosen.size() == 1) c.reply = "Okay, I've cancelled your " + timer_label(*chosen.front()) + ".";
      else if (chosen.size() == 2) c.reply = "Okay, I've cancelled both timers.";
      else c.reply = "Okay, I've cancelled all " + std::to_string(chosen.size()) + " timers.";
      return;
    }
    case action::timer_list: {
      if (s.timers.empty()) {
        c.reply = "You don't have any timers running.";
        return;
      }
      std::vector<std::shared_ptr<timer_entry>> shown;
      for (const auto& t : s.timers) {
        if ((!c.timer_name.empty() && t->name == c.timer_name) || (c.duration && t->duration == *c.duration)) {
          shown.push_back(t);
        }
      }
      if (shown.empty()) shown = s.timers;
      auto line = [&](const timer_entry& t) {
        return "your " + timer_label(t) + " has " + detail::describe_time_left(left_of(t)) + " left";
      };
      if (shown.size() == 1) {
        c.reply = detail::capitalise(line(*shown.front())) + ".";
        if (shown.size() != s.timers.size()) {
          c.reply += " You have " + std::to_string(s.timers.size()) + " timers in all.";
        }
        return;
      }
      c.reply = "You have " + std::to_string(shown.size()) + " timers. ";
      for (std::size_t i = 0; i < shown.size(); ++i) {
        c.reply += i == 0 ? detail::capitalise(line(*shown[i])) : (i + 1 == shown.size() ? ", and " : ", ") + line(*shown[i]);
      }
      c.reply += ".";
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
local_responder::local_responder(std::shared_ptr<state> s) : state_(std::move(s)) {}

local_responder::~local_responder() {
  std::lock_guard lock(state_->mutex);
  for (auto& [id, s] : state_->sessions) {
    for (const auto& t : s.timers) state_->disarm(t);
  }
  state_->sessions.clear();
}

result<std::shared_ptr<local_responder>> local_responder::create(local_responder_config config) {
  auto s = std::make_shared<state>();
  if (!config.faq_path.empty()) {
    auto faq = faq_index::load(config.faq_path);
    if (!faq) return faq.error();
    s->faq.emplace(std::move(*faq));
  }
  if (config.time_of_day == nullptr) {
    auto own = system_time_of_day::create(config.timezone);
    if (!own) return own.error();
    s->own_time = std::move(*own);
    s->time_of_day = s->own_time.get();
  } else {
    s->time_of_day = config.time_of_day;
  }
  s->clk = config.clk != nullptr ? config.clk : &steady_clock_source::instance();
  if (config.executor) s->strand.emplace(boost::asio::make_strand(config.executor));
  if (config.max_sessions == 0) config.max_sessions = 1;
  s->config = std::move(config);
  return std::shared_ptr<local_responder>(new local_responder(std::move(s)));
}

const faq_index* local_responder::faq() const { return state_->faq ? &*state_->faq : nullptr; }

engine::responder_answer local_responder::answer(std::string_view user_text, const engine::responder_context& context) {
  const utterance u(user_text);
  if (u.empty()) return {};
  state& st = *state_;
  // Outside the lock: FAQ matching (the costly part) and the wall clock.
  std::optional<faq_match> faq_hit;
  if (st.faq) faq_hit = st.faq->match(user_text);
  const civil_time now = st.time_of_day->now();

  std::lock_guard lock(st.mutex);
  session_state& s = st.session_for(context.session);
  std::vector<candidate> candidates = st.interpret(u, s, now);
  if (faq_hit && faq_hit->score >= k_min_faq_score) {
    candidate c{"faq." + faq_hit->entry->id, calibrate(faq_hit->score, st.config.faq_threshold), faq_hit->entry->answer};
    candidates.push_back(std::move(c));
  }
  // The most confident interpretation; a handler that explains every content word of the
  // utterance (a complete parse) is preferred to a FAQ similarity as long as it reaches 0.5.
  auto rank = [](const candidate& c) {
    return std::pair<int, double>(c.complete_parse && c.confidence >= 0.5 ? 1 : 0, c.confidence);
  };
  std::optional<candidate> best;
  for (auto& c : candidates) {
    if (!best || rank(c) > rank(*best)) best = std::move(c);
  }
  s.timer_fired = false;
  if (!best) {
    s.last_intent.clear();
    s.pending = pending_kind::none;
    return {};
  }
  st.execute(*best, s, context);
  const bool confident = best->confidence >= st.config.min_action_confidence;
  s.last_intent = confident ? best->intent : std::string();
  s.pending = confident ? best->next_pending : pending_kind::none;
  s.pending_name = best->next_pending == pending_kind::timer_duration ? best->timer_name : std::string();
  if (confident && best->record) s.last_reply = best->reply;
  return {std::move(best->intent), best->confidence, std::move(best->reply)};
}

void local_responder::remember_reply(session_id session, std::string reply) {
  std::lock_guard lock(state_->mutex);
  state_->session_for(session).last_reply = std::move(reply);
}

void local_responder::forget_session(session_id session) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->sessions.find(session);
  if (it == state_->sessions.end()) return;
  for (const auto& t : it->second.timers) state_->disarm(t);
  state_->sessions.erase(it);
}

std::vector<timer_info> local_responder::timers(session_id session) const {
  std::lock_guard lock(state_->mutex);
  std::vector<timer_info> out;
  auto it = state_->sessions.find(session);
  if (it == state_->sessions.end()) return out;
  for (const auto& t : it->second.timers) out.push_back({t->id, t->name, t->duration, state_->left_of(*t)});
  return out;
}

std::vector<std::string> local_responder::domain_phrases() const {
  std::vector<std::string> phrases = {
      "what time is it", "what's the time", "tell me the time",
      "what's the date today", "what is today's date", "what day is it", "what day is it tomorrow",
      "set a timer for five minutes", "start a ten second timer", "timer for one hour and thirty minutes",
      "set a pasta timer for twelve minutes", "cancel the timer", "cancel the five minute timer",
      "cancel all timers", "what timers do i have", "how much time is left on my timer",
      "what is twelve times eight", "what's two hundred plus fifty five", "what is a hundred divided by four",
      "what is twenty percent of eighty", "what's the square root of sixty four", "what is seven squared",
      "how many minutes are in a day", "convert five kilometers to miles", "how many pounds is ten kilograms",
      "what is seventy degrees fahrenheit in celsius", "how many cups are in a liter", "how many feet in a mile",
      "hello", "good morning", "how are you", "thank you", "thanks a lot", "goodbye", "see you later",
      "stop", "be quiet", "cancel", "never mind", "repeat that", "say that again", "what can you do",
      "yes", "no", "no thanks",
  };
  // Arithmetic over spoken numbers: every number word in both operands of every operator, so the
  // biasing LM expects a number after "times" or "divided by" (the generic LM prefers "twelve
  // times a"). Measured on 15 spoken sums in three flite voices: 15 → 9 word errors
  // (docs/benchmarks.md, "ASR word error rate").
  static constexpr std::array<std::string_view, 29> k_numbers = {
      "zero",     "one",     "two",     "three",   "four",    "five",   "six",    "seven",
      "eight",    "nine",    "ten",     "eleven",  "twelve",  "thirteen", "fourteen", "fifteen",
      "sixteen",  "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty",  "fifty",
      "sixty",    "seventy", "eighty",  "ninety",  "a hundred"};
  static constexpr std::array<std::string_view, 4> k_operators = {"times", "plus", "minus", "divided by"};
  for (std::size_t o = 0; o < k_operators.size(); ++o) {
    for (std::size_t k = 0; k < k_numbers.size(); ++k) {
      // A second operand that walks the list in another order (never zero: no division by it).
      const std::string_view other = k_numbers[1 + (k * 7 + 3 + o * 5) % (k_numbers.size() - 1)];
      const std::string op(k_operators[o]);
      phrases.push_back("what is " + std::string(k_numbers[k]) + " " + op + " " + std::string(other));
      if (k == 0 && op == "divided by") continue;
      phrases.push_back("what's " + std::string(other) + " " + op + " " + std::string(k_numbers[k]));
    }
  }
  if (const faq_index* f = faq()) {
    for (const auto& e : f->entries()) phrases.insert(phrases.end(), e.questions.begin(), e.questions.end());
  }
  return phrases;
}

}  // namespace parley::intents
