#include <gtest/gtest.h>

#include "parley/cache/memory_store.hpp"
#include "parley/cache/response_cache.hpp"
#include "parley/core/log.hpp"
#include "parley/engines/ngram/ngram_embedder.hpp"

namespace parley::cache {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const reply_audio> tone(std::size_t n_samples) {
  auto a = std::make_shared<reply_audio>();
  a->pcm.resize(n_samples);
  for (std::size_t i = 0; i < n_samples; ++i) a->pcm[i] = static_cast<std::int16_t>((i * 37) % 65536 - 32768);
  return a;
}

cached_reply reply(std::string text, std::string cls = "static", std::size_t n_samples = 0) {
  cached_reply r;
  r.text = std::move(text);
  r.reply_class = std::move(cls);
  if (n_samples) r.audio = tone(n_samples);
  return r;
}

/// A store whose every call fails (a shared tier that is down), counting the calls.
class failing_store final : public entry_store {
 public:
  std::string name() const override { return "down"; }
  result<std::optional<std::string>> get(const std::string&) override { return fail(); }
  status put(const std::string&, std::string_view, std::chrono::seconds) override { return fail(); }
  status erase(const std::string&) override { return fail(); }
  status erase_prefix(const std::string&) override { return fail(); }
  status append(const std::string&, std::string_view, std::size_t) override { return fail(); }
  result<list_slice> range(const std::string&, std::size_t) override { return fail(); }
  int n_calls = 0;

 private:
  error fail() {
    ++n_calls;
    return make_error(errc::unavailable, "connection refused");
  }
};

/// A memory store that fails every call while `down` (a shared tier that goes away and comes back).
class flaky_store final : public entry_store {
 public:
  explicit flaky_store(const clock& clk) : inner_(memory_store_config{.name = "flaky"}, clk) {}
  std::string name() const override { return "flaky"; }
  result<std::optional<std::string>> get(const std::string& k) override {
    if (down) return outage();
    return inner_.get(k);
  }
  status put(const std::string& k, std::string_view v, std::chrono::seconds ttl) override {
    return down ? status(outage()) : inner_.put(k, v, ttl);
  }
  status erase(const std::string& k) override { return down ? status(outage()) : inner_.erase(k); }
  status erase_prefix(const std::string& p) override { return down ? status(outage()) : inner_.erase_prefix(p); }
  status append(const std::string& k, std::string_view v, std::size_t n) override {
    return down ? status(outage()) : inner_.append(k, v, n);
  }
  result<list_slice> range(const std::string& k, std::size_t from) override {
    if (down) return outage();
    return inner_.range(k, from);
  }
  bool down = false;

