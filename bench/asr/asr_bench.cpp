// parley_asr_bench — word error rate, finalisation latency and real-time factor of the streaming
// pocketsphinx recognizer, side by side with pocketsphinx's own batch decode of the same audio.
//
//   parley_asr_bench --manifest ../shared/corpus/manifest.jsonl [--phrases FILE] [--json out.json]
//
// For every file of the manifest the audio is cut at the true end of speech + --tail-ms (400 ms,
// what an endpointer with a 400 ms silence timer has seen when it calls finish()). Then:
//   baseline  pocketsphinx_batch_decoder: the generic en-us model with every pocketsphinx
//             default (3 passes, batch CMN), decoding the whole clip after it was recorded;
//   streaming pocketsphinx_recognizer with domain biasing: the clip is fed in 20 ms chunks, paced
//             in real time (--pace realtime, --lanes files at once) or as fast as possible
//             (--pace fast: WER only, latency not meaningful); finalisation latency is the wall
//             time from finish() to on_final.
// WER uses obs::word_error_rate (one normaliser for every row) and sums errors over reference
// words. RTF per core = decoding CPU time (thread CPU clock) / audio time.
// --sweep "SPEC;SPEC;..." decodes the corpus with several biasing setups instead (fast pace) and
// prints one WER row per setup; SPEC is none | domain_only | interpolate:WEIGHT | switching[:BIAS]
// (two decodes, the better-scoring of generic and phrase-only LM wins), optionally
// followed by ",2pass" (second pass on), ",running", ",fixed" or ",carry" (cepstral mean modes), ",lw=X" (LM
// weight), ",opt=-name=value" (any pocketsphinx option).
// --denoise LIST runs the streaming decode once per front-end setting: none (raw audio), hp
// (high-pass only), low | moderate | high | very_high (high-pass + WebRTC noise suppression at that
// level: audio::frontend, as a session runs it, fresh per file, over the whole clip from its lead
// silence). The batch baseline always decodes the raw audio. --markdown FILE writes the WER table
// (voice x condition rows; intent+faq+short and all columns per system) for docs/benchmarks.md.
// In a sweep, ",ns=LEVEL" denoises, ",prior=N" sets cmn_prior_frames, ",rate=X" cmn_adapt_rate.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <functional>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "parley/audio/frontend.hpp"
#include "parley/audio/wav.hpp"
#include "parley/core/clock.hpp"
#include "parley/engines/pocketsphinx/domain_lm.hpp"
#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"
#include "parley/obs/wer.hpp"

#ifndef PARLEY_ASR_DEFAULT_PHRASES
#define PARLEY_ASR_DEFAULT_PHRASES "bench/asr/domain_phrases.txt"
#endif

namespace fs = std::filesystem;
namespace ps = parley::pocketsphinx;
using parley::obs::wer_result;
using parley::obs::wer_total;
using json = nlohmann::json;

namespace {

struct utterance {
  std::string id, file, text, category, voice, condition;
  double speech_start_ms = 0, speech_end_ms = 0;
  std::vector<std::int16_t> samples;  // cut at speech end + tail
  std::uint64_t channel = 0;          // recognizer_events::channel (auto: one per voice × condition)
};

struct decoded {
  std::string hyp;
  wer_result wer;
  double final_ms = -1.0;          // finish() → on_final (streaming, realtime pace)
  double first_partial_ms = -1.0;  // first partial, from the start of the clip's audio
  int n_partials = 0;
  bool partial_before_final = false;
  bool error = false;
  ps::final_detail detail;  // streaming: the finalisation breakdown
};

struct system_run {
  std::string name;
  std::vector<decoded> results;  // parallel to the corpus
  double audio_ms = 0.0, cpu_ms = 0.0;
  double rtf() const { return audio_ms > 0 ? cpu_ms / audio_ms : 0.0; }
};

std::string machine_info() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " hardware threads";
}

std::vector<std::string> read_phrases(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read phrases file " + path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    out.push_back(line.substr(first));
  }
  return out;
}

std::vector<utterance> read_corpus(const std::string& manifest, double tail_ms) {
  std::ifstream in(manifest);
  if (!in) throw std::runtime_error("cannot read manifest " + manifest);
  const fs::path base = fs::path(manifest).parent_path();
  std::vector<utterance> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto j = json::parse(line);
    utterance u;
    u.id = j.value("id", "");
    u.file = (base / j.at("file").get<std::string>()).string();
    u.text = j.at("text").get<std::string>();
    u.category = j.value("category", "");
    u.voice = j.value("voice", "");
    u.condition = j.value("condition", "");
    u.speech_start_ms = j.value("speech_start_ms", 0.0);
    u.speech_end_ms = j.at("speech_end_ms").get<double>();
    auto clip = parley::audio::read_audio_file(u.file);
    if (!clip) throw std::runtime_error(clip.error().describe());
    const auto keep = static_cast<std::size_t>(parley::ms_to_samples(u.speech_end_ms + tail_ms));
    u.samples = std::move(clip->samples);
    if (u.samples.size() > keep) u.samples.resize(keep);
    out.push_back(std::move(u));
  }
  return out;
}

