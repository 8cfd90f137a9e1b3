// One pocketsphinx decoder, built from the config and the LM plan (see sphinx_decoder.hpp).
#include "parley/engines/pocketsphinx/sphinx_decoder.hpp"

#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/ngram_model.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "parley/core/log.hpp"

namespace parley::pocketsphinx::detail {

namespace fs = std::filesystem;

void silence_sphinx_log() {
  static std::once_flag once;
  std::call_once(once, [] { err_set_logfp(nullptr); });
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double resident_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0.0;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

std::string resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(dir) / path).string();
}

result<void> parse_config(cmdln& out, const std::vector<std::pair<std::string, std::string>>& options) {
  std::vector<std::string> strings;
  strings.emplace_back("parley");  // argv[0]: cmd_ln_parse_r skips it
  for (const auto& [k, v] : options) {
    strings.push_back(k);
    strings.push_back(v);
  }
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  out.p = cmd_ln_parse_r(nullptr, ps_args(), static_cast<int32>(argv.size()), argv.data(), TRUE);
  if (out.p == nullptr) return make_error(errc::invalid_argument, "pocketsphinx: invalid decoder options");
  return {};
}

namespace {
constexpr const char* k_search_name = "parley";
}  // namespace

result<std::unique_ptr<decoder>> make_decoder(const pocketsphinx_config& cfg, const lm_plan& plan) {
  std::vector<std::pair<std::string, std::string>> options = {
      {"-hmm", resolve(cfg.model_dir, cfg.acoustic_model)},
      {"-dict", resolve(cfg.model_dir, cfg.dictionary)},
      {"-fwdflat", cfg.second_pass ? "yes" : "no"},
      {"-bestpath", cfg.bestpath ? "yes" : "no"},
      {"-maxwpf", std::to_string(cfg.max_words_per_frame)},
      {"-pl_window", std::to_string(cfg.lookahead_frames)},
      {"-maxhmmpf", std::to_string(cfg.max_hmms_per_frame)},
  };
  options.emplace_back("-lw", std::to_string(cfg.language_weight > 0.0 ? cfg.language_weight : 6.5));
  for (const auto& o : cfg.decoder_options) {  // later options replace earlier ones (no duplicates)
    auto same = std::find_if(options.begin(), options.end(), [&](const auto& e) { return e.first == o.first; });
    if (same != options.end()) same->second = o.second;
    else options.push_back(o);
  }
  cmdln config;
  if (auto s = parse_config(config, options); !s) return s.error();

  auto d = std::make_unique<decoder>();
  d->ps = ps_init(config.p);
  if (d->ps == nullptr)
    return make_error(errc::engine_failure, "pocketsphinx: cannot load the acoustic model " +
                                                resolve(cfg.model_dir, cfg.acoustic_model));

  // Unknown domain words first, while no search exists: every search built afterwards sees them.
  for (const auto& w : plan.oov) {
    if (ps_add_word(d->ps, w.word.c_str(), w.phones.c_str(), FALSE) < 0)
      PARLEY_LOG(warn, "pocketsphinx: could not add a pronunciation for a domain word");
  }

  logmath_t* lmath = ps_get_logmath(d->ps);
  cmd_ln_t* ps_config = ps_get_config(d->ps);
  ngram_model_t* lm = nullptr;
  ngram_model_t* generic = nullptr;
  ngram_model_t* domain = nullptr;
  auto release = [&] {
    if (generic) ngram_model_free(generic);
    if (domain) ngram_model_free(domain);
    if (lm) ngram_model_free(lm);
  };
  if (plan.bias != bias_mode::domain_only) {
    generic = ngram_model_read(ps_config, plan.generic_path.c_str(), NGRAM_AUTO, lmath);
    if (generic == nullptr) {
      release();
      return make_error(errc::engine_failure, "pocketsphinx: cannot read the language model " + plan.generic_path);
    }
  }
  if (plan.bias != bias_mode::none) {
    domain = ngram_model_read(ps_config, plan.domain_arpa_path.c_str(), NGRAM_ARPA, lmath);
    if (domain == nullptr) {
      release();
      return make_error(errc::engine_failure, "pocketsphinx: cannot read the domain language model");
    }
  }
  switch (plan.bias) {
    case bias_mode::none: lm = ngram_model_retain(generic); break;
    case bias_mode::domain_only: lm = ngram_model_retain(domain); break;
    case bias_mode::interpolate: {
      ngram_model_t* models[2] = {generic, domain};
      char generic_name[] = "generic";
      char domain_name[] = "domain";
      char* names[2] = {generic_name, domain_name};
      const float32 weights[2] = {static_cast<float32>(1.0 - plan.weight), static_cast<float32>(plan.weight)};
      lm = ngram_model_set_init(ps_config, models, names, weights, 2);  // retains both models
      if (lm == nullptr) {
        release();
        return make_error(errc::engine_failure, "pocketsphinx: cannot combine the language models");
      }
      break;
    }
  }
  const int set_rc = ps_set_lm(d->ps, k_search_name, lm);  // the search retains lm
  release();
  if (set_rc != 0 || ps_set_search(d->ps, k_search_name) != 0)
    return make_error(errc::engine_failure, "pocketsphinx: cannot build the language model search");

  if (feat_t* feat = ps_get_feat(d->ps); feat != nullptr && feat->cmn_struct != nullptr) {
    d->cmn_prior.resize(static_cast<std::size_t>(feat->cmn_struct->veclen));
    cmn_live_get(feat->cmn_struct, d->cmn_prior.data());
  }
  return d;
}

std::string hypothesis(ps_decoder_t* ps) {
  int32 score = 0;
  const char* hyp = ps_get_hyp(ps, &score);
  return hyp ? std::string(hyp) : std::string();
}

}  // namespace parley::pocketsphinx::detail
