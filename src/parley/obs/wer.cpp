#include "parley/obs/wer.hpp"

#include <algorithm>

namespace parley::obs {
namespace {

bool is_ascii_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_ascii_punct(unsigned char c) {
  return c < 0x80 && !is_ascii_alnum(c) && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' &&
         c != '\f';
}

// "read(2)" → "read": pocketsphinx marks alternate pronunciations this way in its output.
std::string_view strip_alternate_mark(std::string_view word) {
  if (word.size() >= 4 && word.back() == ')') {
    const auto open = word.rfind('(');
    if (open != std::string_view::npos && open > 0 && open + 2 < word.size()) {
      const auto digits = word.substr(open + 1, word.size() - open - 2);
      if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return word.substr(0, open);
    }
  }
  return word;
}

}  // namespace

double wer_result::wer() const {
  if (n_ref_words == 0) return n_errors() > 0 ? 1.0 : 0.0;
  return static_cast<double>(n_errors()) / static_cast<double>(n_ref_words);
}

std::string normalize_for_wer(std::string_view text) {
  // First pass: strip alternate-pronunciation marks word by word (they use punctuation).
  std::string stripped;
  stripped.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      stripped.push_back(' ');
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size()) {
      const auto d = static_cast<unsigned char>(text[j]);
      if (d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '\v' || d == '\f') break;
      ++j;
    }
    stripped += strip_alternate_mark(text.substr(i, j - i));
    i = j;
  }

  std::string out;
  out.reserve(stripped.size());
  for (std::size_t k = 0; k < stripped.size(); ++k) {
    auto c = static_cast<unsigned char>(stripped[k]);
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    if (c == '\'') {
      const bool inside = k > 0 && k + 1 < stripped.size() &&
                          is_ascii_alnum(static_cast<unsigned char>(stripped[k - 1])) &&
                          is_ascii_alnum(static_cast<unsigned char>(stripped[k + 1]));
      out.push_back(inside ? '\'' : ' ');
    } else if (is_ascii_punct(c)) {
      out.push_back(' ');
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  // Collapse whitespace.
  std::string collapsed;
  collapsed.reserve(out.size());
  for (const char c : out) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    if (space) {
      if (!collapsed.empty() && collapsed.back() != ' ') collapsed.push_back(' ');
    } else {
      collapsed.push_back(c);
    }
  }
  if (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  return collapsed;
}

std::vector<std::string> wer_words(std::string_view text) {
  const std::string norm = normalize_for_wer(text);
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < norm.size()) {
    const auto j = norm.find(' ', i);
    const auto end = j == std::string::npos ? norm.size() : j;
    if (end > i) words.emplace_back(norm.substr(i, end - i));
    i = end + 1;
  }
  return words;
}

wer_result word_error_rate(std::string_view reference, std::string_view hypothesis) {
  const auto ref = wer_words(reference);
  const auto hyp = wer_words(hypothesis);
  const std::size_t n = ref.size();
  const std::size_t m = hyp.size();

  // cell: total cost plus the (sub, del, ins) counts of the chosen path; on equal cost the
  // diagonal move (match or substitution) wins, then deletion, then insertion.
  struct cell {
    std::size_t cost = 0, sub = 0, del = 0, ins = 0;
  };
  std::vector<cell> prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = {j, 0, 0, j};
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = {i, 0, i, 0};
    for (std::size_t j = 1; j <= m; ++j) {
      const bool same = ref[i - 1] == hyp[j - 1];
      cell diag = prev[j - 1];
      if (!same) {
        ++diag.cost;
        ++diag.sub;
      }
      cell up = prev[j];  // reference word deleted
      ++up.cost;
      ++up.del;
      cell left = cur[j - 1];  // hypothesis word inserted
      ++left.cost;
      ++left.ins;
      cell best = diag;
      if (up.cost < best.cost) best = up;
      if (left.cost < best.cost) best = left;
      cur[j] = best;
    }
    std::swap(prev, cur);
  }
  const cell& end = prev[m];
  return wer_result{n, end.sub, end.del, end.ins};
}

void wer_total::add(const wer_result& r) {
  ++n_utterances;
  n_ref_words += r.n_ref_words;
  n_sub += r.n_sub;
  n_del += r.n_del;
  n_ins += r.n_ins;
  if (r.n_errors() == 0) ++n_exact;
}

double wer_total::wer() const {
  if (n_ref_words == 0) return n_errors() > 0 ? 1.0 : 0.0;
  return static_cast<double>(n_errors()) / static_cast<double>(n_ref_words);
}

}  // namespace parley::obs
