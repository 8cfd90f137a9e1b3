#include "parley/agent/turn_end.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace parley::agent {

namespace {

// ---------------------------------------------------------------------------------------------
// The vocabulary of the rules, in one place. Words are lower-case, contractions already split
// ("what's" → "what" "is", "i'd" → "i" "would", "can't" → "can" "not").

enum class word_class : unsigned char {
  none,
  conjunction,  // needs the clause that follows
  preposition,  // needs its object
  particle,     // "in"/"on": a preposition unless a particle verb or its object precedes
  article,      // needs a noun
  possessive,
  auxiliary,    // needs a verb/complement unless a subject precedes ("yes it is", "i can")
  wh_word,      // "tell me what" (a lone "what" is not unfinished)
  subject,      // "i" at the very end
  verb_object,  // a verb that needs an object ("set", "tell", "remind")
  operator_,    // arithmetic still being said
  filler,       // um, uh: the speaker is still thinking
  digit,        // a single spoken digit (see the digits rule)
};

struct vocab_entry {
  std::string_view word;
  word_class cls;
};

constexpr std::array k_vocabulary = {
    // conjunctions
    vocab_entry{"and", word_class::conjunction}, vocab_entry{"or", word_class::conjunction},
    vocab_entry{"but", word_class::conjunction}, vocab_entry{"because", word_class::conjunction},
    vocab_entry{"cause", word_class::conjunction}, vocab_entry{"if", word_class::conjunction},
    vocab_entry{"than", word_class::conjunction}, vocab_entry{"whether", word_class::conjunction},
    vocab_entry{"unless", word_class::conjunction}, vocab_entry{"although", word_class::conjunction},
    vocab_entry{"nor", word_class::conjunction},
    // prepositions ("in"/"on" are particles, below)
    vocab_entry{"to", word_class::preposition}, vocab_entry{"for", word_class::preposition},
    vocab_entry{"of", word_class::preposition}, vocab_entry{"from", word_class::preposition},
    vocab_entry{"with", word_class::preposition}, vocab_entry{"about", word_class::preposition},
    vocab_entry{"into", word_class::preposition}, vocab_entry{"onto", word_class::preposition},
    vocab_entry{"at", word_class::preposition}, vocab_entry{"by", word_class::preposition},
    vocab_entry{"between", word_class::preposition}, vocab_entry{"through", word_class::preposition},
    vocab_entry{"without", word_class::preposition}, vocab_entry{"until", word_class::preposition},
    vocab_entry{"till", word_class::preposition}, vocab_entry{"towards", word_class::preposition},
    vocab_entry{"toward", word_class::preposition}, vocab_entry{"per", word_class::preposition},
    vocab_entry{"via", word_class::preposition}, vocab_entry{"as", word_class::preposition},
    vocab_entry{"in", word_class::particle}, vocab_entry{"on", word_class::particle},
    // articles and determiners that need a noun
    vocab_entry{"a", word_class::article}, vocab_entry{"an", word_class::article},
    vocab_entry{"the", word_class::article}, vocab_entry{"every", word_class::article},
    vocab_entry{"each", word_class::article},
    // possessives ("her" is left out: it is as often an object, "call her")
    vocab_entry{"my", word_class::possessive}, vocab_entry{"your", word_class::possessive},
    vocab_entry{"our", word_class::possessive}, vocab_entry{"their", word_class::possessive},
    vocab_entry{"its", word_class::possessive}, vocab_entry{"his", word_class::possessive},
    vocab_entry{"whose", word_class::possessive},
    // auxiliaries and modals
    vocab_entry{"is", word_class::auxiliary}, vocab_entry{"are", word_class::auxiliary},
    vocab_entry{"was", word_class::auxiliary}, vocab_entry{"were", word_class::auxiliary},
    vocab_entry{"am", word_class::auxiliary}, vocab_entry{"be", word_class::auxiliary},
    vocab_entry{"been", word_class::auxiliary}, vocab_entry{"do", word_class::auxiliary},
    vocab_entry{"does", word_class::auxiliary}, vocab_entry{"did", word_class::auxiliary},
    vocab_entry{"have", word_class::auxiliary}, vocab_entry{"has", word_class::auxiliary},
    vocab_entry{"had", word_class::auxiliary}, vocab_entry{"can", word_class::auxiliary},
    vocab_entry{"could", word_class::auxiliary}, vocab_entry{"will", word_class::auxiliary},
    vocab_entry{"would", word_class::auxiliary}, vocab_entry{"shall", word_class::auxiliary},
    vocab_entry{"should", word_class::auxiliary}, vocab_entry{"may", word_class::auxiliary},
    vocab_entry{"might", word_class::auxiliary}, vocab_entry{"must", word_class::auxiliary},
    // question words
    vocab_entry{"what", word_class::wh_word}, vocab_entry{"where", word_class::wh_word},
    vocab_entry{"when", word_class::wh_word}, vocab_entry{"which", word_class::wh_word},
    vocab_entry{"who", word_class::wh_word}, vocab_entry{"whom", word_class::wh_word},
    vocab_entry{"how", word_class::wh_word}, vocab_entry{"why", word_class::wh_word},
    vocab_entry{"i", word_class::subject},
    // verbs that need an object
    vocab_entry{"tell", word_class::verb_object}, vocab_entry{"give", word_class::verb_object},
    vocab_entry{"show", word_class::verb_object}, vocab_entry{"set", word_class::verb_object},
    vocab_entry{"remind", word_class::verb_object}, vocab_entry{"send", word_class::verb_object},
    vocab_entry{"bring", word_class::verb_object}, vocab_entry{"put", word_class::verb_object},
    vocab_entry{"want", word_class::verb_object}, vocab_entry{"need", word_class::verb_object},
    vocab_entry{"buy", word_class::verb_object}, vocab_entry{"find", word_class::verb_object},
    vocab_entry{"make", word_class::verb_object}, vocab_entry{"add", word_class::verb_object},
    vocab_entry{"let", word_class::verb_object}, vocab_entry{"play", word_class::verb_object},
    vocab_entry{"convert", word_class::verb_object}, vocab_entry{"calculate", word_class::verb_object},
    vocab_entry{"schedule", word_class::verb_object}, vocab_entry{"turn", word_class::verb_object},
    vocab_entry{"switch", word_class::verb_object}, vocab_entry{"reset", word_class::verb_object},
    vocab_entry{"change", word_class::verb_object}, vocab_entry{"track", word_class::verb_object},
    vocab_entry{"update", word_class::verb_object}, vocab_entry{"get", word_class::verb_object},
    // arithmetic still being said
    vocab_entry{"plus", word_class::operator_}, vocab_entry{"minus", word_class::operator_},
    vocab_entry{"times", word_class::operator_}, vocab_entry{"divided", word_class::operator_},
    vocab_entry{"multiplied", word_class::operator_}, vocab_entry{"point", word_class::operator_},
    // hesitation
    vocab_entry{"um", word_class::filler}, vocab_entry{"umm", word_class::filler},
    vocab_entry{"uh", word_class::filler}, vocab_entry{"uhh", word_class::filler},
    vocab_entry{"uhm", word_class::filler}, vocab_entry{"er", word_class::filler},
    vocab_entry{"erm", word_class::filler}, vocab_entry{"hmm", word_class::filler},
    vocab_entry{"hm", word_class::filler}, vocab_entry{"mm", word_class::filler},
    vocab_entry{"ah", word_class::filler}, vocab_entry{"eh", word_class::filler},
    // spoken digits (a number being read digit by digit)
    vocab_entry{"zero", word_class::digit}, vocab_entry{"oh", word_class::digit},
    vocab_entry{"one", word_class::digit}, vocab_entry{"two", word_class::digit},
    vocab_entry{"three", word_class::digit}, vocab_entry{"four", word_class::digit},
    vocab_entry{"five", word_class::digit}, vocab_entry{"six", word_class::digit},
    vocab_entry{"seven", word_class::digit}, vocab_entry{"eight", word_class::digit},
    vocab_entry{"nine", word_class::digit},
};

// Subjects after which an auxiliary or modal closes the sentence ("yes it is", "i can", "we do").
constexpr std::array<std::string_view, 10> k_subjects = {"i", "you", "we", "they", "he", "she", "it", "that",
                                                         "this", "there"};
// Pronouns after which a modal still needs its verb ("can you", "how do i", "what does it").
constexpr std::array<std::string_view, 8> k_modal_subjects = {"i", "you", "we", "they", "he", "she", "it", "there"};
// Auxiliaries that, followed by one of those pronouns, still need a verb. "is it" / "are you"
// are left out: "what time is it", "how are you" are complete; "is there" is kept.
constexpr std::array<std::string_view, 16> k_modals = {"can",  "could", "would", "will", "should", "shall",
                                                       "may",  "might", "must",  "do",   "does",   "did",
                                                       "have", "has",   "is",    "are"};
// Words before "in"/"on" that make it a particle or an adverb ("log in", "turn the lights on").
constexpr std::array<std::string_view, 26> k_particle_hosts = {
    "log",   "logged", "sign",  "signed", "check", "checked", "turn",  "turned", "switch",
    "come",  "go",     "carry", "hold",   "hang",  "plug",    "it",    "them",   "lights",
    "light", "tv",     "heating", "heat", "music", "radio",   "lamp",  "fan"};
// Words before a verb_object verb that make it a participle or adjective ("i'm all set", "it is set").
constexpr std::array<std::string_view, 7> k_not_a_command = {"is", "are", "was", "were", "been", "be", "all"};
// Verbs that leave the request open when followed by "me"/"us" ("tell me", "remind us").
constexpr std::array<std::string_view, 9> k_verb_me = {"tell", "give", "show", "remind", "send",
                                                       "let",  "get",  "bring", "wake"};
// Verbs that take an object, ending a yes/no question after modal + subject with none yet
// ("can i return", "do you accept", "do you have"); "what do you accept" has its object in front.
constexpr std::array<std::string_view, 15> k_transitive_verbs = {
    "accept", "return", "take", "sell", "have", "offer", "recommend", "carry",
    "stock",  "use",    "know", "like", "keep", "exchange", "do"};
constexpr std::array<std::string_view, 4> k_fronted_objects = {"what", "which", "who", "whom"};
// Openers of a subordinate clause ("if it rains tomorrow", "when my timer goes off"): the main
// clause is still to come while the text is this short. "when does..." (a question) is not one.
constexpr std::array<std::string_view, 10> k_subordinators = {"if",   "when",  "whenever", "before",  "after",
                                                              "once", "while", "because",  "although", "unless"};
constexpr std::size_t k_max_subordinate_words = 5;  // dev: these clauses run 4-5 words
// Two-word endings that need more ("i would like", "how many").
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> k_open_pairs = {{
    {"would", "like"}, {"would", "love"}, {"how", "much"}, {"how", "many"}, {"how", "long"}, {"how", "far"},
    {"how", "often"}, {"how", "old"}, {"what", "kind"}, {"what", "sort"}, {"what", "type"}, {"what", "time"}}};
// Words that name the number being read ("the number is five two").
constexpr std::array<std::string_view, 9> k_number_cues = {"number", "code", "pin", "zip", "postcode",
                                                           "phone",  "card", "account", "extension"};
// Whole utterances that are complete requests on their own.
constexpr std::array<std::string_view, 26> k_control_utterances = {
    "stop",       "cancel",      "pause",          "resume",      "continue",   "yes",
    "yeah",       "yep",         "no",             "nope",        "okay",       "ok",
    "thanks",     "thank you",   "never mind",     "nevermind",   "repeat that", "say that again",
    "that is all", "no thanks",  "yes please",     "no thank you", "goodbye",   "bye",
    "stop it",    "cancel that"};

// Said over a reply, these only show that the listener follows (is_backchannel); repeats allowed.
constexpr std::array<std::string_view, 19> k_backchannel_words = {
    "uh", "huh", "uhhuh", "mm", "hmm", "mhm", "mmhmm", "um", "uhm", "er", "ah", "oh", "okay", "ok", "yeah",
    "yep", "right", "sure", "alright"};
constexpr std::array<std::string_view, 4> k_backchannel_phrases = {"i see", "got it", "go on", "all right"};

template <class A>
bool contains(const A& list, std::string_view w) {
  return std::find(list.begin(), list.end(), w) != list.end();
}

word_class class_of(std::string_view w) {
  static const std::unordered_map<std::string_view, word_class> table = [] {
    std::unordered_map<std::string_view, word_class> t;
    for (const auto& e : k_vocabulary) t.emplace(e.word, e.cls);
    return t;
  }();
  if (!w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return word_class::digit;  // a numeral counts as digits being read
  const auto it = table.find(w);
  return it == table.end() ? word_class::none : it->second;
}

// ---------------------------------------------------------------------------------------------
// Tokens: lower-case ASCII words; '<...>' and '[...]' (recogniser fillers) dropped; contractions
// split. The text of a partial is short (tens of words), so one small vector per decision.

void push_word(std::vector<std::string>& out, std::string w) {
  if (w.empty()) return;
  const auto apos = w.find('\'');
  if (apos == std::string::npos) {
    out.push_back(std::move(w));
    return;
  }
  std::string head = w.substr(0, apos), tail = w.substr(apos + 1);
  if (tail == "t" && head.size() > 1 && head.back() == 'n') {  // n't
    head.pop_back();
    if (head == "ca") head = "can";
    if (head == "wo") head = "will";
    if (head == "sha") head = "shall";
    out.push_back(std::move(head));
    out.emplace_back("not");
    return;
  }
  const bool let_us = head == "let";
  if (!head.empty()) out.push_back(std::move(head));
  if (tail == "s") out.emplace_back(let_us ? "us" : "is");  // "what's", "john's": both need more
  else if (tail == "d") out.emplace_back("would");
  else if (tail == "ll") out.emplace_back("will");
  else if (tail == "re") out.emplace_back("are");
  else if (tail == "ve") out.emplace_back("have");
  else if (tail == "m") out.emplace_back("am");
  else if (!tail.empty()) out.push_back(std::move(tail));
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<' || c == '[') {  // "<sil>", "[noise]"
      const auto close = text.find(c == '<' ? '>' : ']', i);
      if (close != std::string_view::npos) {
        push_word(out, std::move(cur));
        cur.clear();
        i = close;
        continue;
      }
    }
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum) {
      cur += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    } else if ((c == '\'' || c == '`') && !cur.empty()) {
      cur += '\'';
    } else if (text.substr(i, 3) == "\xE2\x80\x99" && !cur.empty()) {  // typographic apostrophe
      cur += '\'';
      i += 2;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      cur += c;  // UTF-8 letters (and typographic apostrophes) stay inside the word
    } else {
      push_word(out, std::move(cur));
      cur.clear();
    }
  }
  push_word(out, std::move(cur));
  return out;
}

