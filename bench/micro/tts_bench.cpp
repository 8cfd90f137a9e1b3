// Micro-benchmark of the embedded TTS engines: time to first audio chunk (TTFB, from
// synthesize() to the first on_audio) and real-time factor (RTF: synthesis wall time / audio
// duration) for one 12-word reply sentence, for every flite voice and for espeak-ng en-us, each
// at its native rate and — where a sink needs another rate — resampled. One request at a time on
// one worker, text normalisation on (as in a session). The clustergen flite voices run twice,
// side by side: with the first clause spoken as its own utterance (the default) and "/whole".
// Counters: ttfb_p50_ms / ttfb_p90_ms, rtf (mean), audio_s (per sentence), first_share
// (TTFB / whole synthesis time: the part of the work a listener waits for; the streaming gain
// over synthesize-then-send is 1 / first_share, measured side by side in the same iteration).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "parley/engines/espeak/espeak_synthesizer.hpp"
#include "parley/engines/flite/flite_synthesizer.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// 12 words, with a number and an abbreviation for the normaliser.
constexpr const char* k_sentence = "Sure, the nearest pharmacy is open until 9 tonight on Main St.";

struct one_run {
  double ttfb_ms = 0.0;
  double total_ms = 0.0;
  std::size_t n_samples = 0;
  bool ok = false;
};

one_run synthesize_once(parley::engine::synthesizer& tts) {
  std::mutex mutex;
  std::condition_variable cv;
  one_run run;
  bool done = false;
  clock_type::time_point t_first{};
  const auto t0 = clock_type::now();
  tts.synthesize(k_sentence,
                 {.on_audio =
                      [&](std::span<const std::int16_t> pcm) {
                        std::lock_guard lock(mutex);
                        if (run.n_samples == 0) t_first = clock_type::now();
                        run.n_samples += pcm.size();
                      },
                  .on_done =
                      [&](parley::status s) {
                        const auto t_done = clock_type::now();
                        std::lock_guard lock(mutex);
                        run.ok = s.has_value();
                        run.total_ms = std::chrono::duration<double, std::milli>(t_done - t0).count();
                        done = true;
                        cv.notify_all();
                      }},
                 {});
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return done; });
  run.ttfb_ms = std::chrono::duration<double, std::milli>(t_first - t0).count();
  return run;
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty()) return 0.0;
  std::sort(xs.begin(), xs.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

void bm_tts(benchmark::State& state, const std::function<std::shared_ptr<parley::engine::synthesizer>()>& make) {
  const auto tts = make();
  if (!tts) {
    state.SkipWithError("engine failed to start");
    return;
  }
  synthesize_once(*tts);  // warm-up: first-touch page faults, lazy tables
  std::vector<double> ttfb, rtf, first_share;
  double audio_s = 0.0;
  for (auto _ : state) {
    const one_run run = synthesize_once(*tts);
    if (!run.ok || run.n_samples == 0) {
      state.SkipWithError("synthesis failed");
      return;
    }
    audio_s = static_cast<double>(run.n_samples) / tts->caps().sample_rate_hz;
    ttfb.push_back(run.ttfb_ms);
    rtf.push_back(run.total_ms / 1000.0 / audio_s);
    first_share.push_back(run.ttfb_ms / run.total_ms);
  }
  double rtf_mean = 0.0;
  for (const double r : rtf) rtf_mean += r / static_cast<double>(rtf.size());
  state.counters["ttfb_p50_ms"] = percentile(ttfb, 0.5);
  state.counters["ttfb_p90_ms"] = percentile(ttfb, 0.9);
  state.counters["rtf"] = rtf_mean;
  state.counters["audio_s"] = audio_s;
  state.counters["first_share"] = percentile(first_share, 0.5);
  state.SetLabel(tts->name() + " @" + std::to_string(tts->caps().sample_rate_hz) + " Hz");
}

std::shared_ptr<parley::engine::synthesizer> flite_voice(const std::string& voice, int rate_hz, bool split = true) {
  auto tts = parley::flite::flite_synthesizer::create(
      {.voice = voice, .output_rate_hz = rate_hz, .split_first_clause = split});
  return tts ? std::shared_ptr<parley::engine::synthesizer>(*tts) : nullptr;
}

std::shared_ptr<parley::engine::synthesizer> espeak_voice(const std::string& voice, int rate_hz) {
  auto tts = parley::espeak::espeak_synthesizer::create({.voice = voice, .output_rate_hz = rate_hz});
  return tts ? std::shared_ptr<parley::engine::synthesizer>(*tts) : nullptr;
}

[[maybe_unused]] const bool k_registered = [] {
  for (const std::string& voice : parley::flite::flite_synthesizer::voices()) {
    benchmark::RegisterBenchmark(("tts/flite/" + voice).c_str(), bm_tts, [voice] { return flite_voice(voice, 0); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0);
  }
  for (const std::string voice : {"rms", "slt", "awb"}) {  // clustergen: first clause alone vs whole
    benchmark::RegisterBenchmark(("tts/flite/" + voice + "/whole").c_str(), bm_tts,
                                 [voice] { return flite_voice(voice, 0, false); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0);
  }
  benchmark::RegisterBenchmark("tts/flite/kal@16k", bm_tts, [] { return flite_voice("kal", 16000); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("tts/espeak/en-us", bm_tts, [] { return espeak_voice("en-us", 0); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("tts/espeak/en-us@16k", bm_tts, [] { return espeak_voice("en-us", 16000); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
  return true;
}();

}  // namespace
