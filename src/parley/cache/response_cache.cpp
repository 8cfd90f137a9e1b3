#include "parley/cache/response_cache.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

#include "parley/cache/query_key.hpp"
#include "parley/core/log.hpp"

namespace parley::cache {
namespace {

constexpr char k_entry_magic[4] = {'P', 'R', 'C', 'E'};
constexpr char k_feed_magic[4] = {'P', 'R', 'C', 'F'};
constexpr std::uint8_t k_entry_version = 1;
constexpr std::uint8_t k_feed_version = 1;
constexpr std::uint8_t k_feed_add = 1;
constexpr std::uint8_t k_feed_remove = 2;
constexpr std::uint32_t k_max_field_bytes = 64u << 20;

// The blob checksum: FNV-1a-style mixing over little-endian 64-bit words in four independent
// lanes (a byte-wise FNV over 64 KB of audio costs ~100 us; this, a few us), folded to 32 bits.
std::uint32_t checksum(std::string_view bytes) {
  constexpr std::uint64_t k_prime = 0x100000001b3ULL;
  std::uint64_t lane[4] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL, 0x9ce484222325cbf2ULL, 0x2325cbf29ce48422ULL};
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  auto load64 = [p](std::size_t at) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[at + static_cast<std::size_t>(i)]) << (8 * i);
    return v;
  };
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (std::size_t l = 0; l < 4; ++l) lane[l] = (lane[l] ^ load64(i + 8 * l)) * k_prime;
  std::uint64_t h = lane[0] ^ (lane[1] * 3) ^ (lane[2] * 5) ^ (lane[3] * 7) ^ n;
  for (; i < n; ++i) h = (h ^ p[i]) * k_prime;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return static_cast<std::uint32_t>(h);
}

// Little-endian writer/reader.
struct writer {
  std::string out;
  void u8(std::uint8_t v) { out.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out.append(s);
  }
  void floats(const std::vector<float>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (float f : v) u32(std::bit_cast<std::uint32_t>(f));
  }
  void seal() { u32(checksum(out)); }
};

struct reader {
  std::string_view in;
  std::size_t pos = 0;
  bool ok = true;
  bool need(std::size_t n) {
    if (!ok || in.size() - pos < n) ok = false;
    return ok;
  }
  std::uint8_t u8() { return need(1) ? static_cast<std::uint8_t>(in[pos++]) : 0; }
  template <class U>
  U little_endian() {
    if (!need(sizeof(U))) return 0;
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(static_cast<unsigned char>(in[pos + i])) << (8 * i);
    pos += sizeof(U);
    return v;
  }
  std::uint32_t u32() { return little_endian<std::uint32_t>(); }
  std::uint64_t u64() { return little_endian<std::uint64_t>(); }
  std::string str() {
    const std::uint32_t n = u32();
    if (n > k_max_field_bytes || !need(n)) {
      ok = false;
      return {};
    }
    std::string s(in.substr(pos, n));
    pos += n;
    return s;
  }
  std::vector<float> floats() {
    const std::uint32_t n = u32();
    if (n > k_max_field_bytes / 4 || !need(static_cast<std::size_t>(n) * 4)) {
      ok = false;
      return {};
    }
    std::vector<float> v(n);
    for (auto& f : v) f = std::bit_cast<float>(u32());
    return v;
  }
};

// Checks magic, version and checksum; returns the body reader positioned after the version.
std::optional<reader> open_blob(std::string_view bytes, const char (&magic)[4], std::uint8_t version) {
  if (bytes.size() < 4 + 1 + 4 || std::memcmp(bytes.data(), magic, 4) != 0) return std::nullopt;
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  reader tail{bytes.substr(bytes.size() - 4)};
  if (tail.u32() != checksum(body)) return std::nullopt;
  reader r{body, 4};
  if (r.u8() != version) return std::nullopt;
  return r;
}

