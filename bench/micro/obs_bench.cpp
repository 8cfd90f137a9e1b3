// Micro-benchmarks for obs: the cost of recording a latency, deriving a turn's metrics and
// serialising it. These run once per turn (or per metric per turn), so anything under a few µs is
// noise next to a turn; the histogram record is the one on many threads at once.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "parley/obs/histogram.hpp"
#include "parley/obs/json.hpp"
#include "parley/obs/timeline.hpp"
#include "parley/obs/waterfall.hpp"

namespace {

using namespace parley;
using namespace parley::obs;

std::vector<double> latencies_ms() {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> d(std::log(300.0), 0.8);
  std::vector<double> v(4096);
  for (auto& x : v) x = d(rng);
  return v;
}

turn_timeline sample_turn() {
  manual_clock clock;
  turn_timeline t;
  t.session.value = 1;
  t.turn.value = 3;
  t.mode = "streaming";
  t.route = "llm";
  t.transcript = "what is the weather like in lisbon tomorrow";
  t.reply = "Tomorrow in Lisbon it will be sunny with a high of twenty four degrees.";
  for (const auto& [ms, s] :
       std::initializer_list<std::pair<double, stamp>>{{0, stamp::speech_end},
                                                       {300, stamp::turn_end},
                                                       {40, stamp::asr_final},
                                                       {0.5, stamp::llm_request},
                                                       {150, stamp::llm_first_token},
                                                       {110, stamp::first_segment},
                                                       {0.2, stamp::tts_request},
                                                       {120, stamp::tts_first_audio},
                                                       {0.3, stamp::first_audio_out},
                                                       {2000, stamp::reply_done}}) {
    clock.advance_ms(ms);
    t.mark(s, clock.now());
  }
  return t;
}

void bm_histogram_record(benchmark::State& state) {
  static histogram h;  // shared by the benchmark's threads
  const auto values = latencies_ms();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 1024;
  for (auto _ : state) {
    h.record(values[i++ & 4095]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_histogram_record)->Threads(1)->Threads(2)->UseRealTime();

void bm_histogram_summary(benchmark::State& state) {
  histogram h;
  for (const double v : latencies_ms()) h.record(v);
  for (auto _ : state) benchmark::DoNotOptimize(h.summary());
}
BENCHMARK(bm_histogram_summary);

void bm_timeline_metrics(benchmark::State& state) {
  const auto t = sample_turn();
  for (auto _ : state) {
    for (const auto& m : all_metrics) benchmark::DoNotOptimize(t.value(m.id));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n_metrics));
}
BENCHMARK(bm_timeline_metrics);

void bm_metric_set_record_turn(benchmark::State& state) {
  metric_set metrics;
  const auto t = sample_turn();
  for (auto _ : state) metrics.record(t);
}
BENCHMARK(bm_metric_set_record_turn);

void bm_turn_to_json(benchmark::State& state) {
  const auto t = sample_turn();
  for (auto _ : state) benchmark::DoNotOptimize(to_json(t));
}
BENCHMARK(bm_turn_to_json);

void bm_turn_to_json_line(benchmark::State& state) {
  const auto t = sample_turn();
  for (auto _ : state) benchmark::DoNotOptimize(to_json(t).dump());
}
BENCHMARK(bm_turn_to_json_line);

void bm_render_waterfall(benchmark::State& state) {
  const auto t = sample_turn();
  for (auto _ : state) benchmark::DoNotOptimize(render_waterfall(t));
}
BENCHMARK(bm_render_waterfall);

}  // namespace
