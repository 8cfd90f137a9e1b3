#include "parley/routing/fallback_chain.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <stop_token>

#include "parley/routing/post_owned.hpp"

namespace parley::routing {

std::string_view to_string(hedge_mode mode) {
  switch (mode) {
    case hedge_mode::off: return "off";
    case hedge_mode::fixed: return "fixed";
    case hedge_mode::p95: return "p95";
  }
  return "unknown";
}

std::optional<double> hedge_delay_ms(const hedge_policy& policy, const provider_health* health) {
  switch (policy.mode) {
    case hedge_mode::off: return std::nullopt;
    case hedge_mode::fixed: return std::max(0.0, policy.delay_ms);
    case hedge_mode::p95: {
      if (health != nullptr) {
        const health_snapshot snap = health->snapshot();
        const std::size_t n_ok = snap.n_requests - snap.n_errors;
        if (snap.p95_ttft_ms && n_ok >= policy.min_samples) {
          return std::max(policy.min_delay_ms, *snap.p95_ttft_ms * policy.p95_factor);
        }
      }
      return std::max(0.0, policy.delay_ms);
    }
  }
  return std::nullopt;
}

struct fallback_chain::shared_state {
  fallback_chain_config config;
  std::vector<chain_provider> providers;
  std::atomic<std::uint64_t> n_requests{0};
  std::atomic<std::uint64_t> n_attempts{0};
  std::atomic<std::uint64_t> n_fallbacks{0};
  std::atomic<std::uint64_t> n_skipped{0};
  std::atomic<std::uint64_t> n_hedges_sent{0};
  std::atomic<std::uint64_t> n_hedges_won{0};
  std::atomic<std::uint64_t> n_hedges_denied{0};
  std::atomic<std::uint64_t> n_failed{0};
  std::atomic<std::uint64_t> n_cancelled{0};
  // The hedge budget's bucket (hedge_policy::budget), in hedges; unused when the budget is 0.
  std::mutex budget_mutex;
  double budget_tokens = 0.0;

