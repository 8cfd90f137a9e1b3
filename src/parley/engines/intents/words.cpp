#include "parley/engines/intents/words.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>

namespace parley::intents {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80; }

// Whole-word rewrites, applied after splitting (the apostrophe is kept until then).
const std::unordered_map<std::string_view, std::string_view>& contractions() {
  static const std::unordered_map<std::string_view, std::string_view> table = {
      {"what's", "what is"},   {"whats", "what is"},    {"it's", "it is"},       {"that's", "that is"},
      {"thats", "that is"},    {"there's", "there is"}, {"here's", "here is"},   {"how's", "how is"},
      {"where's", "where is"}, {"wheres", "where is"},  {"who's", "who is"},     {"when's", "when is"},
      {"let's", "let us"},     {"i'm", "i am"},         {"im", "i am"},          {"you're", "you are"},
      {"we're", "we are"},     {"they're", "they are"}, {"i've", "i have"},      {"you've", "you have"},
      {"we've", "we have"},    {"i'll", "i will"},      {"you'll", "you will"},  {"it'll", "it will"},
      {"i'd", "i would"},      {"you'd", "you would"},  {"can't", "can not"},    {"cant", "can not"},
      {"cannot", "can not"},   {"won't", "will not"},   {"wont", "will not"},    {"don't", "do not"},
      {"dont", "do not"},      {"doesn't", "does not"}, {"doesnt", "does not"},  {"didn't", "did not"},
      {"didnt", "did not"},    {"isn't", "is not"},     {"isnt", "is not"},      {"aren't", "are not"},
      {"wasn't", "was not"},   {"weren't", "were not"}, {"haven't", "have not"}, {"hasn't", "has not"},
      {"couldn't", "could not"}, {"wouldn't", "would not"}, {"shouldn't", "should not"},
      {"o'clock", "o'clock"},  {"gonna", "going to"},   {"wanna", "want to"},    {"gotta", "got to"},
  };
  return table;
}

void push_word(std::string word, std::vector<std::string>& out) {
  // Stray apostrophes at the edges ('quoted' words).
  while (!word.empty() && word.front() == '\'') word.erase(word.begin());
  while (!word.empty() && word.back() == '\'') word.pop_back();
  if (word.empty()) return;
  std::string_view expanded = word;
  const auto& table = contractions();
  if (auto it = table.find(word); it != table.end()) {
    expanded = it->second;
  } else if (word.size() > 3 && word.ends_with("n't")) {
    out.push_back(word.substr(0, word.size() - 3));
    out.emplace_back("not");
    return;
  } else if (word.size() > 2 && word.ends_with("'s")) {  // possessive ("today's") or "is"
    out.push_back(word.substr(0, word.size() - 2));
    return;
  } else if (word.size() > 3 && (word.ends_with("'re") || word.ends_with("'ll") || word.ends_with("'ve"))) {
    out.push_back(word.substr(0, word.size() - 3));
    const std::string_view tail = std::string_view(word).substr(word.size() - 2);
    out.emplace_back(tail == "re" ? "are" : tail == "ll" ? "will" : "have");
    return;
  } else if (word.size() > 2 && word.ends_with("'d")) {
    out.push_back(word.substr(0, word.size() - 2));
    out.emplace_back("would");
    return;
  } else if (word.find('\'') != std::string::npos) {  // any other apostrophe: drop it
    std::erase(word, '\'');
    if (!word.empty()) out.push_back(std::move(word));
    return;
  }
  std::size_t at = 0;
  while (at <= expanded.size()) {
    const std::size_t space = std::min(expanded.find(' ', at), expanded.size());
    if (space > at) out.emplace_back(expanded.substr(at, space - at));
    at = space + 1;
  }
}

}  // namespace

