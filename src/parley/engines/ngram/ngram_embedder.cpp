#include "parley/engines/ngram/ngram_embedder.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace parley::ngram {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || is_digit(c) || static_cast<unsigned char>(c) >= 0x80;
}
bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    // Keep "17:00" and "2.5" whole; an apostrophe inside a word is dropped ("don't" → "dont").
    const bool joiner = (c == ':' || c == '.') && !cur.empty() && is_digit(cur.back()) && i + 1 < text.size() &&
                        is_digit(text[i + 1]);
    if (is_word_char(c) || joiner) {
      cur.push_back(c);
    } else if (c == '\'' && !cur.empty()) {
      continue;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

void undouble(std::string& w) {
  const std::size_t n = w.size();
  if (n >= 3 && w[n - 1] == w[n - 2] && !is_vowel(w[n - 1]) && w[n - 1] != 'l' && w[n - 1] != 's' &&
      w[n - 1] != 'z')
    w.pop_back();
}

const std::unordered_set<std::string_view>& function_words() {
  static const std::unordered_set<std::string_view> set = {
      "the", "a",    "an",    "is",   "are",   "was",   "were",  "be",   "been",  "being", "am",   "do",
      "does", "did", "to",    "of",   "in",    "on",    "at",    "for",  "with",  "by",    "from", "and",
      "or",  "my",   "your",  "our",  "their", "i",     "you",   "we",   "it",    "its",   "this", "that",
      "these", "those", "me", "us",   "can",   "could", "would", "will", "should", "shall", "may",  "might",
      "have", "has", "had",   "there", "here", "about", "as",    "into", "than",  "then",  "them", "they",
      "he",  "she",  "his",   "her",  "up",    "out",   "just",  "also", "get",   "got",   "some", "any",
      "very", "yours", "mine", "if",  "so",    "tell",  "know",  "want", "need",  "like",  "ya",   "please",
      "let", "im",   "ill",   "id",   "ive",   "whats", "it's",  "there's", "go", "going", "way", "one",
      "thing", "things", "really", "actually", "kind", "sort", "much"};
  return set;
}

const std::unordered_set<std::string_view>& question_words() {
  // Question words, and the weak words that often stand in for one ("what time" = "when").
  static const std::unordered_set<std::string_view> set = {"what", "when",  "where", "who",  "whom",
                                                           "whose", "which", "why",   "how",  "time",
                                                           "year", "right", "use", "take", "offer",
                                                           "available", "able", "unable"};
  return set;
}

// Built-in synonym groups, keyed by stem, valued by the group's name.
const std::unordered_map<std::string, std::string>& synonym_table() {
  static const std::unordered_map<std::string, std::string> table = [] {
    const std::vector<std::vector<std::string_view>> groups = {
        {"store", "shop", "outlet"},
        {"ship", "deliver", "delivery", "shipment", "dispatch", "post", "mail", "courier"},
        {"price", "cost", "fee", "charge", "pric", "expensive", "cheap"},
        {"pay", "payment", "paying", "billing", "billed", "charged"},
        {"password", "passcode", "passphrase", "pw"},
        {"login", "logon", "signin", "sign-in", "log-in"},
        {"reset", "forgot", "forget", "forgotten", "recover", "lost"},
        {"order", "package", "parcel", "purchase"},
        {"track", "status", "whereabout"},
        {"cancel", "cancellation", "cancell"},
        {"change", "update", "edit", "modify", "alter"},
        {"contact", "reach"},
        {"support", "helpdesk", "agent", "representative", "rep"},
        {"location", "locat", "address"},
        {"refund", "reimburse", "reimbursement"},
        {"hour", "schedule", "open", "opening"},
        {"start", "begin", "commence"},
        {"finish", "end"},
        {"big", "large", "huge", "biggest", "largest"},
        {"small", "little", "tiny", "smallest"},
        {"fast", "quick", "quickly", "fastest", "speed", "rapid"},
        {"film", "movie"},
        {"child", "kid", "children"},
        {"write", "wrote", "written", "writ", "author"},
        {"invent", "inventor", "invention", "develop", "developer", "creator", "create"},
        {"paint", "painter", "painting"},
        {"talk", "speak", "chat"},
        {"human", "person", "people", "someone"},
        {"invoice", "receipt", "bill"},
        {"installment", "instalment", "plan", "financing"},
        {"never", "not"},
        {"enable", "activate"},
        {"discover", "discovery", "discoverer"},
        {"tall", "height", "high"},
        {"far", "distance"},
        {"old", "age"},
        {"mean", "meaning", "definition", "define"},
        {"number", "digit"},
        {"weekend", "weekends"},
        {"account", "profile"},
        {"email", "e-mail"},
        {"item", "product", "article"},
        {"exchange", "swap"},
        {"wrong", "incorrect"},
        {"broken", "damaged", "defective", "faulty"},
        {"international", "abroad", "overseas", "worldwide"},
        {"receive", "arrive", "arrival", "come"},
        {"planet", "planets"},
        {"capital", "capitol"},
        {"country", "nation"},
    };
    std::unordered_map<std::string, std::string> t;
    for (const auto& g : groups)
      for (auto w : g) t.emplace(light_stem(w), std::string(g.front()));
    return t;
  }();
  return table;
}

// Two-word phrases read as one word before anything else.
const std::unordered_map<std::string, std::string>& phrase_table() {
  static const std::unordered_map<std::string, std::string> table = {
      {"log in", "login"},       {"log out", "logout"},     {"sign out", "logout"},       {"sign in", "login"},      {"log on", "login"},   {"sign on", "login"},
      {"log into", "login"},     {"sign into", "login"},    {"money back", "refund"}, {"how much", "price"},
      {"pick up", "pickup"},     {"e mail", "email"},       {"phone number", "contact"},
      {"customer service", "support"}, {"customer support", "support"}, {"send back", "return"},
      {"take back", "return"},   {"set up", "enable"},      {"turn on", "enable"},
      {"came up", "invent"},     {"come up", "invent"},     {"get back", "recover"},   {"user name", "username"}, {"come in", "arrive"},
  };
  return table;
}

constexpr double k_inv_sqrt2 = 0.70710678118654752;

std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint64_t hash_feature(std::uint64_t seed, char kind, std::string_view a, std::string_view b = {}) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  auto step = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  };
  step(static_cast<unsigned char>(kind));
  for (char c : a) step(static_cast<unsigned char>(c));
  if (!b.empty()) {
    step(0x1f);
    for (char c : b) step(static_cast<unsigned char>(c));
  }
  return mix64(h);
}

}  // namespace