/// The front-end settings --denoise accepts, in the order of the levels; "auto" is what a session
/// does by default (raw audio, or the cleaned one when the input's SNR is low; see auto_denoised).
const std::vector<std::string> k_denoise_names = {"none", "hp", "low", "moderate", "high", "very_high", "auto"};
double g_auto_snr_db = parley::audio::k_asr_denoise_below_snr_db;  // --auto-snr-db

/// "auto": each file through a session's default front-end (noise suppression high, level gate) in
/// 20 ms frames; at the point where the endpointer would start the turn (3 voiced frames in a
/// row) the front-end's snr_db() decides, as the session does, whether the recognizer hears the
/// cleaned audio (SNR below g_auto_snr_db) or the raw input. Prints how many files chose each.
std::vector<utterance> auto_denoised(const std::vector<utterance>& corpus) {
  std::vector<utterance> out = corpus;
  std::map<std::string, std::pair<int, int>> chosen;  // condition → (cleaned, raw)
  for (auto& u : out) {
    auto fe = parley::audio::frontend::create({});
    if (!fe) throw std::runtime_error(fe.error().describe());
    std::vector<std::int16_t> cleaned = u.samples;
    constexpr std::size_t frame = 320;
    int run = 0;
    std::optional<bool> use_cleaned;
    for (std::size_t k = 0; k < cleaned.size(); k += frame) {
      std::array<std::int16_t, frame> buf{};
      const std::size_t n = std::min(frame, cleaned.size() - k);
      std::copy_n(cleaned.begin() + static_cast<std::ptrdiff_t>(k), n, buf.begin());
      auto r = fe->process(buf);
      if (!r) throw std::runtime_error(r.error().describe());
      std::copy_n(buf.begin(), n, cleaned.begin() + static_cast<std::ptrdiff_t>(k));
      run = *r >= 0.5 ? run + 1 : 0;
      if (!use_cleaned && run >= 3) use_cleaned = fe->snr_db() < g_auto_snr_db;
    }
    auto& c = chosen[u.condition];
    // As a session would be: one channel per voice and condition (a speaker in a room), raw and
    // cleaned audio apart.
    u.channel = 2 * (std::hash<std::string>{}(u.voice + "/" + u.condition) >> 1) + (use_cleaned.value_or(false) ? 1 : 0);
    if (use_cleaned.value_or(false)) {
      u.samples = std::move(cleaned);
      ++c.first;
    } else {
      ++c.second;
    }
  }
  std::cerr << "auto: cleaned audio below " << g_auto_snr_db << " dB SNR:";
  for (const auto& [condition, n] : chosen) std::cerr << " " << condition << " " << n.first << "/" << (n.first + n.second);
  std::cerr << "\n";
  return out;
}