 private:
  static error outage() { return make_error(errc::unavailable, "connection refused"); }
  memory_store inner_;
};

// The cache of these parts (null, with a test failure, when create() refuses them).
std::unique_ptr<response_cache> make_cache(response_cache_config cfg, std::shared_ptr<engine::embedder> embedder,
                                           std::shared_ptr<entry_store> local, std::shared_ptr<entry_store> shared,
                                           const clock& clk) {
  auto made = response_cache::create(std::move(cfg), std::move(embedder), std::move(local), std::move(shared), clk);
  EXPECT_TRUE(made) << (made ? "" : made.error().describe());
  return made ? std::move(*made) : nullptr;
}

struct response_cache_basics : ::testing::Test {
  manual_clock clk;
  std::shared_ptr<engine::embedder> embedder = std::make_shared<ngram::ngram_embedder>();
  std::shared_ptr<memory_store> local = std::make_shared<memory_store>(memory_store_config{}, clk);
  std::unique_ptr<response_cache> make(std::shared_ptr<entry_store> shared = nullptr, response_cache_config cfg = {}) {
    return make_cache(std::move(cfg), embedder, local, std::move(shared), clk);
  }
};

TEST_F(response_cache_basics, exact_hit_after_normalising) {
  auto rc = make();
  ASSERT_TRUE(rc);
  ASSERT_TRUE(rc->store("Are you open at 5 pm?", {}, reply("Yes, until 9.", "static", 1600)));
  auto hit = rc->lookup("um, are you open at five p.m., please", {});
  EXPECT_EQ(hit.kind, match_kind::exact);
  EXPECT_EQ(hit.tier, "memory");
  ASSERT_TRUE(hit.reply);
  EXPECT_EQ(hit.reply->text, "Yes, until 9.");
  ASSERT_TRUE(hit.reply->audio);
  EXPECT_EQ(hit.reply->audio->pcm, tone(1600)->pcm);
  EXPECT_EQ(hit.matched_query, "Are you open at 5 pm?");
  EXPECT_EQ(rc->stats().n_exact_hits, 1u);
}

TEST_F(response_cache_basics, semantic_hit_on_a_paraphrase_and_miss_on_another_question) {
  auto rc = make();
  ASSERT_TRUE(rc);
  ASSERT_TRUE(rc->store("how do i track my order", {}, reply("Use the link in your e-mail.")));
  ASSERT_TRUE(rc->store("how do i reset my password", {}, reply("Use the forgot password link.")));
  auto hit = rc->lookup("how can i track my package", {});
  EXPECT_EQ(hit.kind, match_kind::semantic) << "similarity " << hit.similarity;
  EXPECT_GE(hit.similarity, hit.threshold);
  ASSERT_TRUE(hit.reply);
  EXPECT_EQ(hit.reply->text, "Use the link in your e-mail.");
  EXPECT_EQ(hit.matched_query, "how do i track my order");
  // Close in words, different in meaning: the substitution guard refuses it.
  EXPECT_EQ(rc->lookup("how do i cancel my order", {}).kind, match_kind::miss);
  auto hit2 = rc->lookup("i forgot my password", {});
  EXPECT_EQ(hit2.kind, match_kind::semantic) << "similarity " << hit2.similarity;
  auto miss = rc->lookup("how do i return an item", {});
  EXPECT_EQ(miss.kind, match_kind::miss) << "similarity " << miss.similarity;
  EXPECT_FALSE(miss.reply);
  EXPECT_EQ(rc->stats().n_semantic_hits, 2u);
  EXPECT_EQ(rc->stats().n_misses, 2u);
}

TEST_F(response_cache_basics, numbers_must_agree_for_a_semantic_hit) {
  auto rc = make();
  ASSERT_TRUE(rc);
  ASSERT_TRUE(rc->store("are you open at 5 pm on sunday", {}, reply("Yes.")));
  EXPECT_EQ(rc->lookup("are you open on sunday at 6 pm", {}).kind, match_kind::miss);
  EXPECT_EQ(rc->lookup("are you open on sunday at 5 pm", {}).kind, match_kind::semantic);
  EXPECT_TRUE(rc->compatible("how do i convert celsius to fahrenheit", "what is the way to convert celsius to fahrenheit"));
  EXPECT_FALSE(rc->compatible("how do i convert celsius to fahrenheit", "how do i convert fahrenheit to celsius"));
  EXPECT_FALSE(rc->compatible("what time do you open", "what time do you close"));
  EXPECT_TRUE(rc->compatible("what is the capital of france", "what is france capital city"));
}

TEST_F(response_cache_basics, scopes_isolate_users_personas_and_languages) {
  auto rc = make();
  ASSERT_TRUE(rc);
  const cache_scope alice{"default", "en", "alice"}, bob{"default", "en", "bob"}, shared{"default", "en", ""};
  ASSERT_TRUE(rc->store("what is my account balance", alice, reply("Alice, you have 12 dollars.")));
  ASSERT_TRUE(rc->store("what are your opening hours", shared, reply("We open at nine.")));

  EXPECT_EQ(rc->lookup("what is my account balance", alice).kind, match_kind::exact);
  EXPECT_EQ(rc->lookup("what is my account balance", bob).kind, match_kind::miss);
  EXPECT_EQ(rc->lookup("what's my account balance", bob).kind, match_kind::miss);
  EXPECT_EQ(rc->lookup("what is my account balance", shared).kind, match_kind::miss);
  // The shared scope is visible to every user of the same persona and language.
  EXPECT_EQ(rc->lookup("what are your opening hours", bob).kind, match_kind::exact);
  EXPECT_EQ(rc->lookup("what are your opening hours", alice).kind, match_kind::exact);
  EXPECT_EQ(rc->lookup("what are your opening hours", cache_scope{"pirate", "en", ""}).kind, match_kind::miss);
  EXPECT_EQ(rc->lookup("what are your opening hours", cache_scope{"default", "de", ""}).kind, match_kind::miss);
  // A scope part with the separator in it cannot reach into another scope.
  EXPECT_NE(rc->entry_key("x", cache_scope{"a:b", "c", ""}), rc->entry_key("x", cache_scope{"a", "b:c", ""}));
}

TEST_F(response_cache_basics, ttl_per_class_on_the_manual_clock) {
  auto rc = make();
  ASSERT_TRUE(rc);
  ASSERT_TRUE(rc->store("what is the weather like today", {}, reply("Sunny.", "")));  // time_sensitive
  ASSERT_TRUE(rc->store("who wrote hamlet", {}, reply("Shakespeare.", "")));          // static
  ASSERT_TRUE(rc->store("what time is it", {}, reply("It is 5 pm.", "")));            // volatile: not stored
  EXPECT_EQ(rc->stats().n_not_stored, 1u);
  EXPECT_EQ(rc->lookup("what time is it", {}).kind, match_kind::miss);
  clk.advance(9min);
  EXPECT_EQ(rc->lookup("what is the weather like today", {}).kind, match_kind::exact);
  clk.advance(2min);
  EXPECT_EQ(rc->lookup("what is the weather like today", {}).kind, match_kind::miss);
  EXPECT_EQ(rc->lookup("what's the weather today", {}).kind, match_kind::miss);  // nor semantically
  EXPECT_EQ(rc->lookup("who wrote hamlet", {}).kind, match_kind::exact);
  clk.advance(24h);
  EXPECT_EQ(rc->lookup("who wrote hamlet", {}).kind, match_kind::miss);
}

TEST_F(response_cache_basics, local_tier_stays_within_its_byte_bound) {
  memory_store_config scfg;
  scfg.max_bytes = 200'000;  // room for about five replies of 1 s of audio
  local = std::make_shared<memory_store>(scfg, clk);
  auto rc = make();
  ASSERT_TRUE(rc);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(rc->store("question number " + std::to_string(i), {}, reply("answer", "static", 16000)));
  EXPECT_LE(local->size_bytes(), scfg.max_bytes);
  EXPECT_GT(local->n_evictions(), 0u);
  EXPECT_EQ(rc->lookup("question number 19", {}).kind, match_kind::exact);
  EXPECT_EQ(rc->lookup("question number 0", {}).kind, match_kind::miss);
}

TEST_F(response_cache_basics, corrupt_blob_is_a_miss_and_is_erased) {
  auto rc = make();
  ASSERT_TRUE(rc);
  const std::string key = rc->entry_key("who wrote hamlet", {});
  ASSERT_TRUE(local->put(key, "PRCE garbage", 0s));
  auto r = rc->lookup("who wrote hamlet", {});
  EXPECT_EQ(r.kind, match_kind::miss);
  EXPECT_EQ(rc->stats().n_corrupt_entries, 1u);
  EXPECT_FALSE(*local->get(key));
}

TEST(response_cache_create, needs_a_local_store) {
  const auto made = response_cache::create({}, std::make_shared<ngram::ngram_embedder>(), nullptr, nullptr);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, errc::invalid_argument);
}

