#include "parley/routing/provider_health.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace parley::routing {

std::string_view to_string(health_state s) {
  switch (s) {
    case health_state::healthy: return "healthy";
    case health_state::open: return "open";
    case health_state::probing: return "probing";
  }
  return "healthy";
}

provider_health::provider_health(const clock& clk, health_config config) : clock_(clk), config_(config) {
  if (config_.window_requests == 0) config_.window_requests = 1;
}

void provider_health::prune_locked(time_point now) const {
  while (samples_.size() > config_.window_requests) samples_.pop_front();
  while (!samples_.empty() && now - samples_.front().t > config_.window) samples_.pop_front();
}

void provider_health::update_state_locked(time_point now) const {
  if (state_ == health_state::open && now >= open_until_) state_ = health_state::probing;
}

void provider_health::evaluate_locked(time_point now) {
  prune_locked(now);
  if (state_ != health_state::healthy) return;
  const std::size_t n = samples_.size();
  if (n < config_.min_requests || n == 0) return;
  const auto n_errors = static_cast<std::size_t>(std::count_if(samples_.begin(), samples_.end(),
                                                               [](const sample& s) { return s.error; }));
  if (static_cast<double>(n_errors) / static_cast<double>(n) >= config_.unhealthy_error_rate) {
    state_ = health_state::open;
    open_until_ = now + config_.cooldown;
    probe_granted_at_.reset();
  }
}

void provider_health::record_ttft_ms(double ttft_ms) {
  if (!std::isfinite(ttft_ms) || ttft_ms < 0.0) ttft_ms = 0.0;
  const time_point now = clock_.now();
  std::lock_guard lock(mutex_);
  update_state_locked(now);
  if (state_ != health_state::healthy) {
    // A success while open or probing (the probe, or a late answer) closes the breaker; the old
    // errors are forgotten so they cannot trip it again at once.
    samples_.clear();
    state_ = health_state::healthy;
    probe_granted_at_.reset();
  }
  samples_.push_back({now, false, ttft_ms});
  evaluate_locked(now);
}

void provider_health::record_error(errc kind) {
  if (kind == errc::cancelled) return;
  const time_point now = clock_.now();
  std::lock_guard lock(mutex_);
  update_state_locked(now);
  samples_.push_back({now, true, 0.0});
  if (state_ == health_state::probing) {
    state_ = health_state::open;
    open_until_ = now + config_.cooldown;
    probe_granted_at_.reset();
    prune_locked(now);
    return;
  }
  evaluate_locked(now);
}

bool provider_health::healthy() const {
  const time_point now = clock_.now();
  std::lock_guard lock(mutex_);
  update_state_locked(now);
  return state_ == health_state::healthy;
}

health_state provider_health::state() const {
  const time_point now = clock_.now();
  std::lock_guard lock(mutex_);
  update_state_locked(now);
  return state_;
}

bool provider_health::should_probe() {
  const time_point now = clock_.now();
  std::lock_guard lock(mutex_);
  update_state_locked(now);
  if (state_ != health_state::probing) return false;
  if (probe_granted_at_ && now - *probe_granted_at_ < config_.probe_timeout) return false;
  probe_granted_at_ = now;
  return true;
}

health_snapshot provider_health::snapshot_locked(time_point now) const {
  update_state_locked(now);
  prune_locked(now);
  health_snapshot s;
  s.state = state_;
  s.n_requests = samples_.size();
  std::vector<double> ttfts;
  ttfts.reserve(samples_.size());
  for (const sample& x : samples_) {
    if (x.error) ++s.n_errors;
    else ttfts.push_back(x.ttft_ms);
  }
  s.error_rate = s.n_requests == 0 ? 0.0 : static_cast<double>(s.n_errors) / static_cast<double>(s.n_requests);
  if (!ttfts.empty()) {
    std::sort(ttfts.begin(), ttfts.end());
    // Nearest rank: the smallest value with at least 95% of the samples at or below it.
    const auto rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(ttfts.size())));
    s.p95_ttft_ms = ttfts[std::max<std::size_t>(rank, 1) - 1];
  }
  return s;
}

health_snapshot provider_health::snapshot() const {
  const time_point now = clock_.now();
  std::lock_guard lock(mutex_);
  return snapshot_locked(now);
}

std::optional<double> provider_health::p95_ttft_ms() const { return snapshot().p95_ttft_ms; }

double provider_health::error_rate() const { return snapshot().error_rate; }

}  // namespace parley::routing