std::vector<std::string> to_words(std::string_view text) {
  // Pass 1: lower-case, fold typographic apostrophes, speak a few symbols.
  std::string s;
  s.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char prev = i > 0 ? text[i - 1] : ' ';
    const char next = i + 1 < text.size() ? text[i + 1] : ' ';
    if (c >= 'A' && c <= 'Z') {
      s += static_cast<char>(c - 'A' + 'a');
    } else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\x99' || text[i + 2] == '\x98')) {  // ’ ‘
      s += '\'';
      i += 2;
    } else if (c == '\xC3' && next == '\x97') {  // ×
      s += " times ";
      ++i;
    } else if (c == ',' && is_digit(prev) && is_digit(next)) {
      // digit grouping: "1,440" → "1440"
    } else if (c == '.' && is_digit(prev) && is_digit(next)) {
      s += '.';
    } else if (c == '%') {
      s += " percent ";
    } else if (c == '+') {
      s += " plus ";
    } else if (c == '*') {
      s += " times ";
    } else if (c == '/') {
      s += (is_digit(prev) || prev == ' ') && (is_digit(next) || next == ' ') ? " divided by " : " per ";
    } else if (c == '^') {
      s += " to the power of ";
    } else if (c == '-' && (prev == ' ' || i == 0) && is_digit(next)) {
      s += " minus ";
    } else if (c == '-' && prev == ' ' && next == ' ') {
      s += " minus ";
    } else if (c == '=') {
      s += " equals ";
    } else {
      s += c;
    }
  }
  // Pass 2: split into words; letters and digits apart ("10km" → "10 km").
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) push_word(std::move(word), out);
    word.clear();
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_digit(c) || (c == '.' && !word.empty() && is_digit(word.back()))) {
      if (!word.empty() && !is_digit(word.back()) && word.back() != '.') flush();
      word += c;
    } else if (is_alpha(c) || c == '\'') {
      if (!word.empty() && (is_digit(word.back()) || word.back() == '.')) flush();
      word += c;
    } else {
      flush();
    }
  }
  flush();
  return out;
}

bool is_function_word(std::string_view word) {
  static const std::unordered_set<std::string_view> words = {
      "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did",
      "doing", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "it", "its",
      "this", "that", "these", "those", "there", "here", "i", "me", "my", "mine", "myself", "we", "us",
      "our", "ours", "you", "your", "yours", "he", "him", "his", "she", "her", "they", "them", "their",
      "of", "in", "on", "at", "to", "for", "from", "by", "with", "about", "as", "into", "onto", "upon",
      "and", "or", "but", "if", "then", "so", "than", "too", "very", "can", "could", "would", "will",
      "shall", "should", "may", "might", "must", "have", "has", "had", "having", "not", "no", "any",
      "some", "all", "just", "up", "out", "off", "over", "under", "get", "got", "let", "like", "know",
      "tell", "want", "wanted", "need", "please", "hey", "hi", "ok", "okay", "um", "uh", "oh", "well",
      "also", "still", "yet", "really", "actually", "maybe", "kind", "sort", "one", "ones", "much",
      "many", "more", "most", "other", "another", "such", "only", "own", "same", "each", "every",
      "both", "few", "again", "once", "now", "right", "go", "going", "make", "say", "said", "way",
      "thing", "things", "something", "anything", "wondering", "wonder", "curious", "question",
      "quick", "quickly", "would", "able", "possible", "guys", "folks", "someone", "somebody",
  };
  return words.contains(word);
}

std::string stem(std::string_view word) {
  std::string w(word);
  if (w.size() <= 3 || !std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; })) return w;
  auto ends = [&](std::string_view suffix) { return w.size() > suffix.size() + 2 && w.ends_with(suffix); };
  auto undouble = [&] {
    const std::size_t n = w.size();
    if (n >= 3 && w[n - 1] == w[n - 2] && std::string_view("bdfgmnprt").find(w[n - 1]) != std::string_view::npos) {
      w.pop_back();
    }
  };
  if (ends("ies") || ends("ied")) {
    w.resize(w.size() - 3);
    w += 'i';
  } else if (ends("sses")) {
    w.resize(w.size() - 2);
  } else if (ends("ing")) {
    w.resize(w.size() - 3);
    undouble();
  } else if (ends("ed")) {
    w.resize(w.size() - 2);
    undouble();
  } else if (ends("ly")) {
    w.resize(w.size() - 2);
  } else if (w.size() > 3 && w.back() == 's' && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is")) {
    w.pop_back();
  }
  if (w.size() > 3 && w.back() == 'e') w.pop_back();
  if (w.size() > 3 && w.back() == 'y') w.back() = 'i';
  return w;
}

}  // namespace parley::intents
