// engines/intents/faq — a knowledge file of questions and answers, matched by meaning.
//
// Role: holds FAQ entries (an id, several question variants, an answer, optional tags) loaded
// from a JSON file (format: data/README.md) and finds the entry a question means, even in other
// words: "when do you close on saturdays" finds the opening-hours entry written as "what are
// your opening hours".
// Matching: every variant and the query go through the same analysis — words (words.hpp);
// multi-word synonyms ("log in", "money back", "how long") folded to one concept, matched on
// stems; function words, generic words ("today", "please", "take", "time") and amounts
// ("fifty") dropped; light stemming; single-word synonyms folded to concepts (open/close/hours →
// hours, ship/deliver → deliver, refund/return → return, password/login → password,
// order/package/parcel/track → order...; built in, extended by the file's "synonyms"). Two
// TF-IDF vectors are built per text: concept/stem unigrams (binary tf) and character trigrams of
// the stems (sublinear tf; catches "passwords"/"password", near spellings). IDF counts entries,
// not variants (idf = ln((1 + N) / (1 + df)) + 1), so a word shared by many entries ("order")
// weighs less. A query word the FAQ never uses weighs 1.5× the rarest FAQ word and stays in the
// query's norm: content the FAQ does not cover lowers the similarity ("how long does it take to
// boil an egg" does not match "how long does shipping take").
// similarity(variant) = (1 − α)·cos(words) + α·cos(chars), α = 0.3; an entry scores its best
// variant. score = s1 · (1 − 0.3 · max(0, 1 − (s1 − s2) / 0.2)): the best entry's similarity,
// lowered by up to 30% when the runner-up entry s2 is within 0.2 of it (an ambiguous question).
// The responder turns the score into a confidence with a measured threshold
// (local_responder.hpp, k_default_faq_threshold).
// Threading: immutable after load; match() is thread-safe (const, no shared scratch).
//
//   auto faq = faq_index::load("data/faq/store.json");
//   if (auto m = faq->match("can i get my money back")) use(m->entry->answer, m->score);
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::intents {

struct faq_entry {
  std::string id;                      // "returns"; the responder's intent is "faq.returns"
  std::vector<std::string> questions;  // variants, each a way to ask (at least one)
  std::string answer;                  // the spoken reply, plain text
  std::vector<std::string> tags;       // optional, for grouping (not used for matching)
};

struct faq_match {
  const faq_entry* entry = nullptr;
  std::size_t variant = 0;    // index in entry->questions of the closest variant
  double similarity = 0.0;    // s1, in [0, 1]
  double runner_up = 0.0;     // s2: the best similarity of any other entry
  double score = 0.0;         // s1 with the ambiguity penalty, in [0, 1]
};

class faq_index {
 public:
  /// Reads a FAQ file; errc::not_found / io_error / unsupported_format / invalid_argument with
  /// the reason (which entry, which field) when it cannot be used.
  static result<faq_index> load(const std::string& path);
  /// The same from JSON text (`origin` names it in errors).
  static result<faq_index> parse(std::string_view json_text, std::string_view origin = "faq");
  /// Builds an index from entries; `synonyms` are extra groups (first member names the concept).
  static result<faq_index> build(std::string topic, std::vector<faq_entry> entries,
                                 std::vector<std::vector<std::string>> synonyms = {});

  faq_index(faq_index&&) noexcept;
  faq_index& operator=(faq_index&&) noexcept;
  ~faq_index();

  /// The closest entry, or nullopt when the FAQ is empty or the text shares nothing with it.
  std::optional<faq_match> match(std::string_view text) const;

  /// What the file is about, for the responder's help reply ("the store"); may be "".
  const std::string& topic() const;
  const std::vector<faq_entry>& entries() const;
  /// The analysed terms of `text` (concepts start with '#'), for tests and debugging.
  std::vector<std::string> analyse(std::string_view text) const;

 private:
  struct impl;
  explicit faq_index(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::intents
