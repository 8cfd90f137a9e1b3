#include "parley/engines/intents/local_responder.hpp"

#include <algorithm>
#include <cctype>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <mutex>
#include <unordered_map>

#include "parley/core/log.hpp"
#include "parley/engines/intents/responder_state.hpp"
#include "parley/engines/intents/rules.hpp"
#include "parley/text/spoken.hpp"

namespace parley::intents {

using detail::action;
using detail::candidate;
using detail::pending_kind;
using detail::session_state;
using detail::timer_entry;
using detail::utterance;

namespace {

std::string timer_label(const timer_entry& t) {
  return (t.name.empty() ? detail::describe_duration_adjective(t.duration) : t.name) + " timer";
}

constexpr double k_min_faq_score = 0.1;  // below it a FAQ "match" is noise, not a guess worth naming

double calibrate(double score, double threshold) {
  const double t = std::clamp(threshold, 0.01, 0.99);
  const double c = score < t ? 0.5 * score / t : 0.5 + 0.5 * (score - t) / (1.0 - t);
  return std::clamp(c, 0.0, 1.0);
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
  std::optional<candidate> best_candidate(const utterance& u, const std::optional<faq_match>& faq_hit,
                                          const session_state& s, const civil_time& now) const;
  /// Sure enough to act on `c`: its own confidence and the recognizer's in the words.
  bool sure_enough(const candidate& c, const engine::responder_context& context) const;
  void execute(candidate& c, session_state& s, const engine::responder_context& context);
  std::string describe_timers(const std::vector<std::shared_ptr<timer_entry>>& timers) const;
};

std::vector<candidate> local_responder::state::interpret(const utterance& u, const session_state& s,
                                                         const civil_time& now) const {
  return detail::interpret(u, s, config, faq ? &*faq : nullptr, now);
}

std::string local_responder::state::describe_timers(const std::vector<std::shared_ptr<timer_entry>>& timers) const {
  std::string out;
  for (std::size_t i = 0; i < timers.size(); ++i) {
    if (i > 0) out += i + 1 == timers.size() ? (timers.size() == 2 ? " and " : ", and ") : ", ";
    out += "the " + timer_label(*timers[i]);
  }
  return out;
}

bool local_responder::state::sure_enough(const candidate& c, const engine::responder_context& context) const {
  return c.confidence >= config.min_action_confidence &&
         (!context.asr_confidence || *context.asr_confidence >= config.min_asr_confidence);
}

void local_responder::state::execute(candidate& c, session_state& s, const engine::responder_context& context) {
  const bool act = sure_enough(c, context);
  switch (c.act) {
    case action::none: return;
    case action::timer_set: {
      const std::chrono::seconds d = c.duration.value_or(std::chrono::seconds(0));
      if (!act) {
        c.reply = "Did you want me to set a timer for " + detail::describe_duration(d) + "?";
        c.next_pending = pending_kind::confirm;
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
        c.reply = c.all ? "Did you want me to cancel all your timers?" : "Did you want me to cancel a timer?";
        c.next_pending = pending_kind::confirm;
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

// The most confident interpretation of `u` in session state `s`, the FAQ's guess `faq_hit`
// included; a handler that explains every content word of the utterance (a complete parse) is
// preferred to a FAQ similarity as long as it reaches 0.5. Pure: the state is only read.
std::optional<candidate> local_responder::state::best_candidate(const utterance& u, const std::optional<faq_match>& faq_hit,
                                                                const session_state& s, const civil_time& now) const {
  std::vector<candidate> candidates = interpret(u, s, now);
  if (faq_hit && faq_hit->score >= k_min_faq_score) {
    candidate c{"faq." + faq_hit->entry->id, calibrate(faq_hit->score, config.faq_threshold), faq_hit->entry->answer};
    candidates.push_back(std::move(c));
  }
  auto rank = [](const candidate& c) {
    return std::pair<int, double>(c.complete_parse && c.confidence >= 0.5 ? 1 : 0, c.confidence);
  };
  std::optional<candidate> best;
  for (auto& c : candidates) {
    if (!best || rank(c) > rank(*best)) best = std::move(c);
  }
  return best;
}

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
  std::optional<candidate> best = st.best_candidate(u, faq_hit, s, now);
  s.timer_fired = false;
  if (!best) {
    s.last_intent.clear();
    s.pending = pending_kind::none;
    return {};
  }
  st.execute(*best, s, context);
  const bool confident = st.sure_enough(*best, context);
  const bool asked = best->next_pending == pending_kind::confirm;
  s.last_intent = confident ? best->intent : std::string();
  s.pending = confident || asked ? best->next_pending : pending_kind::none;
  s.pending_name = best->next_pending == pending_kind::timer_duration || asked ? best->timer_name : std::string();
  s.pending_act = asked ? best->act : action::none;
  s.pending_duration = asked ? best->duration : std::nullopt;
  s.pending_all = asked && best->all;
  if (confident && best->record) s.last_reply = best->reply;
  return {std::move(best->intent), best->confidence, std::move(best->reply)};
}

std::optional<double> local_responder::confidence(std::string_view user_text, session_id session) const {
  const utterance u(user_text);
  if (u.empty()) return 0.0;
  const state& st = *state_;
  std::optional<faq_match> faq_hit;
  if (st.faq) faq_hit = st.faq->match(user_text);
  const civil_time now = st.time_of_day->now();

  std::lock_guard lock(state_->mutex);
  const auto it = st.sessions.find(session);  // an unknown session is a fresh one: nothing is created
  const auto best = st.best_candidate(u, faq_hit, it == st.sessions.end() ? session_state{} : it->second, now);
  return best ? best->confidence : 0.0;
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

std::vector<std::string> local_responder::suggestions() const {
  // As typed: a capital first letter, a question mark unless it is a command.
  const auto written = [](std::string s, bool question) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    for (const std::string_view pronoun : {" i ", " i'"}) {
      for (auto at = s.find(pronoun); at != std::string::npos; at = s.find(pronoun, at + 1)) s[at + 1] = 'I';
    }
    return question ? s + "?" : s;
  };
  std::vector<std::string> out;
  if (state_->config.builtin_intents) {
    out = {written("what time is it", true), written("what is twelve times eight", true),
           written("set a timer for five minutes", false), written("how many pounds is ten kilograms", true)};
  }
  if (const faq_index* f = faq()) {
    std::size_t n = 0;
    for (const auto& e : f->entries()) {
      if (e.questions.empty()) continue;
      out.push_back(written(e.questions.front(), true));
      if (++n == 4) break;
    }
  }
  return out;
}

std::vector<std::string> local_responder::domain_phrases() const {
  // The built-in intents' phrases (only with them on), the conversational basics, spoken sums, the FAQ.
  const bool intents = state_->config.builtin_intents;
  std::vector<std::string> phrases;
  if (intents) phrases = {
      "what time is it", "what's the time", "tell me the time",
      "what's the date today", "what is today's date", "what day is it", "what day is it tomorrow",
      "set a timer for five minutes", "start a ten second timer", "timer for one hour and thirty minutes",
      "set a pasta timer for twelve minutes", "cancel the timer", "cancel the five minute timer",
      "cancel all timers", "what timers do i have", "how much time is left on my timer",
      "what is twelve times eight", "what's two hundred plus fifty five", "what is a hundred divided by four",
      "what is twenty percent of eighty", "what's the square root of sixty four", "what is seven squared",
      "how many minutes are in a day", "convert five kilometers to miles", "how many pounds is ten kilograms",
      "what is seventy degrees fahrenheit in celsius", "how many cups are in a liter", "how many feet in a mile",
  };
  phrases.insert(phrases.end(), {
      "hello", "good morning", "how are you", "thank you", "thanks a lot", "goodbye", "see you later",
      "stop", "be quiet", "cancel", "never mind", "repeat that", "say that again", "what can you do",
      "yes", "no", "no thanks",
  });
  // Arithmetic over spoken numbers: every number word in both operands of every operator, so the
  // biasing LM expects a number after "times" or "divided by" (the generic LM prefers "twelve
  // times a"). Measured on 15 spoken sums in three flite voices: 15 → 9 word errors
  // (docs/benchmarks.md, "ASR word error rate").
  static const std::vector<std::string> k_numbers = [] {  // zero to nineteen, the tens, a hundred
    std::vector<std::string> n;
    for (std::uint64_t v = 0; v < 20; ++v) n.push_back(text::cardinal_words(v));
    for (std::uint64_t v = 20; v < 100; v += 10) n.push_back(text::cardinal_words(v));
    n.emplace_back("a hundred");
    return n;
  }();
  static constexpr std::array<std::string_view, 4> k_operators = {"times", "plus", "minus", "divided by"};
  for (std::size_t o = 0; intents && o < k_operators.size(); ++o) {
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