std::string escape_part(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ':' || c == '%' || static_cast<unsigned char>(c) < 0x20) {
      static constexpr char hex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(hex[(static_cast<unsigned char>(c) >> 4) & 0xf]);
      out.push_back(hex[static_cast<unsigned char>(c) & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool contains_words(const std::vector<std::string>& words, std::initializer_list<std::string_view> seq) {
  if (seq.size() == 0 || words.size() < seq.size()) return false;
  for (std::size_t i = 0; i + seq.size() <= words.size(); ++i) {
    std::size_t k = 0;
    for (auto w : seq) {
      if (words[i + k] != w) break;
      ++k;
    }
    if (k == seq.size()) return true;
  }
  return false;
}

struct feed_record {
  std::uint8_t kind = k_feed_add;
  std::uint64_t nonce = 0;
  std::string key;
  std::vector<float> embedding;
};

std::string encode_feed(const feed_record& r) {
  writer w;
  w.out.append(k_feed_magic, 4);
  w.u8(k_feed_version);
  w.u8(r.kind);
  w.u64(r.nonce);
  w.str(r.key);
  w.floats(r.embedding);
  w.seal();
  return std::move(w.out);
}

std::optional<feed_record> decode_feed(std::string_view bytes) {
  auto r = open_blob(bytes, k_feed_magic, k_feed_version);
  if (!r) return std::nullopt;
  feed_record rec;
  rec.kind = r->u8();
  rec.nonce = r->u64();
  rec.key = r->str();
  rec.embedding = r->floats();
  if (!r->ok || r->pos != r->in.size() || (rec.kind != k_feed_add && rec.kind != k_feed_remove)) return std::nullopt;
  return rec;
}

std::uint64_t random_nonce() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t v = 0;
  while (v == 0) v = rng();
  return v;
}

}  // namespace

std::string_view to_string(match_kind kind) {
  switch (kind) {
    case match_kind::miss: return "miss";
    case match_kind::exact: return "exact";
    case match_kind::semantic: return "semantic";
  }
  return "miss";
}

std::string encode_entry(const stored_entry& e) {
  writer w;
  w.out.reserve(64 + e.query.size() + e.reply.text.size() + e.embedding.size() * 4 +
                (e.reply.audio ? e.reply.audio->pcm.size() * 2 : 0));
  w.out.append(k_entry_magic, 4);
  w.u8(k_entry_version);
  w.u8(e.reply.audio ? 1 : 0);
  w.str(e.query);
  w.str(e.normalized_key);
  w.str(e.reply.text);
  w.str(e.reply.reply_class);
  w.u64(static_cast<std::uint64_t>(e.stored_unix_ms));
  w.u32(e.ttl_s);
  if (e.reply.audio) {
    w.u32(static_cast<std::uint32_t>(e.reply.audio->sample_rate_hz));
    w.u32(static_cast<std::uint32_t>(e.reply.audio->pcm.size()));
    const auto& pcm = e.reply.audio->pcm;
    if constexpr (std::endian::native == std::endian::little) {
      w.out.append(reinterpret_cast<const char*>(pcm.data()), pcm.size() * 2);
    } else {
      for (std::int16_t s : pcm) {
        const auto u = static_cast<std::uint16_t>(s);
        w.out.push_back(static_cast<char>(u & 0xff));
        w.out.push_back(static_cast<char>(u >> 8));
      }
    }
  }
  w.floats(e.embedding);
  w.seal();
  return std::move(w.out);
}

result<stored_entry> decode_entry(std::string_view bytes) {
  auto r = open_blob(bytes, k_entry_magic, k_entry_version);
  if (!r) return make_error(errc::unsupported_format, "response cache entry: bad magic, version or checksum");
  stored_entry e;
  const std::uint8_t flags = r->u8();
  if ((flags & ~1u) != 0) return make_error(errc::unsupported_format, "response cache entry: unknown flags");
  e.query = r->str();
  e.normalized_key = r->str();
  e.reply.text = r->str();
  e.reply.reply_class = r->str();
  e.stored_unix_ms = static_cast<std::int64_t>(r->u64());
  e.ttl_s = r->u32();
  if (flags & 1u) {
    auto audio = std::make_shared<reply_audio>();
    audio->sample_rate_hz = static_cast<int>(r->u32());
    const std::uint32_t n = r->u32();
    if (audio->sample_rate_hz <= 0 || audio->sample_rate_hz > 384000 || !r->need(static_cast<std::size_t>(n) * 2))
      return make_error(errc::unsupported_format, "response cache entry: bad audio block");
    audio->pcm.resize(n);
    if constexpr (std::endian::native == std::endian::little) {
      if (n > 0) std::memcpy(audio->pcm.data(), r->in.data() + r->pos, static_cast<std::size_t>(n) * 2);
    } else {
      for (std::uint32_t i = 0; i < n; ++i) {
        const auto lo = static_cast<unsigned char>(r->in[r->pos + 2 * i]);
        const auto hi = static_cast<unsigned char>(r->in[r->pos + 2 * i + 1]);
        audio->pcm[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | (hi << 8)));
      }
    }
    r->pos += static_cast<std::size_t>(n) * 2;
    e.reply.audio = std::move(audio);
  }
  e.embedding = r->floats();
  if (!r->ok) return make_error(errc::unsupported_format, "response cache entry: truncated");
  if (r->pos != r->in.size()) return make_error(errc::unsupported_format, "response cache entry: trailing bytes");
  return e;
}