  bool has_budget() const { return config.hedge.budget > 0.0; }
  // Adds `hedges` to the bucket, up to its burst: a request's earning, or a hedge given back.
  void deposit(double hedges) {
    if (!has_budget()) return;
    std::lock_guard lock(budget_mutex);
    budget_tokens = std::min(config.hedge.budget_burst, budget_tokens + hedges);
  }
  bool take_hedge() {
    if (!has_budget()) return true;
    std::lock_guard lock(budget_mutex);
    if (budget_tokens < 1.0) return false;
    budget_tokens -= 1.0;
    return true;
  }
};

namespace {

bool is_retryable(errc code) {
  return code == errc::unavailable || code == errc::timeout || code == errc::engine_failure;
}

void bump(std::atomic<std::uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

// One request through the chain. Every member is touched only on strand_ (after start()).
class chain_request final : public std::enable_shared_from_this<chain_request> {
 public:
  chain_request(std::shared_ptr<fallback_chain::shared_state> shared, engine::chat_request request,
                engine::chat_events events, std::stop_token outer)
      : shared_(std::move(shared)),
        strand_(boost::asio::make_strand(shared_->config.executor)),
        hedge_timer_(strand_),
        request_(std::move(request)),
        events_(std::move(events)),
        outer_(std::move(outer)),
        t_request_(now()) {
    attempts_.reserve(shared_->providers.size() + shared_->config.hedge.max_hedges);
    failed_.assign(shared_->providers.size(), false);
  }

  void start() {
    keep_alive_ = shared_from_this();
    boost::asio::post(strand_, [self = shared_from_this()] { self->on_start(); });
  }

 private:
  struct attempt {
    std::size_t provider = 0;
    std::stop_source stop;
    time_point t_start;
    bool is_hedge = false;
    bool finished = false;   // on_done came, or the attempt was abandoned
    bool abandoned = false;  // given up on (first-token timeout): its callbacks are ignored
    std::unique_ptr<boost::asio::steady_timer> timeout_timer;  // first-token timeout, when configured
  };

  time_point now() const { return shared_->config.clk->now(); }
  provider_health* health_of(std::size_t provider) const { return shared_->providers[provider].health.get(); }

  void on_start() {
    std::weak_ptr<chain_request> weak = weak_from_this();
    auto strand = strand_;
    outer_callback_.emplace(outer_, [weak, strand] {
      boost::asio::post(strand, [weak] {
        if (auto self = weak.lock()) self->on_outer_stop();
      });
    });
    if (outer_.stop_requested()) return on_outer_stop();
    if (!launch_next(false)) finish(no_provider_error());
  }

  error no_provider_error() const {
    if (last_error_) return make_error(last_error_->code, "every provider failed; last: " + last_error_->message);
    return make_error(errc::unavailable, "no healthy provider in the chain");
  }

  // Sends the request to the next usable provider; false when there is none left.
  bool launch_next(bool is_hedge) {
    auto& providers = shared_->providers;
    while (next_provider_ < providers.size()) {
      const std::size_t index = next_provider_++;
      provider_health* health = health_of(index);
      if (health != nullptr && !health->healthy() && !health->should_probe()) {
        ++n_skipped_;
        bump(shared_->n_skipped);
        continue;
      }
      launch(index, is_hedge);
      return true;
    }
    return false;
  }

  void launch(std::size_t provider, bool is_hedge) {
    const std::size_t id = attempts_.size();
    attempts_.push_back(attempt{provider, std::stop_source{}, now(), is_hedge, false, false, nullptr});
    bump(shared_->n_attempts);
    // The provider's callbacks hold the request weakly; it owns itself until it finishes (see
    // routing/post_owned.hpp for why). Callbacks after that are a loser's or an abandoned
    // attempt's, which the request would ignore anyway.
    std::weak_ptr<chain_request> weak = weak_from_this();
    auto self = shared_from_this();
    engine::chat_events inner{
        .on_token =
            [weak, id](std::string_view token) {
              if (auto r = weak.lock()) {
                detail::post_owned(std::move(r), r->strand_, [id, text = std::string(token)](auto& req) mutable {
                  req->on_attempt_token(id, std::move(text));
                });
              }
            },
        .on_done =
            [weak, id](status s) {
              if (auto r = weak.lock()) {
                detail::post_owned(std::move(r), r->strand_,
                                   [id, s = std::move(s)](auto& req) mutable { req->on_attempt_done(id, std::move(s)); });
              }
            },
        .on_progress =
            [weak, id](const engine::chat_progress& p) {
              if (auto r = weak.lock()) {
                detail::post_owned(std::move(r), r->strand_, [id, p](auto& req) { req->on_attempt_progress(id, p); });
              }
            },
    };
    auto stop = attempts_[id].stop.get_token();
    // A primary attempt (the only one in flight) arms the hedge timer.
    if (!is_hedge && live_attempts() == 1) arm_hedge_timer(provider);
    if (shared_->config.first_token_timeout_ms > 0.0) {
      auto& timer = attempts_[id].timeout_timer;
      timer = std::make_unique<boost::asio::steady_timer>(strand_);
      timer->expires_after(from_ms(shared_->config.first_token_timeout_ms));
      timer->async_wait([self, id](const boost::system::error_code& ec) {
        if (!ec) self->on_first_token_timeout(id);
      });
    }
    shared_->providers[provider].model->stream(request_, std::move(inner), std::move(stop));
  }

  void on_first_token_timeout(std::size_t id) {
    attempt& a = attempts_[id];
    if (done_ || winner_ || a.finished) return;
    a.finished = true;
    a.abandoned = true;
    a.stop.request_stop();
    on_attempt_failed(id, make_error(errc::timeout, "no first token from '" + shared_->providers[a.provider].name +
                                                        "' within the first-token timeout"));
  }

  void cancel_timeouts() {
    for (auto& a : attempts_) {
      if (a.timeout_timer) a.timeout_timer->cancel();
    }
  }

  std::size_t live_attempts() const {
    return static_cast<std::size_t>(
        std::count_if(attempts_.begin(), attempts_.end(), [](const attempt& a) { return !a.finished; }));
  }

  // Arms (or re-arms) the hedge timer with the delay of `primary`'s policy; a timer armed earlier
  // that already fired is made stale by the epoch.
  void arm_hedge_timer(std::size_t primary) {
    const hedge_policy& policy = shared_->config.hedge;
    if (n_hedges_ >= policy.max_hedges) return;
    const auto delay = hedge_delay_ms(policy, health_of(primary));
    if (!delay) return;
    const std::uint64_t epoch = ++hedge_epoch_;
    hedge_timer_.expires_after(from_ms(*delay));
    hedge_timer_.async_wait([self = shared_from_this(), epoch, primary](const boost::system::error_code& ec) {
      if (!ec) self->on_hedge_timer(epoch, primary);
    });
  }

  void on_hedge_timer(std::uint64_t epoch, std::size_t primary) {
    if (done_ || winner_ || epoch != hedge_epoch_ || n_hedges_ >= shared_->config.hedge.max_hedges) return;
    if (!shared_->take_hedge()) {
      bump(shared_->n_hedges_denied);
      progress({.what = engine::chat_progress::kind::hedge_denied});
      return;
    }
    if (!launch_next(true) && !resend_hedge()) {
      shared_->deposit(1.0);  // not sent after all: give the hedge back
      return;
    }
    ++n_hedges_;
    bump(shared_->n_hedges_sent);
    report_launched(engine::chat_progress::kind::hedge);
    arm_hedge_timer(primary);  // the next hedge, if the policy allows one
  }

  // A hedge beyond the chain's unused providers: the same request again to the first usable
  // provider that has not failed this request (a fresh request, e.g. to another replica).
  bool resend_hedge() {
    for (std::size_t i = 0; i < shared_->providers.size(); ++i) {
      if (failed_[i]) continue;
      provider_health* health = health_of(i);
      if (health != nullptr && !health->healthy()) continue;
      launch(i, true);
      return true;
    }
    return false;
  }

  void cancel_others(std::optional<std::size_t> keep) {
    for (std::size_t i = 0; i < attempts_.size(); ++i) {
      if (keep && *keep == i) continue;
      if (!attempts_[i].finished) attempts_[i].stop.request_stop();
    }
  }

  void on_attempt_token(std::size_t id, std::string text) {
    if (done_) return;
    if (winner_ && *winner_ != id) return;  // a cancelled loser: never reaches the caller
    if (attempts_[id].abandoned) return;     // timed out: given up on
    if (!winner_) {
      winner_ = id;
      const attempt& a = attempts_[id];
      if (auto* health = health_of(a.provider)) health->record_ttft_ms(to_ms(now() - a.t_start));
      ttft_ms_ = to_ms(now() - t_request_);
      hedge_timer_.cancel();
      cancel_timeouts();
      cancel_others(id);
    }
    if (events_.on_token) events_.on_token(text);
  }

  // An attempt's own progress: its tool calls reach the caller unless it lost or was given up on
  // (the chain reports hedges, fallbacks and the kept provider itself).
  void on_attempt_progress(std::size_t id, const engine::chat_progress& p) {
    if (done_ || attempts_[id].abandoned || (winner_ && *winner_ != id)) return;
    if (p.what != engine::chat_progress::kind::tool_started && p.what != engine::chat_progress::kind::tool_finished) {
      return;
    }
    progress(p);
  }

  void progress(const engine::chat_progress& p) {
    if (events_.on_progress) events_.on_progress(p);
  }

  void report_launched(engine::chat_progress::kind what) {
    progress({.what = what, .name = shared_->providers[attempts_.back().provider].name});
  }

  void on_attempt_done(std::size_t id, status s) {
    attempt& a = attempts_[id];
    if (a.abandoned) return;  // already counted as a timeout
    a.finished = true;
    if (a.timeout_timer) a.timeout_timer->cancel();
    if (done_) return;
    if (winner_) {
      if (*winner_ == id) finish(std::move(s));  // success, or an error after text: never retried
      return;                                    // a loser finishing after its cancel
    }
    if (s.has_value()) {  // finished with no text at all: an empty reply is still a reply
      winner_ = id;
      cancel_others(id);
      return finish(std::move(s));
    }
    if (s.error().code == errc::cancelled) {
      // Not requested by us (the outer stop ends the request on its own path): pass it on.
      return finish(std::move(s));
    }
    on_attempt_failed(id, s.error());
  }

  // Attempt `id` failed before any text (already marked finished).
  void on_attempt_failed(std::size_t id, const error& e) {
    const attempt& a = attempts_[id];
    failed_[a.provider] = true;
    if (auto* health = health_of(a.provider)) health->record_error(e.code);
    if (!is_retryable(e.code)) {
      cancel_others(std::nullopt);
      return finish(e);
    }
    last_error_ = e;
    if (live_attempts() > 0) return;  // the other half of a hedge may still answer
    hedge_timer_.cancel();
    if (launch_next(false)) {
      ++n_fallbacks_;
      bump(shared_->n_fallbacks);
      report_launched(engine::chat_progress::kind::fallback);
      return;
    }
    finish(no_provider_error());
  }

  void on_outer_stop() {
    if (done_) return;
    cancel_others(std::nullopt);
    finish(make_error(errc::cancelled, "request cancelled"));
  }

  void finish(status s) {
    if (done_) return;
    done_ = true;
    hedge_timer_.cancel();
    cancel_timeouts();
    cancel_others(std::nullopt);
    outer_callback_.reset();

    chain_outcome outcome;
    if (winner_) {
      const attempt& w = attempts_[*winner_];
      outcome.provider = shared_->providers[w.provider].name;
      outcome.hedge_won = w.is_hedge;
    }
    outcome.n_attempts = attempts_.size();
    outcome.n_fallbacks = n_fallbacks_;
    outcome.n_skipped = n_skipped_;
    outcome.hedged = n_hedges_ > 0;
    outcome.n_hedges = n_hedges_;
    outcome.ttft_ms = ttft_ms_;
    outcome.result = s;
    if (outcome.hedge_won) bump(shared_->n_hedges_won);
    if (!s.has_value()) bump(s.error().code == errc::cancelled ? shared_->n_cancelled : shared_->n_failed);

    if (shared_->config.on_outcome) shared_->config.on_outcome(outcome);
    progress({.what = engine::chat_progress::kind::served, .name = outcome.provider, .hedge_won = outcome.hedge_won});
    auto events = std::move(events_);
    events_ = {};
    if (events.on_done) events.on_done(std::move(s));
    keep_alive_.reset();  // on the strand, inside a handler that still holds the request
  }

  std::shared_ptr<fallback_chain::shared_state> shared_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer hedge_timer_;
  engine::chat_request request_;
  engine::chat_events events_;
  std::stop_token outer_;
  std::optional<std::stop_callback<std::function<void()>>> outer_callback_;
  time_point t_request_;
  std::vector<attempt> attempts_;
  std::size_t next_provider_ = 0;
  std::optional<std::size_t> winner_;
  std::optional<error> last_error_;
  std::optional<double> ttft_ms_;
  std::size_t n_fallbacks_ = 0;
  std::size_t n_skipped_ = 0;
  std::vector<bool> failed_;  // per provider: failed this request
  std::size_t n_hedges_ = 0;
  std::uint64_t hedge_epoch_ = 0;
  bool done_ = false;
  std::shared_ptr<chain_request> keep_alive_;  // the request owns itself until it finishes
};

}  // namespace

namespace {

status check(const fallback_chain_config& config, const std::vector<chain_provider>& providers) {
  if (providers.empty()) return make_error(errc::invalid_argument, "fallback_chain: no providers");
  for (const auto& p : providers) {
    if (!p.model) return make_error(errc::invalid_argument, "fallback_chain: provider '" + p.name + "' has no model");
  }
  if (!config.executor) return make_error(errc::invalid_argument, "fallback_chain: no executor");
  const hedge_policy& h = config.hedge;
  if (!std::isfinite(h.budget) || h.budget < 0.0) {
    return make_error(errc::invalid_argument,
                      "fallback_chain: the hedge budget must be a fraction of requests >= 0 (0: none)");
  }
  if (h.budget > 0.0 && !(h.budget_burst >= 1.0 && std::isfinite(h.budget_burst))) {
    return make_error(errc::invalid_argument, "fallback_chain: the hedge budget's burst must be at least one hedge");
  }
  return {};
}

std::shared_ptr<fallback_chain::shared_state> make_shared_state(fallback_chain_config config,
                                                                std::vector<chain_provider> providers) {
  auto shared = std::make_shared<fallback_chain::shared_state>();
  if (config.clk == nullptr) config.clk = &steady_clock_source::instance();
  shared->config = std::move(config);
  shared->providers = std::move(providers);
  return shared;
}

}  // namespace

result<std::shared_ptr<fallback_chain>> fallback_chain::create(fallback_chain_config config,
                                                               std::vector<chain_provider> providers) {
  if (auto s = check(config, providers); !s) return s.error();
  return std::shared_ptr<fallback_chain>(
      new fallback_chain(make_shared_state(std::move(config), std::move(providers))));
}

fallback_chain::fallback_chain(std::shared_ptr<shared_state> shared) : shared_(std::move(shared)) {}

fallback_chain::~fallback_chain() = default;

std::string fallback_chain::name() const {
  std::string out = shared_->config.name + "(";
  for (std::size_t i = 0; i < shared_->providers.size(); ++i) {
    if (i > 0) out += ",";
    out += shared_->providers[i].name;
  }
  return out + ")";
}

void fallback_chain::forget_session(session_id session) {
  for (const auto& p : shared_->providers) p.model->forget_session(session);
}

engine::chat_caps fallback_chain::caps() const {
  engine::chat_caps caps = shared_->providers.front().model->caps();
  for (const auto& p : shared_->providers) {
    const auto c = p.model->caps();
    caps.streaming = caps.streaming && c.streaming;
    caps.calls_tools = caps.calls_tools || c.calls_tools;
  }
  return caps;
}

void fallback_chain::stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) {
  bump(shared_->n_requests);
  shared_->deposit(shared_->config.hedge.budget);
  auto job = std::make_shared<chain_request>(shared_, std::move(request), std::move(events), std::move(stop));
  job->start();
}

chain_stats fallback_chain::stats() const {
  const auto load = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  return chain_stats{load(shared_->n_requests),    load(shared_->n_attempts), load(shared_->n_fallbacks),
                     load(shared_->n_skipped),     load(shared_->n_hedges_sent), load(shared_->n_hedges_won),
                     load(shared_->n_hedges_denied), load(shared_->n_failed),   load(shared_->n_cancelled)};
}

}  // namespace parley::routing
