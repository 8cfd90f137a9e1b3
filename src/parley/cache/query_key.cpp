#include "parley/cache/query_key.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace parley::cache {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80; }
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

struct token {
  std::string text;
  bool after_break = false;  // a comma, full stop or other hard punctuation came before it
};

// Step 1 and 2: lower case, split into words and digit groups; punctuation is a break.
std::vector<token> tokenize(std::string_view in) {
  std::string s;
  s.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    // U+2019 (right single quotation mark) is an apostrophe as phones and editors type it.
    if (c == 0xE2 && i + 2 < in.size() && static_cast<unsigned char>(in[i + 1]) == 0x80 &&
        static_cast<unsigned char>(in[i + 2]) == 0x99) {
      s.push_back('\'');
      i += 2;
      continue;
    }
    s.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
  }

  std::vector<token> out;
  bool pending_break = false;
  std::size_t i = 0;
  auto push = [&](std::string text) {
    out.push_back(token{std::move(text), pending_break});
    pending_break = false;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (is_digit(c)) {
      std::string num;
      while (i < s.size()) {
        if (is_digit(s[i])) {
          num.push_back(s[i++]);
        } else if (s[i] == ',' && i + 3 < s.size() && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
                   is_digit(s[i + 3]) && (i + 4 >= s.size() || !is_digit(s[i + 4]))) {
          ++i;  // "1,000": a thousands separator
        } else if ((s[i] == '.' || s[i] == ':') && i + 1 < s.size() && is_digit(s[i + 1])) {
          num.push_back(s[i++]);
        } else {
          break;
        }
      }
      // Ordinal suffixes stay with their digits ("21st", "5th").
      if (i + 2 <= s.size()) {
        const std::string_view suf = std::string_view(s).substr(i, 2);
        const bool word_ends = i + 2 >= s.size() || !is_letter(s[i + 2]);
        if (word_ends && (suf == "st" || suf == "nd" || suf == "rd" || suf == "th")) {
          num += suf;
          i += 2;
        }
      }
      push(std::move(num));
      continue;
    }
    if (is_letter(c) || c == '\'') {
      std::string word;
      while (i < s.size() && (is_letter(s[i]) || s[i] == '\'')) word.push_back(s[i++]);
      while (!word.empty() && word.front() == '\'') word.erase(word.begin());
      while (!word.empty() && word.back() == '\'') word.pop_back();
      if (!word.empty()) push(std::move(word));
      continue;
    }
    // Symbols that carry meaning are spoken ("5 + 3" must not read like "5 - 3").
    {
      const char* spoken = nullptr;
      std::size_t next = i + 1;
      while (next < s.size() && s[next] == ' ') ++next;
      const bool number_before = !out.empty() && is_digit(out.back().text.front());
      const bool number_after = next < s.size() && is_digit(s[next]);
      if (c == '+') spoken = "plus";
      else if (c == '*') spoken = "times";
      else if (c == '%') spoken = "percent";
      else if (c == '&') spoken = "and";
      else if (c == '=') spoken = "equals";
      else if (c == '-' && number_before && number_after) spoken = "minus";
      else if (c == '/' && number_before && number_after) spoken = "divided by";
      if (spoken) {
        const std::string_view sp = spoken;
        const auto space = sp.find(' ');
        push(std::string(sp.substr(0, space)));
        if (space != std::string_view::npos) push(std::string(sp.substr(space + 1)));
        ++i;
        continue;
      }
    }
    if (c == ',' || c == '.' || c == ';' || c == '!' || c == '?' || c == '-' || c == '(' || c == ')' || c == '"')
      pending_break = true;
    ++i;
  }
  return out;
}