result<std::unique_ptr<response_cache>> response_cache::create(response_cache_config config,
                                                               std::shared_ptr<engine::embedder> embedder,
                                                               std::shared_ptr<entry_store> local,
                                                               std::shared_ptr<entry_store> shared, const clock& clk) {
  if (!local) return make_error(errc::invalid_argument, "response_cache: a local store is required");
  return std::unique_ptr<response_cache>(
      new response_cache(std::move(config), std::move(embedder), std::move(local), std::move(shared), clk));
}

response_cache::response_cache(response_cache_config config, std::shared_ptr<engine::embedder> embedder,
                               std::shared_ptr<entry_store> local, std::shared_ptr<entry_store> shared,
                               const clock& clk)
    : config_(std::move(config)),
      embedder_(std::move(embedder)),
      local_(std::move(local)),
      shared_(std::move(shared)),
      clock_(clk) {
  if (!embedder_) config_.semantic = false;
  min_threshold_ = config_.default_policy.threshold;
  for (const auto& [name, p] : config_.classes)
    if (p.ttl.count() > 0) min_threshold_ = std::min(min_threshold_, p.threshold);
}

const class_policy& response_cache::policy(std::string_view reply_class) const {
  auto it = config_.classes.find(reply_class);
  return it == config_.classes.end() ? config_.default_policy : it->second;
}

std::string response_cache::scope_prefix(const cache_scope& scope) const {
  return config_.key_prefix + escape_part(scope.persona) + ":" + escape_part(scope.language) + ":" +
         escape_part(scope.user) + ":";
}

// Outside every scope's prefix (an escaped part never holds "%e"), so erase_prefix keeps it.
std::string response_cache::epoch_key(const std::string& prefix) const {
  return config_.key_prefix + "%epoch:" + prefix.substr(config_.key_prefix.size());
}

std::string response_cache::entry_key(std::string_view query, const cache_scope& scope) const {
  return scope_prefix(scope) + "e:" + normalize_query(query);
}

