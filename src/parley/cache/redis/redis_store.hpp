// cache/redis/redis_store — Redis (hiredis) as the shared second tier of the response cache.
//
// Role: an entry_store over one Redis server, so several parley instances share cached replies.
// Redis is an optimisation, never a dependency of a turn: every call is bounded by short timeouts
// (connect_timeout_ms, command_timeout_ms), and a circuit breaker stops talking to a Redis that
// keeps failing — while it is open, calls answer errc::unavailable at once, with no network I/O.
// After breaker_cooldown_ms (measured on the injected clock) one probe call is let through
// (half-open): success closes the breaker, failure opens it for another cooldown.
// Keys: every key is stored as key_prefix + key (a namespace, e.g. "parley:"); erase_prefix()
// walks the namespace with SCAN … MATCH and UNLINKs in batches (never KEYS). Values and keys are
// binary-safe (commands are sent as argv with explicit lengths). TTLs use SET … EX/PX. A list
// op is one Lua script (EVAL): append() is RPUSH, and with keep_last also LTRIM and an INCRBY of
// the count of dropped elements kept beside the list under `<list>:first`, so an element's index
// survives the trim; range() reads that count and LRANGEs the rest in one script.
// Threading: thread-safe. hiredis contexts are not, so each call checks out one connection from
// a pool of at most pool_size (connected lazily on first use; a connection that saw an I/O error
// or a timeout is dropped, and so are the idle ones, since they likely point at the same dead
// server). When every connection is busy a call waits up to command_timeout_ms for one, then
// answers errc::timeout. Calls block: run them on a worker, never on a session strand.
// Errors (values; the data path never throws): errc::unavailable (refused, closed, breaker open,
// AUTH/SELECT rejected), errc::timeout (connect/command/pool wait), errc::io_error (Redis replied
// with an error, e.g. WRONGTYPE; not a breaker failure, since the server answered). Messages
// name the host and port, never keys or values.
// Signals: a write to a socket the server has closed would raise SIGPIPE; each call blocks
// SIGPIPE on its own thread while it talks to Redis and discards one it caused, so the process
// needs no global SIG_IGN.
// Ownership: the store owns its connections; destroy it only after every call has returned.
// Cancellation: none beyond the timeouts (a call is short by construction).
// Bounds: command_timeout_ms bounds each socket read/write (SO_RCVTIMEO/SO_SNDTIMEO), which for
// the small replies of a cache is one command. Worst case for one call: pool wait
// (command_timeout_ms) + connect (connect_timeout_ms, plus up to two command timeouts for AUTH
// and SELECT when configured) + the command itself; erase_prefix() runs one SCAN and one UNLINK
// per scan_batch keys, each bounded alike. Name resolution (getaddrinfo) is not bounded: give
// `host` as an IP address or a name in /etc/hosts.
// Units: timeouts and cooldown in milliseconds; entry_store TTLs in seconds, put_for() in ms.
//
//   parley::cache::redis_config cfg;
//   cfg.port = 6379;
//   cfg.key_prefix = "parley:";
//   auto store = parley::cache::redis_store::create(cfg);  // checks cfg; no network yet
//   if (!store) return store.error();
//   if (auto st = (*store)->put("k", bytes, std::chrono::hours(1)); !st) log(st.error().describe());
//   auto v = (*store)->get("k");                             // result<optional<string>>
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/cache/store.hpp"
#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"

struct redisContext;  // hiredis; kept out of this header

