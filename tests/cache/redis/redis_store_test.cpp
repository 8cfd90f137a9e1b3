// cache/redis/redis_store against a real redis-server on loopback (label: redis).
//
// Timing: no test asserts how fast anything is; bounds such as "within 2 s" only prove that a
// call does not hang. The breaker runs on a manual clock, so its cooldown is exact.
#include "parley/cache/redis/redis_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "redis_server_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using parley::errc;
using parley::cache::breaker_state;
using parley::cache::redis_config;
using parley::cache::redis_store;
using parley::test::redis_server;

constexpr auto k_no_hang = 2s;  // generous: only proves "fails fast, never hangs"

template <class F>
std::chrono::steady_clock::duration time_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::steady_clock::now() - t0;
}

std::uint64_t n_network_calls(const parley::cache::redis_stats& s) {
  std::uint64_t n = 0;
  for (const auto b : s.latency_buckets) n += b;
  return n;
}

// The store of `cfg` (null, with a test failure, when create() refuses it).
std::unique_ptr<redis_store> make_store(const redis_config& cfg) {
  auto made = redis_store::create(cfg);
  EXPECT_TRUE(made) << (made ? "" : made.error().describe());
  return made ? std::move(*made) : nullptr;
}

class redis_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_server::available()) GTEST_SKIP() << redis_server::skip_reason();
    ASSERT_TRUE(server_.start()) << server_.last_error();
  }

  // Generous timeouts: sanitizer builds on a busy machine must not time out by accident.
  redis_config config() const {
    redis_config cfg;
    cfg.port = server_.port();
    cfg.connect_timeout_ms = 2000;
    cfg.command_timeout_ms = 2000;
    cfg.clk = &clock_;
    return cfg;
  }

  // Fails calls until the breaker opens; returns how many calls that took.
  int open_breaker(redis_store& store) {
    int n = 0;
    while (store.state() != breaker_state::open && n < 100) {
      EXPECT_FALSE(store.get("k"));
      ++n;
    }
    return n;
  }

  redis_server server_;
  parley::manual_clock clock_;
};

TEST(redis_config, defaults_are_short_and_namespaced) {
  const redis_config cfg;
  EXPECT_EQ(cfg.host, "127.0.0.1");
  EXPECT_EQ(cfg.port, 6379);
  EXPECT_EQ(cfg.key_prefix, "parley:");
  EXPECT_EQ(cfg.connect_timeout_ms, 50);
  EXPECT_EQ(cfg.command_timeout_ms, 20);
  EXPECT_GT(cfg.pool_size, 0u);
  EXPECT_GT(cfg.breaker_failures, 0);
  EXPECT_GT(cfg.breaker_cooldown_ms, 0);
}

TEST(redis_config, a_bad_config_is_refused_at_creation_without_network) {
  const auto refused = [](const redis_config& cfg) {
    const auto made = redis_store::create(cfg);
    return !made && made.error().code == errc::invalid_argument;
  };
  redis_config cfg;
  cfg.pool_size = 0;
  EXPECT_TRUE(refused(cfg));
  cfg = {};
  cfg.port = 70000;
  EXPECT_TRUE(refused(cfg));
  cfg = {};
  cfg.command_timeout_ms = 0;
  EXPECT_TRUE(refused(cfg));
  cfg = {};
  cfg.host.clear();
  EXPECT_TRUE(refused(cfg));
  EXPECT_FALSE(refused(redis_config{}));
  EXPECT_EQ(parley::cache::to_string(breaker_state::half_open), "half_open");
}

TEST(redis_store_unreachable, fails_at_first_call_quickly_with_a_clear_error) {
  redis_config cfg;  // default (short) timeouts
  cfg.port = redis_server::free_port();
  ASSERT_NE(cfg.port, 0);
  auto store = make_store(cfg);  // constructing does not connect
  ASSERT_TRUE(store);
  EXPECT_EQ(store->stats().n_connects + store->stats().n_connect_failures, 0u);
  parley::result<std::optional<std::string>> r = std::optional<std::string>{};
  EXPECT_LT(time_of([&] { r = store->get("k"); }), k_no_hang);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_NE(r.error().message.find("cannot connect"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(std::to_string(cfg.port)), std::string::npos) << r.error().message;
  EXPECT_FALSE(store->ping());
  const auto s = store->stats();
  EXPECT_EQ(s.n_calls, 2u);
  EXPECT_EQ(s.n_errors, 2u);
  EXPECT_EQ(s.n_connect_failures, 2u);
}

TEST_F(redis_store_test, ping_answers_when_the_server_is_up) {
  auto store = make_store(config());
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->ping());
  EXPECT_EQ(store->name(), "redis");
  EXPECT_EQ(store->stats().n_connects, 1u);
}