bool response_cache::compatible(std::string_view a, std::string_view b) const {
  if (config_.require_same_numbers && numeric_words(a) != numeric_words(b)) return false;
  engine::embedder* words = config_.word_embedder ? config_.word_embedder.get() : embedder_.get();
  if (!config_.substitution_guard || !words) return true;

  // A query as the guard sees it: every word (for word pairs) and which of them carry content.
  struct view {
    std::vector<std::string> all;
    std::vector<std::size_t> content;  // positions in `all`
    std::vector<std::string> units;    // content words + every adjacent word pair
  };
  auto make_view = [](std::string_view key) {
    view v;
    std::size_t i = 0;
    while (i < key.size()) {
      std::size_t j = key.find(' ', i);
      if (j == std::string_view::npos) j = key.size();
      if (j > i) v.all.emplace_back(key.substr(i, j - i));
      i = j + 1;
    }
    for (std::size_t k = 0; k < v.all.size(); ++k) {
      auto& w = v.all[k];
      // "2nd" and "2" are the same number here (the number guard already compared them).
      if (w.size() > 2 && w.front() >= '0' && w.front() <= '9' && !(w.back() >= '0' && w.back() <= '9'))
        w.resize(w.size() - 2);
      if (!is_function_word(w)) {
        v.content.push_back(k);
        v.units.push_back(w);
      }
    }
    for (std::size_t k = 0; k + 1 < v.all.size(); ++k) v.units.push_back(v.all[k] + " " + v.all[k + 1]);
    return v;
  };
  const view va = make_view(a), vb = make_view(b);
  if (va.content.empty() || vb.content.empty()) return true;

  // Direction: "celsius to fahrenheit" is not "fahrenheit to celsius" (same words, swapped).
  auto directions = [](const view& v) {
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t k = 1; k + 1 < v.all.size(); ++k) {
      const auto& w = v.all[k];
      if (w == "to" || w == "into" || w == "from" || w == "than" || w == "vs" || w == "versus")
        out.emplace_back(v.all[k - 1], v.all[k + 1]);
    }
    return out;
  };
  for (const auto& [x, y] : directions(va))
    for (const auto& [p, q] : directions(vb))
      if (x == q && y == p && x != y) return false;

  std::unordered_map<std::string, std::vector<float>> vectors;
  auto vec = [&](const std::string& w) -> const std::vector<float>& {
    auto it = vectors.find(w);
    if (it == vectors.end()) {
      auto v = words->embed(w);
      it = vectors.emplace(w, v ? std::move(*v) : std::vector<float>{}).first;
    }
    return it->second;
  };
  auto close_to_any = [&](const std::string& w, const std::vector<std::string>& units, double threshold) {
    for (const auto& u : units)
      if (w == u || engine::dot(vec(w), vec(u)) >= threshold) return true;
    return false;
  };
  // A word pair stands for a word or pair of the other query only when it reads as the same
  // phrase ("money back" = "refund", "set up" = "turn on"): nearly equal, and not merely
  // because both pairs share a word ("express shipping" is not "standard shipping").
  constexpr double k_phrase_match = 0.8, k_phrase_same = 0.95;
  auto pair_close_to_any = [&](const std::string& w1, const std::string& w2, const std::vector<std::string>& units) {
    const std::string pair = w1 + " " + w2;
    for (const auto& u : units) {
      const double c = engine::dot(vec(pair), vec(u));
      if (c >= k_phrase_same) return true;
      if (c < k_phrase_match) continue;
      const bool shares = u == w1 || u == w2 || u.starts_with(w1 + " ") || u.starts_with(w2 + " ") ||
                          u.ends_with(" " + w1) || u.ends_with(" " + w2);
      if (!shares) return true;
    }
    return false;
  };
  // True when some content word of `x` has no close word or word pair in `y`.
  auto has_uncovered = [&](const view& x, const view& y) {
    for (std::size_t k : x.content) {
      if (close_to_any(x.all[k], y.units, config_.word_match_threshold)) continue;
      if (k + 1 < x.all.size() && pair_close_to_any(x.all[k], x.all[k + 1], y.units)) continue;
      if (k > 0 && pair_close_to_any(x.all[k - 1], x.all[k], y.units)) continue;
      return true;
    }
    return false;
  };
  return !(has_uncovered(va, vb) && has_uncovered(vb, va));
}

std::shared_ptr<response_cache::scope_state> response_cache::state_of(const std::string& prefix) {
  std::lock_guard lock(scopes_mutex_);
  auto& s = scopes_[prefix];
  if (!s) {
    semantic_index_config icfg;
    icfg.max_entries = config_.max_index_entries;
    s = std::make_shared<scope_state>(embedder_ ? embedder_->dims() : 1, icfg);
  }
  return s;
}

bool response_cache::shared_usable() {
  if (!shared_) return false;
  std::lock_guard lock(breaker_mutex_);
  if (consecutive_failures_ >= config_.breaker_failures && clock_.now() < breaker_open_until_) {
    ++counters_.n_shared_skipped;
    return false;
  }
  return true;
}

