// cache/response_cache — whole replies (text + synthesized audio) answered again without LLM or TTS.
//
// Role: before a turn goes to an LLM, the router asks lookup(): an *exact* hit when the query's
// normalised key (cache/query_key: case, punctuation, fillers, numbers and clock times folded)
// was stored before, else a *semantic* hit when a stored query's embedding is at least the
// entry class's threshold close (cosine) and two guards agree: both queries name the same numbers
// ("5 pm" never answers "6 pm"), and they are not a substitution of each other (each having a
// content word the other lacks: "open"/"close", "france"/"spain"; or "a to b" / "b to a").
// A hit carries the reply text and, when stored, its audio, so it is spoken at once. After a
// fresh reply the session calls store().
// Scopes: every entry lives in one (persona, language, user) scope. A lookup searches its own
// scope and, when it names a user, the shared scope (user "") of the same persona and language;
// an entry stored with a user is never visible to another user. store() writes to exactly the
// scope it is given: personalised replies must be stored with their user.
// Classes: each reply has a class (classify(): "volatile" for the clock and date, never stored;
// "time_sensitive" for now/today/weather/prices/news; "static" otherwise) that picks its TTL and
// its similarity threshold (response_cache_config::classes; defaults chosen with
// bench/cache/parley_cache_threshold on data/cache/paraphrases.tsv, see data/README.md).
// Tiers: `local` (an in-process memory_store) is read first, then `shared` (Redis, may be null).
// A shared hit is copied into local for the rest of its TTL. Every shared-tier error counts as a
// miss plus n_shared_errors and never fails a call; after `breaker_failures` errors in a row the
// shared tier is skipped for `breaker_cooldown` (n_shared_skipped). An outage is logged once when
// the breaker first opens (warn) and once when the tier answers again (info), however long it lasts.
// Across instances: store() also appends an index record (entry key + embedding) to a per-scope
// feed list in the shared store; lookup() first pulls the records it has not seen (range from its
// last offset) into its own semantic index, so an answer stored by one instance is found,
// semantically, by all. invalidate()/invalidate_scope() reach other instances through the same
// feed (a removal record; a scope wipe is detected when the feed restarts). invalidate_scope()
// writes a new epoch for the scope before it wipes it; a feed that restarted while the epoch
// stayed (a Redis that came back empty) is a lost store, not an invalidation: the local tier keeps
// its entries and index (n_shared_data_lost). The feed keeps only
// its newest `max_feed_records` records; an instance that finds records it had not read yet
// dropped (it fell that far behind, or starts up after the feed has been trimmed) rebuilds the
// scope from what the feed holds, exactly as after a wipe, so a removal it never saw cannot leave
// a stale copy in its local tier.
// Stored bytes: a small versioned binary format (encode_entry/decode_entry) with a checksum; a
// corrupt or foreign blob is a miss (n_corrupt_entries) and is erased, never served.
// Threading: every member is thread-safe and blocking (store I/O, embedding): call from a worker,
// never from a session strand. Cancellation: none inside; callers bound it with the stores'
// timeouts. Ownership: shares the embedder and stores; `clk` must outlive the cache.
// Units: TTLs in seconds, similarities are cosines in [-1, 1], audio is 16-bit PCM mono.
//
// Errors: create() fails (invalid_argument) without a local store.
//
//   auto rc = response_cache::create({}, std::make_shared<ngram::ngram_embedder>(),
//                                    std::make_shared<memory_store>(), nullptr);
//   (*rc)->store("what are your opening hours", {}, {.text = "We open at nine.", .audio = pcm});
//   auto hit = (*rc)->lookup("um, when do you open?", {});  // hit.kind == match_kind::semantic
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parley/cache/semantic_index.hpp"
#include "parley/cache/store.hpp"
#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/engine/embedder.hpp"