TEST_F(redis_store_test, roundtrips_binary_values_and_keys) {
  auto store = make_store(config());
  ASSERT_TRUE(store);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) ^ (i >> 7));
  const std::string odd_key = std::string("key with spaces\r\n\0and nul", 26);

  ASSERT_TRUE(store->put("bytes", all_bytes, 0s));
  ASSERT_TRUE(store->put("big", big, 1h));
  ASSERT_TRUE(store->put(odd_key, "odd", 0s));
  ASSERT_TRUE(store->put("empty", "", 0s));

  auto v = store->get("bytes");
  ASSERT_TRUE(v) << v.error().describe();
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, all_bytes);
  v = store->get("big");
  ASSERT_TRUE(v && v->has_value());
  EXPECT_EQ(**v, big);
  v = store->get(odd_key);
  ASSERT_TRUE(v && v->has_value());
  EXPECT_EQ(**v, "odd");
  v = store->get("empty");
  ASSERT_TRUE(v && v->has_value());
  EXPECT_EQ(**v, "");

  v = store->get("absent");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->has_value());

  ASSERT_TRUE(store->put("bytes", "replaced", 0s));
  v = store->get("bytes");
  ASSERT_TRUE(v && v->has_value());
  EXPECT_EQ(**v, "replaced");

  EXPECT_TRUE(store->erase("bytes"));
  EXPECT_TRUE(store->erase("bytes"));  // absent is not an error
  v = store->get("bytes");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->has_value());
  EXPECT_EQ(store->stats().n_errors, 0u);
}

TEST_F(redis_store_test, keys_live_under_the_key_prefix) {
  auto cfg_a = config();
  cfg_a.key_prefix = "a:";
  auto cfg_b = config();
  cfg_b.key_prefix = "b:";
  auto a = make_store(cfg_a);
  ASSERT_TRUE(a);
  auto b = make_store(cfg_b);
  ASSERT_TRUE(b);
  ASSERT_TRUE(a->put("k", "from a", 0s));
  auto v = b->get("k");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->has_value());
  EXPECT_EQ(server_.query("EXISTS a:k"), ":1");
  EXPECT_EQ(server_.query("EXISTS k"), ":0");
}

TEST_F(redis_store_test, ttl_sets_an_expiry_and_the_entry_expires) {
  auto store = make_store(config());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put("long", "v", 1h));
  const std::string pttl = server_.query("PTTL parley:long");
  ASSERT_FALSE(pttl.empty());
  ASSERT_EQ(pttl[0], ':');
  const long long left_ms = std::stoll(pttl.substr(1));
  EXPECT_GT(left_ms, 0);
  EXPECT_LE(left_ms, 3600 * 1000);

  ASSERT_TRUE(store->put("forever", "v", 0s));
  EXPECT_EQ(server_.query("PTTL parley:forever"), ":-1");

  ASSERT_TRUE(store->put_for("short", "v", 100ms));
  const std::string short_pttl = server_.query("PTTL parley:short");
  ASSERT_FALSE(short_pttl.empty());
  EXPECT_LE(std::stoll(short_pttl.substr(1)), 100);  // ":-2" when already expired

  // Expires: poll (bounded) until it is gone.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    auto v = store->get("short");
    ASSERT_TRUE(v) << v.error().describe();
    gone = !v->has_value();
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone);
  auto v = store->get("long");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->has_value());

  EXPECT_EQ(store->put_for("neg", "v", -1ms).error().code, errc::invalid_argument);
}

TEST_F(redis_store_test, lists_append_and_range_from_an_index) {
  auto store = make_store(config());
  ASSERT_TRUE(store);
  auto r = store->range("absent", 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->items.empty());

  const std::vector<std::string> items = {"one", std::string("t\0o", 3), "", "four", "five"};
  for (const auto& it : items) ASSERT_TRUE(store->append("index", it));
  r = store->range("index", 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->items, items);
  r = store->range("index", 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 3u);
  EXPECT_EQ(r->items, (std::vector<std::string>{"four", "five"}));
  r = store->range("index", 5);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->items.empty());
  r = store->range("index", std::size_t{1} << 62);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->items.empty());
}