void response_cache::shared_ok() {
  std::lock_guard lock(breaker_mutex_);
  consecutive_failures_ = 0;
  if (outage_since_) {
    PARLEY_LOG(info, "cache: the shared tier (" << shared_->name() << ") answers again after "
                                                << std::lround(to_ms(clock_.now() - *outage_since_) / 1000.0)
                                                << " s; local entries made meanwhile were not shared");
    outage_since_.reset();
  }
}

void response_cache::shared_failed() {
  ++counters_.n_shared_errors;
  std::lock_guard lock(breaker_mutex_);
  if (++consecutive_failures_ >= config_.breaker_failures) {
    breaker_open_until_ = clock_.now() + std::chrono::duration_cast<duration>(config_.breaker_cooldown);
    if (!outage_since_) {
      outage_since_ = clock_.now();
      PARLEY_LOG(warn, "cache: the shared tier (" << shared_->name() << ") failed " << consecutive_failures_
                                                  << " calls in a row; answering from this instance's memory only, "
                                                     "trying it again every "
                                                  << config_.breaker_cooldown.count() << " ms");
    }
  }
}

std::optional<response_cache::fetched> response_cache::fetch(const std::string& key, bool copy_to_local,
                                                             bool* absent) {
  if (absent) *absent = false;
  if (auto got = local_->get(key); got && got->has_value()) {
    auto e = decode_entry(**got);
    if (e) return fetched{std::move(*e), local_->name()};
    ++counters_.n_corrupt_entries;
    (void)local_->erase(key);
  }
  if (!shared_) {
    if (absent) *absent = true;
    return std::nullopt;
  }
  if (!shared_usable()) return std::nullopt;
  auto got = shared_->get(key);
  if (!got) {
    shared_failed();
    return std::nullopt;
  }
  shared_ok();
  if (!got->has_value()) {
    if (absent) *absent = true;
    return std::nullopt;
  }
  auto e = decode_entry(**got);
  if (!e) {
    ++counters_.n_corrupt_entries;
    if (shared_->erase(key)) shared_ok();
    else shared_failed();
    return std::nullopt;
  }
  if (copy_to_local) {
    // Keep the copy only for what is left of the entry's TTL on the shared tier.
    const std::int64_t age_s = std::max<std::int64_t>(0, (unix_ms_now() - e->stored_unix_ms) / 1000);
    const std::int64_t left_s = static_cast<std::int64_t>(e->ttl_s) - age_s;
    if (e->ttl_s == 0 || left_s > 0)
      (void)local_->put(key, **got, std::chrono::seconds(e->ttl_s == 0 ? 0 : left_s));
  }
  ++counters_.n_shared_hits;
  return fetched{std::move(*e), shared_->name()};
}

void response_cache::publish(const std::string& prefix, std::uint8_t kind, const std::string& key,
                             const std::vector<float>& v) {
  if (!shared_usable()) return;
  feed_record rec{kind, random_nonce(), key, kind == k_feed_add ? v : std::vector<float>{}};
  if (shared_->append(prefix + "feed", encode_feed(rec), config_.max_feed_records)) shared_ok();
  else shared_failed();
}

