// routing/health_prober: an open breaker is probed in the background once its cooldown passes;
// a healthy provider is never probed; a probe that fails or hangs re-opens the breaker.
#include "parley/routing/health_prober.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <thread>

#include "parley/core/clock.hpp"

namespace parley::routing {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A provider that answers at once, fails at once, or never answers (until cancelled).
class probe_target final : public engine::chat_model {
 public:
  enum class behaviour { answer, fail, hang };
  std::atomic<behaviour> mode{behaviour::answer};
  std::atomic<int> requests{0};
  std::atomic<int> max_tokens_seen{-1};

  std::string name() const override { return "target"; }
  engine::chat_caps caps() const override { return {}; }
  void stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) override {
    ++requests;
    max_tokens_seen = request.max_tokens.value_or(-1);
    switch (mode.load()) {
      case behaviour::answer:
        events.on_token("ready");
        events.on_done({});
        return;
      case behaviour::fail:
        events.on_done(make_error(errc::unavailable, "down"));
        return;
      case behaviour::hang: {
        // Answer on_done(cancelled) when the probe gives up, from the thread that stops it, and
        // let go of the callback then, as a real model does (it holds the prober's state).
        auto on_done = std::make_shared<std::function<void(status)>>(std::move(events.on_done));
        hung_.emplace_back(std::move(stop), std::function<void()>([on_done] {
                             auto done = std::move(*on_done);
                             *on_done = nullptr;
                             if (done) done(make_error(errc::cancelled, "cancelled"));
                           }));
        return;
      }
    }
  }

 private:
  std::list<std::stop_callback<std::function<void()>>> hung_;
};

bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {  // at most ~5 s
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// The prober of `config` over `providers` (null, with a test failure, when create() refuses).
std::unique_ptr<health_prober> make_prober(prober_config config, std::vector<chain_provider> providers) {
  auto made = health_prober::create(std::move(config), std::move(providers));
  EXPECT_TRUE(made) << (made ? "" : made.error().describe());
  return made ? std::move(*made) : nullptr;
}

class HealthProber : public ::testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  void trip(provider_health& health) {
    for (int i = 0; i < 4; ++i) health.record_error(errc::unavailable);
    ASSERT_EQ(health.state(), health_state::open);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread thread_;
  manual_clock clk_;
  health_config health_config_{.cooldown = 10s, .probe_timeout = 10s};
};

TEST_F(HealthProber, RecoversAProviderOnceItsCooldownHasPassed) {
  auto target = std::make_shared<probe_target>();
  auto health = std::make_shared<provider_health>(clk_, health_config_);
  trip(*health);
  auto prober = make_prober({.executor = io_.get_executor(), .interval_ms = 5}, {{"cloud", target, health}});
  ASSERT_TRUE(prober);
  prober->start();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(target->requests.load(), 0) << "still cooling down: no probe yet";
  EXPECT_FALSE(health->healthy());

  clk_.advance(11s);
  ASSERT_TRUE(eventually([&] { return health->healthy(); }));
  EXPECT_EQ(target->requests.load(), 1);
  EXPECT_EQ(target->max_tokens_seen.load(), 1) << "a probe asks for one token";
  EXPECT_EQ(prober->stats().n_recovered, 1U);
}

TEST_F(HealthProber, NeverProbesAHealthyProvider) {
  auto target = std::make_shared<probe_target>();
  auto health = std::make_shared<provider_health>(clk_, health_config_);
  auto prober = make_prober({.executor = io_.get_executor(), .interval_ms = 5}, {{"cloud", target, health}});
  ASSERT_TRUE(prober);
  prober->start();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(target->requests.load(), 0);
  EXPECT_EQ(prober->stats().n_probes, 0U);
}

TEST_F(HealthProber, AFailedProbeReopensTheBreaker) {
  auto target = std::make_shared<probe_target>();
  target->mode = probe_target::behaviour::fail;
  auto health = std::make_shared<provider_health>(clk_, health_config_);
  trip(*health);
  auto prober = make_prober({.executor = io_.get_executor(), .interval_ms = 5}, {{"cloud", target, health}});
  ASSERT_TRUE(prober);
  prober->start();
  clk_.advance(11s);
  ASSERT_TRUE(eventually([&] { return prober->stats().n_failed == 1; }));
  EXPECT_EQ(health->state(), health_state::open);
  // Open again: no further probe until another cooldown has passed.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(target->requests.load(), 1);

  target->mode = probe_target::behaviour::answer;
  clk_.advance(11s);
  ASSERT_TRUE(eventually([&] { return health->healthy(); }));
  EXPECT_EQ(target->requests.load(), 2);
}

TEST_F(HealthProber, AProbeWithoutAnswerTimesOut) {
  auto target = std::make_shared<probe_target>();
  target->mode = probe_target::behaviour::hang;
  auto health = std::make_shared<provider_health>(clk_, health_config_);
  trip(*health);
  auto prober = make_prober({.executor = io_.get_executor(), .interval_ms = 5, .timeout_ms = 30},
                            {{"cloud", target, health}});
  ASSERT_TRUE(prober);
  prober->start();
  clk_.advance(11s);
  ASSERT_TRUE(eventually([&] { return prober->stats().n_failed == 1; }));
  EXPECT_EQ(health->state(), health_state::open);
  EXPECT_EQ(prober->stats().n_recovered, 0U);
}

TEST_F(HealthProber, StopCancelsAProbeInFlightWithoutBlamingTheProvider) {
  auto target = std::make_shared<probe_target>();
  target->mode = probe_target::behaviour::hang;
  auto health = std::make_shared<provider_health>(clk_, health_config_);
  trip(*health);
  {
    auto prober = make_prober({.executor = io_.get_executor(), .interval_ms = 5, .timeout_ms = 60'000},
                              {{"cloud", target, health}});
    ASSERT_TRUE(prober);
    prober->start();
    clk_.advance(11s);
    ASSERT_TRUE(eventually([&] { return target->requests.load() == 1; }));
    prober->stop();
    EXPECT_EQ(prober->stats().n_failed, 0U);
  }
  EXPECT_EQ(health->state(), health_state::probing) << "the probe was ours to cancel; nothing recorded";
}

TEST_F(HealthProber, RefusesToStartWithoutAnExecutor) {
  auto target = std::make_shared<probe_target>();
  auto health = std::make_shared<provider_health>(clk_, health_config_);
  const auto made = health_prober::create({}, {{"cloud", target, health}});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, errc::invalid_argument);
}

}  // namespace
}  // namespace parley::routing