std::string light_stem(std::string_view word) {
  std::string w(word);
  if (w.size() <= 3) return w;
  for (char c : w)
    if (is_digit(c)) return w;
  if (ends_with(w, "ies") && w.size() > 4) {
    w.resize(w.size() - 3);
    w += 'y';
    return w;
  }
  if (ends_with(w, "sses")) {
    w.resize(w.size() - 2);
    return w;
  }
  if (ends_with(w, "s") && !ends_with(w, "ss") && !ends_with(w, "us") && !ends_with(w, "is")) w.pop_back();
  if (ends_with(w, "ing") && w.size() >= 6) {
    w.resize(w.size() - 3);
    undouble(w);
    return w;
  }
  if (ends_with(w, "ied") && w.size() > 4) {
    w.resize(w.size() - 3);
    w += 'y';
    return w;
  }
  if (ends_with(w, "ed") && w.size() >= 5) {
    w.resize(w.size() - 2);
    undouble(w);
    return w;
  }
  if (ends_with(w, "ly") && w.size() >= 7) {
    w.resize(w.size() - 2);
    return w;
  }
  if (ends_with(w, "e") && w.size() > 3) w.pop_back();
  return w;
}

ngram_embedder::ngram_embedder(ngram_config config) : config_(config) {
  if (config_.dims == 0) config_.dims = 512;
  config_.char_min = std::max(1, config_.char_min);
  config_.char_max = std::max(config_.char_min, config_.char_max);
}

std::string ngram_embedder::name() const { return "ngram-" + std::to_string(config_.dims); }

std::string ngram_embedder::canonical(std::string_view word) const {
  std::string w = config_.stem ? light_stem(word) : std::string(word);
  if (config_.synonyms) {
    const auto& t = synonym_table();
    if (auto it = t.find(w); it != t.end()) return it->second;
  }
  return w;
}

double ngram_embedder::word_weight(const std::string& canonical_word, std::string_view raw_word) const {
  double w = config_.word_weight;
  if (function_words().contains(raw_word)) w *= config_.function_word_weight;
  else if (question_words().contains(raw_word)) w *= config_.question_word_weight;
  if (!idf_.empty()) {
    auto it = idf_.find(canonical_word);
    w *= it == idf_.end() ? idf_unknown_ : it->second;
  }
  return w;
}

