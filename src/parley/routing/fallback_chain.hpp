// routing/fallback_chain — a chat_model over an ordered chain of providers, with fallback and
// hedged requests.
//
// Role: stream() sends the request to the first healthy provider. On a retryable failure BEFORE
// the first token (errc::unavailable, errc::timeout, errc::engine_failure) it moves to the next
// healthy provider; once any text has reached the caller it never retries (that would repeat
// speech): a later error ends the stream with that error. Providers whose provider_health is not
// healthy are skipped, unless should_probe() grants them a probe, in which case this request is
// the probe. Hedging (hedge_policy): when no first token has come within the hedge delay (fixed,
// or the primary's observed p95 TTFT × factor once enough samples exist, never below a floor),
// the same request goes to the next provider too; whichever streams its first token first is
// kept and the others are cancelled — a loser's tokens never reach the caller. One hedge per
// request by default (hedge_policy::max_hedges). An optional first-token timeout turns a silent provider into an errc::timeout
// failure, so a provider that never answers cannot hang the turn. Each provider's health is fed:
// record_ttft_ms() on its first token, record_error() on a failure before it (an error after
// text is not recorded; a cancelled hedge loser records nothing, so a provider's observed p95 —
// and the hedge delay derived from it — follows the requests it won).
// Every finished request is reported as a chain_outcome to the observer in the config (for the
// whole chain: metrics) and counted in stats(). The caller of one request hears the same through
// its own chat_events::on_progress, which travels with the request (so a session can put
// "fallback"/"hedge" and the kept provider into its turn timeline, with no shared state): a
// `hedge` or `fallback` progress when such a request is sent (naming the provider it went to),
// the attempts' tool calls (never a cancelled loser's), and `served` (the kept provider,
// hedge_won) just before on_done.
// Threading: stream() may be called from any thread and returns at once. Each request runs on its
// own strand of the configured executor: every callback to the caller for one request runs on it,
// so they never overlap; on_done is called exactly once and nothing after it. The observer and
// then the `served` progress run on that strand just before on_done. stats() is thread-safe.
// Ownership: providers are shared (shared_ptr); an in-flight request keeps what it needs alive,
// so the chain may be destroyed while requests are still streaming.
// Cancellation: the outer stop_token cancels every attempt (their own stop_sources) and ends the
// request with errc::cancelled promptly, without waiting for the providers to acknowledge.
// Units: milliseconds (`_ms`), steady clock.
//
// Errors: create() fails (invalid_argument) for a configuration that cannot work (see create()).
//
//   auto chain = routing::fallback_chain::create(
//       {.executor = io.get_executor(),
//        .hedge = {.mode = routing::hedge_mode::fixed, .delay_ms = 800},
//        .on_outcome = [](const routing::chain_outcome& o) { ... }},
//       {{"cloud", cloud_model, cloud_health}, {"local", local_model, local_health}});
//   if (!chain) return chain.error();
//   (*chain)->stream(request, {.on_token = ..., .on_done = ...}, stop.get_token());
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/engine/chat_model.hpp"
#include "parley/routing/provider_health.hpp"

namespace parley::routing {

/// One link of the chain.
struct chain_provider {
  std::string name;
  std::shared_ptr<engine::chat_model> model;
  std::shared_ptr<provider_health> health;  // null: always healthy, nothing recorded
};

enum class hedge_mode {
  off,    // never hedge
  fixed,  // hedge after delay_ms
  p95,    // hedge after the primary's p95 TTFT × p95_factor (delay_ms until min_samples exist)
};
std::string_view to_string(hedge_mode mode);

struct hedge_policy {
  hedge_mode mode = hedge_mode::off;
  double delay_ms = 800.0;        // fixed mode; p95 mode while the primary has < min_samples successes
  double p95_factor = 1.5;        // p95 mode: delay = primary p95 TTFT × this
  std::size_t min_samples = 20;   // p95 mode: successful requests in the health window needed first
  double min_delay_ms = 100.0;    // p95 mode: floor on the derived delay
  /// Hedges per request, one per elapsed delay. The first goes to the next provider in the chain;
  /// once the chain has no unused provider, a hedge re-sends the request to the first provider
  /// that has not failed it (a fresh request: another replica, another latency draw).
  std::size_t max_hedges = 1;
  /// > 0: hedges may add at most this fraction of the chain's requests, across all its sessions.
  /// A token bucket: every request earns `budget` of a hedge, every hedge spends one, and at most
  /// `budget_burst` are saved up. The bucket starts empty, so at any moment hedges sent <=
  /// budget × requests. When the primary slows down for everyone, this keeps hedging from
  /// doubling the load on the next provider. 0: no budget (every late request is hedged).
  double budget = 0.0;
  double budget_burst = 100.0;
};

/// The hedge delay for a primary with `health` (null: no samples) under `policy`;
/// nullopt when the policy is off.
std::optional<double> hedge_delay_ms(const hedge_policy& policy, const provider_health* health);

/// What happened to one request.
struct chain_outcome {
  std::string provider;           // the provider whose reply the caller got ("" when none did)
  std::size_t n_attempts = 0;     // requests sent to providers, hedge and probes included
  std::size_t n_fallbacks = 0;    // moves to the next provider after a failure before the first token
  std::size_t n_skipped = 0;      // unhealthy providers passed over
  bool hedged = false;            // a hedge request was sent
  std::size_t n_hedges = 0;       // hedge requests sent
  bool hedge_won = false;         // a hedge's reply was the one kept
  std::optional<double> ttft_ms;  // stream() → first token delivered to the caller
  status result;                  // what on_done received
};

struct chain_stats {
  std::uint64_t n_requests = 0;
  std::uint64_t n_attempts = 0;
  std::uint64_t n_fallbacks = 0;
  std::uint64_t n_skipped = 0;
  std::uint64_t n_hedges_sent = 0;
  std::uint64_t n_hedges_won = 0;
  std::uint64_t n_hedges_denied = 0;  // hedges not sent: the hedge budget was spent
  std::uint64_t n_failed = 0;     // ended with an error other than cancelled
  std::uint64_t n_cancelled = 0;
};

struct fallback_chain_config {
  boost::asio::any_io_executor executor;  // for the per-request strands and hedge timers
  hedge_policy hedge;
  /// > 0: an attempt with no first token after this long is cancelled and counts as an
  /// errc::timeout failure (retryable: the chain moves on). 0: wait as long as the provider does.
  double first_token_timeout_ms = 0.0;
  /// Called once per request, on its strand, just before on_done. Must not block.
  std::function<void(const chain_outcome&)> on_outcome;
  const clock* clk = nullptr;             // TTFT stamps; null: steady_clock_source::instance()
  std::string name = "chain";
};

class fallback_chain final : public engine::chat_model {
 public:
  /// The chain, or invalid_argument when `providers` is empty, a model is null, no executor is
  /// given or the hedge budget is negative, not finite, or has a burst below one hedge.
  static result<std::shared_ptr<fallback_chain>> create(fallback_chain_config config,
                                                        std::vector<chain_provider> providers);
  ~fallback_chain() override;

  std::string name() const override;
  /// The first provider's caps (streaming only if every provider streams).
  engine::chat_caps caps() const override;
  void stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) override;
  /// Passed on to every provider.
  void forget_session(session_id session) override;

  chain_stats stats() const;

  struct shared_state;  // internal: what in-flight requests share with the chain

 private:
  explicit fallback_chain(std::shared_ptr<shared_state> shared);
  std::shared_ptr<shared_state> shared_;
};

}  // namespace parley::routing
