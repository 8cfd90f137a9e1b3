#include "parley/cache/query_key.hpp"

#include <array>
#include <optional>
#include <unordered_set>

#include "parley/text/spoken.hpp"

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

// Contractions, apostrophe-less and informal spellings expanded ("what's" → "what is", "u" →
// "you"), possessives dropped ("france's" → "france"): text::expand_contraction.
std::vector<token> expand_contractions(const std::vector<token>& in) {
  std::vector<token> out;
  out.reserve(in.size() + 4);
  for (const auto& t : in) {
    bool first = true;
    for (auto& w : text::expand_contraction(t.text)) {
      out.push_back(token{std::move(w), first && t.after_break});
      first = false;
    }
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

bool is_filler(std::string_view w) { return text::is_hesitation(w) || w == "please" || w == "kindly"; }
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

// Step 4: spelled numbers, ordinals and decimals ("twenty first" → "21st", "one point five" →
// "1.5"); "half" and "quarter" stay words for the clock-time rules of step 5.
std::vector<token> spell_numbers(const std::vector<token>& in) {
  std::vector<std::string_view> words;
  words.reserve(in.size());
  for (const auto& t : in) words.push_back(t.text);
  std::vector<token> out;
  for (std::size_t i = 0; i < in.size();) {
    if (auto n = text::read_number(words, i, {.ordinals = true})) {
      out.push_back(token{std::move(n->written), in[i].after_break});
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

// Calls f with each non-empty word of a normalised key.
template <class F>
void for_each_word(std::string_view key, F f) {
  std::size_t i = 0;
  while (i < key.size()) {
    std::size_t j = key.find(' ', i);
    if (j == std::string_view::npos) j = key.size();
    if (j > i) f(key.substr(i, j - i));
    i = j + 1;
  }
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
  tokens = expand_contractions(tokens);
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

bool is_function_word(std::string_view w) { return text::is_function_word(w, text::function_words::query); }

std::vector<std::string> content_words(std::string_view normalized_key) {
  std::vector<std::string> out;
  for_each_word(normalized_key, [&](std::string_view w) {
    if (!is_function_word(w)) out.emplace_back(w);
  });
  return out;
}

std::vector<std::string> numeric_words(std::string_view normalized_key) {
  std::vector<std::string> out;
  for_each_word(normalized_key, [&](std::string_view w) {
    if (!is_digit(w.front())) return;
    // "2nd" and "2" name the same number ("second world war" / "world war two").
    std::string n(w);
    if (n.size() > 2 && !is_digit(n.back())) n.resize(n.size() - 2);
    out.push_back(std::move(n));
  });
  return out;
}

}  // namespace parley::cache
