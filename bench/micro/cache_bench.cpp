// Micro-benchmarks of the response cache (src/parley/cache): the semantic index at 1k / 10k / 100k
// entries of 512 dims (int8 scan + exact re-score, next to a plain float32 scan), the n-gram
// embedder, the query-key normalisation, and whole lookups (exact and semantic hits) through
// response_cache over an in-process memory_store. Index rows are random unit vectors; the query
// is a noisy copy of one row (a realistic near-duplicate) so the re-score path runs.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>

#include "parley/cache/memory_store.hpp"
#include "parley/cache/query_key.hpp"
#include "parley/cache/response_cache.hpp"
#include "parley/cache/semantic_index.hpp"
#include "parley/engines/ngram/ngram_embedder.hpp"

namespace {

constexpr std::size_t k_dims = 512;

std::vector<float> unit_random(std::mt19937& rng) {
  std::normal_distribution<float> d;
  std::vector<float> v(k_dims);
  double n = 0;
  for (auto& x : v) x = d(rng), n += double(x) * x;
  for (auto& x : v) x = static_cast<float>(x / std::sqrt(n));
  return v;
}

struct index_fixture {
  std::unique_ptr<parley::cache::semantic_index> index;
  std::vector<float> query;
};

const index_fixture& fixture_for(std::size_t n, bool quantize) {
  static std::map<std::pair<std::size_t, bool>, index_fixture> cache;
  auto& f = cache[{n, quantize}];
  if (f.index) return f;
  parley::cache::semantic_index_config cfg;
  cfg.quantize = quantize;
  f.index = std::make_unique<parley::cache::semantic_index>(k_dims, cfg);
  std::mt19937 rng(1234);
  std::vector<float> keep;
  for (std::size_t i = 0; i < n; ++i) {
    auto v = unit_random(rng);
    if (i == n / 2) keep = v;
    (void)f.index->add("key" + std::to_string(i), v);
  }
  auto noise = unit_random(rng);
  f.query.resize(k_dims);
  double norm = 0;
  for (std::size_t i = 0; i < k_dims; ++i) f.query[i] = keep[i] + 0.4f * noise[i], norm += double(f.query[i]) * f.query[i];
  for (auto& x : f.query) x = static_cast<float>(x / std::sqrt(norm));
  return f;
}

void BM_index_search(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const bool quantize = state.range(1) != 0;
  const auto& f = fixture_for(n, quantize);
  std::size_t found = 0;
  for (auto _ : state) {
    auto hits = f.index->search(f.query, 4, 0.7);
    found += hits.size();
    benchmark::DoNotOptimize(hits);
  }
  if (found == 0) state.SkipWithError("the planted near-duplicate was not found");
  state.counters["entries"] = static_cast<double>(n);
  state.counters["index_MiB"] = static_cast<double>(f.index->memory_bytes()) / (1 << 20);
  state.SetLabel(quantize ? "int8+rescore" : "float32");
}
BENCHMARK(BM_index_search)
    ->ArgsProduct({{1000, 10000, 100000}, {1, 0}})
    ->ArgNames({"entries", "int8"})
    ->Unit(benchmark::kMicrosecond);

void BM_ngram_embed(benchmark::State& state) {
  parley::ngram::ngram_embedder e;
  for (auto _ : state) benchmark::DoNotOptimize(e.vectorize("how much does express shipping to canada cost"));
}
BENCHMARK(BM_ngram_embed)->Unit(benchmark::kMicrosecond);

void BM_normalize_query(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(parley::cache::normalize_query("Um, are you open at five p.m. on Sunday, please?"));
}
BENCHMARK(BM_normalize_query)->Unit(benchmark::kMicrosecond);

struct cache_fixture {
  std::shared_ptr<parley::cache::response_cache> cache;
};

// A response cache holding `n` replies (text only, plus the planted one with 2 s of audio).
const cache_fixture& cache_for(std::size_t n) {
  static std::map<std::size_t, cache_fixture> caches;
  auto& f = caches[n];
  if (f.cache) return f;
  auto embedder = std::make_shared<parley::ngram::ngram_embedder>();
  auto local = std::make_shared<parley::cache::memory_store>(parley::cache::memory_store_config{.max_bytes = 2ull << 30});
  auto made = parley::cache::response_cache::create(parley::cache::response_cache_config{}, embedder, local, nullptr);
  if (!made) {  // cannot happen with a local store; a benchmark without its cache would mean nothing
    std::fprintf(stderr, "cache_bench: %s\n", made.error().describe().c_str());
    std::abort();
  }
  f.cache = std::move(*made);
  static const char* topics[] = {"shipping", "returns", "password", "order", "store", "payment", "account", "gift"};
  static const char* verbs[] = {"how do i", "can i", "what is the", "where do i", "why does my", "when will"};
  for (std::size_t i = 0; i < n; ++i) {
    parley::cache::cached_reply r;
    r.text = "Answer " + std::to_string(i);
    r.reply_class = "static";
    const std::string q = std::string(verbs[i % 6]) + " " + topics[(i / 6) % 8] + " item " + std::to_string(i);
    (void)f.cache->store(q, {}, r);
  }
  parley::cache::cached_reply r;
  r.text = "Use the link in your e-mail to track it.";
  r.reply_class = "static";
  auto audio = std::make_shared<parley::cache::reply_audio>();
  audio->pcm.assign(32000, 1000);
  r.audio = audio;
  (void)f.cache->store("how do i track my order", {}, r);
  return f;
}

void BM_cache_lookup_exact(benchmark::State& state) {
  const auto& f = cache_for(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto hit = f.cache->lookup("Um, how do I track my order?", {});
    if (hit.kind != parley::cache::match_kind::exact) state.SkipWithError("expected an exact hit");
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_cache_lookup_exact)->Arg(1000)->Arg(10000)->ArgName("entries")->Unit(benchmark::kMicrosecond);

void BM_cache_lookup_semantic(benchmark::State& state) {
  const auto& f = cache_for(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto hit = f.cache->lookup("how can i track my package", {});
    if (hit.kind != parley::cache::match_kind::semantic) state.SkipWithError("expected a semantic hit");
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_cache_lookup_semantic)->Arg(1000)->Arg(10000)->ArgName("entries")->Unit(benchmark::kMicrosecond);

void BM_cache_lookup_miss(benchmark::State& state) {
  const auto& f = cache_for(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto hit = f.cache->lookup("who painted the mona lisa", {});
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_cache_lookup_miss)->Arg(1000)->Arg(10000)->ArgName("entries")->Unit(benchmark::kMicrosecond);

}  // namespace