/// A copy of `corpus` cleaned by the audio front-end (`name` from k_denoise_names), each file
/// through a fresh front-end in 20 ms frames, as a session's input path does.
std::vector<utterance> denoised(const std::vector<utterance>& corpus, const std::string& name) {
  if (name == "none") return corpus;
  if (name == "auto") return auto_denoised(corpus);
  parley::audio::frontend_config cfg;
  cfg.high_pass = true;
  cfg.gain_control = false;
  cfg.noise_suppression = name != "hp";
  if (cfg.noise_suppression) {
    const auto it = std::find(k_denoise_names.begin(), k_denoise_names.end(), name);
    if (it == k_denoise_names.end()) throw std::runtime_error("unknown --denoise setting " + name);
    cfg.noise_suppression_level = static_cast<int>(it - k_denoise_names.begin()) - 2;  // low = 0
  }
  std::vector<utterance> out = corpus;
  for (auto& u : out) {
    auto fe = parley::audio::frontend::create(cfg);
    if (!fe) throw std::runtime_error(fe.error().describe());
    constexpr std::size_t frame = 320;
    for (std::size_t k = 0; k < u.samples.size(); k += frame) {
      std::array<std::int16_t, frame> buf{};  // the last partial frame is zero-padded
      const std::size_t n = std::min(frame, u.samples.size() - k);
      std::copy_n(u.samples.begin() + static_cast<std::ptrdiff_t>(k), n, buf.begin());
      if (auto r = fe->process(buf); !r) throw std::runtime_error(r.error().describe());
      std::copy_n(buf.begin(), n, u.samples.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  return out;
}

// --- decoding ----------------------------------------------------------------------------

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

/// Streams every utterance through `asr`; `lanes` files at once; realtime or fast pacing.
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
                                  [w](parley::result<std::string> text) {
                                    const auto now = parley::steady_clock::now();
                                    std::lock_guard lock(w->m);
                                    w->t_final = now;
                                    w->text = std::move(text);
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
                              [sd](parley::result<std::string> t) {
                                std::lock_guard lock(sd->m);
                                if (t) sd->text = *t;
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

// --- reporting ---------------------------------------------------------------------------

using filter = std::function<bool(const utterance&)>;

wer_total total_of(const std::vector<utterance>& corpus, const system_run& run, const filter& f) {
  wer_total t;
  for (std::size_t i = 0; i < corpus.size(); ++i)
    if (f(corpus[i])) t.add(run.results[i].wer);
  return t;
}

std::string pct(const wer_total& t) {
  if (t.n_utterances == 0) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << 100.0 * t.wer();
  return os.str();
}

bool is_clean_flite(const utterance& u) { return u.condition == "clean" && u.voice.rfind("flite:", 0) == 0; }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(v.size()))));
  return v[rank - 1];
}

const std::vector<std::string> k_categories = {"intent", "faq", "open", "pause", "short"};

void print_matrix(std::ostream& os, const std::vector<utterance>& corpus, const system_run& run) {
  std::vector<std::pair<std::string, std::string>> rows;  // voice, condition in corpus order
  for (const auto& u : corpus)
    if (std::find(rows.begin(), rows.end(), std::make_pair(u.voice, u.condition)) == rows.end())
      rows.emplace_back(u.voice, u.condition);
  os << "  " << std::left << std::setw(24) << "voice / condition";
  for (const auto& c : k_categories) os << std::right << std::setw(8) << c;
  os << std::setw(8) << "all" << std::setw(8) << "words" << "\n";
  auto row = [&](const std::string& label, const filter& f) {
    os << "  " << std::left << std::setw(24) << label;
    for (const auto& c : k_categories)
      os << std::right << std::setw(8) << pct(total_of(corpus, run, [&](const utterance& u) { return f(u) && u.category == c; }));
    const auto all = total_of(corpus, run, f);
    os << std::setw(8) << pct(all) << std::setw(8) << all.n_ref_words << "\n";
  };
  for (const auto& [v, c] : rows)
    row(v + " " + c, [&](const utterance& u) { return u.voice == v && u.condition == c; });
  row("clean flite (3 voices)", is_clean_flite);
  row("clean, all voices", [](const utterance& u) { return u.condition == "clean"; });
  row("everything", [](const utterance&) { return true; });
}

bool is_ifs(const utterance& u) { return u.category == "intent" || u.category == "faq" || u.category == "short"; }

/// The WER table for docs/benchmarks.md: one row per voice/condition (and summary rows), two
/// columns per system (intent+faq+short queries, all queries), then the RTF per core.
void write_markdown(std::ostream& os, const std::vector<utterance>& corpus, const system_run* baseline,
                    const std::vector<system_run>& runs, const std::vector<std::string>& denoise) {
  std::vector<const system_run*> systems;
  std::vector<std::string> names;
  if (baseline) {
    systems.push_back(baseline);
    names.push_back("batch, generic LM");
  }
  for (std::size_t k = 0; k < runs.size(); ++k) {
    systems.push_back(&runs[k]);
    names.push_back(denoise[k] == "none" ? std::string("streaming + bias")
                                         : "streaming + bias, NS " + denoise[k]);
  }
  os << "| voice | condition | files |";
  for (const auto& n : names) os << " " << n << ": i+f+s | all |";
  os << "\n|---|---|---|";
  for (std::size_t k = 0; k < names.size(); ++k) os << "---|---|";
  os << "\n";
  auto row = [&](const std::string& voice, const std::string& condition, const filter& f, bool bold) {
    std::size_t n = 0;
    for (const auto& u : corpus) n += f(u) ? 1 : 0;
    os << "| " << voice << " | " << condition << " | " << n << " |";
    for (const auto* r : systems) {
      const auto a = total_of(corpus, *r, [&](const utterance& u) { return f(u) && is_ifs(u); });
      const auto b = total_of(corpus, *r, f);
      if (bold) os << " **" << pct(a) << "** | **" << pct(b) << "** |";
      else os << " " << pct(a) << " | " << pct(b) << " |";
    }
    os << "\n";
  };
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& u : corpus)
    if (std::find(rows.begin(), rows.end(), std::make_pair(u.voice, u.condition)) == rows.end())
      rows.emplace_back(u.voice, u.condition);
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    auto rank = [](const std::string& c) { return c == "clean" ? 0 : c == "pink20" ? 1 : 2; };
    return rank(a.second) < rank(b.second);
  });
  for (const auto& [v, c] : rows)
    row(v, c, [&](const utterance& u) { return u.voice == v && u.condition == c; }, false);
  row("flite slt+rms+awb", "clean", is_clean_flite, true);
  row("all voices", "clean", [](const utterance& u) { return u.condition == "clean"; }, false);
  row("everything", "all", [](const utterance&) { return true; }, false);
  os << "| real-time factor per core | | |";
  for (const auto* r : systems) os << " " << std::fixed << std::setprecision(3) << r->rtf() << " | |";
  os << std::setprecision(1) << "\n";
}

