// parley_asr_bench's decoding runs: the batch baseline, the streaming recognizer fed in 20 ms
// chunks (real-time or fast), and sentence-level switching between two recognizers (see asr_bench.hpp).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bench/asr/asr_bench.hpp"
#include "parley/core/clock.hpp"

namespace parley::asr_bench {

system_run run_baseline(const std::vector<utterance>& corpus, const std::string& model_dir) {
  system_run run{"batch (generic LM, pocketsphinx defaults)", {}, 0, 0};
  auto dec = ps::pocketsphinx_batch_decoder::create(model_dir);
  if (!dec) throw std::runtime_error(dec.error().describe());
  for (const auto& u : corpus) {
    decoded d;
    auto r = (*dec)->decode(u.samples);
    if (r) {
      d.hyp = r->text;
      run.audio_ms += r->audio_ms;
      run.cpu_ms += r->cpu_ms;
    } else {
      d.error = true;
    }
    d.wer = parley::obs::word_error_rate(u.text, d.hyp);
    run.results.push_back(std::move(d));
  }
  return run;
}

system_run read_transcripts(const std::vector<utterance>& corpus, const std::string& name, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read transcripts " + path);
  std::map<std::string, std::string> heard;  // file name → transcript
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    if (line.empty() || tab == std::string::npos) continue;
    heard[std::filesystem::path(line.substr(0, tab)).filename().string()] = line.substr(tab + 1);
  }
  system_run run{name, {}, 0, 0};
  std::size_t n_missing = 0;
  for (const auto& u : corpus) {
    decoded d;
    const auto it = heard.find(std::filesystem::path(u.file).filename().string());
    if (it == heard.end()) {
      ++n_missing;
      d.error = true;
    } else {
      d.hyp = it->second;
    }
    d.wer = parley::obs::word_error_rate(u.text, d.hyp);
    run.results.push_back(std::move(d));
  }
  if (n_missing > 0)
    throw std::runtime_error(path + " has no transcript for " + std::to_string(n_missing) + " of the " +
                             std::to_string(corpus.size()) + " files");
  return run;
}

namespace {

struct waiter {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  parley::result<std::string> text = std::string();
  parley::time_point t_final{};
  parley::time_point t_first_partial{};
  int n_partials = 0;
  ps::final_detail detail;
};

}  // namespace

system_run run_streaming(const std::vector<utterance>& corpus, ps::pocketsphinx_recognizer& asr,
                         const std::string& name, bool realtime, int lanes) {
  system_run run{name, std::vector<decoded>(corpus.size()), 0, 0};
  const auto before = asr.stats();
  std::atomic<std::size_t> next{0};
  auto lane = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= corpus.size()) return;
      const auto& u = corpus[i];
      auto w = std::make_shared<waiter>();
      auto stream = asr.open({.on_partial =
                                  [w](std::string, double) {
                                    std::lock_guard lock(w->m);
                                    if (w->n_partials++ == 0) w->t_first_partial = parley::steady_clock::now();
                                  },
                              .on_final =
                                  [w](parley::result<parley::engine::recognized> heard) {
                                    const auto now = parley::steady_clock::now();
                                    std::lock_guard lock(w->m);
                                    w->t_final = now;
                                    if (heard) {
                                      w->text = std::move(heard->text);
                                    } else {
                                      w->text = heard.error();
                                    }
                                    w->done = true;
                                    w->cv.notify_all();
                                  },
                              .channel = u.channel},
                             [w](const ps::final_detail& detail) {
                               std::lock_guard lock(w->m);
                               w->detail = detail;
                             });
      if (!stream) throw std::runtime_error(stream.error().describe());
      const std::size_t chunk = 320;  // 20 ms
      const auto t0 = parley::steady_clock::now();
      for (std::size_t k = 0, n = 0; k < u.samples.size(); k += chunk, ++n) {
        if (realtime) std::this_thread::sleep_until(t0 + parley::from_ms(20.0 * static_cast<double>(n)));
        (*stream)->feed(std::span<const std::int16_t>(u.samples).subspan(k, std::min(chunk, u.samples.size() - k)));
      }
      if (realtime) {
        const auto n_chunks = (u.samples.size() + chunk - 1) / chunk;
        std::this_thread::sleep_until(t0 + parley::from_ms(20.0 * static_cast<double>(n_chunks)));
      }
      const auto t_finish = parley::steady_clock::now();
      (*stream)->finish();
      std::unique_lock lock(w->m);
      w->cv.wait(lock, [&] { return w->done; });
      decoded d;
      if (w->text) d.hyp = *w->text;
      else d.error = true;
      d.wer = parley::obs::word_error_rate(u.text, d.hyp);
      if (realtime) d.final_ms = parley::to_ms(w->t_final - t_finish);
      d.n_partials = w->n_partials;
      d.detail = w->detail;
      d.partial_before_final = w->n_partials > 0 && w->t_first_partial <= w->t_final;
      if (w->n_partials > 0) d.first_partial_ms = parley::to_ms(w->t_first_partial - t0);
      run.results[i] = std::move(d);
    }
  };
  std::vector<std::thread> threads;
  for (int l = 0; l < std::max(1, lanes); ++l) threads.emplace_back(lane);
  for (auto& t : threads) t.join();
  const auto after = asr.stats();
  run.audio_ms = after.audio_ms - before.audio_ms;
  run.cpu_ms = after.cpu_ms - before.cpu_ms;
  return run;
}

