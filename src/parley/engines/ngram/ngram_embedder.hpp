// engines/ngram/ngram_embedder — the built-in embedder: hashed word and character n-grams, no model.
//
// Role: turns a short query into a fixed-size unit vector whose cosine similarity tracks how much
// two queries share in words, word pairs and word pieces, so the response cache can match
// paraphrases ("when do you open" / "what are your opening hours") without any model file.
// Features of a text (lower-cased words, split at anything that is not a letter, digit, ':' or '.'):
//   - word unigrams, after a light stemmer ("opening" → "open", "deliveries" → "delivery") and a
//     small table of synonyms ("shop" → "store", "delivery" → "ship", "cost" → "price");
//   - word bigrams of adjacent content words ("reset password");
//   - character n-grams (char_min..char_max, default 3–5) of each content word inside "<word>",
//     so spelling variants and compounds still overlap ("signin" / "sign in");
// each weighted by a sublinear term frequency (1 + ln tf) times an IDF-like word weight: built-in
// down-weights for function words ("the", "is", "do") and question words, or weights learned from
// a domain phrase list with fit(). Features are hashed with a sign bit into `dims` buckets (signed
// feature hashing keeps collisions unbiased) and the vector is L2-normalised.
// Threading: embed() is const in effect and thread-safe; fit() must run before the embedder is
// shared (it is not synchronised with embed()). Never blocks, no I/O: microseconds per query.
// Units: dims() floats, unit length; the empty text (or one made only of punctuation) gives the
// zero vector.
//
//   parley::ngram::ngram_embedder e;                  // 512 dims
//   auto a = e.embed("what are your opening hours"), b = e.embed("when do you open");
//   double cos = parley::engine::dot(*a, *b);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parley/engine/embedder.hpp"

namespace parley::ngram {

struct ngram_config {
  std::size_t dims = 512;      // output size; more dims = fewer hash collisions, slower search
  int char_min = 3;            // shortest character n-gram (inside "<word>")
  int char_max = 5;            // longest character n-gram
  double word_weight = 1.0;    // weight of a content word's unigram feature
  double bigram_weight = 0.5;  // weight of an adjacent content-word pair
  double char_weight = 0.6;    // total weight (L2) of one content word's character n-grams
  double function_word_weight = 0.15;  // multiplier for "the", "is", "you", ...
  double question_word_weight = 0.5;   // multiplier for "what", "when", "where", "how", ...
  bool stem = true;            // light suffix stripping
  bool synonyms = true;        // built-in synonym groups
  std::uint64_t seed = 0x5eed'9a11'ca5e'0001ULL;  // hash seed (changing it changes every vector)
};

class ngram_embedder final : public engine::embedder {
 public:
  explicit ngram_embedder(ngram_config config = {});

  std::string name() const override;
  bool quick() const override { return true; }  // hashing only, microseconds
  std::size_t dims() const override { return config_.dims; }
  result<std::vector<float>> embed(std::string_view text) override;

  /// The vector of `text` (the same as embed(), for callers that hold a const embedder).
  std::vector<float> vectorize(std::string_view text) const;

  /// Learns IDF word weights from a list of domain phrases (one query per element): words that
  /// appear in many phrases weigh less. Unknown words weigh like the rarest. Call before sharing.
  void fit(std::span<const std::string> phrases);

  /// The canonical form of one word as the features see it (stemmed, synonym-folded).
  std::string canonical(std::string_view word) const;

  const ngram_config& config() const { return config_; }

 private:
  double word_weight(const std::string& canonical_word, std::string_view raw_word) const;

  ngram_config config_;
  std::unordered_map<std::string, double> idf_;  // empty = built-in weights only
  double idf_unknown_ = 1.0;
};

/// The light English stemmer the embedder uses ("shipping" → "ship", "hours" → "hour").
std::string light_stem(std::string_view word);

}  // namespace parley::ngram