const std::unordered_map<std::string_view, std::vector<std::string_view>>& contractions() {
  static const std::unordered_map<std::string_view, std::vector<std::string_view>> table = {
      {"what's", {"what", "is"}},   {"whats", {"what", "is"}},    {"it's", {"it", "is"}},
      {"that's", {"that", "is"}},   {"there's", {"there", "is"}}, {"here's", {"here", "is"}},
      {"how's", {"how", "is"}},     {"where's", {"where", "is"}}, {"wheres", {"where", "is"}},
      {"who's", {"who", "is"}},     {"when's", {"when", "is"}},   {"he's", {"he", "is"}},
      {"she's", {"she", "is"}},     {"let's", {"let", "us"}},     {"i'm", {"i", "am"}},
      {"you're", {"you", "are"}},   {"we're", {"we", "are"}},     {"they're", {"they", "are"}},
      {"i've", {"i", "have"}},      {"you've", {"you", "have"}},  {"we've", {"we", "have"}},
      {"i'll", {"i", "will"}},      {"you'll", {"you", "will"}},  {"it'll", {"it", "will"}},
      {"i'd", {"i", "would"}},      {"you'd", {"you", "would"}},  {"can't", {"can", "not"}},
      {"cant", {"can", "not"}},     {"cannot", {"can", "not"}},   {"won't", {"will", "not"}},
      {"don't", {"do", "not"}},     {"dont", {"do", "not"}},      {"doesn't", {"does", "not"}},
      {"doesnt", {"does", "not"}},  {"didn't", {"did", "not"}},   {"didnt", {"did", "not"}},
      {"isn't", {"is", "not"}},     {"isnt", {"is", "not"}},      {"aren't", {"are", "not"}},
      {"wasn't", {"was", "not"}},   {"weren't", {"were", "not"}}, {"haven't", {"have", "not"}},
      {"hasn't", {"has", "not"}},   {"couldn't", {"could", "not"}}, {"wouldn't", {"would", "not"}},
      {"shouldn't", {"should", "not"}}, {"o'clock", {"oclock"}}, {"gonna", {"going", "to"}},
      {"wanna", {"want", "to"}},    {"y'all", {"you"}},           {"ya", {"you"}},
      {"u", {"you"}},               {"ur", {"your"}},             {"pls", {"please"}},
      {"plz", {"please"}},          {"thx", {"thanks"}},
  };
  return table;
}

std::vector<token> expand_contractions(std::vector<token> in) {
  std::vector<token> out;
  out.reserve(in.size() + 4);
  for (auto& t : in) {
    const auto& table = contractions();
    if (auto it = table.find(t.text); it != table.end()) {
      bool first = true;
      for (auto w : it->second) {
        out.push_back(token{std::string(w), first && t.after_break});
        first = false;
      }
      continue;
    }
    // Possessive "'s" and any other apostrophe: "france's" → "france", "rock'n'roll" → "rocknroll".
    std::string w = t.text;
    if (w.size() > 2 && w.compare(w.size() - 2, 2, "'s") == 0) w.resize(w.size() - 2);
    std::string clean;
    for (char c : w)
      if (c != '\'') clean.push_back(c);
    if (!clean.empty()) out.push_back(token{std::move(clean), t.after_break});
  }
  return out;
}

// "p.m." arrives as "p" "m": join it back when it follows a number.
std::vector<token> join_am_pm(std::vector<token> in) {
  std::vector<token> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if ((in[i].text == "a" || in[i].text == "p") && i + 1 < in.size() && in[i + 1].text == "m" && !out.empty()) {
      out.push_back(token{in[i].text + "m", in[i].after_break});
      ++i;
      continue;
    }
    out.push_back(std::move(in[i]));
  }
  return out;
}

bool is_filler(std::string_view w) {
  static const std::unordered_set<std::string_view> set = {"um",  "umm", "uh",     "uhh",    "uhm", "er",
                                                           "erm", "ah",  "hmm",    "hm",     "mm",  "mhm",
                                                           "please", "kindly"};
  return set.contains(w);
}
bool is_leading_only(std::string_view w) {
  static const std::unordered_set<std::string_view> set = {"hey", "hi", "hello", "so",  "well", "okay",
                                                           "ok",  "like", "oh", "now", "alright", "and"};
  return set.contains(w);
}

// Step 3: fillers everywhere, discourse words at the start and after a filler or a comma.
std::vector<token> drop_fillers(const std::vector<token>& in) {
  std::vector<token> out;
  bool at_start = true;      // nothing kept yet
  bool after_filler = false; // the previous word was dropped as a filler
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto& w = in[i].text;
    const bool loose = at_start || after_filler || in[i].after_break;
    if (is_filler(w)) {
      after_filler = true;
      continue;
    }
    if (at_start && is_leading_only(w)) {
      after_filler = true;
      continue;
    }
    if (loose && w == "like") {
      after_filler = true;
      continue;
    }
    if (loose && i + 1 < in.size() &&
        ((w == "you" && in[i + 1].text == "know") || (w == "i" && in[i + 1].text == "mean")) &&
        (i + 2 >= in.size() || in[i + 2].after_break || !at_start)) {
      ++i;
      after_filler = true;
      continue;
    }
    out.push_back(token{w, in[i].after_break});
    at_start = false;
    after_filler = false;
  }
  return out;
}

