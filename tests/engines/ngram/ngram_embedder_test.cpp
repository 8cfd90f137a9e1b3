#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "parley/engines/ngram/ngram_embedder.hpp"

namespace parley::ngram {
namespace {

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

double cos(ngram_embedder& e, std::string_view a, std::string_view b) {
  return engine::dot(*e.embed(a), *e.embed(b));
}

TEST(ngram_embedder, unit_vectors_of_the_configured_size) {
  ngram_embedder e;
  EXPECT_EQ(e.dims(), 512u);
  EXPECT_EQ(e.name(), "ngram-512");
  auto v = e.embed("what are your opening hours");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->size(), 512u);
  EXPECT_NEAR(norm(*v), 1.0, 1e-5);
  ngram_embedder small({.dims = 64});
  EXPECT_EQ(small.embed("hello")->size(), 64u);
  EXPECT_NEAR(norm(*small.embed("hello")), 1.0, 1e-5);
}

TEST(ngram_embedder, empty_text_is_the_zero_vector) {
  ngram_embedder e;
  for (const char* t : {"", "   ", "?!.,"}) {
    auto v = e.embed(t);
    ASSERT_TRUE(v);
    EXPECT_EQ(norm(*v), 0.0) << t;
  }
}

TEST(ngram_embedder, deterministic_and_case_insensitive) {
  ngram_embedder a, b;
  EXPECT_EQ(*a.embed("Where is my order?"), *b.embed("where is my order"));
  ngram_embedder other_seed({.seed = 42});
  EXPECT_NE(*a.embed("where is my order"), *other_seed.embed("where is my order"));
}

TEST(ngram_embedder, paraphrases_are_closer_than_other_questions) {
  ngram_embedder e;
  const double para = cos(e, "how do i track my order", "how can i track my package");
  const double other = cos(e, "how do i track my order", "how do i reset my password");
  EXPECT_GT(para, 0.75);
  EXPECT_LT(other, 0.5);
  // Morphology: "opening" and "open" share their stem and their character n-grams.
  EXPECT_GT(cos(e, "when are you opening", "when are you open"), 0.85);
  // Function words weigh little: a different content word matters more than a different "the".
  EXPECT_GT(cos(e, "where is the store", "where is a store"), cos(e, "where is the store", "where is the car"));
}

TEST(ngram_embedder, stemming_and_synonyms_help_and_can_be_switched_off) {
  ngram_embedder on;
  ngram_embedder off({.stem = false, .synonyms = false});
  EXPECT_GT(cos(on, "when does the shop open", "when does the store open"),
            cos(off, "when does the shop open", "when does the store open"));
  EXPECT_GT(cos(on, "how much does delivery cost", "what is the shipping price"),
            cos(off, "how much does delivery cost", "what is the shipping price") + 0.2);
  EXPECT_EQ(on.canonical("shops"), "store");
  EXPECT_EQ(on.canonical("deliveries"), "ship");
  EXPECT_EQ(off.canonical("shops"), "shops");
}

TEST(ngram_embedder, light_stem_table) {
  const std::pair<const char*, const char*> cases[] = {
      {"hours", "hour"},     {"opening", "open"},   {"shipping", "ship"}, {"deliveries", "delivery"},
      {"returned", "return"}, {"stored", "stor"},   {"store", "stor"},    {"class", "class"},
      {"status", "status"},   {"internationally", "international"},       {"is", "is"},
      {"17:00", "17:00"},     {"boxes", "box"},    {"tried", "try"},
  };
  for (auto [in, want] : cases) EXPECT_EQ(light_stem(in), want) << in;
}

TEST(ngram_embedder, fit_learns_that_common_words_say_little) {
  ngram_embedder plain, fitted;
  std::vector<std::string> phrases;
  for (int i = 0; i < 50; ++i) phrases.push_back("store question number " + std::to_string(i));
  phrases.push_back("returns policy");
  fitted.fit(phrases);
  // The two queries share only "store", which the phrase list says is everywhere.
  EXPECT_LT(cos(fitted, "store returns", "store parking"), cos(plain, "store returns", "store parking"));
}

TEST(ngram_embedder, concurrent_embeds_agree) {
  ngram_embedder e;
  const auto want = *e.embed("can i get a refund for my order");
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (*e.embed("can i get a refund for my order") != want) ++bad;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace parley::ngram
