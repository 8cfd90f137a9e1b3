#include "parley/routing/health_prober.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <stop_token>

namespace parley::routing {

namespace asio = boost::asio;

namespace {
std::chrono::steady_clock::duration to_duration(double ms) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double, std::milli>(ms));
}
}  // namespace

struct health_prober::state : std::enable_shared_from_this<health_prober::state> {
  prober_config config;
  std::vector<chain_provider> providers;
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer tick;
  std::stop_source stopping;  // cancels probes in flight
  std::vector<std::weak_ptr<asio::steady_timer>> probe_timers;  // on the strand: cancelled by stop()
  std::atomic<std::uint64_t> n_probes{0}, n_recovered{0}, n_failed{0};

  state(prober_config c, std::vector<chain_provider> p)
      : config(std::move(c)), providers(std::move(p)), strand(asio::make_strand(config.executor)), tick(strand) {}

  void schedule() {
    tick.expires_after(to_duration(config.interval_ms));
    tick.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopping.stop_requested()) return;
      self->check();
      self->schedule();
    });
  }

  void check() {
    for (const auto& p : providers) {
      if (p.health && p.health->should_probe()) probe(p);
    }
  }

  // One probe: a one-token request; its outcome goes to the provider's health exactly once.
  void probe(const chain_provider& p) {
    struct attempt {
      std::stop_source stop;
      std::atomic<bool> settled{false};
      std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
      std::optional<std::stop_callback<std::function<void()>>> on_shutdown;
    };
    auto a = std::make_shared<attempt>();
    a->on_shutdown.emplace(stopping.get_token(), std::function<void()>([a_weak = std::weak_ptr<attempt>(a)] {
                             if (auto live = a_weak.lock()) live->stop.request_stop();
                           }));
    auto health = p.health;
    auto self = shared_from_this();
    auto settle = [a, health, self](bool ok, errc code, double ttft_ms) {
      if (a->settled.exchange(true)) return;
      if (self->stopping.stop_requested()) return;  // shutting down: not the provider's fault
      if (ok) {
        health->record_ttft_ms(ttft_ms);
        self->n_recovered.fetch_add(1, std::memory_order_relaxed);
      } else {
        health->record_error(code == errc::cancelled ? errc::timeout : code);
        self->n_failed.fetch_add(1, std::memory_order_relaxed);
      }
      a->stop.request_stop();  // one token is all a probe needs
    };
    auto timer = std::make_shared<asio::steady_timer>(strand, to_duration(config.timeout_ms));
    std::erase_if(probe_timers, [](const auto& t) { return t.expired(); });
    probe_timers.push_back(timer);
    timer->async_wait([settle, timer](const boost::system::error_code& ec) {
      if (!ec) settle(false, errc::timeout, 0.0);
    });

    engine::chat_request request;
    request.messages = {{engine::chat_role::user, config.prompt}};
    request.max_tokens = 1;
    request.temperature = 0.0;
    n_probes.fetch_add(1, std::memory_order_relaxed);
    p.model->stream(
        std::move(request),
        {.on_token =
             [a, settle](std::string_view) {
               settle(true, errc::internal,
                      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a->t0).count());
             },
         .on_done =
             [settle, timer, strand = strand](status done) {
               // A reply with no text at all still shows the provider answers.
               if (done) {
                 settle(true, errc::internal, 0.0);
               } else {
                 settle(false, done.error().code, 0.0);
               }
               asio::post(strand, [timer] { timer->cancel(); });
             }},
        a->stop.get_token());
  }
};

result<std::unique_ptr<health_prober>> health_prober::create(prober_config config, std::vector<chain_provider> providers) {
  if (!config.executor) return make_error(errc::invalid_argument, "health_prober needs an executor");
  std::erase_if(providers, [](const chain_provider& p) { return !p.health || !p.model; });
  return std::unique_ptr<health_prober>(
      new health_prober(std::make_shared<state>(std::move(config), std::move(providers))));
}

health_prober::health_prober(std::shared_ptr<state> s) : state_(std::move(s)) {}

health_prober::~health_prober() { stop(); }

void health_prober::start() {
  asio::post(state_->strand, [s = state_] {
    if (!s->stopping.stop_requested()) s->schedule();
  });
}

void health_prober::stop() {
  state_->stopping.request_stop();
  // Nothing of the prober's stays queued on the executor after this (so a runtime can stop).
  asio::post(state_->strand, [s = state_] {
    s->tick.cancel();
    for (auto& t : s->probe_timers) {
      if (auto live = t.lock()) live->cancel();
    }
    s->probe_timers.clear();
  });
}

prober_stats health_prober::stats() const {
  return {state_->n_probes.load(), state_->n_recovered.load(), state_->n_failed.load()};
}

}  // namespace parley::routing