TEST(entry_format, round_trip_and_every_corruption_is_refused) {
  stored_entry e;
  e.query = "Who wrote Hamlet?";
  e.normalized_key = "who wrote hamlet";
  e.reply = reply("Shakespeare.", "static", 321);
  e.stored_unix_ms = 1'700'000'000'123;
  e.ttl_s = 86400;
  e.embedding = {0.5f, -0.25f, 0.125f};
  const std::string blob = encode_entry(e);
  auto back = decode_entry(blob);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->query, e.query);
  EXPECT_EQ(back->normalized_key, e.normalized_key);
  EXPECT_EQ(back->reply.text, e.reply.text);
  EXPECT_EQ(back->reply.reply_class, "static");
  ASSERT_TRUE(back->reply.audio);
  EXPECT_EQ(back->reply.audio->pcm, e.reply.audio->pcm);
  EXPECT_EQ(back->reply.audio->sample_rate_hz, 16000);
  EXPECT_EQ(back->stored_unix_ms, e.stored_unix_ms);
  EXPECT_EQ(back->ttl_s, 86400u);
  EXPECT_EQ(back->embedding, e.embedding);

  for (std::size_t n = 0; n < blob.size(); ++n) {
    auto r = decode_entry(std::string_view(blob).substr(0, n));
    ASSERT_FALSE(r) << "truncated to " << n;
    EXPECT_EQ(r.error().code, errc::unsupported_format);
  }
  for (std::size_t i = 0; i < blob.size(); i += 7) {
    std::string bad = blob;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    EXPECT_FALSE(decode_entry(bad)) << "byte " << i << " flipped";
  }
  EXPECT_FALSE(decode_entry(blob + "x"));
  stored_entry no_audio = e;
  no_audio.reply.audio = nullptr;
  auto b2 = decode_entry(encode_entry(no_audio));
  ASSERT_TRUE(b2);
  EXPECT_FALSE(b2->reply.audio);
}

