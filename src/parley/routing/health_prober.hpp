// routing/health_prober — probes unhealthy LLM providers in the background.
//
// Role: a provider whose breaker is open is skipped by the fallback chain and the router. Once its
// cooldown has passed (provider_health: state `probing`), somebody must try it to learn whether it
// is back. The prober does that with a request of its own — a one-token completion of a fixed
// prompt — so no user's turn is spent finding out. Every `interval` it asks each provider's
// health should_probe(); when granted, it sends the probe and records the outcome: the first token
// closes the breaker (record_ttft_ms), an error or no first token within `timeout` re-opens it
// (record_error). Healthy providers are never probed: real traffic measures them.
// Threading: runs on the given executor (timers, callbacks); construct and destroy from any
// thread. stop() (or the destructor) cancels the timers and any probe in flight and returns at
// once; probe callbacks arriving later are ignored. Its timers are work on the executor: stop the
// prober before waiting for that executor's threads to run out of work.
// Units: milliseconds.
//
// Errors: create() fails (invalid_argument) without an executor.
//
//   auto prober = routing::health_prober::create({.executor = ex, .interval_ms = 1000},
//                                                {{"cloud", cloud_model, cloud_health}});
//   if (prober) (*prober)->start();
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/routing/fallback_chain.hpp"

namespace parley::routing {

struct prober_config {
  boost::asio::any_io_executor executor;
  double interval_ms = 1000.0;  // how often the providers' health is checked
  double timeout_ms = 5000.0;   // a probe without a first token by then failed (errc::timeout)
  std::string prompt = "Reply with one word: ready?";
};

struct prober_stats {
  std::uint64_t n_probes = 0;     // probe requests sent
  std::uint64_t n_recovered = 0;  // probes answered (the provider is healthy again)
  std::uint64_t n_failed = 0;     // probes that failed or timed out
};

class health_prober {
 public:
  /// Providers without a health object (or a model) are ignored. invalid_argument without an executor.
  static result<std::unique_ptr<health_prober>> create(prober_config config, std::vector<chain_provider> providers);
  ~health_prober();
  health_prober(const health_prober&) = delete;
  health_prober& operator=(const health_prober&) = delete;

  void start();
  void stop();
  prober_stats stats() const;

  struct state;  // shared with timers and probe callbacks

 private:
  explicit health_prober(std::shared_ptr<state> s);
  std::shared_ptr<state> state_;
};

}  // namespace parley::routing
