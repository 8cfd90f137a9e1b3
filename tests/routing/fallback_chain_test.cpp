#include "parley/routing/fallback_chain.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <mutex>
#include <thread>

#include "parley/engines/mock/mock_engines.hpp"

#include "io_threads.hpp"

namespace parley::routing {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

constexpr auto k_wait = 10s;  // an upper bound for "it happened", never a timing assertion

using testing::io_threads;

// What a scripted provider does with each request.
struct script {
  double delay_ms = 0.0;                // before the first token (or the failure)
  std::vector<std::string> tokens;      // sent in one burst after the delay
  std::optional<errc> fail_before;      // fail after the delay, with no text
  std::optional<errc> fail_after;       // fail after the tokens
  bool never_answer = false;            // only a stop request ends it
  std::string tool;                     // reports a call of this tool (started, finished) before the delay
};

struct fake_counters {
  std::atomic<int> n_requests{0};
  std::atomic<int> n_cancelled{0};  // requests that ended with errc::cancelled
  std::atomic<int> n_finished{0};   // on_done calls made
  std::atomic<int> n_tokens{0};
};

class scripted_job : public std::enable_shared_from_this<scripted_job> {
 public:
  scripted_job(asio::any_io_executor ex, script s, engine::chat_events events, std::stop_token stop,
               std::shared_ptr<fake_counters> counters)
      : strand_(asio::make_strand(ex)),
        timer_(strand_),
        script_(std::move(s)),
        events_(std::move(events)),
        stop_(std::move(stop)),
        counters_(std::move(counters)) {}

  void start() {
    asio::post(strand_, [self = shared_from_this()] {
      if (!self->script_.tool.empty() && self->events_.on_progress) {
        self->events_.on_progress({.what = engine::chat_progress::kind::tool_started, .name = self->script_.tool});
        self->events_.on_progress({.what = engine::chat_progress::kind::tool_finished, .name = self->script_.tool});
      }
      std::weak_ptr<scripted_job> weak = self;
      auto strand = self->strand_;
      self->stop_callback_.emplace(self->stop_, [weak, strand] {
        asio::post(strand, [weak] {
          if (auto job = weak.lock()) job->timer_.cancel();
        });
      });
      const auto delay = self->script_.never_answer ? std::chrono::duration<double, std::milli>(3'600'000.0)
                                                    : std::chrono::duration<double, std::milli>(self->script_.delay_ms);
      self->timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
      self->timer_.async_wait([self](const boost::system::error_code& ec) { self->run(ec); });
    });
  }

 private:
  void run(const boost::system::error_code& ec) {
    if (ec || stop_.stop_requested()) return finish(make_error(errc::cancelled, "cancelled"));
    if (script_.fail_before) return finish(make_error(*script_.fail_before, "scripted failure before text"));
    for (const auto& t : script_.tokens) {
      if (stop_.stop_requested()) return finish(make_error(errc::cancelled, "cancelled"));
      counters_->n_tokens.fetch_add(1);
      if (events_.on_token) events_.on_token(t);
    }
    if (script_.fail_after) return finish(make_error(*script_.fail_after, "scripted failure after text"));
    finish({});
  }

  void finish(status s) {
    stop_callback_.reset();
    if (!s.has_value() && s.error().code == errc::cancelled) counters_->n_cancelled.fetch_add(1);
    auto events = std::move(events_);
    events_ = {};
    if (events.on_done) events.on_done(std::move(s));
    counters_->n_finished.fetch_add(1);
  }

  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;
  script script_;
  engine::chat_events events_;
  std::stop_token stop_;
  std::optional<std::stop_callback<std::function<void()>>> stop_callback_;
  std::shared_ptr<fake_counters> counters_;
};

class scripted_model final : public engine::chat_model {
 public:
  scripted_model(asio::any_io_executor ex, script s) : ex_(std::move(ex)), script_(std::move(s)) {}
  std::string name() const override { return "scripted"; }
  engine::chat_caps caps() const override { return {true, "scripted"}; }
  void stream(engine::chat_request, engine::chat_events events, std::stop_token stop) override {
    counters->n_requests.fetch_add(1);
    std::make_shared<scripted_job>(ex_, script_, std::move(events), std::move(stop), counters)->start();
  }
  std::shared_ptr<fake_counters> counters = std::make_shared<fake_counters>();