TEST_F(response_cache_basics, shared_tier_errors_are_misses_counted_and_trip_the_breaker) {
  auto down = std::make_shared<failing_store>();
  response_cache_config cfg;
  cfg.breaker_failures = 3;
  cfg.breaker_cooldown = 5000ms;
  auto rc = make(down, cfg);
  ASSERT_TRUE(rc);
  // store() succeeds on the local tier; the shared error is counted.
  ASSERT_TRUE(rc->store("who wrote hamlet", {}, reply("Shakespeare.")));
  EXPECT_EQ(rc->lookup("who wrote hamlet", {}).kind, match_kind::exact);  // local tier answers
  auto miss = rc->lookup("how far is the moon", {});
  EXPECT_EQ(miss.kind, match_kind::miss);
  EXPECT_GE(rc->stats().n_shared_errors, 3u);
  const int calls = down->n_calls;
  EXPECT_EQ(rc->lookup("how tall is everest", {}).kind, match_kind::miss);
  EXPECT_EQ(down->n_calls, calls);  // skipped while the breaker is open
  EXPECT_GT(rc->stats().n_shared_skipped, 0u);
  clk.advance(6s);
  EXPECT_EQ(rc->lookup("how tall is everest", {}).kind, match_kind::miss);
  EXPECT_GT(down->n_calls, calls);  // tried again after the cooldown
}

TEST_F(response_cache_basics, an_outage_of_the_shared_tier_is_logged_once_and_its_end_too) {
  // Found: Redis down and back again left no line in the log, however long it lasted.
  std::vector<std::pair<log_level, std::string>> lines;
  const auto saved_level = current_log_level();
  set_log_level(log_level::info);  // `parley serve`'s default
  set_log_sink([&](log_level level, std::string_view message) {
    if (message.find("shared tier") != std::string_view::npos) lines.emplace_back(level, std::string(message));
  });
  auto flaky = std::make_shared<flaky_store>(clk);
  auto rc = make(flaky);
  ASSERT_TRUE(rc);
  flaky->down = true;
  for (int i = 0; i < 10; ++i) {  // 10 lookups over 50 s: the breaker opens and half-opens again and again
    (void)rc->lookup("how tall is everest " + std::to_string(i), {});
    clk.advance(5s);
  }
  ASSERT_EQ(lines.size(), 1u) << "one warning for the whole outage";
  EXPECT_EQ(lines[0].first, log_level::warn);
  EXPECT_NE(lines[0].second.find("failed 3 calls in a row"), std::string::npos) << lines[0].second;
  flaky->down = false;
  (void)rc->lookup("how tall is everest", {});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].first, log_level::info);
  EXPECT_NE(lines[1].second.find("answers again after"), std::string::npos) << lines[1].second;
  set_log_sink(nullptr);
  set_log_level(saved_level);
}