// Step 4: spelled numbers.
enum class num_kind { unit, teen, tens, hundred, scale };
struct num_word {
  num_kind kind;
  std::int64_t value;
  bool ordinal;
};

const std::unordered_map<std::string_view, num_word>& number_words() {
  using k = num_kind;
  static const std::unordered_map<std::string_view, num_word> table = {
      {"zero", {k::unit, 0, false}},       {"one", {k::unit, 1, false}},         {"two", {k::unit, 2, false}},
      {"three", {k::unit, 3, false}},      {"four", {k::unit, 4, false}},        {"five", {k::unit, 5, false}},
      {"six", {k::unit, 6, false}},        {"seven", {k::unit, 7, false}},       {"eight", {k::unit, 8, false}},
      {"nine", {k::unit, 9, false}},       {"ten", {k::teen, 10, false}},        {"eleven", {k::teen, 11, false}},
      {"twelve", {k::teen, 12, false}},    {"thirteen", {k::teen, 13, false}},   {"fourteen", {k::teen, 14, false}},
      {"fifteen", {k::teen, 15, false}},   {"sixteen", {k::teen, 16, false}},    {"seventeen", {k::teen, 17, false}},
      {"eighteen", {k::teen, 18, false}},  {"nineteen", {k::teen, 19, false}},   {"twenty", {k::tens, 20, false}},
      {"thirty", {k::tens, 30, false}},    {"forty", {k::tens, 40, false}},      {"fifty", {k::tens, 50, false}},
      {"sixty", {k::tens, 60, false}},     {"seventy", {k::tens, 70, false}},    {"eighty", {k::tens, 80, false}},
      {"ninety", {k::tens, 90, false}},    {"hundred", {k::hundred, 100, false}},
      {"thousand", {k::scale, 1000, false}}, {"million", {k::scale, 1000000, false}},
      {"billion", {k::scale, 1000000000, false}},
      {"first", {k::unit, 1, true}},       {"second", {k::unit, 2, true}},       {"third", {k::unit, 3, true}},
      {"fourth", {k::unit, 4, true}},      {"fifth", {k::unit, 5, true}},        {"sixth", {k::unit, 6, true}},
      {"seventh", {k::unit, 7, true}},     {"eighth", {k::unit, 8, true}},       {"ninth", {k::unit, 9, true}},
      {"tenth", {k::teen, 10, true}},      {"eleventh", {k::teen, 11, true}},    {"twelfth", {k::teen, 12, true}},
      {"thirteenth", {k::teen, 13, true}}, {"fourteenth", {k::teen, 14, true}},  {"fifteenth", {k::teen, 15, true}},
      {"sixteenth", {k::teen, 16, true}},  {"seventeenth", {k::teen, 17, true}}, {"eighteenth", {k::teen, 18, true}},
      {"nineteenth", {k::teen, 19, true}}, {"twentieth", {k::tens, 20, true}},   {"thirtieth", {k::tens, 30, true}},
      {"fortieth", {k::tens, 40, true}},   {"fiftieth", {k::tens, 50, true}},    {"sixtieth", {k::tens, 60, true}},
      {"seventieth", {k::tens, 70, true}}, {"eightieth", {k::tens, 80, true}},   {"ninetieth", {k::tens, 90, true}},
      {"hundredth", {k::hundred, 100, true}}, {"thousandth", {k::scale, 1000, true}},
  };
  return table;
}

std::optional<num_word> number_word(std::string_view w) {
  const auto& t = number_words();
  if (auto it = t.find(w); it != t.end()) return it->second;
  return std::nullopt;
}

std::string ordinal_suffix(std::int64_t v) {
  const auto r100 = v % 100;
  if (r100 >= 11 && r100 <= 13) return "th";
  switch (v % 10) {
    case 1: return "st";
    case 2: return "nd";
    case 3: return "rd";
    default: return "th";
  }
}

struct parsed_number {
  std::string text;
  std::size_t end = 0;
};

