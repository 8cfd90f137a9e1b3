// The local responder's intent handlers: one utterance in, scored candidates out (see
// responder_state.hpp; the state and the choice between candidates: local_responder.cpp).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "parley/engines/intents/responder_state.hpp"
#include "parley/engines/intents/spoken_numbers.hpp"
#include "parley/engines/intents/units.hpp"
#include "parley/engines/intents/words.hpp"
#include "parley/text/spoken.hpp"

namespace parley::intents::detail {
namespace {

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
    if (config_.builtin_intents) {
      timers();
      time_now();
      dates();
      arithmetic();
      conversion();
    }
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

    std::optional<int> named_weekday;  // the latest in the week when several are named
    for (const auto& w : u_.words()) {
      if (const auto d = text::weekday_number(w)) {
        named_weekday = std::max(named_weekday.value_or(0), static_cast<int>(*d));
      }
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
                   "exact", "now", "right", "we", "are", "in"});
    for (std::size_t i = 0; i < u_.size(); ++i) {
      if (text::weekday_number(u_.at(i))) ev.mark(i);
    }
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
      const std::string topic = faq_ ? (faq_->topic().empty() ? std::string("this service") : faq_->topic()) : "";
      if (config_.builtin_intents) {
        c.reply = "I can tell you the time and the date, set timers, do quick sums and unit conversions";
        if (faq_) c.reply += ", and answer questions about " + topic;
        c.reply += ".";
      } else {
        c.reply = faq_ ? "I can answer questions about " + topic + "." : "I can only chat a little for now.";
      }
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
      if (s_.pending == pending_kind::confirm) {
        // The action it just asked about.
        candidate c{s_.pending_act == action::timer_set ? "timer.set" : "timer.cancel"};
        c.act = s_.pending_act;
        c.duration = s_.pending_duration;
        c.timer_name = s_.pending_name;
        c.all = s_.pending_all;
        push(std::move(c), ev, yes ? 0.9 : 0.8);
      } else {
        candidate c{"ack.yes", 0, "Okay."};
        c.record = false;
        push(std::move(c), ev, yes ? 0.75 : 0.6);
      }
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

std::vector<candidate> interpret(const utterance& u, const session_state& s, const local_responder_config& config,
                                 const faq_index* faq, const civil_time& now) {
  return interpreter(u, s, config, faq, now).run();
}

}  // namespace parley::intents::detail