/// Finalisation latency percentiles (overall, per condition) with the breakdown of where the time
/// goes and the slowest utterances. Returns the numbers as JSON.
json print_finalisation(std::ostream& os, const std::vector<utterance>& corpus, const system_run& run) {
  json j;
  auto stats = [&](const std::string& label, const filter& f) {
    std::vector<double> total, backlog, wait, catch_up, end_utt, end_utt_cpu;
    for (std::size_t i = 0; i < corpus.size(); ++i) {
      const auto& d = run.results[i];
      if (!f(corpus[i]) || d.final_ms < 0) continue;
      total.push_back(d.final_ms);
      backlog.push_back(d.detail.backlog_ms);
      wait.push_back(d.detail.wait_ms);
      catch_up.push_back(d.detail.catch_up_ms);
      end_utt.push_back(d.detail.end_utt_ms);
      end_utt_cpu.push_back(d.detail.end_utt_cpu_ms);
    }
    if (total.empty()) return;
    os << "  " << std::left << std::setw(26) << label << std::right << std::fixed << std::setprecision(1)
       << "n " << std::setw(3) << total.size() << "  total p50 " << std::setw(6) << percentile(total, 50) << "  p95 "
       << std::setw(6) << percentile(total, 95) << "  max " << std::setw(6) << percentile(total, 100)
       << " | p50/p95 backlog " << percentile(backlog, 50) << "/" << percentile(backlog, 95) << " ms audio, wait "
       << percentile(wait, 50) << "/" << percentile(wait, 95) << ", catch-up " << percentile(catch_up, 50) << "/"
       << percentile(catch_up, 95) << ", end_utt " << percentile(end_utt, 50) << "/" << percentile(end_utt, 95)
       << " (CPU " << percentile(end_utt_cpu, 50) << "/" << percentile(end_utt_cpu, 95) << ")\n";
    j[label] = {{"n", total.size()},
                {"p50", percentile(total, 50)},
                {"p90", percentile(total, 90)},
                {"p95", percentile(total, 95)},
                {"p99", percentile(total, 99)},
                {"max", percentile(total, 100)},
                {"end_utt_p50", percentile(end_utt, 50)},
                {"end_utt_p95", percentile(end_utt, 95)},
                {"end_utt_cpu_p50", percentile(end_utt_cpu, 50)},
                {"end_utt_cpu_p95", percentile(end_utt_cpu, 95)},
                {"backlog_p95", percentile(backlog, 95)}};
  };
  stats("all", [](const utterance&) { return true; });
  stats("intent+faq", [](const utterance& u) { return u.category == "intent" || u.category == "faq"; });
  std::set<std::string> conditions;
  for (const auto& u : corpus) conditions.insert(u.condition);
  for (const auto& c : conditions) stats("condition " + c, [&](const utterance& u) { return u.condition == c; });
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < corpus.size(); ++i)
    if (run.results[i].final_ms >= 0) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return run.results[a].final_ms > run.results[b].final_ms; });
  os << "  slowest:\n";
  for (std::size_t k = 0; k < std::min<std::size_t>(8, order.size()); ++k) {
    const auto& u = corpus[order[k]];
    const auto& d = run.results[order[k]];
    os << "    " << std::setw(7) << d.final_ms << " ms  " << u.id << " " << u.voice << " " << u.condition << " ("
       << parley::samples_to_ms(static_cast<parley::media_time>(u.samples.size())) << " ms audio, "
       << d.detail.n_frames << " frames): backlog " << d.detail.backlog_ms << " ms, wait " << d.detail.wait_ms
       << ", catch-up " << d.detail.catch_up_ms << ", end_utt " << d.detail.end_utt_ms << "\n";
  }
  return j;
}

json run_json(const std::vector<utterance>& corpus, const system_run& run) {
  json j;
  j["name"] = run.name;
  j["rtf_per_core"] = run.rtf();
  j["audio_ms"] = run.audio_ms;
  j["cpu_ms"] = run.cpu_ms;
  auto add = [&](json& into, const std::string& key, const filter& f) {
    const auto t = total_of(corpus, run, f);
    into[key] = {{"wer", t.wer()}, {"n_ref_words", t.n_ref_words}, {"n_sub", t.n_sub}, {"n_del", t.n_del},
                 {"n_ins", t.n_ins}, {"n_utterances", t.n_utterances}, {"n_exact", t.n_exact}};
  };
  json groups;
  std::set<std::pair<std::string, std::string>> vc;
  for (const auto& u : corpus) vc.emplace(u.voice, u.condition);
  for (const auto& [v, c] : vc) add(groups, v + " " + c, [&](const utterance& u) { return u.voice == v && u.condition == c; });
  for (const auto& cat : k_categories) {
    add(groups, "clean flite / " + cat, [&](const utterance& u) { return is_clean_flite(u) && u.category == cat; });
    add(groups, "all / " + cat, [&](const utterance& u) { return u.category == cat; });
  }
  add(groups, "clean flite", is_clean_flite);
  add(groups, "clean flite / intent+faq+short", [](const utterance& u) {
    return is_clean_flite(u) && (u.category == "intent" || u.category == "faq" || u.category == "short");
  });
  add(groups, "everything", [](const utterance&) { return true; });
  j["wer"] = groups;
  json utts = json::array();
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const auto& d = run.results[i];
    json u = {{"id", corpus[i].id},        {"voice", corpus[i].voice}, {"condition", corpus[i].condition},
              {"category", corpus[i].category}, {"ref", corpus[i].text}, {"hyp", d.hyp},
              {"errors", d.wer.n_errors()}, {"ref_words", d.wer.n_ref_words}};
    if (d.final_ms >= 0) {
      u["final_ms"] = d.final_ms;
      u["final_detail"] = {{"backlog_ms", d.detail.backlog_ms},
                           {"wait_ms", d.detail.wait_ms},
                           {"catch_up_ms", d.detail.catch_up_ms},
                           {"end_utt_ms", d.detail.end_utt_ms},
                           {"end_utt_cpu_ms", d.detail.end_utt_cpu_ms},
                           {"n_frames", d.detail.n_frames}};
    }
    if (d.n_partials > 0) {
      u["n_partials"] = d.n_partials;
      u["first_partial_ms"] = d.first_partial_ms;
    }
    utts.push_back(std::move(u));
  }
  j["utterances"] = std::move(utts);
  return j;
}

