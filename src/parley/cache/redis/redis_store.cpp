#include "parley/cache/redis/redis_store.hpp"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>

namespace parley::cache {

namespace {

struct reply_free {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_free>;

// Blocks SIGPIPE on the calling thread for the guard's lifetime and discards a SIGPIPE raised
// meanwhile (hiredis writes with write(2), which raises SIGPIPE on a socket the peer closed).
// A SIGPIPE that was already pending before the guard is left alone.
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    active_ = pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_) == 0;
  }
  ~sigpipe_guard() {
    if (!active_) return;
    const int saved_errno = errno;
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{};
        while (sigtimedwait(&pipe_set_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    errno = saved_errno;
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

 private:
  sigset_t pipe_set_{};
  sigset_t old_mask_{};
  bool was_pending_ = false;
  bool active_ = false;
};

timeval to_timeval(int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

// hiredis reports a socket timeout as an I/O error whose errno is EAGAIN (SO_RCVTIMEO/SO_SNDTIMEO)
// or ETIMEDOUT (connect); newer versions also say so in errstr.
bool is_timeout(int saved_errno, const redisContext* c) {
  if (c->err == REDIS_ERR_IO &&
      (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT || saved_errno == EINPROGRESS)) {
    return true;
  }
  const std::string_view msg(c->errstr);
  return msg.find("imed out") != std::string_view::npos || msg.find("Timeout") != std::string_view::npos ||
         msg.find("temporarily unavailable") != std::string_view::npos;
}

// The first word of a Redis error reply ("WRONGTYPE", "ERR", "NOAUTH"): the rest may quote
// arguments, which can be user data.
std::string error_kind(const redisReply* r) {
  const std::string_view s(r->str, r->len);
  return std::string(s.substr(0, std::min(s.find(' '), std::size_t{32})));
}

// Escapes the glob metacharacters of SCAN MATCH so that a prefix matches only itself.
std::string glob_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (const char ch : s) {
    if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  return out;
}

}  // namespace

std::string_view to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "unknown";
}

// One checked-out connection for the span of a call: runs commands and remembers whether the
// transport failed (the connection is then dropped and the failure counts for the breaker).
class redis_store::connection {
 public:
  connection(redisContext* ctx, const std::string& endpoint) : ctx_(ctx), endpoint_(endpoint) {}

  result<reply_ptr> command(const std::vector<std::string_view>& args) {
    argv_.clear();
    lens_.clear();
    for (const auto& a : args) {
      argv_.push_back(a.data());
      lens_.push_back(a.size());
    }
    unknown_command_ = false;
    errno = 0;
    void* raw = redisCommandArgv(ctx_, static_cast<int>(args.size()), argv_.data(), lens_.data());
    const int saved_errno = errno;
    if (raw == nullptr) {
      transport_failed_ = true;
      if (is_timeout(saved_errno, ctx_)) {
        timed_out_ = true;
        return make_error(errc::timeout, "redis " + endpoint_ + ": command timed out");
      }
      return make_error(errc::unavailable, "redis " + endpoint_ + ": " + std::string(ctx_->errstr));
    }
    reply_ptr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) {
      const std::string kind = error_kind(reply.get());
      const std::string_view text(reply->str, reply->len);
      unknown_command_ = text.rfind("ERR unknown command", 0) == 0;
      return make_error(errc::io_error, "redis " + endpoint_ + ": command rejected (" + kind + ")");
    }
    return reply;
  }

  /// A reply of a type the command never returns: the stream may be out of step, drop it.
  error unexpected(std::string_view command) {
    broken_ = true;
    return make_error(errc::io_error, "redis " + endpoint_ + ": unexpected reply to " + std::string(command));
  }

  bool transport_failed() const { return transport_failed_; }
  bool healthy() const { return !transport_failed_ && !broken_; }
  bool timed_out() const { return timed_out_; }
  bool unknown_command() const { return unknown_command_; }

 private:
  redisContext* ctx_;
  const std::string& endpoint_;
  std::vector<const char*> argv_;
  std::vector<std::size_t> lens_;
  bool transport_failed_ = false;
  bool timed_out_ = false;
  bool broken_ = false;
  bool unknown_command_ = false;
};

result<std::unique_ptr<redis_store>> redis_store::create(redis_config config) {
  const auto bad = [](const char* what) { return make_error(errc::invalid_argument, std::string("redis: ") + what); };
  if (config.host.empty()) return bad("host is empty");
  if (config.port <= 0 || config.port > 65535) return bad("port must be in 1..65535");
  if (config.db < 0) return bad("db must be >= 0");
  if (config.connect_timeout_ms <= 0) return bad("connect_timeout_ms must be > 0");
  if (config.command_timeout_ms <= 0) return bad("command_timeout_ms must be > 0");
  if (config.pool_size == 0) return bad("pool_size must be > 0");
  if (config.breaker_failures <= 0) return bad("breaker_failures must be > 0");
  if (config.breaker_cooldown_ms < 0) return bad("breaker_cooldown_ms must be >= 0");
  if (config.scan_batch == 0) return bad("scan_batch must be > 0");
  return std::unique_ptr<redis_store>(new redis_store(std::move(config)));
}

redis_store::redis_store(redis_config config)
    : config_(std::move(config)),
      clk_(config_.clk != nullptr ? config_.clk : &steady_clock_source::instance()),
      endpoint_(config_.host + ":" + std::to_string(config_.port)) {}

redis_store::~redis_store() {
  std::lock_guard lk(pool_mu_);
  for (redisContext* c : idle_) redisFree(c);
  idle_.clear();
}

// ---- breaker ---------------------------------------------------------------------------------

redis_store::admission redis_store::admit() {
  std::lock_guard lk(breaker_mu_);
  switch (breaker_) {
    case breaker_state::closed:
      return admission::allow;
    case breaker_state::open:
      if (clk_->now() - t_opened_ < std::chrono::milliseconds(config_.breaker_cooldown_ms)) return admission::reject;
      breaker_ = breaker_state::half_open;
      state_.store(breaker_, std::memory_order_release);
      probe_in_flight_ = true;
      return admission::probe;
    case breaker_state::half_open:
      if (probe_in_flight_) return admission::reject;
      probe_in_flight_ = true;
      return admission::probe;
  }
  return admission::reject;
}

void redis_store::record_outcome(admission how, bool transport_failure, bool neutral) {
  bool opened = false;
  {
    std::lock_guard lk(breaker_mu_);
    if (how == admission::probe) {
      probe_in_flight_ = false;
      if (neutral) {
        // stays half-open: the next call probes
      } else if (transport_failure) {
        breaker_ = breaker_state::open;
        t_opened_ = clk_->now();
        opened = true;
      } else {
        breaker_ = breaker_state::closed;
        n_consecutive_failures_ = 0;
      }
    } else if (breaker_ == breaker_state::closed) {
      // A call admitted while closed that ends after the breaker opened changes nothing: only
      // the probe decides when to close again.
      if (!transport_failure) {
        n_consecutive_failures_ = 0;
      } else if (++n_consecutive_failures_ >= config_.breaker_failures) {
        breaker_ = breaker_state::open;
        t_opened_ = clk_->now();
        opened = true;
      }
    }
    state_.store(breaker_, std::memory_order_release);
  }
  if (opened) {
    n_breaker_opens_.fetch_add(1, std::memory_order_relaxed);
    drain_idle();
  }
}

// ---- pool ------------------------------------------------------------------------------------

result<redisContext*> redis_store::open_connection() {
  auto fail = [this](errc code, std::string msg, redisContext* c) -> result<redisContext*> {
    if (c != nullptr) redisFree(c);
    n_connect_failures_.fetch_add(1, std::memory_order_relaxed);
    return make_error(code, std::move(msg));
  };
  errno = 0;
  redisContext* c = redisConnectWithTimeout(config_.host.c_str(), config_.port, to_timeval(config_.connect_timeout_ms));
  const int saved_errno = errno;
  if (c == nullptr) return fail(errc::unavailable, "redis " + endpoint_ + ": cannot allocate a connection", nullptr);
  if (c->err != 0) {
    if (is_timeout(saved_errno, c)) return fail(errc::timeout, "redis " + endpoint_ + ": connect timed out", c);
    return fail(errc::unavailable, "redis " + endpoint_ + ": cannot connect: " + std::string(c->errstr), c);
  }
  if (redisSetTimeout(c, to_timeval(config_.command_timeout_ms)) != REDIS_OK) {
    return fail(errc::unavailable, "redis " + endpoint_ + ": cannot set the command timeout", c);
  }
  connection conn(c, endpoint_);
  if (!config_.password.empty()) {
    std::vector<std::string_view> args{"AUTH"};
    if (!config_.username.empty()) args.emplace_back(config_.username);
    args.emplace_back(config_.password);
    auto r = conn.command(args);
    if (!r) {
      if (conn.transport_failed()) return fail(r.error().code, r.error().message, c);
      return fail(errc::unavailable, "redis " + endpoint_ + ": AUTH rejected", c);
    }
  }
  if (config_.db != 0) {
    const std::string db = std::to_string(config_.db);
    auto r = conn.command({"SELECT", db});
    if (!r) {
      if (conn.transport_failed()) return fail(r.error().code, r.error().message, c);
      return fail(errc::unavailable, "redis " + endpoint_ + ": SELECT " + db + " rejected", c);
    }
  }
  n_connects_.fetch_add(1, std::memory_order_relaxed);
  return c;
}

result<redisContext*> redis_store::acquire(bool& transport_failure) {
  std::unique_lock lk(pool_mu_);
  const bool ready = pool_cv_.wait_for(lk, std::chrono::milliseconds(config_.command_timeout_ms),
                                       [this] { return !idle_.empty() || n_open_ < config_.pool_size; });
  if (!ready) {
    return make_error(errc::timeout, "redis " + endpoint_ + ": all " + std::to_string(config_.pool_size) +
                                         " connections busy");
  }
  if (!idle_.empty()) {
    redisContext* c = idle_.back();
    idle_.pop_back();
    return c;
  }
  ++n_open_;
  lk.unlock();
  auto c = open_connection();
  if (!c) {
    transport_failure = true;
    lk.lock();
    --n_open_;
    lk.unlock();
    pool_cv_.notify_one();
  }
  return c;
}

void redis_store::release(redisContext* ctx, bool healthy) {
  {
    std::lock_guard lk(pool_mu_);
    if (healthy) {
      idle_.push_back(ctx);
      ctx = nullptr;
    } else {
      --n_open_;
    }
  }
  pool_cv_.notify_one();
  if (ctx != nullptr) redisFree(ctx);
}

void redis_store::drain_idle() {
  std::vector<redisContext*> dropped;
  {
    std::lock_guard lk(pool_mu_);
    dropped.swap(idle_);
    n_open_ -= dropped.size();
  }
  pool_cv_.notify_all();
  for (redisContext* c : dropped) redisFree(c);
}

// ---- calls -----------------------------------------------------------------------------------

void redis_store::record_latency(double ms) {
  std::size_t i = 0;
  while (i < k_redis_latency_bounds_ms.size() && ms > k_redis_latency_bounds_ms[i]) ++i;
  latency_buckets_[i].fetch_add(1, std::memory_order_relaxed);
}

template <class R, class Body>
R redis_store::call(Body&& body) {
  n_calls_.fetch_add(1, std::memory_order_relaxed);
  const admission how = admit();
  if (how == admission::reject) {
    n_breaker_rejections_.fetch_add(1, std::memory_order_relaxed);
    n_errors_.fetch_add(1, std::memory_order_relaxed);
    return make_error(errc::unavailable, "redis " + endpoint_ + ": circuit breaker open, not contacted");
  }
  auto count_error = [this](const error& e) {
    n_errors_.fetch_add(1, std::memory_order_relaxed);
    if (e.code == errc::timeout) n_timeouts_.fetch_add(1, std::memory_order_relaxed);
  };

  const auto t_start = steady_clock::now();
  sigpipe_guard no_sigpipe;
  bool connect_failed = false;
  auto ctx = acquire(connect_failed);
  if (!ctx) {
    // A busy pool says nothing about Redis: the breaker hears only of failed connects (a probe
    // that found the pool busy is simply handed back, so the next call probes).
    if (connect_failed) record_latency(to_ms(steady_clock::now() - t_start));
    if (connect_failed || how == admission::probe) record_outcome(how, connect_failed, !connect_failed);
    count_error(ctx.error());
    return ctx.error();
  }
  connection conn(*ctx, endpoint_);
  R out = body(conn);
  const bool transport_failed = conn.transport_failed();
  release(*ctx, conn.healthy());
  if (transport_failed) drain_idle();  // the idle ones most likely point at the same dead server
  record_latency(to_ms(steady_clock::now() - t_start));
  record_outcome(how, transport_failed, false);
  if (!out) count_error(out.error());
  return out;
}

result<std::optional<std::string>> redis_store::get(const std::string& key) {
  const std::string k = full_key(key);
  using R = result<std::optional<std::string>>;
  return call<R>([&](connection& c) -> R {
    auto r = c.command({"GET", k});
    if (!r) return r.error();
    if ((*r)->type == REDIS_REPLY_NIL) return std::optional<std::string>{};
    if ((*r)->type != REDIS_REPLY_STRING) return c.unexpected("GET");
    return std::optional<std::string>(std::string((*r)->str, (*r)->len));
  });
}

status redis_store::put(const std::string& key, std::string_view value, std::chrono::seconds ttl) {
  return put_for(key, value, std::chrono::duration_cast<std::chrono::milliseconds>(ttl));
}

status redis_store::put_for(const std::string& key, std::string_view value, std::chrono::milliseconds ttl) {
  if (ttl.count() < 0) {
    n_calls_.fetch_add(1, std::memory_order_relaxed);
    n_errors_.fetch_add(1, std::memory_order_relaxed);
    return make_error(errc::invalid_argument, "redis: negative TTL");
  }
  const std::string k = full_key(key);
  const std::string ttl_ms = std::to_string(ttl.count());
  return call<status>([&](connection& c) -> status {
    auto r = ttl.count() > 0 ? c.command({"SET", k, value, "PX", ttl_ms}) : c.command({"SET", k, value});
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_STATUS) return c.unexpected("SET");
    return {};
  });
}