 private:
  asio::any_io_executor ex_;
  script script_;
};

// Collects one request's callbacks and checks the chat_model contract as they come.
class collector {
 public:
  engine::chat_events events() {
    return {.on_token = [this](std::string_view t) { enter(); {
                          std::lock_guard lock(mutex_);
                          if (n_done_ > 0) after_done_ = true;
                          text_ += t;
                        } leave(); },
            .on_done = [this](status s) { enter(); {
                          std::lock_guard lock(mutex_);
                          ++n_done_;
                          if (!done_) done_ = std::move(s);
                        } leave(); done_promise_.set_value(); },
            .on_progress = [this](const engine::chat_progress& p) { enter(); {
                          std::lock_guard lock(mutex_);
                          if (n_done_ > 0) after_done_ = true;
                          progress_.push_back(std::string(engine::to_string(p.what)) + ":" + p.name +
                                              (p.hedge_won ? ":hedge_won" : ""));
                        } leave(); }};
  }
  /// "kind:name[:hedge_won]" per progress report, in order.
  std::vector<std::string> progress() { std::lock_guard lock(mutex_); return progress_; }
  bool wait() { return done_future_.wait_for(k_wait) == std::future_status::ready; }
  std::string text() { std::lock_guard lock(mutex_); return text_; }
  status result() { std::lock_guard lock(mutex_); return *done_; }
  int n_done() { std::lock_guard lock(mutex_); return n_done_; }
  bool contract_held() { std::lock_guard lock(mutex_); return !overlap_ && !after_done_ && n_done_ == 1; }

 private:
  void enter() { if (in_callback_.exchange(true)) { std::lock_guard lock(mutex_); overlap_ = true; } }
  void leave() { in_callback_.store(false); }

  std::mutex mutex_;
  std::string text_;
  std::vector<std::string> progress_;
  int n_done_ = 0;
  std::optional<status> done_;
  bool overlap_ = false;
  bool after_done_ = false;
  std::atomic<bool> in_callback_{false};
  std::promise<void> done_promise_;
  std::future<void> done_future_ = done_promise_.get_future();
};

// Waits (bounded) until pred() holds.
template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + k_wait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

engine::chat_request hello() {
  engine::chat_request r;
  r.messages.push_back({engine::chat_role::user, "hello", false});
  return r;
}

struct fixture {
  io_threads io;
  std::mutex outcomes_mutex;
  std::vector<chain_outcome> outcomes;

  std::shared_ptr<scripted_model> model(script s) { return std::make_shared<scripted_model>(io.executor(), std::move(s)); }