void response_cache::sync_feed(const std::string& prefix, scope_state& state) {
  if (!shared_) return;
  std::lock_guard lock(state.sync_mutex);
  const time_point now = clock_.now();
  if (state.synced_once && now - state.last_sync < std::chrono::duration_cast<duration>(config_.shared_sync_interval))
    return;
  if (!shared_usable()) return;
  // Re-read the last record seen: if it is gone or different, the feed was wiped (a scope
  // invalidation somewhere) or trimmed past it (records this instance never read were dropped),
  // and everything this instance knows of the scope may be stale.
  const std::size_t from = state.feed_offset > 0 ? state.feed_offset - 1 : 0;
  auto got = shared_->range(prefix + "feed", from);
  if (!got) {
    shared_failed();
    return;
  }
  shared_ok();
  state.synced_once = true;
  state.last_sync = now;
  list_slice slice = std::move(*got);
  if (state.feed_offset > 0) {
    std::optional<feed_record> first =
        slice.first != from || slice.items.empty() ? std::nullopt : decode_feed(slice.items.front());
    if (!first || first->nonce != state.last_nonce) {
      // Trimmed past what this instance read (the list's numbering goes on) or wiped (it
      // restarted). A wipe is an invalidation when the scope's epoch changed; otherwise the
      // shared store lost its data (a Redis restarted empty), and what this instance holds in
      // memory is still true: it is kept.
      bool lost = false;
      if (slice.first <= from) {
        auto epoch = shared_->get(epoch_key(prefix));
        if (!epoch) {
          shared_failed();
          return;
        }
        lost = !epoch->has_value() || (state.epoch && **epoch == *state.epoch);
        state.epoch = *epoch;
      }
      if (lost) {
        ++counters_.n_shared_data_lost;
        PARLEY_LOG(warn, "cache: the shared tier (" << shared_->name() << ") lost scope '" << prefix
                             << "' (its feed restarted with no invalidation: a store restarted empty?); "
                             "keeping this instance's own entries");
      } else {
        state.index.clear();
        (void)local_->erase_prefix(prefix);
        ++counters_.n_feed_rebuilds;
      }
      state.feed_offset = 0;
      state.last_nonce = 0;
      auto again = shared_->range(prefix + "feed", 0);
      if (!again) {
        shared_failed();
        return;
      }
      slice = std::move(*again);
    } else {
      slice.items.erase(slice.items.begin());
      slice.first = state.feed_offset;
    }
  }
  const std::vector<std::string>& records = slice.items;
  const std::size_t dims = config_.semantic ? embedder_->dims() : 0;
  for (const auto& raw : records) {
    auto rec = decode_feed(raw);
    if (!rec) {
      ++counters_.n_corrupt_entries;
      continue;
    }
    ++counters_.n_feed_records;
    state.last_nonce = rec->nonce;
    if (rec->kind == k_feed_remove) {
      state.index.remove(rec->key);
      (void)local_->erase(rec->key);
    } else if (dims > 0 && rec->embedding.size() == dims) {
      (void)state.index.add(rec->key, rec->embedding);
    }
  }
  state.feed_offset = slice.first + records.size();
}

bool response_cache::quick(const cache_scope& scope) {
  if (shared_ || !local_->quick() || (embedder_ && !embedder_->quick())) return false;
  if (config_.word_embedder && !config_.word_embedder->quick()) return false;
  const auto small = [&](const cache_scope& sc) { return state_of(scope_prefix(sc))->index.size() <= config_.quick_index_entries; };
  return small(scope) && (scope.user.empty() || small(cache_scope{scope.persona, scope.language, ""}));
}

