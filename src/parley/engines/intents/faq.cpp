#include "parley/engines/intents/faq.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "parley/engines/intents/spoken_numbers.hpp"
#include "parley/engines/intents/words.hpp"

namespace parley::intents {
namespace {

constexpr double k_char_weight = 0.3;      // α: share of the character-trigram cosine
constexpr double k_unseen_weight = 1.5;    // a query word the FAQ never uses, relative to the rarest one

// Words too generic to tell FAQ entries apart (beyond the function words): dropped like them.
bool is_faq_noise(std::string_view w) {
  static const std::unordered_set<std::string_view> words = {
      "today",   "tonight", "now",      "currently", "exactly", "usually", "normally", "generally",
      "typically", "ever",  "always",   "guys",      "use",     "using",   "details",  "detail",
      "info",    "information", "way",  "ways",      "option",  "options", "take",     "takes",
      "taking",  "took",    "please",   "thanks",    "thank",   "hello",   "hey",      "hi",
      "possible", "able",   "anyone",   "someone",   "somebody", "anybody", "people",  "thing",
      "things",  "stuff",   "going",    "gonna",     "supposed", "allowed", "try",      "trying",
      "happen",  "happens", "work",     "works",     "do",      "does",    "did",      "done",
      "until",   "till",    "since",    "without",   "within",  "via",     "time",     "times",
      "tomorrow", "yesterday", "morning", "afternoon", "evening", "night", "weekday", "weekdays",
  };
  return words.contains(w);
}
constexpr double k_margin_full = 0.2;      // a runner-up this far below costs nothing
constexpr double k_tie_penalty = 0.3;      // ... and at a tie, 30% of the score

// Built-in synonym groups for shop and service questions. The first member names the concept.
// Members with spaces are phrases, matched on the words before any other analysis.
const std::vector<std::vector<std::string>>& builtin_synonyms() {
  static const std::vector<std::vector<std::string>> groups = {
      {"hours", "hour", "open", "opening", "opens", "close", "closing", "closes", "closed", "business hours",
       "opening hours", "opening times", "closing time", "closing times", "shut", "shuts"},
      {"deliver", "delivery", "deliveries", "delivered", "delivering", "delivers", "ship", "shipping", "shipped",
       "ships", "shipment", "dispatch", "dispatched", "postage", "courier", "send", "sent", "mail", "mailed"},
      {"return", "returns", "returned", "returning", "refund", "refunds", "refunded", "money back", "send back",
       "send it back", "take back", "take it back", "bring back", "bring it back", "exchange", "exchanges"},
      {"password", "passwords", "passcode", "log in", "login", "logins", "sign in", "signin", "log on", "logon",
       "locked out", "locked", "credentials", "log into", "sign into"},
      {"order", "orders", "ordered", "package", "packages", "parcel", "parcels", "track", "tracking", "tracked",
       "purchase", "purchases", "purchased", "buy", "bought", "buying"},
      {"cost", "costs", "price", "prices", "fee", "fees", "charge", "charges", "charged", "how much", "expensive",
       "cheap", "free", "dollar", "dollars", "bucks", "euros"},
      {"contact", "call", "phone", "telephone", "email", "e mail", "reach", "customer service", "customer support",
       "support", "agent", "human", "representative", "talk to", "speak to", "speak with", "talk with",
       "get in touch", "helpline", "hotline"},
      {"pay", "payment", "payments", "paying", "card", "cards", "credit card", "debit card", "visa", "mastercard",
       "amex", "american express", "paypal", "apple pay", "google pay", "cash", "checkout", "klarna"},
      {"weekend", "weekends", "saturday", "saturdays", "sunday", "sundays"},
      {"cancel", "cancels", "cancelled", "canceled", "cancelling", "canceling", "cancellation", "call off"},
      {"location", "where", "address", "located", "locations", "directions", "find", "get to you"},
      {"arrive", "arrives", "arrived", "arriving", "arrival", "come", "comes", "coming", "receive", "received",
       "show up", "turn up", "get here"},
      {"duration", "how long", "how soon", "how quickly", "how fast", "how many days", "business days"},
      {"abroad", "international", "internationally", "overseas", "worldwide", "other countries",
       "another country", "outside the country", "foreign"},
      {"holiday", "holidays", "christmas", "easter", "thanksgiving", "new year", "new years", "bank holiday",
       "public holiday", "public holidays", "bank holidays"},
      {"store", "shop", "stores", "shops", "branch", "outlet"},
      {"reset", "recover", "forgot", "forgotten", "forget", "remember"},
      {"item", "items", "product", "products", "goods", "merchandise"},
  };
  return groups;
}

using sparse = std::vector<std::pair<int, double>>;  // feature id, weight

struct posting {
  int variant = 0;
  double weight = 0.0;
};

struct space {  // one vector space (words or character trigrams)
  std::unordered_map<std::string, int> ids;
  std::vector<double> idf;
  std::vector<std::vector<posting>> postings;
  std::vector<double> norms;  // per variant
  double idf_unseen = 1.0;
};

void add_trigrams(const std::string& stem_text, std::map<std::string, int>& grams) {
  const std::string padded = " " + stem_text + " ";
  if (padded.size() < 3) return;
  for (std::size_t i = 0; i + 3 <= padded.size(); ++i) ++grams[padded.substr(i, 3)];
}

struct analysis {
  std::vector<std::string> terms;          // concepts ('#...') and stems, in order, with repeats
  std::map<std::string, int> trigrams;     // character trigrams of the stems, counted
};

}  // namespace

struct faq_index::impl {
  std::string topic;
  std::vector<faq_entry> entries;
  std::vector<std::pair<std::vector<std::string>, std::string>> phrases;  // longest first
  std::unordered_map<std::string, std::vector<std::size_t>> phrase_starts;  // first stem → phrases, longest first
  std::vector<std::size_t> no_phrases;
  std::unordered_map<std::string, std::string> word_concepts;             // word or stem → concept
  std::vector<int> variant_entry;
  std::vector<std::size_t> variant_index;
  space words;
  space chars;

