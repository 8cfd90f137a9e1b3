// The response cache's shared tier on a real redis-server (label: redis): what two instances
// see when Redis is restarted empty under them.
#include <gtest/gtest.h>

#include <memory>

#include "parley/cache/memory_store.hpp"
#include "parley/cache/redis/redis_store.hpp"
#include "parley/cache/response_cache.hpp"
#include "parley/engines/ngram/ngram_embedder.hpp"
#include "redis_server_fixture.hpp"

namespace {

using namespace parley;
using namespace parley::cache;
using parley::test::redis_server;

class response_cache_over_redis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_server::available()) GTEST_SKIP() << redis_server::skip_reason();
    ASSERT_TRUE(server_.start()) << server_.last_error();
    redis_config cfg;
    cfg.port = server_.port();
    cfg.connect_timeout_ms = 2000;  // generous: sanitizer builds on a busy machine
    cfg.command_timeout_ms = 2000;
    cfg.clk = &clk_;
    auto made = redis_store::create(cfg);
    ASSERT_TRUE(made) << made.error().describe();
    shared_ = std::move(*made);
    a_ = make();
    b_ = make();
  }

  std::unique_ptr<response_cache> make() {
    auto made = response_cache::create({}, embedder_, std::make_shared<memory_store>(memory_store_config{}, clk_),
                                       shared_, clk_);
    EXPECT_TRUE(made) << (made ? "" : made.error().describe());
    return made ? std::move(*made) : nullptr;
  }

  static cached_reply reply(std::string text) { return {.text = std::move(text), .reply_class = "static"}; }

  redis_server server_;
  manual_clock clk_;
  std::shared_ptr<engine::embedder> embedder_ = std::make_shared<ngram::ngram_embedder>();
  std::shared_ptr<redis_store> shared_;
  std::unique_ptr<response_cache> a_, b_;
};

TEST_F(response_cache_over_redis, an_instance_keeps_its_own_answers_when_redis_restarts_empty) {
  ASSERT_TRUE(a_->store("how do i reset my password", {}, reply("Use the forgot password link.")));
  ASSERT_EQ(b_->lookup("how do i reset my password", {}).tier, shared_->name());
  ASSERT_EQ(b_->lookup("how do i reset my password", {}).tier, "memory");

  server_.stop();
  ASSERT_TRUE(server_.start()) << server_.last_error();  // same port, no data
  bool up = false;
  for (int i = 0; i < 5 && !up; ++i) up = static_cast<bool>(shared_->ping());  // stale connections fail once
  ASSERT_TRUE(up);
  ASSERT_TRUE(a_->store("who wrote hamlet", {}, reply("Shakespeare.")));

  const auto kept = b_->lookup("how do i reset my password", {});
  EXPECT_EQ(kept.kind, match_kind::exact);
  EXPECT_EQ(kept.tier, "memory");
  EXPECT_EQ(b_->lookup("i forgot my password", {}).kind, match_kind::semantic);
  EXPECT_EQ(b_->lookup("who wrote hamlet", {}).kind, match_kind::exact);
  EXPECT_EQ(b_->stats().n_shared_data_lost, 1u);
  EXPECT_EQ(b_->stats().n_feed_rebuilds, 0u);

  // A real invalidation is still one.
  ASSERT_TRUE(a_->invalidate_scope({}));
  ASSERT_TRUE(a_->store("who painted the mona lisa", {}, reply("Leonardo.")));
  EXPECT_EQ(b_->lookup("how do i reset my password", {}).kind, match_kind::miss);
  EXPECT_EQ(b_->stats().n_feed_rebuilds, 1u);
}

}  // namespace