cache_lookup response_cache::lookup(std::string_view query, const cache_scope& scope) {
  const time_point t0 = clock_.now();
  ++counters_.n_lookups;
  cache_lookup out;
  out.threshold = config_.default_policy.threshold;
  auto finish = [&](cache_lookup r) {
    r.lookup_ms = to_ms(clock_.now() - t0);
    if (r.kind == match_kind::miss) ++counters_.n_misses;
    else if (r.kind == match_kind::exact) ++counters_.n_exact_hits;
    else ++counters_.n_semantic_hits;
    return r;
  };

  const std::string normalized = normalize_query(query);
  if (normalized.empty()) return finish(std::move(out));

  std::vector<cache_scope> scopes{scope};
  if (!scope.user.empty()) scopes.push_back(cache_scope{scope.persona, scope.language, ""});

  // Pull what other instances stored or removed first: a removal must also stop exact hits.
  for (const auto& sc : scopes) {
    const std::string prefix = scope_prefix(sc);
    sync_feed(prefix, *state_of(prefix));
  }

  // Exact.
  for (const auto& sc : scopes) {
    const std::string prefix = scope_prefix(sc);
    const std::string key = prefix + "e:" + normalized;
    if (auto f = fetch(key, true, nullptr)) {
      if (f->entry.normalized_key != normalized) continue;  // a key collision cannot happen; be safe
      if (!f->entry.embedding.empty() && config_.semantic && f->entry.embedding.size() == embedder_->dims()) {
        auto state = state_of(prefix);
        if (!state->index.contains(key)) (void)state->index.add(key, f->entry.embedding);
      }
      out.kind = match_kind::exact;
      out.similarity = 1.0;
      out.threshold = 1.0;
      out.tier = f->tier;
      out.matched_query = f->entry.query;
      out.reply = std::move(f->entry.reply);
      return finish(std::move(out));
    }
  }
  if (!config_.semantic) return finish(std::move(out));

  // Semantic.
  auto v = embedder_->embed(normalized);
  if (!v) {
    ++counters_.n_embed_errors;
    return finish(std::move(out));
  }
  if (v->size() != embedder_->dims()) {
    ++counters_.n_embed_errors;
    return finish(std::move(out));
  }
  double best_seen = 0.0;
  std::optional<fetched> best;
  double best_score = -2.0, best_threshold = 0.0;
  for (const auto& sc : scopes) {
    const std::string prefix = scope_prefix(sc);
    auto state = state_of(prefix);
    // Search below the thresholds too, so a miss reports how close it came.
    for (const auto& cand : state->index.search(*v, config_.max_candidates, 0.0)) {
      best_seen = std::max(best_seen, cand.score);
      if (cand.score <= best_score || cand.score < min_threshold_) continue;
      bool absent = false;
      auto f = fetch(cand.key, true, &absent);
      if (!f) {
        // Expired, evicted or invalidated: forget it (a shared-tier error leaves it for later).
        if (absent) state->index.remove(cand.key);
        continue;
      }
      const double threshold = policy(f->entry.reply.reply_class).threshold;
      if (cand.score < threshold || !compatible(normalized, f->entry.normalized_key)) continue;
      best_score = cand.score;
      best_threshold = threshold;
      best = std::move(f);
      break;  // candidates come best first
    }
  }
  if (!best) {
    out.similarity = best_seen;
    return finish(std::move(out));
  }
  out.kind = match_kind::semantic;
  out.similarity = best_score;
  out.threshold = best_threshold;
  out.tier = best->tier;
  out.matched_query = best->entry.query;
  out.reply = std::move(best->entry.reply);
  return finish(std::move(out));
}

status response_cache::store(std::string_view query, const cache_scope& scope, cached_reply reply) {
  const std::string normalized = normalize_query(query);
  if (normalized.empty()) {
    ++counters_.n_not_stored;
    return make_error(errc::invalid_argument, "response cache: nothing left of the query after normalising");
  }
  if (reply.reply_class.empty()) reply.reply_class = classify(query, reply.text);
  const class_policy& p = policy(reply.reply_class);
  if (p.ttl.count() <= 0) {
    ++counters_.n_not_stored;
    return {};
  }
  if (reply.audio && reply.audio->pcm.size() > config_.max_audio_samples) reply.audio.reset();

  stored_entry e;
  e.query = std::string(query);
  e.normalized_key = normalized;
  e.reply = std::move(reply);
  e.stored_unix_ms = unix_ms_now();
  e.ttl_s = static_cast<std::uint32_t>(p.ttl.count());
  if (config_.semantic) {
    if (auto v = embedder_->embed(normalized); v && v->size() == embedder_->dims()) e.embedding = std::move(*v);
    else ++counters_.n_embed_errors;
  }
  const std::string prefix = scope_prefix(scope);
  const std::string key = prefix + "e:" + normalized;
  const std::string blob = encode_entry(e);
  if (auto st = local_->put(key, blob, p.ttl); !st) return st;
  if (!e.embedding.empty()) (void)state_of(prefix)->index.add(key, e.embedding);
  ++counters_.n_stores;
  if (shared_usable()) {
    if (shared_->put(key, blob, p.ttl)) {
      shared_ok();
      if (!e.embedding.empty()) publish(prefix, k_feed_add, key, e.embedding);
    } else {
      shared_failed();
    }
  }
  return {};
}