  fallback_chain_config config(hedge_policy hedge = {}) {
    return {.executor = io.executor(),
            .hedge = hedge,
            .on_outcome = [this](const chain_outcome& o) {
              std::lock_guard lock(outcomes_mutex);
              outcomes.push_back(o);
            },
            .clk = nullptr,
            .name = "chain"};
  }
  chain_outcome outcome() {
    std::lock_guard lock(outcomes_mutex);
    EXPECT_EQ(outcomes.size(), 1u);
    return outcomes.empty() ? chain_outcome{} : outcomes.back();
  }
};

hedge_policy fixed_hedge(double ms) { return {.mode = hedge_mode::fixed, .delay_ms = ms}; }

// The chain of `config` over `providers` (null, with a test failure, when create() refuses).
std::shared_ptr<fallback_chain> make_chain(fallback_chain_config config, std::vector<chain_provider> providers) {
  auto made = fallback_chain::create(std::move(config), std::move(providers));
  EXPECT_TRUE(made) << (made ? "" : made.error().describe());
  return made ? std::move(*made) : nullptr;
}

TEST(fallback_chain, streams_from_the_first_healthy_provider) {
  fixture f;
  auto a = f.model({.tokens = {"Hi", " there"}});
  auto b = f.model({.tokens = {"B"}});
  auto chain = make_chain(f.config(), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_TRUE(c.result().has_value());
  EXPECT_EQ(c.text(), "Hi there");
  EXPECT_EQ(b->counters->n_requests.load(), 0);
  const auto o = f.outcome();
  EXPECT_EQ(o.provider, "a");
  EXPECT_EQ(o.n_attempts, 1u);
  EXPECT_EQ(o.n_fallbacks, 0u);
  EXPECT_FALSE(o.hedged);
  EXPECT_TRUE(o.ttft_ms.has_value());
  EXPECT_TRUE(c.contract_held());
}

class fallback_on_error : public ::testing::TestWithParam<errc> {};

TEST_P(fallback_on_error, moves_to_the_next_provider_before_the_first_token) {
  fixture f;
  manual_clock clk;
  auto health_a = std::make_shared<provider_health>(clk);
  auto a = f.model({.fail_before = GetParam()});
  auto b = f.model({.tokens = {"from b"}});
  auto chain = make_chain(f.config(), {{"a", a, health_a}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_TRUE(c.result().has_value());
  EXPECT_EQ(c.text(), "from b");
  const auto o = f.outcome();
  EXPECT_EQ(o.provider, "b");
  EXPECT_EQ(o.n_attempts, 2u);
  EXPECT_EQ(o.n_fallbacks, 1u);
  EXPECT_EQ(health_a->snapshot().n_errors, 1u);  // health is fed
  EXPECT_EQ(chain->stats().n_fallbacks, 1u);
  EXPECT_TRUE(c.contract_held());
}

INSTANTIATE_TEST_SUITE_P(retryable, fallback_on_error,
                         ::testing::Values(errc::unavailable, errc::timeout, errc::engine_failure));

TEST(fallback_chain, follows_the_chain_order_and_reports_the_last_error_when_all_fail) {
  fixture f;
  auto a = f.model({.fail_before = errc::unavailable});
  auto b = f.model({.fail_before = errc::engine_failure});
  auto c_model = f.model({.fail_before = errc::timeout});
  auto chain = make_chain(f.config(), {{"a", a, nullptr}, {"b", b, nullptr}, {"c", c_model, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  ASSERT_FALSE(c.result().has_value());
  EXPECT_EQ(c.result().error().code, errc::timeout);
  EXPECT_EQ(a->counters->n_requests.load() + b->counters->n_requests.load() + c_model->counters->n_requests.load(), 3);
  const auto o = f.outcome();
  EXPECT_EQ(o.provider, "");
  EXPECT_EQ(o.n_attempts, 3u);
  EXPECT_EQ(o.n_fallbacks, 2u);
  EXPECT_EQ(chain->stats().n_failed, 1u);
  EXPECT_TRUE(c.contract_held());
}

TEST(fallback_chain, does_not_retry_a_non_retryable_error) {
  fixture f;
  auto a = f.model({.fail_before = errc::invalid_argument});
  auto b = f.model({.tokens = {"B"}});
  auto chain = make_chain(f.config(), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  ASSERT_FALSE(c.result().has_value());
  EXPECT_EQ(c.result().error().code, errc::invalid_argument);
  EXPECT_EQ(b->counters->n_requests.load(), 0);
}

TEST(fallback_chain, never_retries_after_text_has_streamed) {
  fixture f;
  auto a = f.model({.tokens = {"Half a sen"}, .fail_after = errc::engine_failure});
  auto b = f.model({.tokens = {"B"}});
  auto chain = make_chain(f.config(fixed_hedge(5000)), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  ASSERT_FALSE(c.result().has_value());
  EXPECT_EQ(c.result().error().code, errc::engine_failure);
  EXPECT_EQ(c.text(), "Half a sen");  // nothing repeated, nothing from b
  EXPECT_EQ(b->counters->n_requests.load(), 0);
  const auto o = f.outcome();
  EXPECT_EQ(o.provider, "a");
  EXPECT_EQ(o.n_fallbacks, 0u);
  EXPECT_TRUE(c.contract_held());
}

TEST(fallback_chain, skips_an_unhealthy_provider) {
  fixture f;
  manual_clock clk;
  auto health_a = std::make_shared<provider_health>(clk);
  for (int i = 0; i < 4; ++i) health_a->record_error(errc::unavailable);
  ASSERT_FALSE(health_a->healthy());
  auto a = f.model({.tokens = {"A"}});
  auto b = f.model({.tokens = {"B"}});
  auto chain = make_chain(f.config(), {{"a", a, health_a}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.text(), "B");
  EXPECT_EQ(a->counters->n_requests.load(), 0);
  const auto o = f.outcome();
  EXPECT_EQ(o.n_skipped, 1u);
  EXPECT_EQ(o.n_fallbacks, 0u);
  EXPECT_EQ(chain->stats().n_skipped, 1u);
}

TEST(fallback_chain, grants_an_unhealthy_provider_its_probe_after_the_cooldown) {
  fixture f;
  manual_clock clk;
  auto health_a = std::make_shared<provider_health>(clk);
  for (int i = 0; i < 4; ++i) health_a->record_error(errc::unavailable);
  clk.advance(std::chrono::seconds(11));  // past the default 10 s cooldown: one probe is due
  auto a = f.model({.tokens = {"A"}});
  auto b = f.model({.tokens = {"B"}});
  auto chain = make_chain(f.config(), {{"a", a, health_a}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.text(), "A");
  EXPECT_EQ(b->counters->n_requests.load(), 0);
  EXPECT_TRUE(health_a->healthy());  // the probe's success closed the breaker
}

TEST(fallback_chain, fails_fast_when_no_provider_is_usable) {
  fixture f;
  manual_clock clk;
  auto health_a = std::make_shared<provider_health>(clk);
  for (int i = 0; i < 4; ++i) health_a->record_error(errc::unavailable);
  auto a = f.model({.tokens = {"A"}});
  auto chain = make_chain(f.config(), {{"a", a, health_a}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  ASSERT_FALSE(c.result().has_value());
  EXPECT_EQ(c.result().error().code, errc::unavailable);
  EXPECT_EQ(a->counters->n_requests.load(), 0);
}

TEST(fallback_chain, hedge_fires_and_the_fast_provider_wins_while_the_slow_one_is_cancelled) {
  fixture f;
  auto a = f.model({.tokens = {"slow"}, .never_answer = true});
  auto b = f.model({.tokens = {"fast", "er"}});
  auto chain = make_chain(f.config(fixed_hedge(20)), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_TRUE(c.result().has_value());
  EXPECT_EQ(c.text(), "faster");
  EXPECT_TRUE(eventually([&] { return a->counters->n_cancelled.load() == 1; }));
  EXPECT_EQ(a->counters->n_tokens.load(), 0);
  const auto o = f.outcome();
  EXPECT_EQ(o.provider, "b");
  EXPECT_TRUE(o.hedged);
  EXPECT_TRUE(o.hedge_won);
  EXPECT_EQ(o.n_attempts, 2u);
  EXPECT_EQ(chain->stats().n_hedges_sent, 1u);
  EXPECT_EQ(chain->stats().n_hedges_won, 1u);
  EXPECT_TRUE(c.contract_held());
}

TEST(fallback_chain, primary_can_still_win_after_the_hedge_is_sent) {
  fixture f;
  auto a = f.model({.delay_ms = 60, .tokens = {"A"}});
  auto b = f.model({.never_answer = true});
  auto chain = make_chain(f.config(fixed_hedge(5)), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.text(), "A");
  EXPECT_TRUE(eventually([&] { return b->counters->n_cancelled.load() == 1; }));
  const auto o = f.outcome();
  EXPECT_EQ(o.provider, "a");
  EXPECT_TRUE(o.hedged);
  EXPECT_FALSE(o.hedge_won);
  EXPECT_EQ(chain->stats().n_hedges_won, 0u);
}

TEST(fallback_chain, a_racing_loser_never_reaches_the_caller) {
  // Both providers answer at about the same time after the hedge: whichever wins, the text is
  // all from one of them, and on_done comes once.
  for (int round = 0; round < 20; ++round) {
    fixture f;
    auto a = f.model({.delay_ms = 10, .tokens = {"a1", "a2", "a3"}});
    auto b = f.model({.delay_ms = 0, .tokens = {"b1", "b2", "b3"}});
    auto chain = make_chain(f.config(fixed_hedge(8)), {{"a", a, nullptr}, {"b", b, nullptr}});
    ASSERT_TRUE(chain);
    collector c;
    chain->stream(hello(), c.events(), {});
    ASSERT_TRUE(c.wait());
    const std::string text = c.text();
    EXPECT_TRUE(text == "a1a2a3" || text == "b1b2b3") << text;
    EXPECT_TRUE(eventually([&] {
      return a->counters->n_finished.load() == a->counters->n_requests.load() &&
             b->counters->n_finished.load() == b->counters->n_requests.load();
    }));
    EXPECT_EQ(c.text(), text);
    EXPECT_TRUE(c.contract_held());
  }
}

TEST(fallback_chain, hedge_disabled_waits_for_the_primary) {
  fixture f;
  auto a = f.model({.delay_ms = 50, .tokens = {"A"}});
  auto b = f.model({.tokens = {"B"}});
  auto chain = make_chain(f.config(hedge_policy{.mode = hedge_mode::off}), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.text(), "A");
  EXPECT_EQ(b->counters->n_requests.load(), 0);
  EXPECT_FALSE(f.outcome().hedged);
  EXPECT_EQ(chain->stats().n_hedges_sent, 0u);
}

TEST(fallback_chain, falls_back_past_a_failed_hedge_pair) {
  fixture f;
  auto a = f.model({.delay_ms = 30, .fail_before = errc::unavailable});
  auto b = f.model({.delay_ms = 10, .fail_before = errc::timeout});
  auto c_model = f.model({.tokens = {"C"}});
  auto chain = make_chain(f.config(fixed_hedge(5)), {{"a", a, nullptr}, {"b", b, nullptr}, {"c", c_model, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.text(), "C");
  const auto o = f.outcome();
  EXPECT_EQ(o.provider, "c");
  EXPECT_TRUE(o.hedged);
  EXPECT_FALSE(o.hedge_won);
  EXPECT_EQ(o.n_attempts, 3u);
  EXPECT_EQ(o.n_fallbacks, 1u);
}

TEST(fallback_chain, first_token_timeout_moves_on_from_a_silent_provider) {
  fixture f;
  manual_clock clk;
  auto health_a = std::make_shared<provider_health>(clk);
  auto a = f.model({.tokens = {"late"}, .never_answer = true});
  auto b = f.model({.tokens = {"B"}});
  auto config = f.config();
  config.first_token_timeout_ms = 20;
  auto chain = make_chain(config, {{"a", a, health_a}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_TRUE(c.result().has_value());
  EXPECT_EQ(c.text(), "B");
  EXPECT_TRUE(eventually([&] { return a->counters->n_cancelled.load() == 1; }));
  EXPECT_EQ(health_a->snapshot().n_errors, 1u);
  const auto o = f.outcome();
  EXPECT_EQ(o.provider, "b");
  EXPECT_EQ(o.n_fallbacks, 1u);
  EXPECT_TRUE(c.contract_held());
}

TEST(fallback_chain, a_chain_of_silent_providers_ends_with_timeout_not_a_hang) {
  fixture f;
  auto a = f.model({.never_answer = true});
  auto b = f.model({.never_answer = true});
  auto config = f.config(fixed_hedge(5));
  config.first_token_timeout_ms = 30;
  auto chain = make_chain(config, {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  ASSERT_FALSE(c.result().has_value());
  EXPECT_EQ(c.result().error().code, errc::timeout);
  EXPECT_TRUE(eventually([&] {
    return a->counters->n_cancelled.load() == 1 && b->counters->n_cancelled.load() == 1;
  }));
  EXPECT_TRUE(c.contract_held());
}

TEST(fallback_chain, a_second_hedge_resends_to_the_first_provider_when_the_chain_is_used_up) {
  fixture f;
  auto a = f.model({.never_answer = true});
  auto b = f.model({.never_answer = true});
  auto hedge = fixed_hedge(5);
  hedge.max_hedges = 2;
  auto chain = make_chain(f.config(hedge), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  std::stop_source stop;
  chain->stream(hello(), c.events(), stop.get_token());
  ASSERT_TRUE(eventually([&] { return a->counters->n_requests.load() == 2 && b->counters->n_requests.load() == 1; }));
  stop.request_stop();
  ASSERT_TRUE(c.wait());
  EXPECT_TRUE(eventually([&] {
    return a->counters->n_cancelled.load() == 2 && b->counters->n_cancelled.load() == 1;
  }));
  const auto o = f.outcome();
  EXPECT_EQ(o.n_hedges, 2u);
  EXPECT_EQ(o.n_attempts, 3u);
  EXPECT_EQ(chain->stats().n_hedges_sent, 2u);
  EXPECT_TRUE(c.contract_held());
}

TEST(fallback_chain, outer_cancel_stops_every_attempt) {
  fixture f;
  auto a = f.model({.never_answer = true});
  auto b = f.model({.never_answer = true});
  auto chain = make_chain(f.config(fixed_hedge(5)), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  std::stop_source stop;
  chain->stream(hello(), c.events(), stop.get_token());
  ASSERT_TRUE(eventually([&] { return b->counters->n_requests.load() == 1; }));  // the hedge is out
  stop.request_stop();
  ASSERT_TRUE(c.wait());
  ASSERT_FALSE(c.result().has_value());
  EXPECT_EQ(c.result().error().code, errc::cancelled);
  EXPECT_TRUE(eventually([&] {
    return a->counters->n_cancelled.load() == 1 && b->counters->n_cancelled.load() == 1;
  }));
  EXPECT_EQ(chain->stats().n_cancelled, 1u);
  EXPECT_TRUE(c.contract_held());
}

TEST(fallback_chain, a_stop_requested_before_stream_ends_it_cancelled) {
  fixture f;
  auto a = f.model({.tokens = {"A"}});
  auto chain = make_chain(f.config(), {{"a", a, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  std::stop_source stop;
  stop.request_stop();
  chain->stream(hello(), c.events(), stop.get_token());
  ASSERT_TRUE(c.wait());
  ASSERT_FALSE(c.result().has_value());
  EXPECT_EQ(c.result().error().code, errc::cancelled);
  EXPECT_EQ(c.text(), "");
}

TEST(fallback_chain, feeds_provider_health_with_ttft) {
  fixture f;
  manual_clock clk;
  auto health_a = std::make_shared<provider_health>(clk);
  auto a = f.model({.tokens = {"A"}});
  auto chain = make_chain(f.config(), {{"a", a, health_a}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(health_a->snapshot().n_requests, 1u);
  EXPECT_TRUE(health_a->p95_ttft_ms().has_value());
}

TEST(fallback_chain, the_chain_may_be_destroyed_while_a_request_streams) {
  fixture f;
  auto a = f.model({.delay_ms = 20, .tokens = {"A"}});
  collector c;
  {
    auto chain = make_chain(f.config(), {{"a", a, nullptr}});
    ASSERT_TRUE(chain);
    chain->stream(hello(), c.events(), {});
  }
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.text(), "A");
}

TEST(fallback_chain, hedges_between_mock_chat_models) {
  fixture f;
  mock::llm_profile slow{"slow", mock::latency_dist::fixed(60'000), 0.0, 0.0};
  mock::llm_profile quick{"quick", mock::latency_dist::fixed(0), 0.0, 0.0};
  auto a = std::make_shared<mock::mock_chat_model>(mock::chat_config{.executor = f.io.executor(), .profile = slow});
  auto b = std::make_shared<mock::mock_chat_model>(mock::chat_config{.executor = f.io.executor(), .profile = quick});
  auto chain = make_chain(f.config(fixed_hedge(10)), {{"slow", a, nullptr}, {"quick", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.text(), mock::default_mock_reply("hello"));
  EXPECT_EQ(a->n_tokens_sent(), 0u);
  EXPECT_EQ(f.outcome().provider, "quick");
}

TEST(fallback_chain, rejects_a_bad_configuration) {
  io_threads io;
  const auto refused = [](const result<std::shared_ptr<fallback_chain>>& made) {
    return !made && made.error().code == errc::invalid_argument;
  };
  EXPECT_TRUE(refused(fallback_chain::create({.executor = io.executor()}, {})));
  EXPECT_TRUE(refused(fallback_chain::create({.executor = io.executor()}, {{"a", nullptr, nullptr}})));
  auto m = std::make_shared<mock::mock_chat_model>(mock::chat_config{.executor = io.executor()});
  EXPECT_TRUE(refused(fallback_chain::create({}, {{"a", m, nullptr}})));  // no executor
  const auto with_budget = [&](double budget, double burst) {
    hedge_policy h = fixed_hedge(10);
    h.budget = budget;
    h.budget_burst = burst;
    return fallback_chain::create({.executor = io.executor(), .hedge = h}, {{"a", m, nullptr}, {"b", m, nullptr}});
  };
  EXPECT_TRUE(refused(with_budget(-0.1, 10)));
  EXPECT_TRUE(refused(with_budget(std::nan(""), 10)));
  EXPECT_TRUE(refused(with_budget(0.1, 0.5)));
  EXPECT_TRUE(with_budget(0.0, 0.0));  // no budget: the burst is not used
  EXPECT_FALSE(fallback_chain::create({.executor = io.executor()}, {})) << "no providers";
}

TEST(fallback_chain, the_hedge_budget_caps_hedges_at_its_fraction_of_requests) {
  // Every request is late on `a` (the hedge timer fires long before its answer), and `b` answers
  // at once. With a budget of 1/4 and an empty bucket, requests 4 and 8 may hedge; the others
  // wait for `a` alone.
  fixture f;
  auto a = f.model({.delay_ms = 200, .tokens = {"A"}});
  auto b = f.model({.tokens = {"B"}});
  hedge_policy h = fixed_hedge(5);
  h.budget = 0.25;
  auto chain = make_chain(f.config(h), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  std::string texts;
  for (int i = 0; i < 8; ++i) {
    collector c;
    chain->stream(hello(), c.events(), {});
    ASSERT_TRUE(c.wait());
    texts += c.text();
    // The caller hears why it was not hedged (the session notes it in the turn timeline).
    const bool denied = i != 3 && i != 7;
    ASSERT_FALSE(c.progress().empty());
    EXPECT_EQ(c.progress().front().rfind(denied ? "hedge_denied:" : "hedge:b", 0), 0u) << c.progress().front();
  }
  EXPECT_EQ(texts, "AAABAAAB");
  EXPECT_EQ(chain->stats().n_hedges_sent, 2u);
  EXPECT_EQ(chain->stats().n_hedges_denied, 6u);
  EXPECT_EQ(b->counters->n_requests.load(), 2);
}

TEST(hedge_delay, follows_the_policy) {
  manual_clock clk;
  provider_health health(clk, {.window_requests = 100});
  EXPECT_FALSE(hedge_delay_ms({.mode = hedge_mode::off}, &health).has_value());
  EXPECT_DOUBLE_EQ(*hedge_delay_ms({.mode = hedge_mode::fixed, .delay_ms = 250}, &health), 250.0);
  const hedge_policy p95{.mode = hedge_mode::p95, .delay_ms = 900, .p95_factor = 2.0, .min_samples = 10,
                         .min_delay_ms = 100};
  EXPECT_DOUBLE_EQ(*hedge_delay_ms(p95, nullptr), 900.0);
  for (int i = 0; i < 9; ++i) health.record_ttft_ms(200.0);
  EXPECT_DOUBLE_EQ(*hedge_delay_ms(p95, &health), 900.0);  // not enough samples yet
  health.record_ttft_ms(200.0);
  EXPECT_DOUBLE_EQ(*hedge_delay_ms(p95, &health), 400.0);  // p95 200 × 2
  provider_health quick(clk, {.window_requests = 100});
  for (int i = 0; i < 10; ++i) quick.record_ttft_ms(10.0);
  EXPECT_DOUBLE_EQ(*hedge_delay_ms(p95, &quick), 100.0);   // the floor
}

}  // namespace
}  // namespace parley::routing

namespace parley::routing {
namespace {

// ---- progress: what the caller of one request hears (the session's turn timeline) ---------------

TEST(fallback_chain_progress, a_hedge_is_reported_when_sent_and_the_winner_before_on_done) {
  fixture f;
  auto a = f.model({.tokens = {"slow"}, .never_answer = true});
  auto b = f.model({.tokens = {"fast"}});
  auto chain = make_chain(f.config(fixed_hedge(20)), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.progress(), (std::vector<std::string>{"hedge:b", "served:b:hedge_won"}));
  EXPECT_TRUE(c.contract_held()) << "no progress after on_done, never two callbacks at once";
}

TEST(fallback_chain_progress, a_fallback_is_reported_with_the_provider_it_moved_to) {
  fixture f;
  auto a = f.model({.fail_before = errc::unavailable});
  auto b = f.model({.tokens = {"ok"}});
  auto chain = make_chain(f.config(), {{"a", a, nullptr}, {"b", b, nullptr}});
  ASSERT_TRUE(chain);
  collector c;
  chain->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.progress(), (std::vector<std::string>{"fallback:b", "served:b"}));
  EXPECT_TRUE(c.contract_held());
}

TEST(fallback_chain_progress, tool_calls_of_the_attempt_pass_through_and_a_failure_serves_nobody) {
  fixture f;
  auto a = f.model({.tokens = {"done"}, .tool = "lookup"});
  auto ok = make_chain(f.config(), {{"a", a, nullptr}});
  ASSERT_TRUE(ok);
  collector c;
  ok->stream(hello(), c.events(), {});
  ASSERT_TRUE(c.wait());
  EXPECT_EQ(c.progress(), (std::vector<std::string>{"tool_started:lookup", "tool_finished:lookup", "served:a"}));

  auto broken = f.model({.fail_before = errc::invalid_argument});
  auto failing = make_chain(f.config(), {{"x", broken, nullptr}});
  ASSERT_TRUE(failing);
  collector d;
  failing->stream(hello(), d.events(), {});
  ASSERT_TRUE(d.wait());
  EXPECT_EQ(d.progress(), (std::vector<std::string>{"served:"}));
}

}  // namespace
}  // namespace parley::routing
