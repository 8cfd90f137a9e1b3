// Micro-benchmarks of engines/intents: local_responder::answer() latency for a deterministic
// intent, a FAQ question and an open question (which has to be scored against everything before
// it can be passed on), plus the FAQ matcher alone. Reported in µs per call.
//
//   build/release/bench/intents_bench --benchmark_filter=answer
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "parley/engines/intents/local_responder.hpp"

namespace {

using parley::intents::local_responder;

// data/faq/store.json, found from this source file's path (bench/micro/ → the repository root),
// or from $PARLEY_FAQ.
std::string store_faq_path() {
  if (const char* env = std::getenv("PARLEY_FAQ")) return env;
  const std::filesystem::path here(__FILE__);
  return (here.parent_path().parent_path().parent_path() / "data" / "faq" / "store.json").string();
}

std::shared_ptr<local_responder> make_responder() {
  static const parley::intents::manual_time_of_day tod({2024, 3, 5, 15, 5, 0});
  auto r = local_responder::create({.faq_path = store_faq_path(), .time_of_day = &tod});
  return r ? *r : nullptr;
}

void run_answer(benchmark::State& state, const char* text, const char* want_intent) {
  auto responder = make_responder();
  if (!responder) {
    state.SkipWithError("cannot load data/faq/store.json (set PARLEY_FAQ)");
    return;
  }
  const parley::engine::responder_context ctx{parley::session_id{1}, {}};
  const auto first = responder->answer(text, ctx);
  if (first.intent != want_intent) {
    state.SkipWithError(("unexpected intent " + first.intent).c_str());
    return;
  }
  for (auto _ : state) {
    auto a = responder->answer(text, ctx);
    benchmark::DoNotOptimize(a);
  }
  state.SetLabel(std::string(want_intent) + " @ " + std::to_string(first.confidence).substr(0, 4));
}

void bm_answer_intent_arithmetic(benchmark::State& state) {
  run_answer(state, "what is twelve times eight", "math.arithmetic");
}
void bm_answer_intent_conversion(benchmark::State& state) {
  run_answer(state, "how many minutes are in a day", "units.convert");
}
void bm_answer_intent_time(benchmark::State& state) { run_answer(state, "what time is it", "time.now"); }
void bm_answer_faq(benchmark::State& state) { run_answer(state, "can i get my money back", "faq.returns"); }
void bm_answer_open_question(benchmark::State& state) {
  auto responder = make_responder();
  if (!responder) {
    state.SkipWithError("cannot load data/faq/store.json (set PARLEY_FAQ)");
    return;
  }
  const parley::engine::responder_context ctx{parley::session_id{1}, {}};
  for (auto _ : state) {
    auto a = responder->answer("why is the sky blue in the afternoon", ctx);
    benchmark::DoNotOptimize(a);
  }
}

void bm_faq_match(benchmark::State& state) {
  auto responder = make_responder();
  if (!responder) {
    state.SkipWithError("cannot load data/faq/store.json (set PARLEY_FAQ)");
    return;
  }
  for (auto _ : state) {
    auto m = responder->faq()->match("how long will it take for my parcel to be delivered");
    benchmark::DoNotOptimize(m);
  }
}

void bm_faq_load(benchmark::State& state) {
  for (auto _ : state) {
    auto f = parley::intents::faq_index::load(store_faq_path());
    benchmark::DoNotOptimize(f);
  }
}

}  // namespace

BENCHMARK(bm_answer_intent_arithmetic)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_answer_intent_conversion)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_answer_intent_time)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_answer_faq)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_answer_open_question)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_faq_match)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_faq_load)->Unit(benchmark::kMicrosecond);