std::string joined(const std::vector<std::string>& w) {
  std::string s;
  for (const auto& x : w) {
    if (!s.empty()) s += ' ';
    s += x;
  }
  return s;
}

ending_analysis unfinished(std::string_view rule) { return {text_ending::unfinished, rule}; }

// "can you", "how do i", "is there": an auxiliary whose subject came but whose verb has not.
bool modal_then_subject(std::string_view aux, std::string_view pronoun) {
  if (!contains(k_modals, aux) || !contains(k_modal_subjects, pronoun)) return false;
  if (aux == "is" || aux == "are") return pronoun == "there";
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string_view to_string(turn_taking preset) {
  switch (preset) {
    case turn_taking::quick: return "quick";
    case turn_taking::conversational: return "conversational";
    case turn_taking::patient: return "patient";
  }
  return "conversational";
}

result<turn_taking> parse_turn_taking(std::string_view name) {
  std::string s;
  for (char c : name) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    s += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  for (auto p : {turn_taking::quick, turn_taking::conversational, turn_taking::patient})
    if (s == to_string(p)) return p;
  return make_error(errc::invalid_argument, "unknown turn-taking preset '" + std::string(name.substr(0, 40)) +
                                                "' (expected quick, conversational or patient)");
}

turn_end_config turn_end_config::preset(turn_taking preset) {
  // Chosen by `parley_turn_end_sim --sweep --partial-every-ms 200 --asr-lag-ms 60` on the dev split
  // of the turn-taking corpus (bench/turns/README.md): the lowest mean endpoint delay such that at
  // most 10% / 10% / 5% of the utterances paused before the request is complete are cut in a
  // pause of up to 500 / 900 / 1200 ms. max_silence_ms is a backstop no rule reaches (every rule
  // asks for at most unfinished_silence_ms), so the corpus does not measure it. Every preset keeps
  // the default merge settings (merged turns, bench/turns/README.md).
  switch (preset) {
    case turn_taking::quick:
      return {.complete_silence_ms = 150.0, .default_silence_ms = 350.0, .unfinished_silence_ms = 600.0,
              .max_silence_ms = 2000.0, .p_complete_threshold = 0.8};
    case turn_taking::conversational:
      return {.complete_silence_ms = 200.0, .default_silence_ms = 350.0, .unfinished_silence_ms = 1000.0,
              .max_silence_ms = 2000.0, .p_complete_threshold = 0.8};
    case turn_taking::patient:
      return {.complete_silence_ms = 200.0, .default_silence_ms = 750.0, .unfinished_silence_ms = 1300.0,
              .max_silence_ms = 2000.0, .p_complete_threshold = 0.8};
  }
  return {};
}

status validate(const turn_end_config& c) {
  const auto positive = [](double v) { return std::isfinite(v) && v > 0.0; };
  const std::pair<const char*, double> silences[] = {{"complete_silence_ms", c.complete_silence_ms},
                                                      {"default_silence_ms", c.default_silence_ms},
                                                      {"unfinished_silence_ms", c.unfinished_silence_ms},
                                                      {"max_silence_ms", c.max_silence_ms}};
  for (const auto& [name, value] : silences)
    if (!positive(value))
      return make_error(errc::invalid_argument, std::string("turn_end.") + name + " must be a positive number");
  if (!(c.p_complete_threshold >= 0.0 && c.p_complete_threshold <= 1.0))
    return make_error(errc::invalid_argument, "turn_end.p_complete_threshold must be in [0, 1]");
  for (const auto& [name, value] : {std::pair{"merge_window_ms", c.merge_window_ms},
                                    std::pair{"merge_max_heard_ms", c.merge_max_heard_ms},
                                    std::pair{"preempt_after_ms", c.preempt_after_ms}})
    if (!(std::isfinite(value) && value >= 0.0))
      return make_error(errc::invalid_argument, std::string("turn_end.") + name + " must be a number >= 0");
  if (!(c.complete_silence_ms <= c.default_silence_ms && c.default_silence_ms <= c.unfinished_silence_ms &&
        c.unfinished_silence_ms <= c.max_silence_ms))
    return make_error(errc::invalid_argument,
                      "turn_end silences must satisfy complete <= default <= unfinished <= max");
  return {};
}

std::string_view to_string(text_ending ending) {
  switch (ending) {
    case text_ending::empty: return "empty";
    case text_ending::neutral: return "neutral";
    case text_ending::complete: return "complete";
    case text_ending::unfinished: return "unfinished";
  }
  return "neutral";
}

bool is_backchannel(std::string_view text) {
  const std::vector<std::string> w = words_of(text);
  if (w.empty()) return false;
  for (std::size_t i = 0; i < w.size();) {
    if (contains(k_backchannel_words, w[i])) {
      ++i;
    } else if (i + 1 < w.size() && contains(k_backchannel_phrases, w[i] + " " + w[i + 1])) {
      i += 2;
    } else {
      return false;
    }
  }
  return true;
}

ending_analysis classify_ending(std::string_view text) {
  const std::vector<std::string> w = words_of(text);
  if (w.empty()) return {text_ending::empty, ""};
  const std::size_t n = w.size();
  const std::string_view last = w[n - 1];
  const std::string_view prev = n >= 2 ? std::string_view(w[n - 2]) : std::string_view();
  const std::string_view prev2 = n >= 3 ? std::string_view(w[n - 3]) : std::string_view();

  // Two-word endings first: they override what the last word alone would say.
  for (const auto& [a, b] : k_open_pairs)
    if (prev == a && last == b) return unfinished("phrase");
  if (modal_then_subject(prev, last)) return unfinished("modal_subject");
  if (last == "please" && modal_then_subject(prev2, prev)) return unfinished("modal_subject");  // "could you please"
  if ((last == "me" || last == "us") && contains(k_verb_me, prev)) return unfinished("verb_me");
  if (n >= 3 && modal_then_subject(prev2, prev) && contains(k_transitive_verbs, last) &&
      !contains(k_fronted_objects, w[0]))
    return unfinished("verb_object");

  switch (class_of(last)) {
    case word_class::conjunction: return unfinished("conjunction");
    case word_class::preposition: return unfinished("preposition");
    case word_class::particle:
      if (!contains(k_particle_hosts, prev)) return unfinished("preposition");
      break;
    case word_class::article: return unfinished("article");
    case word_class::possessive: return unfinished("possessive");
    case word_class::auxiliary:
      if (!contains(k_subjects, prev)) return unfinished("auxiliary");
      break;
    case word_class::wh_word:
      if (n >= 2) return unfinished("wh_word");
      break;
    case word_class::subject: return unfinished("subject");
    case word_class::verb_object:
      if (!contains(k_not_a_command, prev)) return unfinished("verb_object");
      break;
    case word_class::operator_: return unfinished("operator");
    case word_class::filler: return unfinished("filler");
    case word_class::digit: {
      // A run of spoken digits ("five two"), or one digit right after a cue ("the pin is four"):
      // a number still being read. One digit after anything else ("two plus two", "for five")
      // is left to the other rules.
      std::size_t run = 0;
      while (run < n && class_of(w[n - 1 - run]) == word_class::digit) ++run;
      if (run >= 2) return unfinished("digits");
      for (std::size_t k = n - run; k-- > 0 && k + 4 >= n - run;)
        if (contains(k_number_cues, w[k])) return unfinished("digits");
      break;
    }
    case word_class::none: break;
  }

  if (n >= 2 && n <= k_max_subordinate_words && contains(k_subordinators, w[0]) &&
      class_of(w[1]) != word_class::auxiliary)
    return unfinished("subordinate");

  if (contains(k_control_utterances, joined(w))) return {text_ending::complete, "control"};
  if (n >= 2 && (last == "please" || last == "thanks" || (prev == "thank" && last == "you")))
    return {text_ending::complete, "politeness"};
  return {text_ending::neutral, ""};
}

turn_end_policy::turn_end_policy(turn_end_config config) : config_(config) {}

turn_end_decision turn_end_policy::decide(std::string_view partial_text, std::optional<double> p_complete,
                                          double silence_ms) const {
  const ending_analysis a = classify_ending(partial_text);
  turn_end_decision d;
  d.ending = a.ending;
  d.reason = a.rule;
  const bool responder_sure = p_complete && !std::isnan(*p_complete) && *p_complete >= config_.p_complete_threshold;
  if (a.ending == text_ending::unfinished) {
    d.required_silence_ms = config_.unfinished_silence_ms;
  } else if (a.ending == text_ending::complete) {
    d.required_silence_ms = config_.complete_silence_ms;
  } else if (responder_sure) {
    d.ending = text_ending::complete;
    d.reason = "responder";
    d.required_silence_ms = config_.complete_silence_ms;
  } else {
    d.required_silence_ms = config_.default_silence_ms;
  }
  d.required_silence_ms = std::min(d.required_silence_ms, config_.max_silence_ms);
  d.ended = std::max(0.0, silence_ms) >= d.required_silence_ms;
  return d;
}

}  // namespace parley::agent