namespace parley::cache {

struct cache_scope {
  std::string persona = "default";
  std::string language = "en";
  std::string user;  // "" = shared by all users
};

struct reply_audio {
  int sample_rate_hz = 16000;
  std::vector<std::int16_t> pcm;  // mono
};

struct cached_reply {
  std::string text;
  std::shared_ptr<const reply_audio> audio;  // may be null
  std::string reply_class;                   // "" on store(): classify() decides
};

enum class match_kind { miss, exact, semantic };
std::string_view to_string(match_kind kind);

struct cache_lookup {
  match_kind kind = match_kind::miss;
  double similarity = 0.0;  // of the match; on a miss, of the closest candidate seen (0 if none)
  double threshold = 0.0;   // the threshold the match was held to
  std::string tier;         // "memory" | the shared store's name; "" on a miss
  std::optional<cached_reply> reply;
  std::string matched_query;  // the stored query that matched (for the turn timeline)
  double lookup_ms = 0.0;     // time spent in lookup(), by the injected clock
};

/// TTL and similarity threshold of one reply class.
struct class_policy {
  std::chrono::seconds ttl{0};  // <= 0: replies of this class are never stored
  double threshold = 1.0;       // minimum cosine for a semantic hit on an entry of this class
};

/// Default semantic threshold of static replies: the threshold with the most hits at <= 2% false
/// hits on the dev half of data/cache/paraphrases.tsv with the built-in ngram-512 embedder (with
/// the guards). Another embedder needs its own sweep (bench/cache/parley_cache_threshold).
inline constexpr double k_default_semantic_threshold = 0.675;

struct response_cache_config {
  /// Per-class policies; a class not listed uses `default_policy`.
  std::map<std::string, class_policy, std::less<>> classes = {
      {"static", {std::chrono::hours(24), k_default_semantic_threshold}},
      {"time_sensitive", {std::chrono::minutes(10), k_default_semantic_threshold + 0.075}},
      {"volatile", {std::chrono::seconds(0), 1.0}},
  };
  class_policy default_policy{std::chrono::hours(1), k_default_semantic_threshold};
  bool semantic = true;                 // false: exact matches only (no embedding at all)
  bool require_same_numbers = true;     // a semantic hit needs the same numbers and times
  /// A semantic hit is refused when *each* query has a content word the other lacks (a
  /// substitution: "open"/"close", "france"/"spain", "paypal"/"bitcoin"); one query merely adding
  /// words to the other ("capital" / "capital city") is allowed. Words are compared with the
  /// embedder (so stems and synonyms match): the same word when cos >= word_match_threshold.
  bool substitution_guard = true;
  double word_match_threshold = 0.5;
  /// The embedder the guard compares single words with (it embeds each content word of both
  /// queries per candidate: microseconds with the built-in ngram embedder). Null: the cache's
  /// embedder. With a remote or model embedder, pass an ngram_embedder here.
  std::shared_ptr<engine::embedder> word_embedder;
  std::size_t max_candidates = 4;       // semantic candidates checked per scope
  std::size_t max_index_entries = 200'000;  // per scope (FIFO beyond)
  /// Records kept in a scope's feed on the shared tier (the oldest are dropped). Each holds an
  /// embedding (2 KiB at 512 dims), so this bounds the feed's memory on the shared server: ~200 MiB
  /// per scope at the default; an instance starting up learns at most this many entries. 0: no limit.
  std::size_t max_feed_records = 100'000;
  /// quick() holds while a scope's index has at most this many entries (a search of 10k entries
  /// takes ~0.4 ms; beyond that a lookup belongs on a worker, not on a session strand).
  std::size_t quick_index_entries = 10'000;
  std::size_t max_audio_samples = 16000 * 120;  // replies with longer audio are stored without it
  std::chrono::milliseconds shared_sync_interval{0};  // min time between feed pulls per scope
  int breaker_failures = 3;                           // consecutive shared errors that open it
  std::chrono::milliseconds breaker_cooldown{5000};   // shared tier skipped this long
  std::string key_prefix = "rc:v1:";  // every store key starts with it (a Redis store adds its own "parley:")
};

struct response_cache_stats {
  std::uint64_t n_lookups = 0;
  std::uint64_t n_exact_hits = 0;
  std::uint64_t n_semantic_hits = 0;
  std::uint64_t n_misses = 0;
  std::uint64_t n_shared_hits = 0;       // hits served from the shared tier (copied to local)
  std::uint64_t n_shared_errors = 0;     // shared-tier calls that failed (each read one = a miss)
  std::uint64_t n_shared_skipped = 0;    // shared-tier calls skipped while the breaker was open
  std::uint64_t n_corrupt_entries = 0;   // blobs that failed to decode (erased)
  std::uint64_t n_embed_errors = 0;
  std::uint64_t n_stores = 0;
  std::uint64_t n_not_stored = 0;        // class with ttl <= 0, or nothing left after normalising
  std::uint64_t n_invalidations = 0;
  std::uint64_t n_feed_records = 0;      // index records pulled from the shared feed
  std::uint64_t n_feed_rebuilds = 0;     // scopes rebuilt because their feed was wiped or trimmed past
  std::uint64_t n_shared_data_lost = 0;  // feeds found restarted with no invalidation (the store lost its data)
};

/// One stored entry as it is serialised into a store value.
struct stored_entry {
  std::string query;           // as the user said it
  std::string normalized_key;  // normalize_query(query)
  cached_reply reply;
  std::int64_t stored_unix_ms = 0;  // wall clock at store(), for the TTL left on a tier copy
  std::uint32_t ttl_s = 0;
  std::vector<float> embedding;  // empty when stored without one
};

/// The versioned binary format, little-endian: "PRCE", u8 version (1), u8 flags (bit 0: audio),
/// query, normalized_key, text, reply_class (each u32 length + bytes), u64 stored_unix_ms,
/// u32 ttl_s, [u32 sample_rate_hz, u32 n_samples, int16 pcm...], u32 dims + float32 embedding,
/// u32 checksum of everything before it.
std::string encode_entry(const stored_entry& entry);
/// Fails with errc::unsupported_format for a foreign, truncated, corrupt or newer blob.
result<stored_entry> decode_entry(std::string_view bytes);

class response_cache {
 public:
  /// The cache over `local` (required) and `shared` (optional); without an embedder it matches
  /// exactly only. invalid_argument without a local store.
  static result<std::unique_ptr<response_cache>> create(response_cache_config config,
                                                        std::shared_ptr<engine::embedder> embedder,
                                                        std::shared_ptr<entry_store> local,
                                                        std::shared_ptr<entry_store> shared,
                                                        const clock& clk = steady_clock_source::instance());