struct sweep_spec {
  std::string label;
  ps::bias_mode bias = ps::bias_mode::interpolate;
  bool switching = false;
  double switch_bias = 0.0;
  double language_weight = 0.0;  // 0: the recognizer's default
  double weight = 0.3;
  bool second_pass = false;
  ps::cmn_mode cmn = ps::cmn_mode::running;
  int cmn_prior_frames = 0;  // 0: the recognizer's default
  double cmn_adapt_rate = -1.0;
  std::string denoise = "none";
  std::vector<std::pair<std::string, std::string>> options;
};

// "-name=value" (a pocketsphinx option, as --ps-option and a sweep's opt= take it).
std::pair<std::string, std::string> parse_ps_option(const std::string& text) {
  const auto eq = text.find('=');
  if (text.empty() || text[0] != '-' || eq == std::string::npos)
    throw std::runtime_error("a pocketsphinx option is -name=value, got " + text);
  return {text.substr(0, eq), text.substr(eq + 1)};
}

sweep_spec parse_spec(const std::string& text, const ps::pocketsphinx_config& defaults) {
  sweep_spec s;
  s.label = text;
  s.weight = defaults.domain_weight;
  s.second_pass = defaults.second_pass;
  s.cmn = defaults.cmn;
  std::stringstream in(text);
  std::string part;
  bool first = true;
  while (std::getline(in, part, ',')) {
    if (first) {
      first = false;
      if (part == "none") s.bias = ps::bias_mode::none;
      else if (part == "domain_only") s.bias = ps::bias_mode::domain_only;
      else if (part.rfind("switching", 0) == 0) {
        s.switching = true;
        if (const auto colon = part.find(':'); colon != std::string::npos) s.switch_bias = std::stod(part.substr(colon + 1));
      }
      else if (part.rfind("interpolate", 0) == 0) {
        s.bias = ps::bias_mode::interpolate;
        if (const auto colon = part.find(':'); colon != std::string::npos) s.weight = std::stod(part.substr(colon + 1));
      } else {
        throw std::runtime_error("unknown sweep spec " + part);
      }
    } else if (part == "2pass") {
      s.second_pass = true;
    } else if (part == "1pass") {
      s.second_pass = false;
    } else if (part == "carry") {
      s.cmn = ps::cmn_mode::carry;
    } else if (part == "fixed") {
      s.cmn = ps::cmn_mode::fixed;
    } else if (part == "adaptive") {
      s.cmn = ps::cmn_mode::adaptive;
    } else if (part == "running") {
      s.cmn = ps::cmn_mode::running;
    } else if (part.rfind("prior=", 0) == 0) {
      s.cmn_prior_frames = std::stoi(part.substr(6));
    } else if (part.rfind("rate=", 0) == 0) {
      s.cmn_adapt_rate = std::stod(part.substr(5));
    } else if (part.rfind("ns=", 0) == 0) {
      s.denoise = part.substr(3);
      if (std::find(k_denoise_names.begin(), k_denoise_names.end(), s.denoise) == k_denoise_names.end())
        throw std::runtime_error("unknown ns= setting " + s.denoise);
    } else if (part.rfind("lw=", 0) == 0) {
      s.language_weight = std::stod(part.substr(3));
    } else if (part.rfind("opt=", 0) == 0) {  // opt=-name=value
      s.options.push_back(parse_ps_option(part.substr(4)));
    } else {
      throw std::runtime_error("unknown sweep option " + part);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"parley_asr_bench: streaming pocketsphinx vs batch baseline (WER, latency, RTF)"};
  std::string manifest = "../shared/corpus/manifest.jsonl";
  std::string phrases_path = PARLEY_ASR_DEFAULT_PHRASES;
  std::string json_path, markdown_path, order = "manifest", pace = "realtime", sweep, bias = "interpolate", cmn = "adaptive", denoise = "none";
  std::string model_dir = PARLEY_POCKETSPHINX_MODEL_DIR;
  double tail_ms = 400.0, weight = -1.0, language_weight = 0.0;
  int workers = 0, lanes = 0;
  bool second_pass = false, no_baseline = false, verbose = false;
  std::vector<std::string> only_conditions, only_voices, ps_options;
  app.add_option("--manifest", manifest, "corpus manifest (JSONL)");
  app.add_option("--phrases", phrases_path, "domain phrases, one per line ('#' comments)");
  app.add_option("--json", json_path, "write the full results here");
  app.add_option("--pace", pace, "realtime (latency measured) or fast (WER only)")->check(CLI::IsMember({"realtime", "fast"}));
  app.add_option("--lanes", lanes, "files streamed at once (0: the number of workers)");
  app.add_option("--workers", workers, "recognizer worker threads (0: hardware threads)");
  app.add_option("--bias", bias, "none | domain_only | interpolate")->check(CLI::IsMember({"none", "domain_only", "interpolate"}));
  app.add_option("--weight", weight, "domain LM weight for interpolate (default: the recognizer's)");
  app.add_option("--lw", language_weight, "pocketsphinx language weight (default: the recognizer's)");
  app.add_option("--ps-option", ps_options, "extra pocketsphinx option as -name=value (repeatable), e.g. -pl_window=0");
  app.add_flag("--second-pass", second_pass, "enable pocketsphinx's second (fwdflat) pass");
  app.add_option("--cmn", cmn, "adaptive | running | fixed | carry")->check(CLI::IsMember({"adaptive", "running", "fixed", "carry"}));
  app.add_option("--tail-ms", tail_ms, "audio kept after the true end of speech (the endpointer's silence)");
  app.add_option("--sweep", sweep, "';'-separated biasing setups to compare (fast pace, WER only)");
  app.add_option("--model-dir", model_dir, "pocketsphinx model folder");
  app.add_option("--denoise", denoise,
                 "comma-separated front-end settings, one streaming run each: none | hp | low | moderate | high | "
                 "very_high | auto (a session's default: cleaned audio only when the SNR is low)");
  app.add_option("--auto-snr-db", g_auto_snr_db, "with --denoise auto: the SNR below which the cleaned audio is used")
      ->capture_default_str();
  app.add_option("--order", order, "decoding order: manifest | reverse | grouped (by voice and condition)")
      ->check(CLI::IsMember({"manifest", "reverse", "grouped"}));
  app.add_option("--markdown", markdown_path, "write the WER table (markdown) here");
  app.add_flag("--no-baseline", no_baseline, "skip the batch baseline");
  app.add_option("--conditions", only_conditions, "only these conditions (clean, pink20, pink10)")->delimiter(',');
  app.add_option("--voices", only_voices, "only these voices (flite:slt, ..., espeak:en-us)")->delimiter(',');
  app.add_flag("-v,--verbose", verbose, "print every hypothesis");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto phrases = read_phrases(phrases_path);
    auto corpus = read_corpus(manifest, tail_ms);
    auto excluded = [&](const utterance& u) {
      const auto has = [](const std::vector<std::string>& v, const std::string& x) {
        return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
      };
      return !has(only_conditions, u.condition) || !has(only_voices, u.voice);
    };
    corpus.erase(std::remove_if(corpus.begin(), corpus.end(), excluded), corpus.end());
    // Decoding order matters only for state carried between utterances (cmn_mode::adaptive).
    if (order == "reverse") std::reverse(corpus.begin(), corpus.end());
    else if (order == "grouped")
      std::stable_sort(corpus.begin(), corpus.end(), [](const utterance& a, const utterance& b) {
        return std::tie(a.voice, a.condition) < std::tie(b.voice, b.condition);
      });

    // Honesty check: the phrase list must not simply contain the test sentences.
    std::set<std::string> refs;
    for (const auto& u : corpus) refs.insert(parley::obs::normalize_for_wer(u.text));
    std::size_t n_overlap = 0;
    for (const auto& p : phrases)
      if (refs.count(parley::obs::normalize_for_wer(p))) ++n_overlap;

    ps::pocketsphinx_config base;
    base.model_dir = model_dir;
    base.domain_phrases = phrases;
    base.n_workers = workers;
    base.second_pass = second_pass;
    base.cmn = cmn == "carry"     ? ps::cmn_mode::carry
               : cmn == "fixed"   ? ps::cmn_mode::fixed
               : cmn == "running" ? ps::cmn_mode::running
                                  : ps::cmn_mode::adaptive;
    base.bias = bias == "none" ? ps::bias_mode::none
                : bias == "domain_only" ? ps::bias_mode::domain_only
                                        : ps::bias_mode::interpolate;
    if (weight > 0) base.domain_weight = weight;
    base.language_weight = language_weight;
    for (const auto& o : ps_options) base.decoder_options.push_back(parse_ps_option(o));

    std::cout << "parley_asr_bench  " << machine_info() << "\n"
              << "corpus: " << corpus.size() << " files from " << manifest << ", cut at speech end + " << tail_ms
              << " ms\nphrases: " << phrases.size() << " from " << phrases_path << " (" << n_overlap
              << " identical to a corpus reference)\n\n";
    json out;
    out["machine"] = machine_info();
    out["manifest"] = manifest;
    out["n_files"] = corpus.size();
    out["tail_ms"] = tail_ms;
    out["phrases"] = {{"file", phrases_path}, {"n", phrases.size()}, {"n_identical_to_reference", n_overlap}};

    std::optional<system_run> baseline;
    if (!no_baseline) {
      baseline = run_baseline(corpus, model_dir);
      out["baseline"] = run_json(corpus, *baseline);
    }

    if (!sweep.empty()) {
      std::cout << "biasing sweep (streaming, fast pace); WER %\n  " << std::left << std::setw(26) << "setup"
                << std::right;
      const std::vector<std::string> cols = {"cf:int", "cf:faq", "cf:open", "cf:pause", "cf:short", "cf:i+f+s",
                                             "cf:all", "espeak", "pink20", "pink10", "all"};
      for (const auto& c : cols) std::cout << std::setw(9) << c;
      std::cout << std::setw(8) << "rtf" << std::setw(16) << "end_utt p50/95" << std::setw(8) << "max" << "  (ms CPU)" << "\n";
      json rows = json::array();
      auto print_row = [&](const std::string& label, const system_run& r) {
        auto f = [&](const filter& flt) { return total_of(corpus, r, flt); };
        std::vector<wer_total> t;
        for (const auto& c : k_categories)
          t.push_back(f([&](const utterance& u) { return is_clean_flite(u) && u.category == c; }));
        t.push_back(f([](const utterance& u) {
          return is_clean_flite(u) && (u.category == "intent" || u.category == "faq" || u.category == "short");
        }));
        t.push_back(f(is_clean_flite));
        t.push_back(f([](const utterance& u) { return u.voice.rfind("espeak", 0) == 0; }));
        t.push_back(f([](const utterance& u) { return u.condition == "pink20"; }));
        t.push_back(f([](const utterance& u) { return u.condition == "pink10"; }));
        t.push_back(f([](const utterance&) { return true; }));
        std::cout << "  " << std::left << std::setw(26) << label << std::right;
        json jr = {{"setup", label}, {"rtf_per_core", r.rtf()}};
        for (std::size_t k = 0; k < t.size(); ++k) {
          std::cout << std::setw(9) << pct(t[k]);
          jr[cols[k]] = t[k].wer();
        }
        std::vector<double> end_utt;
        for (const auto& d : r.results) end_utt.push_back(d.detail.end_utt_cpu_ms);
        std::cout << std::setw(8) << std::fixed << std::setprecision(3) << r.rtf() << std::setprecision(1)
                  << std::setw(9) << percentile(end_utt, 50) << "/" << std::setw(6) << percentile(end_utt, 95)
                  << std::setw(8) << percentile(end_utt, 100) << "\n";
        jr["end_utt_p50_ms"] = percentile(end_utt, 50);
        jr["end_utt_p95_ms"] = percentile(end_utt, 95);
        rows.push_back(std::move(jr));
      };
      if (baseline) print_row("baseline: batch generic", *baseline);
      std::map<std::string, std::vector<utterance>> cleaned;  // denoised copies of the corpus
      std::stringstream in(sweep);
      std::string spec_text;
      while (std::getline(in, spec_text, ';')) {
        if (spec_text.empty()) continue;
        const auto spec = parse_spec(spec_text, base);
        auto cfg = base;
        cfg.bias = spec.bias;
        cfg.domain_weight = spec.weight;
        cfg.second_pass = spec.second_pass;
        cfg.cmn = spec.cmn;
        for (const auto& o : spec.options) cfg.decoder_options.push_back(o);
        cfg.language_weight = spec.language_weight;
        if (spec.cmn_prior_frames > 0) cfg.cmn_prior_frames = spec.cmn_prior_frames;
        if (spec.cmn_adapt_rate >= 0) cfg.cmn_adapt_rate = spec.cmn_adapt_rate;
        cfg.partials = false;
        if (!cleaned.count(spec.denoise)) cleaned.emplace(spec.denoise, denoised(corpus, spec.denoise));
        const auto& input = cleaned.at(spec.denoise);
        if (spec.switching) {
          auto gcfg = cfg, dcfg = cfg;
          gcfg.bias = ps::bias_mode::none;
          dcfg.bias = ps::bias_mode::domain_only;
          // Path scores are comparable only under the same language weight.
          gcfg.language_weight = dcfg.language_weight = cfg.language_weight > 0 ? cfg.language_weight : 6.5;
          auto g = ps::pocketsphinx_recognizer::create(gcfg);
          if (!g) throw std::runtime_error(g.error().describe());
          auto d = ps::pocketsphinx_recognizer::create(dcfg);
          if (!d) throw std::runtime_error(d.error().describe());
          std::size_t wins = 0;
          const int n_lanes = lanes > 0 ? lanes : (*g)->startup().n_workers;
          const auto r = run_switching(input, **g, **d, spec_text, n_lanes, spec.switch_bias, &wins);
          print_row(spec_text, r);
          std::cout << "    (phrase model chosen for " << wins << " of " << corpus.size() << " utterances)\n";
          continue;
        }
        auto asr = ps::pocketsphinx_recognizer::create(cfg);
        if (!asr) throw std::runtime_error(asr.error().describe());
        const int n_lanes = lanes > 0 ? lanes : (*asr)->startup().n_workers;
        const auto r = run_streaming(input, **asr, spec_text, false, n_lanes);
        print_row(spec_text, r);
      }
      out["sweep"] = rows;
    } else {
      const bool realtime = pace == "realtime";
      std::vector<system_run> runs;
      std::vector<std::string> run_denoise;
      std::stringstream dl(denoise);
      for (std::string dn; std::getline(dl, dn, ',');) {
        if (dn.empty()) continue;
        if (std::find(k_denoise_names.begin(), k_denoise_names.end(), dn) == k_denoise_names.end())
          throw std::runtime_error("unknown --denoise setting " + dn);
        // A fresh recognizer per setting: no state (cmn_mode::adaptive's prior) carries between runs.
        auto asr = ps::pocketsphinx_recognizer::create(base);
        if (!asr) throw std::runtime_error(asr.error().describe());
        const auto& st = (*asr)->startup();
        if (runs.empty()) {
          std::cout << "recognizer: " << st.n_decoders << " decoders, " << st.n_workers << " workers; bias "
                    << ps::to_string(st.bias) << " (domain weight " << st.domain_weight << "), second pass "
                    << (base.second_pass ? "on" : "off") << ", cmn " << cmn << (ps_options.empty() ? std::string() : ", options " + CLI::detail::join(ps_options, " ")) << "\n"
                    << "start-up: " << std::fixed << std::setprecision(0) << st.startup_ms << " ms; per decoder "
                    << st.decoder_init_ms << " ms, ~" << st.decoder_rss_mb << " MB resident; phrase LM "
                    << st.n_domain_phrases << " phrases, " << st.n_domain_words << " words; "
                    << st.added_words.size() << " words given pronunciations\n";
          for (const auto& w : st.added_words)
            std::cout << "  + " << w.word << "  " << w.phones << "  (" << ps::to_string(w.source) << ")\n";
          out["recognizer"] = {{"bias", ps::to_string(st.bias)},
                               {"domain_weight", st.domain_weight},
                               {"second_pass", base.second_pass},
                               {"cmn", cmn},
                               {"n_decoders", st.n_decoders},
                               {"n_workers", st.n_workers},
                               {"startup_ms", st.startup_ms},
                               {"decoder_init_ms", st.decoder_init_ms},
                               {"decoder_rss_mb", st.decoder_rss_mb},
                               {"n_added_words", st.added_words.size()}};
        }
        const int n_lanes = lanes > 0 ? lanes : st.n_workers;
        const auto input = denoised(corpus, dn);
        runs.push_back(run_streaming(input, **asr, "streaming, front-end " + dn, realtime, n_lanes));
        run_denoise.push_back(dn);
        const auto s = (*asr)->stats();
        std::cout << "[" << dn << "] recognizer stats: " << s.n_finals << " finals, " << s.n_waited_for_decoder
                  << " waited for a decoder, " << s.n_dropped_samples << " samples dropped; " << n_lanes
                  << " lanes, " << pace << " pace\n";
      }

      std::cout << std::fixed << std::setprecision(1) << "\nWER % by voice/condition x category\n";
      if (baseline) {
        std::cout << "baseline: " << baseline->name << "\n";
        print_matrix(std::cout, corpus, *baseline);
      }
      for (const auto& r : runs) {
        std::cout << r.name << "\n";
        print_matrix(std::cout, corpus, r);
      }
      std::cout << std::setprecision(3) << "\nreal-time factor per core (decoding CPU / audio):";
      if (baseline) std::cout << " batch " << baseline->rtf() << ";";
      for (std::size_t k = 0; k < runs.size(); ++k) std::cout << " " << run_denoise[k] << " " << runs[k].rtf() << ";";
      std::cout << "\n";

      if (!markdown_path.empty()) {
        std::ofstream md(markdown_path);
        write_markdown(md, corpus, baseline ? &*baseline : nullptr, runs, run_denoise);
        std::cout << "wrote " << markdown_path << "\n";
      }

      json jruns = json::array();
      for (std::size_t k = 0; k < runs.size(); ++k) {
        const auto& r = runs[k];
        json jr = run_json(corpus, r);
        jr["denoise"] = run_denoise[k];
        jr["pace"] = pace;
        if (realtime) {
          std::cout << "\nfinalisation (finish() -> on_final), front-end " << run_denoise[k] << ":\n";
          jr["finalisation_ms"] = print_finalisation(std::cout, corpus, r);
        }
        std::size_t n_partials = 0, n_partial_before_final = 0;
        for (const auto& d : r.results) {
          n_partials += static_cast<std::size_t>(d.n_partials);
          if (d.partial_before_final) ++n_partial_before_final;
        }
        jr["n_partials"] = n_partials;
        if (base.partials)
          std::cout << "partials: " << n_partials << " in " << corpus.size() << " utterances; "
                    << n_partial_before_final << " utterances had a partial before the final\n";
        jruns.push_back(std::move(jr));
      }
      out["streaming"] = std::move(jruns);

      if (verbose) {
        for (std::size_t i = 0; i < corpus.size(); ++i) {
          std::cout << corpus[i].id << " " << corpus[i].voice << " " << corpus[i].condition << "\n  ref: "
                    << corpus[i].text << "\n";
          if (baseline) std::cout << "  batch: " << baseline->results[i].hyp << "\n";
          for (std::size_t k = 0; k < runs.size(); ++k)
            std::cout << "  " << run_denoise[k] << ": " << runs[k].results[i].hyp << "\n";
        }
      }
    }
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      f << out.dump(2) << "\n";
      std::cout << "\nwrote " << json_path << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "parley_asr_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