  void add_synonyms(const std::vector<std::vector<std::string>>& groups) {
    for (const auto& group : groups) {
      if (group.empty()) continue;
      // Join an existing concept when a member already has one, else name a new one.
      std::string concept_name;
      for (const auto& member : group) {
        const auto w = to_words(member);
        if (w.size() == 1) {
          if (auto it = word_concepts.find(w[0]); it != word_concepts.end()) concept_name = it->second;
          else if (auto st = word_concepts.find(stem(w[0])); st != word_concepts.end()) concept_name = st->second;
        }
        if (!concept_name.empty()) break;
      }
      if (concept_name.empty()) {
        const auto w = to_words(group.front());
        std::string joined;
        for (const auto& x : w) joined += (joined.empty() ? "" : "_") + x;
        concept_name = "#" + joined;
      }
      for (const auto& member : group) {
        auto w = to_words(member);
        if (w.empty()) continue;
        if (w.size() == 1) {
          word_concepts[w[0]] = concept_name;
          word_concepts.emplace(stem(w[0]), concept_name);
        } else {
          for (auto& x : w) x = stem(x);
          phrases.emplace_back(std::move(w), concept_name);
        }
      }
    }
    std::stable_sort(phrases.begin(), phrases.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    phrase_starts.clear();
    for (std::size_t k = 0; k < phrases.size(); ++k) phrase_starts[phrases[k].first.front()].push_back(k);
  }

  analysis analyse(std::string_view text) const {
    analysis out;
    const auto w = to_words(text);
    std::vector<std::string> stems;  // phrases match on stems: "gift cards" is "gift card"
    stems.reserve(w.size());
    for (const auto& x : w) stems.push_back(stem(x));
    std::size_t i = 0;
    while (i < w.size()) {
      bool matched = false;
      const auto first = phrase_starts.find(stems[i]);
      for (std::size_t k : first == phrase_starts.end() ? no_phrases : first->second) {
        const auto& [phrase, concept_name] = phrases[k];
        if (i + phrase.size() > w.size()) continue;
        if (std::equal(phrase.begin(), phrase.end(), stems.begin() + static_cast<std::ptrdiff_t>(i))) {
          out.terms.push_back(concept_name);
          add_trigrams(concept_name, out.trigrams);
          i += phrase.size();
          matched = true;
          break;
        }
      }
      if (matched) continue;
      const std::string& word = w[i++];
      if (auto it = word_concepts.find(word); it != word_concepts.end()) {
        out.terms.push_back(it->second);
        add_trigrams(stem(word), out.trigrams);
        continue;
      }
      if (is_function_word(word) || is_faq_noise(word)) continue;
      if (auto n = parse_number_at(w, i - 1); n && n->end == i) continue;  // amounts say little about the topic
      std::string s = stem(word);
      if (auto it = word_concepts.find(s); it != word_concepts.end()) {
        out.terms.push_back(it->second);
      } else {
        out.terms.push_back(s);
      }
      add_trigrams(s, out.trigrams);
    }
    return out;
  }

  static std::map<std::string, double> word_features(const analysis& a) {
    std::map<std::string, double> f;
    for (const auto& t : a.terms) f[t] = 1.0;  // binary term frequency
    return f;
  }

  static std::map<std::string, double> char_features(const analysis& a) {
    std::map<std::string, double> f;
    for (const auto& [g, n] : a.trigrams) f[g] = 1.0 + std::log(static_cast<double>(n));  // sublinear tf
    return f;
  }

  static void build_space(space& sp, const std::vector<std::map<std::string, double>>& variant_features,
                          const std::vector<int>& variant_entry, std::size_t n_entries) {
    // Document frequency counts entries, not variants.
    std::unordered_map<std::string, std::unordered_set<int>> df;
    for (std::size_t v = 0; v < variant_features.size(); ++v) {
      for (const auto& [f, w] : variant_features[v]) df[f].insert(variant_entry[v]);
    }
    const double n = static_cast<double>(n_entries);
    sp.idf_unseen = k_unseen_weight * (std::log((1.0 + n) / 1.0) + 1.0);
    for (const auto& [f, entries] : df) {
      const int id = static_cast<int>(sp.ids.size());
      sp.ids.emplace(f, id);
      sp.idf.push_back(std::log((1.0 + n) / (1.0 + static_cast<double>(entries.size()))) + 1.0);
    }
    sp.postings.assign(sp.ids.size(), {});
    sp.norms.assign(variant_features.size(), 0.0);
    for (std::size_t v = 0; v < variant_features.size(); ++v) {
      double norm2 = 0.0;
      for (const auto& [f, tf] : variant_features[v]) {
        const int id = sp.ids.at(f);
        const double weight = tf * sp.idf[static_cast<std::size_t>(id)];
        sp.postings[static_cast<std::size_t>(id)].push_back({static_cast<int>(v), weight});
        norm2 += weight * weight;
      }
      sp.norms[v] = std::sqrt(norm2);
    }
  }

  /// Cosine of the query against every variant, added into `sims` with factor `share`.
  static void score_space(const space& sp, const std::map<std::string, double>& query, double share,
                          std::vector<double>& sims) {
    std::vector<double> dots(sims.size(), 0.0);
    double qnorm2 = 0.0;
    for (const auto& [f, tf] : query) {
      const auto it = sp.ids.find(f);
      const double idf = it == sp.ids.end() ? sp.idf_unseen : sp.idf[static_cast<std::size_t>(it->second)];
      const double qw = tf * idf;
      qnorm2 += qw * qw;
      if (it == sp.ids.end()) continue;
      for (const auto& p : sp.postings[static_cast<std::size_t>(it->second)]) {
        dots[static_cast<std::size_t>(p.variant)] += qw * p.weight;
      }
    }
    if (qnorm2 <= 0.0) return;
    const double qnorm = std::sqrt(qnorm2);
    for (std::size_t v = 0; v < sims.size(); ++v) {
      if (sp.norms[v] > 0.0) sims[v] += share * dots[v] / (qnorm * sp.norms[v]);
    }
  }
};

faq_index::faq_index(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
faq_index::faq_index(faq_index&&) noexcept = default;
faq_index& faq_index::operator=(faq_index&&) noexcept = default;
faq_index::~faq_index() = default;

const std::string& faq_index::topic() const { return impl_->topic; }
const std::vector<faq_entry>& faq_index::entries() const { return impl_->entries; }

std::vector<std::string> faq_index::analyse(std::string_view text) const { return impl_->analyse(text).terms; }

result<faq_index> faq_index::build(std::string topic, std::vector<faq_entry> entries,
                                   std::vector<std::vector<std::string>> synonyms) {
  auto p = std::make_unique<impl>();
  p->topic = std::move(topic);
  std::set<std::string> ids;
  for (std::size_t e = 0; e < entries.size(); ++e) {
    const auto& entry = entries[e];
    const std::string where = "FAQ entry " + std::to_string(e + 1) + (entry.id.empty() ? "" : " ('" + entry.id + "')");
    if (entry.id.empty()) return make_error(errc::invalid_argument, where + ": the id is empty");
    if (!ids.insert(entry.id).second) return make_error(errc::invalid_argument, where + ": the id is used twice");
    if (entry.questions.empty()) return make_error(errc::invalid_argument, where + ": it has no questions");
    if (entry.answer.empty()) return make_error(errc::invalid_argument, where + ": the answer is empty");
    for (const auto& q : entry.questions) {
      if (to_words(q).empty()) return make_error(errc::invalid_argument, where + ": a question is empty");
    }
  }
  p->entries = std::move(entries);
  p->add_synonyms(builtin_synonyms());
  p->add_synonyms(synonyms);

  std::vector<std::map<std::string, double>> word_f;
  std::vector<std::map<std::string, double>> char_f;
  for (std::size_t e = 0; e < p->entries.size(); ++e) {
    for (std::size_t q = 0; q < p->entries[e].questions.size(); ++q) {
      const analysis a = p->analyse(p->entries[e].questions[q]);
      word_f.push_back(impl::word_features(a));
      char_f.push_back(impl::char_features(a));
      p->variant_entry.push_back(static_cast<int>(e));
      p->variant_index.push_back(q);
    }
  }
  impl::build_space(p->words, word_f, p->variant_entry, p->entries.size());
  impl::build_space(p->chars, char_f, p->variant_entry, p->entries.size());
  return faq_index(std::move(p));
}

result<faq_index> faq_index::parse(std::string_view json_text, std::string_view origin) {
  const std::string where(origin);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(errc::unsupported_format, where + ": not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_object()) return make_error(errc::unsupported_format, where + ": the top level must be an object");
  if (doc.contains("format") && doc["format"] != "parley-faq/1") {
    return make_error(errc::unsupported_format, where + ": unknown format (expected \"parley-faq/1\")");
  }
  if (!doc.contains("entries") || !doc["entries"].is_array()) {
    return make_error(errc::invalid_argument, where + ": \"entries\" must be an array");
  }
  auto strings = [](const nlohmann::json& j, std::vector<std::string>& out) {
    if (!j.is_array()) return false;
    for (const auto& s : j) {
      if (!s.is_string()) return false;
      out.push_back(s.get<std::string>());
    }
    return true;
  };
  std::vector<faq_entry> entries;
  std::size_t n = 0;
  for (const auto& j : doc["entries"]) {
    ++n;
    const std::string at = where + ": entry " + std::to_string(n);
    if (!j.is_object()) return make_error(errc::invalid_argument, at + " is not an object");
    faq_entry entry;
    if (!j.contains("id") || !j["id"].is_string()) return make_error(errc::invalid_argument, at + ": \"id\" must be a string");
    entry.id = j["id"].get<std::string>();
    if (!j.contains("questions") || !strings(j["questions"], entry.questions)) {
      return make_error(errc::invalid_argument, at + " ('" + entry.id + "'): \"questions\" must be an array of strings");
    }
    if (!j.contains("answer") || !j["answer"].is_string()) {
      return make_error(errc::invalid_argument, at + " ('" + entry.id + "'): \"answer\" must be a string");
    }
    entry.answer = j["answer"].get<std::string>();
    if (j.contains("tags") && !strings(j["tags"], entry.tags)) {
      return make_error(errc::invalid_argument, at + " ('" + entry.id + "'): \"tags\" must be an array of strings");
    }
    entries.push_back(std::move(entry));
  }
  std::vector<std::vector<std::string>> synonyms;
  if (doc.contains("synonyms")) {
    if (!doc["synonyms"].is_array()) return make_error(errc::invalid_argument, where + ": \"synonyms\" must be an array of arrays");
    for (const auto& g : doc["synonyms"]) {
      std::vector<std::string> group;
      if (!strings(g, group)) return make_error(errc::invalid_argument, where + ": \"synonyms\" must be an array of arrays of strings");
      synonyms.push_back(std::move(group));
    }
  }
  std::string topic = doc.contains("topic") && doc["topic"].is_string() ? doc["topic"].get<std::string>() : "";
  auto index = build(std::move(topic), std::move(entries), std::move(synonyms));
  if (!index) return make_error(index.error().code, where + ": " + index.error().message);
  return index;
}

result<faq_index> faq_index::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::not_found, "cannot open the FAQ file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(errc::io_error, "cannot read the FAQ file " + path);
  return parse(text.str(), path);
}

std::optional<faq_match> faq_index::match(std::string_view text) const {
  const impl& p = *impl_;
  if (p.variant_entry.empty()) return std::nullopt;
  const analysis a = p.analyse(text);
  if (a.terms.empty()) return std::nullopt;
  std::vector<double> sims(p.variant_entry.size(), 0.0);
  impl::score_space(p.words, impl::word_features(a), 1.0 - k_char_weight, sims);
  impl::score_space(p.chars, impl::char_features(a), k_char_weight, sims);

  std::vector<double> best_of_entry(p.entries.size(), 0.0);
  std::vector<std::size_t> best_variant(p.entries.size(), 0);
  for (std::size_t v = 0; v < sims.size(); ++v) {
    const auto e = static_cast<std::size_t>(p.variant_entry[v]);
    if (sims[v] > best_of_entry[e]) {
      best_of_entry[e] = sims[v];
      best_variant[e] = p.variant_index[v];
    }
  }
  std::size_t best = 0;
  for (std::size_t e = 1; e < best_of_entry.size(); ++e) {
    if (best_of_entry[e] > best_of_entry[best]) best = e;
  }
  if (best_of_entry[best] <= 0.0) return std::nullopt;
  double runner_up = 0.0;
  for (std::size_t e = 0; e < best_of_entry.size(); ++e) {
    if (e != best) runner_up = std::max(runner_up, best_of_entry[e]);
  }
  faq_match m;
  m.entry = &p.entries[best];
  m.variant = best_variant[best];
  m.similarity = std::min(1.0, best_of_entry[best]);
  m.runner_up = std::min(1.0, runner_up);
  const double margin = m.similarity - m.runner_up;
  m.score = m.similarity * (1.0 - k_tie_penalty * std::max(0.0, 1.0 - margin / k_margin_full));
  return m;
}

}  // namespace parley::intents