  /// Exact, then semantic, local tier then shared; never fails (errors are misses + counters).
  cache_lookup lookup(std::string_view query, const cache_scope& scope);
  /// Stores `reply` for `query` in `scope` (class from reply.reply_class or classify()). Fails
  /// only when the local tier refuses it or the query is empty after normalising; shared-tier
  /// errors are counted, not returned. A class whose TTL is <= 0 is not stored (ok, counted).
  status store(std::string_view query, const cache_scope& scope, cached_reply reply);
  /// Removes the entry stored for exactly this query (after normalising) in `scope`, on both
  /// tiers and, through the feed, from other instances' indexes.
  status invalidate(std::string_view query, const cache_scope& scope);
  /// Removes every entry of `scope` (exactly that user, or the shared scope when user is "").
  status invalidate_scope(const cache_scope& scope);

  /// A default class for a reply: "volatile" (the time or date right now: never cached),
  /// "time_sensitive" (now, today, weather, prices, news...) or "static".
  static std::string classify(std::string_view query, std::string_view reply_text);

  /// The policy of `reply_class` (the default policy for an unknown class).
  const class_policy& policy(std::string_view reply_class) const;
  /// The store key of a query in a scope (prefix + escaped scope + normalised query).
  std::string entry_key(std::string_view query, const cache_scope& scope) const;
  /// Two normalised keys that may match semantically (the number and substitution guards).
  bool compatible(std::string_view normalized_a, std::string_view normalized_b) const;

  /// True when a lookup in `scope` cannot block: no shared tier, a quick local store and quick
  /// embedders, and indexes of at most quick_index_entries (the scope's and, for a user scope, the
  /// shared scope's). The router then looks up inline on the session's strand.
  bool quick(const cache_scope& scope);

  response_cache_stats stats() const;
  const response_cache_config& config() const { return config_; }

 private:
  response_cache(response_cache_config config, std::shared_ptr<engine::embedder> embedder,
                 std::shared_ptr<entry_store> local, std::shared_ptr<entry_store> shared, const clock& clk);

  struct scope_state {
    explicit scope_state(std::size_t dims, semantic_index_config cfg) : index(dims, cfg) {}
    semantic_index index;
    std::mutex sync_mutex;  // one feed pull at a time
    std::size_t feed_offset = 0;
    std::uint64_t last_nonce = 0;
    time_point last_sync{};
    bool synced_once = false;
    std::optional<std::string> epoch;  // the scope's epoch in the shared store, as last read (absent: none read)
  };
  struct fetched {
    stored_entry entry;
    std::string tier;
  };

  std::string scope_prefix(const cache_scope& scope) const;
  /// Where invalidate_scope() records a new epoch for the scope `prefix` before wiping it.
  std::string epoch_key(const std::string& prefix) const;
  static constexpr std::chrono::seconds k_epoch_ttl{std::chrono::hours(24 * 365)};
  std::shared_ptr<scope_state> state_of(const std::string& prefix);
  /// The entry under `key`, local tier first. *absent (if given) is set when both tiers answered
  /// that there is no such entry (as opposed to an error or a skipped shared tier).
  std::optional<fetched> fetch(const std::string& key, bool copy_to_local, bool* absent);
  void sync_feed(const std::string& prefix, scope_state& state);
  bool shared_usable();
  void shared_ok();
  void shared_failed();
  void publish(const std::string& prefix, std::uint8_t kind, const std::string& key, const std::vector<float>& v);

  response_cache_config config_;
  std::shared_ptr<engine::embedder> embedder_;
  std::shared_ptr<entry_store> local_;
  std::shared_ptr<entry_store> shared_;
  const clock& clock_;
  double min_threshold_ = 1.0;

  std::mutex scopes_mutex_;
  std::unordered_map<std::string, std::shared_ptr<scope_state>> scopes_;

  std::mutex breaker_mutex_;
  int consecutive_failures_ = 0;
  time_point breaker_open_until_{};
  std::optional<time_point> outage_since_;  // the breaker opened and no call has succeeded since

  struct counters {
    std::atomic<std::uint64_t> n_lookups{0}, n_exact_hits{0}, n_semantic_hits{0}, n_misses{0}, n_shared_hits{0},
        n_shared_errors{0}, n_shared_skipped{0}, n_corrupt_entries{0}, n_embed_errors{0}, n_stores{0},
        n_not_stored{0}, n_invalidations{0}, n_feed_records{0}, n_feed_rebuilds{0}, n_shared_data_lost{0};
  } counters_;
};

}  // namespace parley::cache