// The longest spelled number starting at words[at].
std::optional<parsed_number> parse_number(const std::vector<token>& words, std::size_t at) {
  enum class last_t { none, unit, teen, tens, hundred, scale, and_ };
  last_t last = last_t::none;
  std::int64_t total = 0, current = 0;
  std::size_t i = at;
  bool any = false, ordinal = false;
  while (i < words.size() && !ordinal) {
    const std::string& w = words[i].text;
    // "a hundred", "a thousand"
    if (w == "a" && last == last_t::none && i + 1 < words.size()) {
      auto next = number_word(words[i + 1].text);
      if (next && (next->kind == num_kind::hundred || next->kind == num_kind::scale) && !next->ordinal) {
        current = 1;
        last = last_t::unit;
        ++i;
        continue;
      }
      break;
    }
    if (w == "and" && (last == last_t::hundred || last == last_t::scale) && i + 1 < words.size()) {
      auto next = number_word(words[i + 1].text);
      if (next && (next->kind == num_kind::unit || next->kind == num_kind::teen || next->kind == num_kind::tens)) {
        last = last_t::and_;
        ++i;
        continue;
      }
      break;
    }
    auto nw = number_word(w);
    if (!nw) break;
    const bool fresh = last == last_t::none || last == last_t::hundred || last == last_t::scale || last == last_t::and_;
    bool ok = false;
    switch (nw->kind) {
      case num_kind::unit:
        ok = fresh || (last == last_t::tens && current % 10 == 0);
        if (ok) current += nw->value, last = last_t::unit;
        break;
      case num_kind::teen:
        ok = fresh;
        if (ok) current += nw->value, last = last_t::teen;
        break;
      case num_kind::tens:
        ok = fresh;
        if (ok) current += nw->value, last = last_t::tens;
        break;
      case num_kind::hundred:
        ok = (last == last_t::unit || last == last_t::teen) && current > 0 && current < 100;
        if (ok) current *= 100, last = last_t::hundred;
        break;
      case num_kind::scale:
        ok = (last != last_t::none && last != last_t::scale && last != last_t::and_) && current > 0;
        if (ok) total += current * nw->value, current = 0, last = last_t::scale;
        break;
    }
    if (!ok) break;
    any = true;
    ordinal = nw->ordinal;
    ++i;
  }
  if (!any) return std::nullopt;
  // A number never ends on a dangling "and" or "a" (they were only taken with a number after).
  const std::int64_t value = total + current;
  std::string text = std::to_string(value);
  if (ordinal) text += ordinal_suffix(value);
  // "one point five"
  if (!ordinal && i + 1 < words.size() && words[i].text == "point") {
    std::string frac;
    std::size_t j = i + 1;
    while (j < words.size()) {
      auto d = number_word(words[j].text);
      if (!d || d->kind != num_kind::unit || d->ordinal) break;
      frac += std::to_string(d->value);
      ++j;
    }
    if (!frac.empty()) {
      text += "." + frac;
      i = j;
    }
  }
  return parsed_number{std::move(text), i};
}

std::vector<token> spell_numbers(const std::vector<token>& in) {
  std::vector<token> out;
  for (std::size_t i = 0; i < in.size();) {
    if (auto n = parse_number(in, i)) {
      out.push_back(token{n->text, in[i].after_break});
      i = n->end;
      continue;
    }
    out.push_back(in[i]);
    ++i;
  }
  return out;
}

