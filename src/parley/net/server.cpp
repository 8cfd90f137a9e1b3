// net/server — the server's shared state (start, readiness, the connection registry, the reaper,
// stop) and the public API. See server.hpp for the contract; listener.cpp accepts connections.
#include "parley/net/server.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <sys/resource.h>
#include <vector>

#include "parley/core/log.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/listener.hpp"
#include "parley/net/server_state.hpp"
#include "parley/net/tls.hpp"

namespace parley::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// The connection cap when none is configured: the file-descriptor limit, first raised to its hard
// limit (as Go and nginx do: the soft default of 1024 is a relic), less a reserve for what else
// needs descriptors (model and audio files, the LLM and Redis connections, the log).
std::size_t default_max_connections() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const auto fds = static_cast<std::size_t>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
  const std::size_t reserve = std::min<std::size_t>(256, fds / 4);
  return std::max<std::size_t>(fds - reserve, 1);
}

}  // namespace

server_state::server_state(asio::any_io_executor executor, server_config config)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      acceptor_(asio::make_strand(executor_)),
      input_lane_(std::make_shared<agent::bulk_lane>(executor_)),
      jwt_({.secret = config_.jwt_secret,
            .audience = config_.jwt_audience,
            .leeway_s = static_cast<std::int64_t>(config_.jwt_leeway_s)}),
      overload_({.refuse_above_ms = config_.max_asr_backlog_ms, .admit_below_ms = config_.max_asr_backlog_ms / 2}),
      audio_pool_(std::clamp<std::size_t>(config_.max_audio_requests, 1, 8)) {
  reaper_ = std::thread([this] { reap(); });
}

bool server_state::admits_sessions() {
  const auto asr = engines().asr;
  const auto backlog = asr ? asr->backlog_ms() : std::nullopt;
  if (backlog) last_backlog_ms_.store(*backlog);
  return overload_.admit(backlog);
}

server_state::~server_state() {
  if (reaper_.joinable() && reaper_.get_id() != std::this_thread::get_id()) {
    stop_reaper();
  } else if (reaper_.joinable()) {
    reaper_.detach();  // cannot happen: the reaper holds no reference to the state
  }
}

result<std::uint16_t> server_state::listen() {
  if (config_.max_message_bytes == 0) {  // Beast would read 0 as "no limit"
    return make_error(errc::invalid_argument, "max_message_bytes must be at least 1");
  }
  if (config_.max_connections == 0) config_.max_connections = default_max_connections();
  if (!config_.tls_cert_file.empty() || !config_.tls_key_file.empty()) {
    auto ctx = make_tls_context(config_.tls_cert_file, config_.tls_key_file);
    if (!ctx) return ctx.error();
    tls_ = std::move(*ctx);
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config_.host, ec);
  if (ec) return make_error(errc::invalid_argument, "bad listen address '" + config_.host + "'");
  const tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(errc::unavailable,
                      "cannot listen on " + config_.host + ":" + std::to_string(config_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(acceptor_.get_executor(), accept_loop(shared_from_this()), log_coroutine_end);
  return port_;
}

// ---- engines, readiness ----------------------------------------------------------------------
void server_state::set_engines(engine::engine_set engines, std::shared_ptr<agent::reply_router> router,
                               std::shared_ptr<const agent::filler_bank> fillers) {
  {
    std::lock_guard lock(engines_mutex_);
    engines_ = std::move(engines);
    if (router) router_ = std::move(router);
    if (fillers) fillers_ = std::move(fillers);
  }
  ready_.store(!stopping_.load());
}

engine::engine_set server_state::engines() const {
  std::lock_guard lock(engines_mutex_);
  return engines_;
}

std::shared_ptr<agent::reply_router> server_state::router() const {
  std::lock_guard lock(engines_mutex_);
  return router_;
}

std::shared_ptr<const agent::filler_bank> server_state::fillers() const {
  std::lock_guard lock(engines_mutex_);
  return fillers_;
}

void server_state::set_suggestions(std::vector<std::string> suggestions) {
  std::lock_guard lock(engines_mutex_);
  suggestions_ = std::move(suggestions);
}

std::vector<std::string> server_state::suggestions() const {
  std::lock_guard lock(engines_mutex_);
  return suggestions_;
}

// ---- registry of live connections ------------------------------------------------------------
std::uint64_t server_state::enroll(std::function<void()> drain) {
  std::lock_guard lock(registry_mutex_);
  const auto id = ++next_id_;
  registry_.emplace(id, std::move(drain));
  if (stopping_.load()) asio::post(executor_, registry_.at(id));  // raced with stop(): drain at once
  return id;
}

void server_state::withdraw(std::uint64_t id) {
  std::lock_guard lock(registry_mutex_);
  registry_.erase(id);
  registry_cv_.notify_all();
}

void server_state::stop() {
  if (stopping_.exchange(true)) {
    wait_for_connections();
    return;
  }
  ready_.store(false);
  stop_source_.request_stop();
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
  });
  std::vector<std::function<void()>> drains;
  {
    std::lock_guard lock(registry_mutex_);
    for (auto& [id, drain] : registry_) drains.push_back(drain);
  }
  for (auto& drain : drains) drain();
  wait_for_connections();
}

