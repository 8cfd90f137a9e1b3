// Micro-benchmark of the sentence chunker: a realistic 3-paragraph LLM reply (markdown, numbers,
// abbreviations, a list, a URL) fed token by token (1-6 bytes, as BPE pieces are), next to the
// same reply fed in one push, and markdown stripping alone. Reports bytes/s.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "parley/text/chunker.hpp"
#include "parley/text/markdown.hpp"

namespace {

constexpr std::string_view k_reply =
    "Sure, I can help with that! The **Eiffel Tower** was completed in 1889 for the World's Fair, "
    "and at 330 m it was the tallest structure in the world for about 41 years. It was designed by "
    "the company of Gustave Eiffel, although the original idea came from two of his engineers, "
    "Maurice Koechlin and \u00C9mile Nouguier. Today it welcomes roughly 6.1 million visitors a year.\n\n"
    "If you're planning a visit, here are a few tips:\n"
    "1. **Book online** at https://www.toureiffel.paris to skip the ticket queues.\n"
    "2. Arrive early, e.g. before 9:30 a.m., when the lines are shortest.\n"
    "3. Take the stairs to the 2nd floor; it's cheaper and the views are great.\n"
    "- *Tip:* the summit closes in strong wind, so check the forecast first.\n\n"
    "Dr. Smith's guide (3rd ed.) says the best photos are taken from the Trocad\u00E9ro at sunset... "
    "but honestly, any time works! Would you like restaurant suggestions nearby, or directions "
    "from your hotel? Let me know and I'll put together a short plan for your day.";

/// Splits the reply into 1-6 byte tokens, the same way every run.
std::vector<std::string_view> tokenize(std::string_view text) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> length(1, 6);
  std::vector<std::string_view> tokens;
  for (std::size_t pos = 0; pos < text.size(); pos += tokens.back().size()) {
    tokens.push_back(text.substr(pos, length(rng)));
  }
  return tokens;
}

void bm_chunker_token_by_token(benchmark::State& state) {
  const std::vector<std::string_view> tokens = tokenize(k_reply);
  parley::text::sentence_chunker chunker;
  for (auto _ : state) {
    chunker.reset();
    for (const std::string_view token : tokens) benchmark::DoNotOptimize(chunker.push(token));
    benchmark::DoNotOptimize(chunker.flush());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * k_reply.size()));
  state.counters["tokens"] = static_cast<double>(tokens.size());
  state.counters["segments"] = static_cast<double>(chunker.n_segments());
}
BENCHMARK(bm_chunker_token_by_token);

void bm_chunker_whole_reply(benchmark::State& state) {
  parley::text::sentence_chunker chunker;
  for (auto _ : state) {
    chunker.reset();
    benchmark::DoNotOptimize(chunker.push(k_reply));
    benchmark::DoNotOptimize(chunker.flush());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * k_reply.size()));
}
BENCHMARK(bm_chunker_whole_reply);

void bm_strip_markdown(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parley::text::strip_markdown(k_reply));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * k_reply.size()));
}
BENCHMARK(bm_strip_markdown);

}  // namespace