namespace parley::cache {

struct redis_config {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;            // Redis 6 ACL user; empty = "default" (AUTH password only)
  std::string password;            // empty = no AUTH
  int db = 0;                      // SELECT db when not 0
  std::string key_prefix = "parley:";  // namespace prepended to every key
  int connect_timeout_ms = 50;     // TCP connect (+ AUTH/SELECT replies bounded by command timeout)
  int command_timeout_ms = 20;     // one command's send + reply; also the longest wait for a pooled connection
  std::size_t pool_size = 4;       // most connections open at once
  int breaker_failures = 3;        // consecutive failures (refused, I/O error, timeout) that open the breaker
  int breaker_cooldown_ms = 1000;  // how long the breaker stays open before one probe is let through
  std::size_t scan_batch = 500;    // SCAN COUNT hint and UNLINK batch size for erase_prefix()
  const clock* clk = nullptr;      // breaker time; nullptr = the steady clock
};

enum class breaker_state { closed, open, half_open };
std::string_view to_string(breaker_state s);

/// Upper bounds (ms, inclusive) of the latency histogram buckets; the last bucket is "above".
inline constexpr std::array<double, 11> k_redis_latency_bounds_ms = {0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250};

/// A snapshot of the store's counters (each read atomically; the snapshot as a whole is not).
struct redis_stats {
  std::uint64_t n_calls = 0;               // public calls (get, put, …, ping), rejected ones included
  std::uint64_t n_errors = 0;              // calls that returned an error, of any kind (includes the two below)
  std::uint64_t n_timeouts = 0;            // … of which timed out (connect, command or pool wait)
  std::uint64_t n_breaker_rejections = 0;  // … of which the open breaker answered without network I/O
  std::uint64_t n_breaker_opens = 0;       // transitions to open
  std::uint64_t n_connects = 0;            // connections opened (and authenticated)
  std::uint64_t n_connect_failures = 0;    // connection attempts that failed
  breaker_state breaker = breaker_state::closed;
  /// Wall latency (steady clock) of calls that reached the network, success or not; bucket i
  /// counts latencies ≤ k_redis_latency_bounds_ms[i], the last bucket the rest.
  std::array<std::uint64_t, k_redis_latency_bounds_ms.size() + 1> latency_buckets{};
};

class redis_store final : public entry_store {
 public:
  /// The store of `config` (invalid_argument for a bad one, naming the field); connects lazily.
  static result<std::unique_ptr<redis_store>> create(redis_config config);
  ~redis_store() override;
  redis_store(const redis_store&) = delete;
  redis_store& operator=(const redis_store&) = delete;

  std::string name() const override { return "redis"; }
  result<std::optional<std::string>> get(const std::string& key) override;
  status put(const std::string& key, std::string_view value, std::chrono::seconds ttl) override;
  status erase(const std::string& key) override;
  status erase_prefix(const std::string& prefix) override;
  status append(const std::string& key, std::string_view value, std::size_t keep_last = 0) override;
  result<list_slice> range(const std::string& key, std::size_t from) override;

  /// put() with a millisecond TTL (SET … PX; 0 = no expiry).
  status put_for(const std::string& key, std::string_view value, std::chrono::milliseconds ttl);
  /// PING: readiness for `parley doctor` and health checks (subject to the breaker like any call).
  status ping();

  redis_stats stats() const;
  breaker_state state() const;
  const redis_config& config() const { return config_; }

 private:
  explicit redis_store(redis_config config);
  class connection;
  enum class admission { allow, probe, reject };
  template <class R, class Body>
  R call(Body&& body);  // R: result<T> or status; body(connection&) -> R

  admission admit();
  void record_outcome(admission how, bool transport_failure, bool neutral);
  result<redisContext*> acquire(bool& transport_failure);
  void release(redisContext* ctx, bool healthy);
  void drain_idle();
  result<redisContext*> open_connection();
  void record_latency(double ms);
  std::string full_key(const std::string& key) const { return config_.key_prefix + key; }

  redis_config config_;
  const clock* clk_;
  std::string endpoint_;  // "host:port", for error messages

  // Pool: idle connections plus a count of all open ones (idle + checked out), under pool_mu_.
  mutable std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<redisContext*> idle_;
  std::size_t n_open_ = 0;

  // Breaker, under breaker_mu_; state_ mirrors it for lock-free reads.
  mutable std::mutex breaker_mu_;
  breaker_state breaker_ = breaker_state::closed;
  int n_consecutive_failures_ = 0;
  time_point t_opened_{};
  bool probe_in_flight_ = false;
  std::atomic<breaker_state> state_{breaker_state::closed};

  std::atomic<bool> use_del_{false};  // set when the server does not know UNLINK (Redis < 4)

  std::atomic<std::uint64_t> n_calls_{0};
  std::atomic<std::uint64_t> n_errors_{0};
  std::atomic<std::uint64_t> n_timeouts_{0};
  std::atomic<std::uint64_t> n_breaker_rejections_{0};
  std::atomic<std::uint64_t> n_breaker_opens_{0};
  std::atomic<std::uint64_t> n_connects_{0};
  std::atomic<std::uint64_t> n_connect_failures_{0};
  std::array<std::atomic<std::uint64_t>, k_redis_latency_bounds_ms.size() + 1> latency_buckets_{};
};

}  // namespace parley::cache