TEST_F(redis_store_test, a_capped_list_keeps_its_newest_elements_at_their_indexes) {
  auto store = make_store(config());
  ASSERT_TRUE(store);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(store->append("feed", "r" + std::to_string(i), 3));
  auto r = store->range("feed", 0);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->first, 4u);
  EXPECT_EQ(r->items, (std::vector<std::string>{"r4", "r5", "r6"}));
  r = store->range("feed", 5);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 5u);
  EXPECT_EQ(r->items, (std::vector<std::string>{"r5", "r6"}));
  EXPECT_TRUE(store->range("feed", 7)->items.empty());
  // Redis itself holds only the newest three.
  EXPECT_EQ(server_.query("LLEN parley:feed"), ":3");
  EXPECT_EQ(server_.query("GET parley:feed:first"), "$1") << "the counter of dropped elements, a bulk reply";
  // erase_prefix removes the list and its counter: it starts again at index 0.
  ASSERT_TRUE(store->erase_prefix("fe"));
  ASSERT_TRUE(store->append("feed", "again", 3));
  r = store->range("feed", 0);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->items, (std::vector<std::string>{"again"}));
}

TEST_F(redis_store_test, erase_prefix_removes_many_keys_and_lists_and_nothing_else) {
  auto cfg = config();
  cfg.scan_batch = 100;  // several SCAN rounds and UNLINK batches
  auto store = make_store(cfg);
  ASSERT_TRUE(store);
  auto other_cfg = config();
  other_cfg.key_prefix = "other:";
  auto other = make_store(other_cfg);
  ASSERT_TRUE(other);

  constexpr int n_a = 2500;
  for (int i = 0; i < n_a; ++i) ASSERT_TRUE(store->put("scope:a:" + std::to_string(i), "v", 1h));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(store->put("scope:b:" + std::to_string(i), "v", 1h));
  ASSERT_TRUE(store->append("scope:a:index", "x"));
  ASSERT_TRUE(other->put("scope:a:1", "kept", 0s));  // same key, other namespace
  EXPECT_EQ(server_.query("DBSIZE"), ":" + std::to_string(n_a + 50 + 1 + 1));

  ASSERT_TRUE(store->erase_prefix("scope:a:"));
  EXPECT_EQ(server_.query("DBSIZE"), ":51");
  auto v = store->get("scope:b:7");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->has_value());
  v = other->get("scope:a:1");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->has_value());
  auto r = store->range("scope:a:index", 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->items.empty());

  // Glob characters in the prefix match only themselves.
  ASSERT_TRUE(store->put("g*[1]?\\:k", "literal", 0s));
  ASSERT_TRUE(store->put("gzz1a\\:k", "would match an unescaped glob", 0s));
  ASSERT_TRUE(store->erase_prefix("g*[1]?\\"));
  v = store->get("g*[1]?\\:k");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->has_value());
  v = store->get("gzz1a\\:k");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->has_value());

  ASSERT_TRUE(store->erase_prefix("nothing:here:"));
  EXPECT_EQ(store->stats().n_errors, 0u);
}

TEST_F(redis_store_test, concurrent_calls_from_many_threads_share_a_small_pool) {
  auto cfg = config();
  cfg.pool_size = 3;
  auto store = make_store(cfg);
  ASSERT_TRUE(store);
  constexpr int n_threads = 8;
  constexpr int n_iter = 100;
  std::atomic<int> n_failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < n_iter; ++i) {
        const std::string key = "t" + std::to_string(t) + ":" + std::to_string(i);
        const std::string value = key + std::string(static_cast<std::size_t>(i), 'x');
        if (!store->put(key, value, 1h)) ++n_failed;
        auto v = store->get(key);
        if (!v || !v->has_value() || **v != value) ++n_failed;
        if (!store->append("shared", key)) ++n_failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(n_failed.load(), 0);
  auto r = store->range("shared", 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->items.size(), static_cast<std::size_t>(n_threads * n_iter));
  const auto s = store->stats();
  EXPECT_EQ(s.n_calls, static_cast<std::uint64_t>(n_threads * n_iter * 3 + 1));
  EXPECT_EQ(s.n_errors, 0u);
  EXPECT_LE(s.n_connects, 3u);
  EXPECT_EQ(n_network_calls(s), s.n_calls);
  EXPECT_EQ(s.breaker, breaker_state::closed);
}