void ngram_embedder::fit(std::span<const std::string> phrases) {
  std::unordered_map<std::string, std::size_t> df;
  for (const auto& p : phrases) {
    std::unordered_set<std::string> seen;
    for (const auto& w : split_words(p)) seen.insert(canonical(w));
    for (const auto& w : seen) ++df[w];
  }
  idf_.clear();
  if (phrases.empty()) return;
  const double n = static_cast<double>(phrases.size());
  const double max_idf = std::log((n + 1.0) / 1.0) + 1.0;  // a word never seen
  for (const auto& [w, count] : df)
    idf_[w] = (std::log((n + 1.0) / (static_cast<double>(count) + 1.0)) + 1.0) / max_idf;
  idf_unknown_ = 1.0;
}

result<std::vector<float>> ngram_embedder::embed(std::string_view text) { return vectorize(text); }

std::vector<float> ngram_embedder::vectorize(std::string_view text) const {
  struct feature {
    double weight = 0.0;
    int count = 0;
  };
  std::unordered_map<std::uint64_t, feature> features;
  auto add = [&](std::uint64_t h, double weight) {
    auto& f = features[h];
    f.weight = std::max(f.weight, weight);
    ++f.count;
  };

  // Words, with two-word phrases joined.
  const auto raw = split_words(text);
  std::vector<std::string> words;
  words.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (i + 1 < raw.size()) {
      auto it = phrase_table().find(raw[i] + " " + raw[i + 1]);
      if (it != phrase_table().end()) {
        words.push_back(it->second);
        ++i;
        continue;
      }
    }
    words.push_back(raw[i]);
  }

  std::vector<std::pair<std::string, double>> content;  // canonical content words, in order
  for (const auto& w : words) {
    const std::string c = canonical(w);
    const double weight = word_weight(c, w);
    // Word features go to two buckets (each at 1/sqrt(2)): a collision of two words in one
    // bucket then shares half a word, not all of it.
    const std::uint64_t hw = hash_feature(config_.seed, 'w', c);
    add(hw, weight * k_inv_sqrt2);
    add(mix64(hw ^ 0x2545f4914f6cdd1dULL), weight * k_inv_sqrt2);
    const bool is_content = !function_words().contains(w) && !question_words().contains(w);
    if (!is_content) continue;
    content.emplace_back(c, weight);
    // Character n-grams of the surface word: spelling variants and compounds overlap.
    bool has_digit = false;
    for (char ch : w) has_digit = has_digit || is_digit(ch);
    if (has_digit || config_.char_weight <= 0.0) continue;
    const std::string padded = "<" + w + ">";
    std::vector<std::uint64_t> grams;
    for (int n = config_.char_min; n <= config_.char_max; ++n)
      for (std::size_t s = 0; s + static_cast<std::size_t>(n) <= padded.size(); ++s)
        grams.push_back(hash_feature(config_.seed, 'c', std::string_view(padded).substr(s, static_cast<std::size_t>(n))));
    if (grams.empty()) continue;
    const double per_gram = config_.char_weight * weight / std::sqrt(static_cast<double>(grams.size()));
    for (auto g : grams) add(g, per_gram);
  }
  if (config_.bigram_weight > 0.0)
    for (std::size_t i = 0; i + 1 < content.size(); ++i) {
      const std::uint64_t hb = hash_feature(config_.seed, 'b', content[i].first, content[i + 1].first);
      const double wb = config_.bigram_weight * std::sqrt(content[i].second * content[i + 1].second);
      add(hb, wb * k_inv_sqrt2);
      add(mix64(hb ^ 0x2545f4914f6cdd1dULL), wb * k_inv_sqrt2);
    }

  std::vector<float> v(config_.dims, 0.0f);
  for (const auto& [h, f] : features) {
    const double value = f.weight * (1.0 + std::log(static_cast<double>(f.count)));
    const std::size_t bucket = static_cast<std::size_t>(h % config_.dims);
    const double sign = (h >> 63) != 0 ? -1.0 : 1.0;
    v[bucket] += static_cast<float>(sign * value);
  }
  double norm = 0.0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm > 0.0) {
    const double inv = 1.0 / std::sqrt(norm);
    for (float& x : v) x = static_cast<float>(x * inv);
  }
  return v;
}

}  // namespace parley::ngram
