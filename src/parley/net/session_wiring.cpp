// net/session_wiring — implementation. See session_wiring.hpp.
#include "parley/net/session_wiring.hpp"

namespace parley::net {

agent::session_options base_session_options(server_state& server) {
  agent::session_options options = server.config().session;
  if (auto router = server.router()) options.router = std::move(router);
  if (!options.filler_bank) options.filler_bank = server.fillers();
  if (!options.input_lane) options.input_lane = server.input_lane();
  options.barge_in = server.config().barge_in;
  return options;
}

bool input_rate_limit::exceeded(server_state& server, time_point now, media_time n_received_samples) {
  const double max_speed = server.config().max_input_speed;
  const double allowed_s = (to_ms(now - t_start_) / 1000.0 + 2.0) * max_speed;
  const double received_s = static_cast<double>(n_received_samples) / k_input_rate_hz;
  if (max_speed <= 0 || received_s <= allowed_s) return false;
  server.metrics().n_rate_limited_chunks.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool input_rate_limit::report_due(time_point now) {
  if (to_ms(now - t_last_report_) < 1000.0) return false;
  t_last_report_ = now;
  return true;
}

}  // namespace parley::net