struct two_instances : ::testing::Test {
  manual_clock clk;
  std::shared_ptr<engine::embedder> embedder = std::make_shared<ngram::ngram_embedder>();
  std::shared_ptr<memory_store> shared = std::make_shared<memory_store>(memory_store_config{.name = "shared"}, clk);
  std::shared_ptr<memory_store> local_a = std::make_shared<memory_store>(memory_store_config{}, clk);
  std::shared_ptr<memory_store> local_b = std::make_shared<memory_store>(memory_store_config{}, clk);
  std::unique_ptr<response_cache> a = make_cache({}, embedder, local_a, shared, clk);
  std::unique_ptr<response_cache> b = make_cache({}, embedder, local_b, shared, clk);
  void SetUp() override { ASSERT_TRUE(a && b); }
};

TEST_F(two_instances, an_answer_cached_by_one_is_found_by_the_other) {
  ASSERT_TRUE(a->store("what are your opening hours", {}, reply("We open at nine.", "static", 800)));
  // Exact, through the shared tier, then from b's own memory.
  auto e = b->lookup("What are your opening hours?", {});
  EXPECT_EQ(e.kind, match_kind::exact);
  EXPECT_EQ(e.tier, "shared");
  EXPECT_EQ(b->lookup("what are your opening hours", {}).tier, "memory");
  // Semantic: b learns a's entries from the shared feed.
  ASSERT_TRUE(a->store("how do i reset my password", {}, reply("Use the forgot password link.", "static", 800)));
  auto s = b->lookup("i forgot my password", {});
  EXPECT_EQ(s.kind, match_kind::semantic) << "similarity " << s.similarity;
  EXPECT_EQ(s.tier, "shared");
  ASSERT_TRUE(s.reply && s.reply->audio);
  EXPECT_EQ(s.reply->audio->pcm.size(), 800u);
  EXPECT_GE(b->stats().n_feed_records, 2u);
}

TEST_F(two_instances, invalidation_reaches_the_other_instance) {
  ASSERT_TRUE(a->store("how do i reset my password", {}, reply("Old answer.")));
  ASSERT_EQ(b->lookup("i forgot my password", {}).kind, match_kind::semantic);  // now in b's memory too
  ASSERT_TRUE(a->invalidate("how do i reset my password", {}));
  EXPECT_EQ(b->lookup("i forgot my password", {}).kind, match_kind::miss);
  EXPECT_EQ(b->lookup("how do i reset my password", {}).kind, match_kind::miss);

  ASSERT_TRUE(a->store("who wrote hamlet", {}, reply("Shakespeare.")));
  ASSERT_EQ(b->lookup("who wrote hamlet", {}).kind, match_kind::exact);
  ASSERT_TRUE(a->invalidate_scope({}));
  ASSERT_TRUE(a->store("who painted the mona lisa", {}, reply("Leonardo.")));  // the feed restarts
  EXPECT_EQ(b->lookup("who wrote hamlet", {}).kind, match_kind::miss);
  EXPECT_EQ(b->lookup("who painted the mona lisa", {}).kind, match_kind::exact);
}

TEST_F(two_instances, a_shared_store_that_comes_back_empty_leaves_each_instances_memory_alone) {
  // Found: after Redis was restarted empty, an instance dropped its own cached answers 4-7 s
  // later, taking the restarted feed for a scope invalidation.
  ASSERT_TRUE(a->store("how do i reset my password", {}, reply("Use the forgot password link.")));
  ASSERT_EQ(b->lookup("how do i reset my password", {}).kind, match_kind::exact);  // now in b's memory
  ASSERT_TRUE(shared->erase_prefix(""));                                           // the store restarts empty
  ASSERT_TRUE(a->store("who wrote hamlet", {}, reply("Shakespeare.")));            // the feed starts again

  const auto exact = b->lookup("how do i reset my password", {});
  EXPECT_EQ(exact.kind, match_kind::exact);
  EXPECT_EQ(exact.tier, "memory");
  EXPECT_EQ(b->lookup("i forgot my password", {}).kind, match_kind::semantic) << "b's semantic index is kept too";
  EXPECT_EQ(b->lookup("who wrote hamlet", {}).kind, match_kind::exact) << "and b follows the new feed";
  EXPECT_EQ(b->stats().n_shared_data_lost, 1u);
  EXPECT_EQ(b->stats().n_feed_rebuilds, 0u);

  // An invalidation after the loss still reaches b.
  ASSERT_TRUE(a->invalidate_scope({}));
  ASSERT_TRUE(a->store("who painted the mona lisa", {}, reply("Leonardo.")));
  EXPECT_EQ(b->lookup("how do i reset my password", {}).kind, match_kind::miss);
  EXPECT_EQ(b->lookup("who wrote hamlet", {}).kind, match_kind::miss);
  EXPECT_EQ(b->stats().n_feed_rebuilds, 1u);
  EXPECT_EQ(b->stats().n_shared_data_lost, 1u);
}

