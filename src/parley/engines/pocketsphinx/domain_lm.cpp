#include "parley/engines/pocketsphinx/domain_lm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "parley/text/spoken.hpp"

namespace parley::pocketsphinx {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A number as the recognizer speaks it ("twenty-one": phrase_words splits it into words). Leading
// zeros ("007") or long strings (phone numbers, codes) are read digit by digit.
std::string spoken_number(std::string_view digits) {
  if (digits.empty()) return {};
  if (digits.size() > 6 || (digits.size() > 1 && digits.front() == '0')) return text::digit_words(digits);
  std::uint64_t n = 0;
  for (const char c : digits) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return text::cardinal_words(n);
}

using ngram = std::vector<std::string>;

std::string format_log10(double p) {
  char buf[32];
  const double v = p > 0.0 ? std::log10(p) : -99.0;
  std::snprintf(buf, sizeof buf, "%.6f", std::max(v, -99.0));
  return buf;
}

std::string join(const ngram& g) {
  std::string s;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (i) s += ' ';
    s += g[i];
  }
  return s;
}

}  // namespace

std::string number_to_words(std::string_view digits) {
  std::string s = spoken_number(digits);
  std::ranges::replace(s, '-', ' ');
  return s;
}

std::vector<std::string> phrase_words(std::string_view phrase) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < phrase.size()) {
    const char c = phrase[i];
    if (is_digit(c)) {
      std::size_t j = i;
      while (j < phrase.size() && (is_digit(phrase[j]) || (phrase[j] == ',' && j + 1 < phrase.size() &&
                                                          is_digit(phrase[j + 1]) && j > i))) {
        ++j;
      }
      std::string digits;
      for (std::size_t k = i; k < j; ++k)
        if (is_digit(phrase[k])) digits += phrase[k];
      for (auto& w : phrase_words(spoken_number(digits))) words.push_back(std::move(w));
      i = j;
      continue;
    }
    if (is_alpha(c) || static_cast<unsigned char>(c) >= 0x80) {
      std::string word;
      std::size_t j = i;
      while (j < phrase.size()) {
        const char d = phrase[j];
        if (is_alpha(d) || static_cast<unsigned char>(d) >= 0x80) {
          word += (d >= 'A' && d <= 'Z') ? static_cast<char>(d - 'A' + 'a') : d;
          ++j;
        } else if (d == '\'' && j + 1 < phrase.size() && is_alpha(phrase[j + 1]) && !word.empty()) {
          word += '\'';
          ++j;
        } else {
          break;
        }
      }
      words.push_back(std::move(word));
      i = j;
      continue;
    }
    ++i;  // punctuation, whitespace, apostrophes outside words
  }
  return words;
}