status redis_store::erase(const std::string& key) {
  const std::string k = full_key(key);
  return call<status>([&](connection& c) -> status {
    auto r = c.command({"DEL", k});
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_INTEGER) return c.unexpected("DEL");
    return {};
  });
}

status redis_store::erase_prefix(const std::string& prefix) {
  const std::string pattern = glob_escape(full_key(prefix)) + "*";
  const std::string count = std::to_string(config_.scan_batch);
  return call<status>([&](connection& c) -> status {
    std::string cursor = "0";
    std::vector<std::string> keys;
    std::vector<std::string_view> args;
    do {
      auto r = c.command({"SCAN", cursor, "MATCH", pattern, "COUNT", count});
      if (!r) return r.error();
      const redisReply* rep = r->get();
      if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING ||
          rep->element[1]->type != REDIS_REPLY_ARRAY) {
        return c.unexpected("SCAN");
      }
      cursor.assign(rep->element[0]->str, rep->element[0]->len);
      const redisReply* found = rep->element[1];
      for (std::size_t i = 0; i < found->elements; ++i) {
        if (found->element[i]->type != REDIS_REPLY_STRING) return c.unexpected("SCAN");
        keys.emplace_back(found->element[i]->str, found->element[i]->len);
      }
      // Delete in batches of scan_batch; SCAN may return a key twice, UNLINK of a gone key is fine.
      while (keys.size() >= config_.scan_batch || (cursor == "0" && !keys.empty())) {
        const std::size_t n = std::min(keys.size(), config_.scan_batch);
        for (bool retried = false;;) {
          args.assign({use_del_.load(std::memory_order_relaxed) ? "DEL" : "UNLINK"});
          for (std::size_t i = keys.size() - n; i < keys.size(); ++i) args.emplace_back(keys[i]);
          auto d = c.command(args);
          if (d) break;
          if (!retried && c.unknown_command() && !use_del_.load(std::memory_order_relaxed)) {
            use_del_.store(true, std::memory_order_relaxed);  // Redis < 4: no UNLINK
            retried = true;
            continue;
          }
          return d.error();
        }
        keys.resize(keys.size() - n);
      }
    } while (cursor != "0");
    return {};
  });
}

