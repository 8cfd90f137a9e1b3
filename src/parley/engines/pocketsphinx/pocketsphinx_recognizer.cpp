// The streaming pocketsphinx recognizer: start-up (validation, the domain LM plan, the decoder
// pool), open(), stats(), and the partial-hypothesis tracker (see pocketsphinx_recognizer.hpp).
// The pieces: sphinx_decoder.cpp (one decoder, built), decoder_pool.cpp (the pool, queue and
// workers), stream_state.cpp (one utterance), batch_decoder.cpp (the batch baseline).
#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "parley/core/clock.hpp"
#include "parley/core/log.hpp"
#include "parley/engines/pocketsphinx/domain_lm.hpp"
#include "parley/engines/pocketsphinx/recognizer_core.hpp"
#include "parley/engines/pocketsphinx/stream_state.hpp"

namespace parley::pocketsphinx {
namespace {

namespace fs = std::filesystem;
using detail::lm_plan;
using detail::make_decoder;
using detail::resident_mb;
using detail::resolve;
using detail::silence_sphinx_log;
using detail::stream_handle;
using detail::stream_state;

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const auto j = text.find(' ', i);
    const auto end = j == std::string_view::npos ? text.size() : j;
    if (end > i) words.emplace_back(text.substr(i, end - i));
    i = end;
  }
  return words;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// partial_tracker

partial_tracker::partial_tracker(int window) : window_(static_cast<std::size_t>(std::max(2, window))) {}

void partial_tracker::reset() {
  recent_.clear();
  stable_words_ = 0;
}

double partial_tracker::update(std::string_view hypothesis_text) {
  recent_.push_back(split_words(hypothesis_text));
  while (recent_.size() > window_) recent_.pop_front();
  const auto& current = recent_.back();
  stable_words_ = 0;
  if (recent_.size() >= 2) {
    std::size_t n = current.size();
    for (const auto& h : recent_) {
      std::size_t k = 0;
      while (k < n && k < h.size() && h[k] == current[k]) ++k;
      n = k;
    }
    stable_words_ = n;
  }
  if (current.empty()) return 0.0;
  return static_cast<double>(stable_words_) / static_cast<double>(current.size());
}

std::string_view to_string(cmn_mode mode) {
  switch (mode) {
    case cmn_mode::adaptive: return "adaptive";
    case cmn_mode::running: return "running";
    case cmn_mode::fixed: return "fixed";
    case cmn_mode::carry: return "carry";
  }
  return "?";
}

std::string_view to_string(bias_mode mode) {
  switch (mode) {
    case bias_mode::none: return "none";
    case bias_mode::domain_only: return "domain_only";
    case bias_mode::interpolate: return "interpolate";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// pocketsphinx_recognizer

pocketsphinx_recognizer::pocketsphinx_recognizer(std::shared_ptr<core> c) : core_(std::move(c)) {}

pocketsphinx_recognizer::~pocketsphinx_recognizer() { core_->shutdown(); }

engine::recognizer_caps pocketsphinx_recognizer::caps() const {
  return {k_input_rate_hz, true, core_->config.partials};
}

const pocketsphinx_startup& pocketsphinx_recognizer::startup() const { return core_->startup; }
const pocketsphinx_config& pocketsphinx_recognizer::config() const { return core_->config; }

std::optional<double> pocketsphinx_recognizer::backlog_ms() const {
  return samples_to_ms(static_cast<media_time>(core_->backlog_samples()));
}

pocketsphinx_stats pocketsphinx_recognizer::stats() const {
  pocketsphinx_stats s;
  s.n_opened = core_->n_opened.load();
  s.n_finals = core_->n_finals.load();
  s.n_cancelled = core_->n_cancelled.load();
  s.n_partials = core_->n_partials.load();
  s.n_waited_for_decoder = core_->n_waited.load();
  s.n_dropped_samples = core_->n_dropped.load();
  s.audio_ms = samples_to_ms(static_cast<media_time>(core_->decoded_samples.load()));
  s.cpu_ms = static_cast<double>(core_->cpu_us.load()) / 1000.0;
  return s;
}

result<std::unique_ptr<engine::recognizer_stream>> pocketsphinx_recognizer::open(engine::recognizer_events events) {
  return open(std::move(events), nullptr);
}

result<std::unique_ptr<engine::recognizer_stream>> pocketsphinx_recognizer::open(engine::recognizer_events events,
                                                                                 final_detail_fn on_detail) {
  core_->n_opened.fetch_add(1, std::memory_order_relaxed);
  auto state = std::make_shared<stream_state>(core_, std::move(events), std::move(on_detail));
  return std::unique_ptr<engine::recognizer_stream>(std::make_unique<stream_handle>(std::move(state)));
}

result<std::shared_ptr<pocketsphinx_recognizer>> pocketsphinx_recognizer::create(pocketsphinx_config config) {
  const auto t0 = steady_clock::now();
  silence_sphinx_log();

  // Validate before loading anything.
  const std::string am = resolve(config.model_dir, config.acoustic_model);
  const std::string lm = resolve(config.model_dir, config.language_model);
  const std::string dict = resolve(config.model_dir, config.dictionary);
  std::error_code ec;
  if (!fs::is_directory(config.model_dir, ec))
    return make_error(errc::not_found, "pocketsphinx: model folder not found: " + config.model_dir);
  if (!fs::is_directory(am, ec) || !fs::exists(fs::path(am) / "mdef", ec))
    return make_error(errc::not_found, "pocketsphinx: acoustic model not found: " + am);
  if (!fs::is_regular_file(dict, ec))
    return make_error(errc::not_found, "pocketsphinx: dictionary not found: " + dict);
  if (!fs::is_regular_file(lm, ec))
    return make_error(errc::not_found, "pocketsphinx: language model not found: " + lm);
  if (!(config.domain_weight > 0.0 && config.domain_weight < 1.0) && config.bias == bias_mode::interpolate)
    return make_error(errc::invalid_argument, "pocketsphinx: domain_weight must be in (0, 1)");
  if (config.partial_every_ms < 10.0)
    return make_error(errc::invalid_argument, "pocketsphinx: partial_every_ms must be at least 10");
  if (config.language_weight < 0.0 || config.language_weight > 50.0)
    return make_error(errc::invalid_argument, "pocketsphinx: language_weight must be in [0, 50]");
  if (config.max_words_per_frame == 0 || config.max_words_per_frame < -1)
    return make_error(errc::invalid_argument, "pocketsphinx: max_words_per_frame must be positive or -1");
  if (config.lookahead_frames < 0)
    return make_error(errc::invalid_argument, "pocketsphinx: lookahead_frames must be 0 or more");
  if (config.max_hmms_per_frame == 0 || config.max_hmms_per_frame < -1)
    return make_error(errc::invalid_argument, "pocketsphinx: max_hmms_per_frame must be positive or -1");
  if (config.n_workers < 0 || config.n_decoders < 0)
    return make_error(errc::invalid_argument, "pocketsphinx: n_workers and n_decoders must not be negative");

  auto c = std::make_shared<core>();
  c->config = config;
  auto& cfg = c->config;
  if (cfg.n_workers == 0) cfg.n_workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (cfg.n_decoders == 0) cfg.n_decoders = cfg.n_workers;
  c->piece_samples = static_cast<std::size_t>(ms_to_samples(cfg.partial_every_ms));
  c->slice_samples = std::max<std::size_t>(c->piece_samples, static_cast<std::size_t>(ms_to_samples(1000.0)));
  c->max_pending_samples = std::max<std::size_t>(c->piece_samples, static_cast<std::size_t>(ms_to_samples(cfg.max_pending_ms)));

  // The phrase model and the pronunciations of its unknown words (computed once, shared by all
  // decoders through the same ARPA file and word list).
  lm_plan plan;
  plan.generic_path = lm;
  plan.bias = cfg.domain_phrases.empty() ? bias_mode::none : cfg.bias;
  plan.weight = cfg.domain_weight;
  std::vector<std::vector<std::string>> sentences;
  std::set<std::string> vocab;
  for (const auto& p : cfg.domain_phrases) {
    auto words = phrase_words(p);
    for (const auto& w : words) vocab.insert(w);
    if (!words.empty()) sentences.push_back(std::move(words));
  }
  if (sentences.empty()) plan.bias = bias_mode::none;

  // Which phrase words does the dictionary lack? Read the word column of the dictionary once.
  if (!vocab.empty()) {
    std::set<std::string> known;
    std::ifstream in(dict);
    std::string line;
    while (std::getline(in, line)) {
      const auto sp = line.find_first_of(" \t");
      std::string w = line.substr(0, sp);
      if (const auto paren = w.find('('); paren != std::string::npos) w.resize(paren);
      if (vocab.count(w)) known.insert(w);
    }
    for (const auto& w : vocab) {
      if (known.count(w)) continue;
      plan.oov.push_back(guess_pronunciation(w, cfg.espeak_ng));
    }
  }

  std::string arpa_path;
  struct temp_file {
    std::string path;
    ~temp_file() {
      if (!path.empty()) std::remove(path.c_str());
    }
  } arpa_file;
  if (plan.bias != bias_mode::none) {
    const std::string arpa = build_arpa(sentences);
    char name[] = "/tmp/parley-domain-lm-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) return make_error(errc::io_error, "pocketsphinx: cannot create a temporary file for the domain LM");
    arpa_file.path = name;
    const auto* data = arpa.data();
    std::size_t left = arpa.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, data, left);
      if (n <= 0) {
        ::close(fd);
        return make_error(errc::io_error, "pocketsphinx: cannot write the domain LM");
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    ::close(fd);
    plan.domain_arpa_path = arpa_file.path;
  }

  // The decoder pool, loaded one after the other (measured: memory and time per decoder).
  double init_ms_total = 0.0, rss_mb_total = 0.0;
  for (int i = 0; i < cfg.n_decoders; ++i) {
    const double rss0 = resident_mb();
    const auto d0 = steady_clock::now();
    auto d = make_decoder(cfg, plan);
    if (!d) return d.error();
    init_ms_total += to_ms(steady_clock::now() - d0);
    rss_mb_total += resident_mb() - rss0;
    if (c->cmn_shared_prior.empty())
      c->cmn_shared_prior.assign((*d)->cmn_prior.begin(), (*d)->cmn_prior.end());
    c->free_decoders.push_back(d->get());
    c->decoders.push_back(std::move(*d));
  }

  auto& st = c->startup;
  st.n_workers = cfg.n_workers;
  st.n_decoders = cfg.n_decoders;
  st.decoder_init_ms = init_ms_total / cfg.n_decoders;
  st.decoder_rss_mb = rss_mb_total / cfg.n_decoders;
  st.bias = plan.bias;
  st.domain_weight = plan.bias == bias_mode::interpolate ? plan.weight : (plan.bias == bias_mode::domain_only ? 1.0 : 0.0);
  st.n_domain_phrases = sentences.size();
  st.n_domain_words = vocab.size();
  st.added_words = plan.oov;

  core* raw = c.get();
  for (int i = 0; i < cfg.n_workers; ++i) raw->threads.emplace_back([raw] { raw->worker_loop(); });
  st.startup_ms = to_ms(steady_clock::now() - t0);
  PARLEY_LOG(info, "pocketsphinx: " << st.n_decoders << " decoders, " << st.n_workers << " workers, bias "
                                    << to_string(st.bias) << ", " << st.added_words.size()
                                    << " words given pronunciations, ready in " << static_cast<int>(st.startup_ms)
                                    << " ms");
  return std::shared_ptr<pocketsphinx_recognizer>(new pocketsphinx_recognizer(std::move(c)));
}

}  // namespace parley::pocketsphinx