void server_state::wait_for_connections() {
  std::unique_lock lock(registry_mutex_);
  registry_cv_.wait_for(lock, seconds_f(config_.drain_timeout_s + 5.0), [this] { return registry_.empty(); });
}

// ---- the reaper: sessions are closed off the io threads ----------------------------------------
void server_state::retire(std::unique_ptr<agent::session> s) {
  if (!s) return;
  std::lock_guard lock(reaper_mutex_);
  if (reaper_stopped_) {  // after ~server began: nothing waits on this thread any more
    s.reset();
    return;
  }
  to_close_.push_back(std::move(s));
  reaper_cv_.notify_one();
}

void server_state::stop_reaper() {
  {
    std::lock_guard lock(reaper_mutex_);
    if (reaper_stopped_) return;
    reaper_stopped_ = true;
    reaper_cv_.notify_one();
  }
  if (reaper_.joinable()) reaper_.join();
}

void server_state::reap() {
  std::unique_lock lock(reaper_mutex_);
  for (;;) {
    reaper_cv_.wait(lock, [this] { return reaper_stopped_ || !to_close_.empty(); });
    while (!to_close_.empty()) {
      auto s = std::move(to_close_.front());
      to_close_.pop_front();
      lock.unlock();
      s->close();
      s.reset();
      lock.lock();
    }
    if (reaper_stopped_) return;
  }
}

// ---- metrics ---------------------------------------------------------------------------------
std::string server_state::metrics_text() const {
  const auto routes = router();
  const auto asr = engines().asr;
  return metrics_.scrape({.ready = ready_.load(),
                          .n_input_lane_yields = input_lane_->n_yields(),
                          .n_input_lane_queued = input_lane_->n_queued(),
                          .asr_backlog_ms = asr ? asr->backlog_ms() : std::nullopt,
                          .cache = routes ? routes->cache_stats() : std::nullopt});
}

server_stats server_state::stats() const {
  const auto& m = metrics_;
  return {m.n_http_requests.load(),     m.n_sessions_total.load(), m.n_active_sessions.load(),
          m.n_rejected_upgrades.load(), m.n_protocol_errors.load(), m.n_slow_client_drops.load(),
          m.n_stale_frames_dropped.load(), m.n_barge_ins.load(),   m.n_turns.load(),
          m.n_tls_handshake_failures.load()};
}

// ================================================================================================
server::server(std::shared_ptr<server_state> state) : state_(std::move(state)) {}

server::~server() {
  if (!state_) return;
  stop();
  state_->stop_reaper();  // every session retired so far is closed now
}

result<std::unique_ptr<server>> server::start(asio::any_io_executor executor, server_config config) {
  auto state = std::make_shared<server_state>(std::move(executor), std::move(config));
  auto port = state->listen();
  if (!port) {
    state->stop();
    return port.error();
  }
  PARLEY_LOG(info, "net: listening on " << state->config().host << ":" << *port << (state->tls() ? " (TLS)" : ""));
  return std::unique_ptr<server>(new server(std::move(state)));
}

std::uint16_t server::port() const { return state_->port(); }
void server::set_engines(engine::engine_set engines, std::shared_ptr<agent::reply_router> router,
                         std::shared_ptr<const agent::filler_bank> fillers) {
  state_->set_engines(std::move(engines), std::move(router), std::move(fillers));
}
bool server::ready() const { return state_->ready(); }
void server::set_suggestions(std::vector<std::string> suggestions) { state_->set_suggestions(std::move(suggestions)); }
void server::stop() { state_->stop(); }
server_stats server::stats() const { return state_->stats(); }
std::string server::metrics_text() const { return state_->metrics_text(); }

}  // namespace parley::net