TEST(two_instances_with_a_short_feed, a_trimmed_feed_is_rebuilt_from_what_it_keeps_and_stays_bounded) {
  manual_clock clk;
  auto embedder = std::make_shared<ngram::ngram_embedder>();
  auto shared = std::make_shared<memory_store>(memory_store_config{.name = "shared"}, clk);
  response_cache_config cfg;
  cfg.max_feed_records = 2;
  auto a = make_cache(cfg, embedder, std::make_shared<memory_store>(memory_store_config{}, clk), shared, clk);
  auto b = make_cache(cfg, embedder, std::make_shared<memory_store>(memory_store_config{}, clk), shared, clk);
  ASSERT_TRUE(a && b);

  ASSERT_TRUE(a->store("how do i reset my password", {}, reply("Use the forgot password link.")));
  ASSERT_EQ(b->lookup("i forgot my password", {}).kind, match_kind::semantic);  // b has read the feed
  // a publishes three more (and invalidates the first) while b is not looking: the feed keeps two.
  ASSERT_TRUE(a->store("who wrote hamlet", {}, reply("Shakespeare.")));
  ASSERT_TRUE(a->invalidate("how do i reset my password", {}));
  ASSERT_TRUE(a->store("who painted the mona lisa", {}, reply("Leonardo.")));
  ASSERT_TRUE(a->store("how far away is the moon", {}, reply("About 384,000 km.")));
  std::string feed_key = a->entry_key("", {});  // the scope's prefix + "e:"
  feed_key.replace(feed_key.size() - 2, 2, "feed");
  auto feed = shared->range(feed_key, 0);
  ASSERT_TRUE(feed);
  EXPECT_EQ(feed->items.size(), 2u);
  EXPECT_EQ(feed->first, 3u) << "five records published, the oldest three dropped";

  // b missed the removal record, so it must not trust its local copy: it rebuilds the scope.
  EXPECT_EQ(b->lookup("i forgot my password", {}).kind, match_kind::miss);
  EXPECT_EQ(b->stats().n_feed_rebuilds, 1u);
  EXPECT_EQ(b->lookup("how far away is the moon from earth", {}).kind, match_kind::semantic)
      << "records still in the feed are learnt";
  EXPECT_EQ(b->lookup("who wrote hamlet", {}).kind, match_kind::exact) << "entries stay reachable by their key";
  // In step again: later records arrive without another rebuild.
  ASSERT_TRUE(a->store("what is the capital of france", {}, reply("Paris.")));
  EXPECT_EQ(b->lookup("what's the capital city of france", {}).kind, match_kind::semantic);
  EXPECT_EQ(b->stats().n_feed_rebuilds, 1u);
}

TEST(classify, table) {
  EXPECT_EQ(response_cache::classify("what time is it", "It is 5 pm."), "volatile");
  EXPECT_EQ(response_cache::classify("what's the date today", ""), "volatile");
  EXPECT_EQ(response_cache::classify("what is the weather like", "Sunny."), "time_sensitive");
  EXPECT_EQ(response_cache::classify("are you open now", "Yes."), "time_sensitive");
  EXPECT_EQ(response_cache::classify("how much does shipping cost", "Five dollars."), "time_sensitive");
  EXPECT_EQ(response_cache::classify("is the store busy", "It is quiet today."), "time_sensitive");
  EXPECT_EQ(response_cache::classify("what time do you open", "At nine."), "static");
  EXPECT_EQ(response_cache::classify("who wrote hamlet", "Shakespeare."), "static");
}

}  // namespace
}  // namespace parley::cache
