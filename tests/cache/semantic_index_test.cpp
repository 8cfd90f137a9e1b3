#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "parley/cache/semantic_index.hpp"

namespace parley::cache {
namespace {

std::vector<float> unit_random(std::mt19937& rng, std::size_t dims) {
  std::normal_distribution<float> d;
  std::vector<float> v(dims);
  double n = 0;
  for (auto& x : v) x = d(rng), n += double(x) * x;
  for (auto& x : v) x = static_cast<float>(x / std::sqrt(n));
  return v;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

class semantic_index_modes : public ::testing::TestWithParam<bool> {};

TEST_P(semantic_index_modes, finds_the_same_best_as_exhaustive_float_search) {
  std::mt19937 rng(7);
  semantic_index_config cfg;
  cfg.quantize = GetParam();
  semantic_index idx(64, cfg);
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < 2000; ++i) {
    rows.push_back(unit_random(rng, 64));
    ASSERT_TRUE(idx.add("k" + std::to_string(i), rows.back()));
  }
  for (int q = 0; q < 50; ++q) {
    // A query near row q*7: the row plus noise.
    auto base = rows[static_cast<std::size_t>(q * 7)];
    auto noise = unit_random(rng, 64);
    std::vector<float> query(64);
    double n = 0;
    for (std::size_t i = 0; i < 64; ++i) query[i] = base[i] + 0.5f * noise[i], n += double(query[i]) * query[i];
    for (auto& x : query) x = static_cast<float>(x / std::sqrt(n));
    std::size_t best = 0;
    for (std::size_t r = 1; r < rows.size(); ++r)
      if (dot(query, rows[r]) > dot(query, rows[best])) best = r;
    auto hits = idx.search(query, 3, 0.3);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].key, "k" + std::to_string(best));
    EXPECT_NEAR(hits[0].score, dot(query, rows[best]), 1e-5);
    for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  }
}

INSTANTIATE_TEST_SUITE_P(both, semantic_index_modes, ::testing::Values(true, false));

TEST(semantic_index, min_score_and_removal) {
  std::mt19937 rng(1);
  semantic_index idx(32);
  auto a = unit_random(rng, 32), b = unit_random(rng, 32), c = unit_random(rng, 32);
  ASSERT_TRUE(idx.add("a", a));
  ASSERT_TRUE(idx.add("b", b));
  ASSERT_TRUE(idx.add("c", c));
  EXPECT_EQ(idx.size(), 3u);
  auto hits = idx.search(a, 5, 0.99);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].key, "a");
  EXPECT_TRUE(idx.remove("a"));
  EXPECT_FALSE(idx.remove("a"));
  EXPECT_TRUE(idx.search(a, 5, 0.99).empty());
  // The rows that moved are still found under their own keys.
  ASSERT_EQ(idx.search(c, 1, 0.99).size(), 1u);
  EXPECT_EQ(idx.search(c, 1, 0.99)[0].key, "c");
  EXPECT_EQ(idx.search(b, 1, 0.99)[0].key, "b");
  // Replacing a key keeps one row.
  ASSERT_TRUE(idx.add("b", a));
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_EQ(idx.search(a, 1, 0.99)[0].key, "b");
  EXPECT_FALSE(idx.add("x", std::vector<float>(5, 0.0f)));
  // The zero vector matches nothing.
  EXPECT_TRUE(idx.search(std::vector<float>(32, 0.0f), 1, 0.0).empty());
}

TEST(semantic_index, drops_the_oldest_beyond_capacity) {
  std::mt19937 rng(3);
  semantic_index_config cfg;
  cfg.max_entries = 3;
  semantic_index idx(16, cfg);
  std::vector<std::vector<float>> v;
  for (int i = 0; i < 5; ++i) {
    v.push_back(unit_random(rng, 16));
    ASSERT_TRUE(idx.add("k" + std::to_string(i), v.back()));
  }
  EXPECT_EQ(idx.size(), 3u);
  EXPECT_FALSE(idx.contains("k0"));
  EXPECT_FALSE(idx.contains("k1"));
  EXPECT_TRUE(idx.contains("k2"));
  EXPECT_TRUE(idx.contains("k4"));
}

}  // namespace
}  // namespace parley::cache