std::string build_arpa(const std::vector<std::vector<std::string>>& sentences, arpa_options options) {
  const int order = std::clamp(options.order, 1, 3);
  const double discount = std::clamp(options.discount, 0.01, 0.99);

  // counts[k-1]: k-gram → count. Unigram counts exclude <s> (it is only a context).
  std::vector<std::map<ngram, double>> counts(static_cast<std::size_t>(order));
  double n_tokens = 0.0;
  for (const auto& sentence : sentences) {
    if (sentence.empty()) continue;
    ngram seq;
    seq.reserve(sentence.size() + 2);
    seq.emplace_back("<s>");
    for (const auto& w : sentence)
      if (!w.empty()) seq.push_back(w);
    if (seq.size() == 1) continue;
    seq.emplace_back("</s>");
    for (std::size_t i = 1; i < seq.size(); ++i) {
      counts[0][{seq[i]}] += 1.0;
      n_tokens += 1.0;
    }
    for (int k = 2; k <= order; ++k) {
      for (std::size_t i = 0; i + static_cast<std::size_t>(k) <= seq.size(); ++i) {
        counts[static_cast<std::size_t>(k - 1)][ngram(seq.begin() + static_cast<std::ptrdiff_t>(i),
                                                      seq.begin() + static_cast<std::ptrdiff_t>(i) + k)] += 1.0;
      }
    }
  }
  if (n_tokens == 0.0) return {};

  // Discounted probabilities of seen n-grams, and context totals / type counts.
  std::vector<std::map<ngram, double>> prob(static_cast<std::size_t>(order));
  for (const auto& [g, c] : counts[0]) prob[0][g] = c / n_tokens;
  std::vector<std::map<ngram, std::pair<double, double>>> context(static_cast<std::size_t>(order));  // (total, types)
  for (int k = 2; k <= order; ++k) {
    auto& ctx = context[static_cast<std::size_t>(k - 1)];
    for (const auto& [g, c] : counts[static_cast<std::size_t>(k - 1)]) {
      auto& t = ctx[ngram(g.begin(), g.end() - 1)];
      t.first += c;
      t.second += 1.0;
    }
    for (const auto& [g, c] : counts[static_cast<std::size_t>(k - 1)]) {
      const auto& t = ctx[ngram(g.begin(), g.end() - 1)];
      prob[static_cast<std::size_t>(k - 1)][g] = (c - discount) / t.first;
    }
  }

  // Back-off weights, lowest order first, so p_bo of the lower order is available.
  std::map<ngram, double> backoff;  // context (length 1..order-1) → alpha
  std::function<double(const ngram&, std::size_t, std::size_t)> p_bo;
  // p_bo(g, from, to): probability of g[to-1] given history g[from .. to-2] with back-off.
  p_bo = [&](const ngram& g, std::size_t from, std::size_t to) -> double {
    const std::size_t len = to - from;
    const ngram sub(g.begin() + static_cast<std::ptrdiff_t>(from), g.begin() + static_cast<std::ptrdiff_t>(to));
    const auto& table = prob[len - 1];
    if (auto it = table.find(sub); it != table.end()) return it->second;
    if (len == 1) return 0.0;
    const ngram hist(sub.begin(), sub.end() - 1);
    const auto bo = backoff.find(hist);
    const double alpha = bo == backoff.end() ? 1.0 : bo->second;
    return alpha * p_bo(g, from + 1, to);
  };
  for (int k = 2; k <= order; ++k) {
    const auto& ctx = context[static_cast<std::size_t>(k - 1)];
    for (const auto& [h, t] : ctx) {
      double seen_high = 0.0, seen_low = 0.0;
      // Every n-gram starting with h (they are contiguous in the ordered map).
      const auto& table = counts[static_cast<std::size_t>(k - 1)];
      for (auto it = table.lower_bound(h); it != table.end(); ++it) {
        if (!std::equal(h.begin(), h.end(), it->first.begin())) break;
        seen_high += prob[static_cast<std::size_t>(k - 1)].at(it->first);
        seen_low += p_bo(it->first, 1, it->first.size());
      }
      const double num = std::max(1.0 - seen_high, 1e-12);
      const double den = std::max(1.0 - seen_low, 1e-6);
      backoff[h] = num / den;
    }
  }

  // Vocabulary for the unigram section: every word seen, plus <s>.
  std::set<std::string> vocab;
  for (const auto& [g, c] : counts[0]) vocab.insert(g[0]);

  std::string out;
  out += "\\data\\\n";
  out += "ngram 1=" + std::to_string(vocab.size() + 1) + "\n";
  for (int k = 2; k <= order; ++k)
    out += "ngram " + std::to_string(k) + "=" + std::to_string(counts[static_cast<std::size_t>(k - 1)].size()) + "\n";
  out += "\n\\1-grams:\n";
  auto backoff_field = [&](const ngram& g) -> std::string {
    if (static_cast<int>(g.size()) >= order) return {};
    const auto it = backoff.find(g);
    return "\t" + format_log10(it == backoff.end() ? 1.0 : it->second);
  };
  out += "-99.000000\t<s>" + backoff_field({"<s>"}) + "\n";
  for (const auto& w : vocab) out += format_log10(prob[0].at({w})) + "\t" + w + backoff_field({w}) + "\n";
  for (int k = 2; k <= order; ++k) {
    out += "\n\\" + std::to_string(k) + "-grams:\n";
    for (const auto& [g, c] : counts[static_cast<std::size_t>(k - 1)])
      out += format_log10(prob[static_cast<std::size_t>(k - 1)].at(g)) + "\t" + join(g) + backoff_field(g) + "\n";
  }
  out += "\n\\end\\\n";
  return out;
}

}  // namespace parley::pocketsphinx