status response_cache::invalidate(std::string_view query, const cache_scope& scope) {
  const std::string prefix = scope_prefix(scope);
  const std::string key = prefix + "e:" + normalize_query(query);
  ++counters_.n_invalidations;
  if (auto st = local_->erase(key); !st) return st;
  state_of(prefix)->index.remove(key);
  if (shared_usable()) {
    if (shared_->erase(key)) {
      shared_ok();
      publish(prefix, k_feed_remove, key, {});
    } else {
      shared_failed();
    }
  }
  return {};
}

status response_cache::invalidate_scope(const cache_scope& scope) {
  const std::string prefix = scope_prefix(scope);
  ++counters_.n_invalidations;
  if (auto st = local_->erase_prefix(prefix); !st) return st;
  auto state = state_of(prefix);
  // A new epoch first, then the wipe: an instance that sees the feed restart finds the new epoch
  // and drops its copies, instead of taking the wipe for a shared store that lost its data.
  const std::string epoch = std::to_string(random_nonce());
  {
    std::lock_guard lock(state->sync_mutex);
    state->index.clear();
    state->feed_offset = 0;
    state->last_nonce = 0;
    state->synced_once = false;
    state->epoch = epoch;
  }
  if (shared_usable()) {
    if (shared_->put(epoch_key(prefix), epoch, k_epoch_ttl) && shared_->erase_prefix(prefix)) shared_ok();
    else shared_failed();
  }
  return {};
}

std::string response_cache::classify(std::string_view query, std::string_view reply_text) {
  const auto q = query_words(query);
  // The clock and the calendar right now: stale within a minute.
  if (contains_words(q, {"time", "is", "it"}) || contains_words(q, {"what", "is", "the", "time"}) ||
      contains_words(q, {"what", "day", "is", "it"}) || contains_words(q, {"the", "date"}) ||
      contains_words(q, {"date", "today"}) || contains_words(q, {"what", "is", "today"}) ||
      contains_words(q, {"day", "of", "the", "week", "is", "it"}) || contains_words(q, {"current", "time"}))
    return "volatile";
  static const std::vector<std::string_view> volatile_words = {
      "now",     "today",   "tonight", "tomorrow", "yesterday", "currently", "current",  "latest",
      "recent",  "news",    "weather", "forecast", "temperature", "rain",   "snow",     "price",
      "prices",  "stock",   "stocks",  "score",    "scores",    "traffic",  "sale",     "sales",
      "deal",    "deals",   "available", "availability", "still", "delay", "delayed",  "outage",
      "cost",    "costs",   "rate",    "rates",    "tonights",  "todays"};
  auto has_any = [&](const std::vector<std::string>& words) {
    for (const auto& w : words)
      if (std::find(volatile_words.begin(), volatile_words.end(), w) != volatile_words.end()) return true;
    return false;
  };
  if (has_any(q)) return "time_sensitive";
  const auto r = query_words(reply_text);
  for (const auto& w : r)
    if (w == "today" || w == "tonight" || w == "currently" || w == "now" || w == "tomorrow") return "time_sensitive";
  return "static";
}

response_cache_stats response_cache::stats() const {
  response_cache_stats s;
  s.n_lookups = counters_.n_lookups.load();
  s.n_exact_hits = counters_.n_exact_hits.load();
  s.n_semantic_hits = counters_.n_semantic_hits.load();
  s.n_misses = counters_.n_misses.load();
  s.n_shared_hits = counters_.n_shared_hits.load();
  s.n_shared_errors = counters_.n_shared_errors.load();
  s.n_shared_skipped = counters_.n_shared_skipped.load();
  s.n_corrupt_entries = counters_.n_corrupt_entries.load();
  s.n_embed_errors = counters_.n_embed_errors.load();
  s.n_stores = counters_.n_stores.load();
  s.n_not_stored = counters_.n_not_stored.load();
  s.n_invalidations = counters_.n_invalidations.load();
  s.n_feed_records = counters_.n_feed_records.load();
  s.n_feed_rebuilds = counters_.n_feed_rebuilds.load();
  s.n_shared_data_lost = counters_.n_shared_data_lost.load();
  return s;
}

}  // namespace parley::cache
