#include "parley/engines/intents/words.hpp"

#include <algorithm>

#include "parley/text/spoken.hpp"

namespace parley::intents {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80; }

void push_word(std::string_view word, std::vector<std::string>& out) {
  while (word.starts_with('\'')) word.remove_prefix(1);  // stray apostrophes ('quoted' words)
  while (word.ends_with('\'')) word.remove_suffix(1);
  if (word == "o'clock") {  // the one apostrophe the handlers read
    out.emplace_back(word);
    return;
  }
  for (auto& w : text::expand_contraction(word)) out.push_back(std::move(w));
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
    if (!word.empty()) push_word(word, out);
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
  return text::is_function_word(word, text::function_words::conversation);
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
