// engines/pocketsphinx/sphinx_decoder — one pocketsphinx decoder, built (internal to the adapter).
//
// Role: the C API side of the recognizer: turning the config and the language-model plan into a
// loaded ps_decoder_t (acoustic model, dictionary with the domain words added, the generic,
// domain or interpolated LM search), and the small helpers the pool, the streams and the batch
// decoder share (model paths, sphinxbase's log, CPU time and memory readings, the hypothesis).
// Threading: make_decoder() loads on the calling thread (start-up); a decoder is then used by one
// utterance at a time (the pool hands it out). silence_sphinx_log() is safe from any thread.
// Ownership: `decoder` owns its ps_decoder_t; `cmdln` its cmd_ln_t. Units: ms, MiB.
#pragma once

#include <pocketsphinx.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"

namespace parley::pocketsphinx::detail {

/// sphinxbase logs every step to stderr through one process-wide FILE*; silence it once, before
/// the first decoder exists (it is only read afterwards, so no decoder thread races with this).
void silence_sphinx_log();

/// CPU time of the calling thread, in ms.
double thread_cpu_ms();

/// Resident memory of this process, in MiB.
double resident_mb();

/// `path` under `dir` unless it is empty or absolute.
std::string resolve(const std::string& dir, const std::string& path);

/// A cmd_ln_t built from name/value pairs (owned; freed on destruction).
struct cmdln {
  cmd_ln_t* p = nullptr;
  cmdln() = default;
  cmdln(const cmdln&) = delete;
  cmdln& operator=(const cmdln&) = delete;
  ~cmdln() {
    if (p) cmd_ln_free_r(p);
  }
};

/// Parses pocketsphinx options (`-hmm DIR`, ...) into `out`; invalid_argument when it refuses them.
result<void> parse_config(cmdln& out, const std::vector<std::pair<std::string, std::string>>& options);

/// One complete pocketsphinx decoder (acoustic model, dictionary, biased LM search). Used by one
/// utterance at a time; the pool hands it out.
struct decoder {
  ps_decoder_t* ps = nullptr;
  std::vector<mfcc_t> cmn_prior;  // the model's initial cepstral mean, for cmn_mode::reset
  decoder() = default;
  decoder(const decoder&) = delete;
  decoder& operator=(const decoder&) = delete;
  ~decoder() {
    if (ps) ps_free(ps);
  }
};

/// Which language model every decoder searches: the generic one, the domain phrases' one, or both
/// interpolated; and the domain words the dictionary lacks, with guessed pronunciations.
struct lm_plan {
  bias_mode bias = bias_mode::none;
  double weight = 0.0;
  std::string generic_path;
  std::string domain_arpa_path;  // "" when there is no phrase model
  std::vector<pronunciation> oov;
};

/// Loads one decoder for `cfg` searching `plan`'s language model. Errors: invalid_argument for
/// options pocketsphinx refuses, engine_failure for a model or LM it cannot load.
result<std::unique_ptr<decoder>> make_decoder(const pocketsphinx_config& cfg, const lm_plan& plan);

/// The decoder's current best hypothesis ("" when none).
std::string hypothesis(ps_decoder_t* ps);

}  // namespace parley::pocketsphinx::detail
