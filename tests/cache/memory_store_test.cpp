#include <gtest/gtest.h>

#include <thread>

#include "parley/cache/memory_store.hpp"

namespace parley::cache {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> get(memory_store& s, const std::string& k) {
  auto r = s.get(k);
  EXPECT_TRUE(r.has_value());
  return r ? *r : std::nullopt;
}

TEST(memory_store, put_get_erase) {
  memory_store s;
  ASSERT_TRUE(s.put("a", "1", 0s));
  EXPECT_EQ(get(s, "a"), "1");
  ASSERT_TRUE(s.put("a", "22", 0s));
  EXPECT_EQ(get(s, "a"), "22");
  EXPECT_EQ(s.n_entries(), 1u);
  ASSERT_TRUE(s.erase("a"));
  EXPECT_EQ(get(s, "a"), std::nullopt);
  ASSERT_TRUE(s.erase("never"));
  EXPECT_EQ(s.size_bytes(), 0u);
}

TEST(memory_store, ttl_expires_on_the_manual_clock) {
  manual_clock clk;
  memory_store s({}, clk);
  ASSERT_TRUE(s.put("short", "x", 10s));
  ASSERT_TRUE(s.put("long", "y", 100s));
  ASSERT_TRUE(s.put("forever", "z", 0s));
  clk.advance(9s);
  EXPECT_EQ(get(s, "short"), "x");
  clk.advance(1s);
  EXPECT_EQ(get(s, "short"), std::nullopt);
  EXPECT_EQ(get(s, "long"), "y");
  clk.advance(1000s);
  EXPECT_EQ(get(s, "long"), std::nullopt);
  EXPECT_EQ(get(s, "forever"), "z");
  EXPECT_EQ(s.n_expired(), 2u);
}

TEST(memory_store, lru_bounded_in_bytes) {
  const std::size_t entry = memory_store::k_entry_overhead_bytes + 2 + 100;  // key "kN" + 100-byte value
  memory_store_config cfg;
  cfg.max_bytes = 3 * entry;
  memory_store s(cfg);
  const std::string v(100, 'v');
  ASSERT_TRUE(s.put("k1", v, 0s));
  ASSERT_TRUE(s.put("k2", v, 0s));
  ASSERT_TRUE(s.put("k3", v, 0s));
  EXPECT_EQ(s.size_bytes(), 3 * entry);
  EXPECT_TRUE(get(s, "k1"));  // k1 is now the most recently used: k2 is the coldest
  ASSERT_TRUE(s.put("k4", v, 0s));
  EXPECT_LE(s.size_bytes(), cfg.max_bytes);
  EXPECT_FALSE(get(s, "k2"));
  EXPECT_TRUE(get(s, "k1"));
  EXPECT_TRUE(get(s, "k3"));
  EXPECT_TRUE(get(s, "k4"));
  EXPECT_EQ(s.n_evictions(), 1u);
  // A value twice as big evicts two.
  ASSERT_TRUE(s.put("k5", std::string(100 + entry, 'w'), 0s));
  EXPECT_LE(s.size_bytes(), cfg.max_bytes);
  EXPECT_EQ(s.n_entries(), 2u);
  // Larger than the whole budget: refused, nothing evicted.
  auto st = s.put("huge", std::string(4 * entry, 'h'), 0s);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::invalid_argument);
  EXPECT_EQ(s.n_entries(), 2u);
}

TEST(memory_store, expired_entries_are_evicted_before_live_ones) {
  manual_clock clk;
  const std::size_t entry = memory_store::k_entry_overhead_bytes + 2 + 10;
  memory_store_config cfg;
  cfg.max_bytes = 2 * entry;
  memory_store s(cfg, clk);
  ASSERT_TRUE(s.put("k1", std::string(10, 'a'), 0s));   // live, least recently used
  ASSERT_TRUE(s.put("k2", std::string(10, 'b'), 5s));   // will expire
  clk.advance(6s);
  ASSERT_TRUE(s.put("k3", std::string(10, 'c'), 0s));
  EXPECT_TRUE(get(s, "k1"));
  EXPECT_TRUE(get(s, "k3"));
  EXPECT_EQ(s.n_evictions(), 0u);
}

TEST(memory_store, lists_and_prefix_erase) {
  memory_store s;
  ASSERT_TRUE(s.append("p:a:feed", "r0"));
  ASSERT_TRUE(s.append("p:a:feed", "r1"));
  ASSERT_TRUE(s.append("p:a:feed", "r2"));
  ASSERT_TRUE(s.put("p:a:e:x", "1", 0s));
  ASSERT_TRUE(s.put("p:b:e:x", "2", 0s));
  auto r = s.range("p:a:feed", 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 1u);
  EXPECT_EQ(r->items, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_TRUE(s.range("p:a:feed", 3)->items.empty());
  EXPECT_TRUE(s.range("nothing", 0)->items.empty());
  ASSERT_TRUE(s.erase_prefix("p:a:"));
  EXPECT_TRUE(s.range("p:a:feed", 0)->items.empty());
  EXPECT_FALSE(get(s, "p:a:e:x"));
  EXPECT_EQ(get(s, "p:b:e:x"), "2");
}

TEST(memory_store, a_capped_list_keeps_its_newest_elements_at_their_indexes) {
  memory_store s;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s.append("feed", "r" + std::to_string(i), 3));
  auto all = s.range("feed", 0);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->first, 2u) << "r0 and r1 were dropped; r2 keeps index 2";
  EXPECT_EQ(all->items, (std::vector<std::string>{"r2", "r3", "r4"}));
  auto tail = s.range("feed", 3);
  EXPECT_EQ(tail->first, 3u);
  EXPECT_EQ(tail->items, (std::vector<std::string>{"r3", "r4"}));
  EXPECT_EQ(s.range("feed", 5)->items.size(), 0u);
  EXPECT_EQ(s.size_bytes(), std::string("feed").size() + 3 * 2) << "dropped elements are no longer counted";
  // A list without a cap keeps everything, and the store's own limit still applies to it.
  memory_store_config cfg;
  cfg.max_list_elements = 2;
  memory_store capped(cfg);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(capped.append("l", "x", 2)) << "the append's cap makes room first";
  EXPECT_EQ(capped.range("l", 0)->first, 2u);
}

TEST(memory_store, list_cap) {
  memory_store_config cfg;
  cfg.max_list_elements = 2;
  memory_store s(cfg);
  ASSERT_TRUE(s.append("l", "a"));
  ASSERT_TRUE(s.append("l", "b"));
  auto st = s.append("l", "c");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::unavailable);
}

TEST(memory_store, concurrent_use_stays_within_bounds) {
  memory_store_config cfg;
  cfg.max_bytes = 20'000;
  memory_store s(cfg);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&s, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string k = "k" + std::to_string((i * 7 + t) % 300);
        if (i % 3 == 0) (void)s.get(k);
        else (void)s.put(k, std::string(static_cast<std::size_t>(50 + i % 50), 'x'), std::chrono::seconds(0));
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_LE(s.size_bytes(), cfg.max_bytes);
  EXPECT_GT(s.n_evictions(), 0u);
}

}  // namespace
}  // namespace parley::cache