namespace {

// KEYS[1] the list, KEYS[2] how many of its elements were ever dropped (the index of its first
// element); ARGV[1] the value, ARGV[2] how many elements to keep (0: all).
constexpr const char* k_append = R"lua(
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
local keep = tonumber(ARGV[2])
if keep > 0 and n > keep then
  redis.call('LTRIM', KEYS[1], n - keep, -1)
  redis.call('INCRBY', KEYS[2], n - keep)
end
return n
)lua";

// The elements from index ARGV[1] on (counted since the list was created), and the index of the
// first one returned: {first, {elements}}.
constexpr const char* k_range_from = R"lua(
local dropped = tonumber(redis.call('GET', KEYS[2]) or '0')
local skip = tonumber(ARGV[1]) - dropped
if skip < 0 then skip = 0 end
return {dropped + skip, redis.call('LRANGE', KEYS[1], skip, -1)}
)lua";

std::string first_index_key(const std::string& list_key) { return list_key + ":first"; }

}  // namespace

status redis_store::append(const std::string& key, std::string_view value, std::size_t keep_last) {
  const std::string k = full_key(key);
  const std::string first_key = first_index_key(k);
  const std::string keep = std::to_string(keep_last);
  return call<status>([&](connection& c) -> status {
    auto r = c.command({"EVAL", k_append, "2", k, first_key, value, keep});
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_INTEGER) return c.unexpected("EVAL (RPUSH)");
    return {};
  });
}