// Step 5: clock times.
std::optional<int> small_int(std::string_view w, int lo, int hi) {
  if (!all_digits(w) || w.size() > 2) return std::nullopt;
  const int v = std::stoi(std::string(w));
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::string hhmm(int h, int m) {
  std::array<char, 8> buf{};
  buf[0] = static_cast<char>('0' + h / 10);
  buf[1] = static_cast<char>('0' + h % 10);
  buf[2] = ':';
  buf[3] = static_cast<char>('0' + m / 10);
  buf[4] = static_cast<char>('0' + m % 10);
  return std::string(buf.data(), 5);
}

// am/pm marker at words[i]: +1 for pm, -1 for am, with the number of words it takes.
std::pair<int, std::size_t> day_half_at(const std::vector<token>& w, std::size_t i) {
  auto is = [&](std::size_t k, std::string_view s) { return k < w.size() && w[k].text == s; };
  if (is(i, "pm")) return {1, 1};
  if (is(i, "am")) return {-1, 1};
  if (is(i, "in") && is(i + 1, "the")) {
    if (is(i + 2, "morning")) return {-1, 3};
    if (is(i + 2, "afternoon") || is(i + 2, "evening")) return {1, 3};
  }
  if (is(i, "at") && is(i + 1, "night")) return {1, 2};
  return {0, 0};
}

int apply_half(int h, int half) {
  if (half > 0 && h < 12) return h + 12;
  if (half < 0 && h == 12) return 0;
  return h;
}

std::vector<token> normalize_times(const std::vector<token>& in) {
  std::vector<token> out;
  auto is = [&](std::size_t k, std::string_view s) { return k < in.size() && in[k].text == s; };
  for (std::size_t i = 0; i < in.size();) {
    const std::string& w = in[i].text;
    const bool brk = in[i].after_break;
    if (w == "noon" || w == "midday") {
      out.push_back(token{"12:00", brk});
      ++i;
      continue;
    }
    if (w == "midnight") {
      out.push_back(token{"00:00", brk});
      ++i;
      continue;
    }
    // "12 noon", "12 midnight"
    if (w == "12" && (is(i + 1, "noon") || is(i + 1, "midday") || is(i + 1, "midnight"))) {
      out.push_back(token{is(i + 1, "midnight") ? "00:00" : "12:00", brk});
      i += 2;
      continue;
    }
    // "half past 5", "quarter past 5", "quarter to 5", "10 past 5" (+ am/pm)
    {
      std::optional<int> minutes;
      std::size_t k = i;
      if (w == "half" && is(i + 1, "past")) minutes = 30, k = i + 2;
      else if (w == "quarter" && is(i + 1, "past")) minutes = 15, k = i + 2;
      else if (w == "quarter" && is(i + 1, "to")) minutes = -15, k = i + 2;
      else if (auto m = small_int(w, 1, 29); m && is(i + 1, "past")) minutes = *m, k = i + 2;
      else if (auto m2 = small_int(w, 1, 29); m2 && is(i + 1, "minutes") && is(i + 2, "past")) minutes = *m2, k = i + 3;
      if (minutes && k < in.size()) {
        if (auto h = small_int(in[k].text, 1, 12)) {
          int hour = *h, minute = *minutes;
          if (minute < 0) hour = hour == 1 ? 12 : hour - 1, minute = 60 + minute;
          auto [half, n] = day_half_at(in, k + 1);
          hour = apply_half(hour, half);
          out.push_back(token{hhmm(hour, minute), brk});
          i = k + 1 + n;
          continue;
        }
      }
    }
    // "17:00", "5:30 pm"
    if (auto colon = w.find(':'); colon != std::string::npos) {
      auto h = small_int(std::string_view(w).substr(0, colon), 0, 23);
      auto m = w.size() - colon - 1 == 2 ? small_int(std::string_view(w).substr(colon + 1), 0, 59) : std::nullopt;
      if (h && m) {
        auto [half, n] = *h <= 12 ? day_half_at(in, i + 1) : std::pair<int, std::size_t>{0, 0};
        out.push_back(token{hhmm(apply_half(*h, half), *m), brk});
        i += 1 + n;
        continue;
      }
    }
    if (auto h = small_int(w, 0, 23)) {
      // "5 oclock" (+ am/pm)
      if (is(i + 1, "oclock")) {
        auto [half, n] = *h <= 12 ? day_half_at(in, i + 2) : std::pair<int, std::size_t>{0, 0};
        out.push_back(token{hhmm(apply_half(*h, half), 0), brk});
        i += 2 + n;
        continue;
      }
      // "5 30 pm" (from "five thirty p.m.")
      if (*h >= 1 && *h <= 12 && i + 2 < in.size()) {
        auto m = small_int(in[i + 1].text, 0, 59);
        if (m && in[i + 1].text.size() == 2) {
          auto [half, n] = day_half_at(in, i + 2);
          if (half != 0) {
            out.push_back(token{hhmm(apply_half(*h, half), *m), brk});
            i += 2 + n;
            continue;
          }
        }
      }
      // "5 pm", "5 in the evening"
      if (*h >= 1 && *h <= 12) {
        auto [half, n] = day_half_at(in, i + 1);
        if (half != 0) {
          out.push_back(token{hhmm(apply_half(*h, half), 0), brk});
          i += 1 + n;
          continue;
        }
      }
    }
    out.push_back(in[i]);
    ++i;
  }
  return out;
}

// Politeness wrappers in front of a question: "can you tell me when you open" → "when you open".
std::vector<token> drop_wrappers(std::vector<token> in) {
  static const std::unordered_set<std::string_view> wh = {"what", "when", "where", "who",  "whom",
                                                          "which", "why", "how",  "if",   "whether"};
  static const std::vector<std::vector<std::string_view>> wrappers = {
      {"can", "you", "tell", "me"},        {"could", "you", "tell", "me"}, {"would", "you", "tell", "me"},
      {"will", "you", "tell", "me"},       {"do", "you", "know"},          {"i", "want", "to", "know"},
      {"i", "would", "like", "to", "know"}, {"i", "was", "wondering"},     {"i", "wonder"},
      {"tell", "me"},
  };
  for (const auto& wr : wrappers) {
    if (in.size() <= wr.size()) continue;
    bool match = true;
    for (std::size_t k = 0; k < wr.size() && match; ++k) match = in[k].text == wr[k];
    if (match && wh.contains(in[wr.size()].text)) {
      in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(wr.size()));
      break;
    }
  }
  return in;
}

}  // namespace