TEST_F(redis_store_test, server_error_replies_are_errors_but_not_breaker_failures) {
  auto cfg = config();
  cfg.breaker_failures = 2;
  auto store = make_store(cfg);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->append("list", "x"));
  for (int i = 0; i < 5; ++i) {
    auto v = store->get("list");  // WRONGTYPE
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::io_error);
    EXPECT_NE(v.error().message.find("WRONGTYPE"), std::string::npos) << v.error().message;
  }
  EXPECT_EQ(store->state(), breaker_state::closed);
  EXPECT_TRUE(store->ping());
  EXPECT_EQ(store->stats().n_connects, 1u);  // the connection stayed usable
}

TEST_F(redis_store_test, server_killed_mid_run_fails_fast_and_opens_the_breaker) {
  auto cfg = config();
  cfg.connect_timeout_ms = 50;
  cfg.command_timeout_ms = 50;
  cfg.breaker_failures = 3;
  cfg.pool_size = 2;
  auto store = make_store(cfg);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put("k", "v", 0s));
  ASSERT_TRUE(store->ping());

  server_.stop();
  for (int i = 0; i < cfg.breaker_failures; ++i) {
    parley::status st;
    EXPECT_LT(time_of([&] { st = store->put("k", "v", 0s); }), k_no_hang);
    ASSERT_FALSE(st);
    EXPECT_TRUE(st.error().code == errc::unavailable || st.error().code == errc::timeout) << st.error().describe();
  }
  EXPECT_EQ(store->state(), breaker_state::open);
  auto before = store->stats();
  EXPECT_EQ(before.n_breaker_opens, 1u);

  // Open: answered at once, no network (no connect attempt, no latency sample).
  for (int i = 0; i < 20; ++i) {
    auto v = store->get("k");
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::unavailable);
    EXPECT_NE(v.error().message.find("breaker"), std::string::npos);
  }
  auto after = store->stats();
  EXPECT_EQ(after.n_breaker_rejections - before.n_breaker_rejections, 20u);
  EXPECT_EQ(after.n_connect_failures, before.n_connect_failures);
  EXPECT_EQ(n_network_calls(after), n_network_calls(before));
  EXPECT_EQ(after.n_calls - before.n_calls, 20u);
  EXPECT_EQ(after.n_errors - before.n_errors, 20u);
}

TEST_F(redis_store_test, writing_to_a_dead_server_does_not_raise_sigpipe) {
  auto store = make_store(config());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->ping());  // one pooled connection to the soon-dead server
  server_.stop();
  const std::string big(8 << 20, 'x');  // several write(2) calls: the later ones meet the RST
  for (int i = 0; i < 3; ++i) {
    auto st = store->put("big", big, 0s);
    EXPECT_FALSE(st);
  }
  // Still alive: the test process was not killed by SIGPIPE.
}

TEST_F(redis_store_test, breaker_recovers_after_cooldown_once_the_server_is_back) {
  auto cfg = config();
  cfg.command_timeout_ms = 200;
  cfg.breaker_failures = 2;
  cfg.breaker_cooldown_ms = 5000;
  auto store = make_store(cfg);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put("k", "v", 0s));
  server_.stop();
  EXPECT_EQ(open_breaker(*store), 2);

  ASSERT_TRUE(server_.start()) << server_.last_error();  // same port, empty data
  // Still open: the server is up again, but the store does not look before the cooldown.
  clock_.advance(4999ms);
  auto v = store->get("k");
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("breaker"), std::string::npos);
  EXPECT_EQ(store->state(), breaker_state::open);

  clock_.advance(1ms);
  v = store->get("k");  // the probe
  ASSERT_TRUE(v) << v.error().describe();
  EXPECT_FALSE(v->has_value());  // a fresh server
  EXPECT_EQ(store->state(), breaker_state::closed);
  ASSERT_TRUE(store->put("k", "again", 0s));
  v = store->get("k");
  ASSERT_TRUE(v && v->has_value());
  EXPECT_EQ(**v, "again");
}