result<list_slice> redis_store::range(const std::string& key, std::size_t from) {
  using R = result<list_slice>;
  const std::string k = full_key(key);
  if (from > static_cast<std::size_t>(1) << 53) {  // beyond what the script's numbers hold exactly
    n_calls_.fetch_add(1, std::memory_order_relaxed);
    return list_slice{from, {}};  // no list is that long
  }
  const std::string first_key = first_index_key(k);
  const std::string start = std::to_string(from);
  return call<R>([&](connection& c) -> R {
    auto r = c.command({"EVAL", k_range_from, "2", k, first_key, start});
    if (!r) return r.error();
    const redisReply* rep = r->get();
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[0]->integer < 0 || rep->element[1]->type != REDIS_REPLY_ARRAY)
      return c.unexpected("EVAL (LRANGE)");
    list_slice out;
    out.first = static_cast<std::size_t>(rep->element[0]->integer);
    const redisReply* items = rep->element[1];
    out.items.reserve(items->elements);
    for (std::size_t i = 0; i < items->elements; ++i) {
      if (items->element[i]->type != REDIS_REPLY_STRING) return c.unexpected("EVAL (LRANGE)");
      out.items.emplace_back(items->element[i]->str, items->element[i]->len);
    }
    return out;
  });
}

status redis_store::ping() {
  return call<status>([&](connection& c) -> status {
    auto r = c.command({"PING"});
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_STATUS) return c.unexpected("PING");
    return {};
  });
}

redis_stats redis_store::stats() const {
  redis_stats s;
  s.n_calls = n_calls_.load(std::memory_order_relaxed);
  s.n_errors = n_errors_.load(std::memory_order_relaxed);
  s.n_timeouts = n_timeouts_.load(std::memory_order_relaxed);
  s.n_breaker_rejections = n_breaker_rejections_.load(std::memory_order_relaxed);
  s.n_breaker_opens = n_breaker_opens_.load(std::memory_order_relaxed);
  s.n_connects = n_connects_.load(std::memory_order_relaxed);
  s.n_connect_failures = n_connect_failures_.load(std::memory_order_relaxed);
  s.breaker = state();
  for (std::size_t i = 0; i < latency_buckets_.size(); ++i) {
    s.latency_buckets[i] = latency_buckets_[i].load(std::memory_order_relaxed);
  }
  return s;
}

breaker_state redis_store::state() const { return state_.load(std::memory_order_acquire); }

}  // namespace parley::cache