std::vector<std::string> query_words(std::string_view text) {
  auto tokens = tokenize(text);
  tokens = join_am_pm(std::move(tokens));
  tokens = expand_contractions(std::move(tokens));
  tokens = drop_fillers(tokens);
  tokens = spell_numbers(tokens);
  tokens = normalize_times(tokens);
  tokens = drop_wrappers(std::move(tokens));
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (auto& t : tokens) out.push_back(std::move(t.text));
  return out;
}

std::string normalize_query(std::string_view text) {
  std::string key;
  for (const auto& w : query_words(text)) {
    if (!key.empty()) key.push_back(' ');
    key += w;
  }
  return key;
}

bool is_function_word(std::string_view w) {
  static const std::unordered_set<std::string_view> set = {
      "the",   "a",     "an",    "is",    "are",    "was",    "were",  "be",     "been",  "being", "am",
      "do",    "does",  "did",   "to",    "of",     "in",     "on",    "at",     "for",   "with",  "by",
      "from",  "and",   "or",    "my",    "your",   "our",    "their", "i",      "you",   "we",    "it",
      "its",   "this",  "that",  "these", "those",  "me",     "us",    "can",    "could", "would", "will",
      "should", "shall", "may",  "might", "have",   "has",    "had",   "there",  "here",  "about", "as",
      "into",  "than",  "then",  "them",  "they",   "he",     "she",   "his",    "her",   "him",   "up",
      "just",  "also",  "get",   "got",   "some",   "any",    "very",  "if",     "so",    "tell",  "know",
      "want",  "need",  "let",   "what",  "when",   "where",  "who",   "whom",   "whose", "which", "why",
      "how",   "really", "actually", "please", "thing", "something", "anything", "much", "many", "does",
      "able",  "yet",   "still", "ever",  "explain", "describe", "mean", "say",  "give",  "make",  "come",
      "go",    "way",   "out",   "it's",  "one",    "all",    "i'm",
      // Weak content words: they shade a question more than they change it ("what *time* do you
      // open" = "when do you open", "do you *take* apple pay" = "can i *use* apple pay").
      "time",  "year",  "right", "use", "take", "offer", "available",
      "real",  "stay",  "able",  "unable", "exactly", "usually", "normally", "possible", "allowed"};
  return set.contains(w);
}

std::vector<std::string> content_words(std::string_view normalized_key) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < normalized_key.size()) {
    std::size_t j = normalized_key.find(' ', i);
    if (j == std::string_view::npos) j = normalized_key.size();
    const auto w = normalized_key.substr(i, j - i);
    if (!w.empty() && !is_function_word(w)) out.emplace_back(w);
    i = j + 1;
  }
  return out;
}

std::vector<std::string> numeric_words(std::string_view normalized_key) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < normalized_key.size()) {
    std::size_t j = normalized_key.find(' ', i);
    if (j == std::string_view::npos) j = normalized_key.size();
    const auto w = normalized_key.substr(i, j - i);
    if (!w.empty() && is_digit(w.front())) {
      // "2nd" and "2" name the same number ("second world war" / "world war two").
      std::string n(w);
      if (n.size() > 2 && !is_digit(n.back())) n.resize(n.size() - 2);
      out.push_back(std::move(n));
    }
    i = j + 1;
  }
  return out;
}

}  // namespace parley::cache