/// Option (d), sentence-level switching: every utterance is decoded twice at once, with the generic
/// LM and with the phrase LM alone, and the hypothesis with the better path score wins (a
/// maximum over the two models; `bias` is added to the phrase model's score, pocketsphinx units).
system_run run_switching(const std::vector<utterance>& corpus, ps::pocketsphinx_recognizer& generic,
                         ps::pocketsphinx_recognizer& domain, const std::string& name, int lanes, double bias,
                         std::size_t* n_domain_wins) {
  system_run run{name, std::vector<decoded>(corpus.size()), 0, 0};
  const auto g0 = generic.stats(), d0 = domain.stats();
  std::atomic<std::size_t> next{0}, wins{0};
  auto lane = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= corpus.size()) return;
      struct side {
        std::mutex m;
        std::condition_variable cv;
        bool done = false;
        ps::final_detail detail;
        std::string text;
      };
      auto a = std::make_shared<side>(), b = std::make_shared<side>();
      auto open_on = [](ps::pocketsphinx_recognizer& r, const std::shared_ptr<side>& sd) {
        auto st = r.open({.on_partial = {},
                          .on_final =
                              [sd](parley::result<parley::engine::recognized> t) {
                                std::lock_guard lock(sd->m);
                                if (t) sd->text = t->text;
                                sd->done = true;
                                sd->cv.notify_all();
                              }},
                         [sd](const ps::final_detail& d) {
                           std::lock_guard lock(sd->m);
                           sd->detail = d;
                         });
        if (!st) throw std::runtime_error(st.error().describe());
        return std::move(*st);
      };
      auto sa = open_on(generic, a);
      auto sb = open_on(domain, b);
      const auto& u = corpus[i];
      for (std::size_t k = 0; k < u.samples.size(); k += 320) {
        const auto chunk = std::span<const std::int16_t>(u.samples).subspan(k, std::min<std::size_t>(320, u.samples.size() - k));
        sa->feed(chunk);
        sb->feed(chunk);
      }
      sa->finish();
      sb->finish();
      for (auto* sd : {a.get(), b.get()}) {
        std::unique_lock lock(sd->m);
        sd->cv.wait(lock, [&] { return sd->done; });
      }
      decoded d;
      const bool use_domain = !b->text.empty() &&
                              (a->text.empty() || static_cast<double>(b->detail.path_score) + bias >
                                                      static_cast<double>(a->detail.path_score));
      if (use_domain) ++wins;
      d.hyp = use_domain ? b->text : a->text;
      d.wer = parley::obs::word_error_rate(u.text, d.hyp);
      run.results[i] = std::move(d);
    }
  };
  std::vector<std::thread> threads;
  for (int l = 0; l < std::max(1, lanes); ++l) threads.emplace_back(lane);
  for (auto& t : threads) t.join();
  const auto g1 = generic.stats(), d1 = domain.stats();
  run.audio_ms = g1.audio_ms - g0.audio_ms;  // the audio, once; the CPU of both decodes
  run.cpu_ms = (g1.cpu_ms - g0.cpu_ms) + (d1.cpu_ms - d0.cpu_ms);
  if (n_domain_wins) *n_domain_wins = wins.load();
  return run;
}

}  // namespace parley::asr_bench
