// net/server_state — the shared state of one server (internal to net/; server.hpp is the API).
//
// Role: the config; the engines and readiness; the acceptor; the registry of live connections,
// each with a drain callback that stop() calls; the reaper thread that closes sessions off the io
// threads (agent::session::close() waits for the session's strand); the metrics; the TLS context
// and the JWT checker. The listener (listener.hpp), the routes (http_routes.hpp), every
// WebSocket transport and session bridge hold a shared_ptr to it.
// Threading: every public member is safe from any thread. stop() and stop_reaper() wait, so they
// must not run on an io thread.
// Ownership: made by server::start(), shared; the reaper holds no reference to it, so the last
// reference may go on any thread (the destructor joins the reaper unless it runs on it).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>
#include <thread>
#include <unordered_map>

#include "parley/agent/session.hpp"
#include "parley/core/error.hpp"
#include "parley/engine/engine_set.hpp"
#include "parley/net/jwt_auth.hpp"
#include "parley/net/overload_gate.hpp"
#include "parley/net/server.hpp"
#include "parley/net/server_metrics.hpp"

namespace boost::asio::ssl {
class context;
}

namespace parley::net {

class server_state : public std::enable_shared_from_this<server_state> {
 public:
  server_state(boost::asio::any_io_executor executor, server_config config);
  ~server_state();
  server_state(const server_state&) = delete;
  server_state& operator=(const server_state&) = delete;

  /// Loads the TLS context (when configured), binds, listens and starts the accept loop.
  result<std::uint16_t> listen();

  // ---- engines, readiness ----
  void set_engines(engine::engine_set engines, std::shared_ptr<agent::reply_router> router,
                   std::shared_ptr<const agent::filler_bank> fillers);
  engine::engine_set engines() const;
  std::shared_ptr<agent::reply_router> router() const;
  std::shared_ptr<const agent::filler_bank> fillers() const;
  void set_suggestions(std::vector<std::string> suggestions);
  std::vector<std::string> suggestions() const;
  bool ready() const { return ready_.load(); }
  bool stopping() const { return stopping_.load(); }
  /// Whether the engines can take another session now (overload_gate.hpp); false: 503.
  bool admits_sessions();
  /// The recognizer's backlog as last seen by admits_sessions(), for the message and /metrics.
  double last_asr_backlog_ms() const { return last_backlog_ms_.load(); }

  // ---- registry of live connections (for stop()) ----
  /// Registers a connection; `drain` is called once by stop() (or at once when stop() already ran).
  std::uint64_t enroll(std::function<void()> drain);
  void withdraw(std::uint64_t id);
  /// Stops accepting, drains every connection, waits until all are gone (drain_timeout_s + 5 s at most).
  void stop();
  /// Joins the thread that closes sessions. Called by ~server (not on an io thread).
  void stop_reaper();

  /// Closes a session off the io threads (close() waits for the session strand).
  void retire(std::unique_ptr<agent::session> s);

  // ---- metrics ----
  server_metrics& metrics() { return metrics_; }
  std::string metrics_text() const;
  server_stats stats() const;

  const server_config& config() const { return config_; }
  boost::asio::any_io_executor executor() const { return executor_; }
  /// Every session's input frames go through this one lane (agent/bulk_lane.hpp).
  const std::shared_ptr<agent::bulk_lane>& input_lane() const { return input_lane_; }
  std::uint16_t port() const { return port_; }
  boost::asio::ip::tcp::acceptor& acceptor() { return acceptor_; }
  /// The TLS context when TLS is configured (set by listen(), immutable afterwards), else null.
  const std::shared_ptr<boost::asio::ssl::context>& tls() const { return tls_; }
  const jwt_checker& jwt() const { return jwt_; }

  // ---- the OpenAI audio endpoints (audio_api.hpp) ----
  /// Where blocking audio requests (transcriptions: front-end and recognizer) run, off the io
  /// threads: max_audio_requests threads (at most 8).
  boost::asio::thread_pool& audio_pool() { return audio_pool_; }
  /// Requested by stop(): a transcription still running gives up (503).
  std::stop_token stop_token() const { return stop_source_.get_token(); }

 private:
  void wait_for_connections();
  void reap();

  boost::asio::any_io_executor executor_;
  server_config config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<agent::bulk_lane> input_lane_;
  std::uint16_t port_ = 0;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  jwt_checker jwt_;
  std::stop_source stop_source_;
  server_metrics metrics_;

  mutable std::mutex engines_mutex_;
  engine::engine_set engines_;
  std::shared_ptr<agent::reply_router> router_;
  std::shared_ptr<const agent::filler_bank> fillers_;
  std::vector<std::string> suggestions_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};
  overload_gate overload_;
  std::atomic<double> last_backlog_ms_{0.0};

  std::mutex registry_mutex_;
  std::condition_variable registry_cv_;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::function<void()>> registry_;

  std::mutex reaper_mutex_;
  std::condition_variable reaper_cv_;
  std::deque<std::unique_ptr<agent::session>> to_close_;
  bool reaper_stopped_ = false;
  std::thread reaper_;
  // Last: destroyed (joined) first, while everything its jobs may touch still lives.
  boost::asio::thread_pool audio_pool_;
};

}  // namespace parley::net