TEST_F(redis_store_test, failed_probe_reopens_the_breaker_for_another_cooldown) {
  auto cfg = config();
  cfg.command_timeout_ms = 200;
  cfg.breaker_failures = 2;
  cfg.breaker_cooldown_ms = 1000;
  auto store = make_store(cfg);
  ASSERT_TRUE(store);
  server_.stop();
  open_breaker(*store);
  const auto network_before = n_network_calls(store->stats());

  clock_.advance(1000ms);
  auto v = store->get("k");  // probe, fails
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message.find("breaker"), std::string::npos) << "the probe should reach the network";
  EXPECT_EQ(n_network_calls(store->stats()), network_before + 1);
  EXPECT_EQ(store->state(), breaker_state::open);
  EXPECT_EQ(store->stats().n_breaker_opens, 2u);

  v = store->get("k");  // open again: rejected
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("breaker"), std::string::npos);
  clock_.advance(999ms);
  EXPECT_FALSE(store->get("k"));
  EXPECT_EQ(n_network_calls(store->stats()), network_before + 1);

  ASSERT_TRUE(server_.start()) << server_.last_error();
  clock_.advance(1ms);
  EXPECT_TRUE(store->ping());
  EXPECT_EQ(store->state(), breaker_state::closed);
}

TEST_F(redis_store_test, paused_server_times_out_and_half_open_lets_one_probe_through) {
  auto cfg = config();
  cfg.command_timeout_ms = 300;
  cfg.breaker_failures = 2;
  cfg.breaker_cooldown_ms = 1000;
  auto store = make_store(cfg);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put("k", "v", 0s));

  server_.pause();  // accepts connections, answers nothing
  for (int i = 0; i < 2; ++i) {
    parley::result<std::optional<std::string>> v = std::optional<std::string>{};
    EXPECT_LT(time_of([&] { v = store->get("k"); }), k_no_hang);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, errc::timeout) << v.error().describe();
  }
  EXPECT_EQ(store->stats().n_timeouts, 2u);
  EXPECT_EQ(store->state(), breaker_state::open);

  // Half-open: the probe hangs on the paused server (until its timeout); other calls meanwhile
  // are rejected without network.
  clock_.advance(1000ms);
  std::thread probe([&] { EXPECT_FALSE(store->get("k")); });
  const auto deadline = std::chrono::steady_clock::now() + k_no_hang;
  while (store->state() != breaker_state::half_open && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  if (store->state() == breaker_state::half_open) {
    auto v = store->get("k");
    ASSERT_FALSE(v);
    EXPECT_NE(v.error().message.find("breaker"), std::string::npos);
  }
  probe.join();
  EXPECT_EQ(store->state(), breaker_state::open);
  EXPECT_EQ(store->stats().n_timeouts, 3u);

  server_.resume();
  clock_.advance(1000ms);
  auto v = store->get("k");
  ASSERT_TRUE(v) << v.error().describe();
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "v");
  EXPECT_EQ(store->state(), breaker_state::closed);
}

TEST_F(redis_store_test, selects_the_configured_db) {
  auto cfg1 = config();
  cfg1.db = 1;
  auto db1 = make_store(cfg1);
  auto db0 = make_store(config());
  ASSERT_TRUE(db1 && db0);
  ASSERT_TRUE(db1->put("k", "in db 1", 0s));
  auto v = db0->get("k");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->has_value());
  v = db1->get("k");
  ASSERT_TRUE(v && v->has_value());
}

TEST(redis_store_auth, authenticates_with_the_password_and_reports_a_wrong_one) {
  if (!redis_server::available()) GTEST_SKIP() << redis_server::skip_reason();
  redis_server server({"--requirepass", "s3cret"});
  ASSERT_TRUE(server.start()) << server.last_error();
  redis_config cfg;
  cfg.port = server.port();
  cfg.connect_timeout_ms = 2000;
  cfg.command_timeout_ms = 2000;

  cfg.password = "s3cret";
  auto good = make_store(cfg);
  ASSERT_TRUE(good);
  EXPECT_TRUE(good->put("k", "v", 0s));
  EXPECT_TRUE(good->ping());

  cfg.password = "wrong";
  auto bad = make_store(cfg);
  ASSERT_TRUE(bad);
  auto st = bad->ping();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::unavailable);
  EXPECT_NE(st.error().message.find("AUTH rejected"), std::string::npos) << st.error().message;
  EXPECT_EQ(st.error().message.find("wrong"), std::string::npos) << "the password must not be logged";

  cfg.password.clear();
  auto none = make_store(cfg);
  ASSERT_TRUE(none);
  auto v = none->get("k");
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("NOAUTH"), std::string::npos) << v.error().message;
}

}  // namespace
