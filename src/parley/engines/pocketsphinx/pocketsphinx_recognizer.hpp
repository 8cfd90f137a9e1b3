// engines/pocketsphinx — streaming speech recognition with CMU pocketsphinx (Debian 5prealpha).
//
// Role: an `engine::recognizer` that decodes incrementally while audio arrives, so that finish()
// only flushes the last frames and the final transcript follows the endpoint within tens of ms.
// It emits partial hypotheses (every `partial_every_ms` of audio) with a stability estimate, and
// biases recognition towards the assistant's domain: at start-up it builds a small trigram model
// from `domain_phrases` (the responder's intent phrasings and FAQ questions) and interpolates it
// with the generic en-us model (`bias_mode::interpolate`), so in-domain phrasings win while open
// questions are still recognised. Domain words missing from cmudict get pronunciations from
// espeak-ng (or letter-to-sound rules) instead of being dropped (see pronounce.hpp).
//
// Sharing and threads (DESIGN §5). pocketsphinx decoders are not thread-safe, and with this API
// a decoder cannot share its acoustic model or its language model with another one (ps_init
// loads its own copies; the trie LM even caches state while scoring). So "one loaded model
// shared by all sessions" is a fixed pool: create() loads `n_decoders` complete decoders once,
// at start-up (~0.5 s and ~90 MB each; the numbers for this machine are in startup()), and
// `n_workers` threads decode. A stream checks a decoder out when its first audio is decoded and
// returns it right after its final transcript (or on cancel), so decoders are reused utterance
// after utterance; the pool bounds how many utterances are decoded at once. A stream that finds
// no free decoder waits in a FIFO with its audio buffered, and catches up (decoding is ~10x
// faster than real time) once one frees up.
//   - feed() only appends to the stream's buffer (a mutex held for a memcpy) and, if the stream
//     is idle, queues it for a worker: it never decodes and never waits on decoding.
//   - a worker runs ps_process_raw on the buffered audio, in pieces of `partial_every_ms`, and
//     calls ps_get_hyp after each piece for the partials; on finish() it decodes what is left,
//     calls ps_end_utt and ps_get_hyp and delivers on_final.
//   - callbacks (on_partial, on_final) run on worker threads and must not block.
// Buffer: per stream, at most `max_pending_ms` of audio not yet decoded; beyond it the oldest
// samples are dropped and counted (stats().n_dropped_samples) — feed() never blocks.
// Lifetime/cancellation: cancel() is a barrier: once it returns no callback runs any more (it
// waits for a callback in progress on another thread; called from inside a callback it only
// suppresses later ones). The decoder is released by the worker within one audio piece.
// Destroying a stream cancels it. Streams may outlive the recognizer: its destructor stops the
// workers (streams still waiting get on_final(errc::unavailable) if finish() was called; later
// finish() calls answer the same way at once). Do not destroy the recognizer from a callback.
// Errors: create() fails with errc::not_found naming the missing model file or folder, and with
// errc::engine_failure when pocketsphinx refuses the model; a decoding failure ends the
// utterance with on_final(errc::engine_failure).
// Units: 16 kHz mono PCM16 in; durations in ms.
//
//   pocketsphinx_config cfg;
//   cfg.domain_phrases = responder.phrases();
//   auto asr = pocketsphinx_recognizer::create(cfg);
//   if (!asr) return asr.error();                    // e.g. not_found: ".../en-us.lm.bin"
//   auto stream = (*asr)->open({.on_partial = ..., .on_final = ...});
//   (*stream)->feed(frame); ... (*stream)->finish();
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engine/recognizer.hpp"
#include "parley/engines/pocketsphinx/pronounce.hpp"

#ifndef PARLEY_POCKETSPHINX_MODEL_DIR
#define PARLEY_POCKETSPHINX_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#endif

namespace parley::pocketsphinx {

/// How the domain phrases shape the language model (measured in bench/asr; see docs).
enum class bias_mode {
  none,         // the generic en-us model only (domain phrases only add OOV words)
  domain_only,  // only the phrase model: in-domain sentences, nothing else
  interpolate,  // generic and phrase model interpolated (sphinxbase ngram_model_set)
};
std::string_view to_string(bias_mode mode);

/// How cepstral mean normalisation (CMN: the channel estimate) works while streaming. The batch
/// CMN of the acoustic model needs the whole utterance, which streaming cannot wait for.
enum class cmn_mode {
  /// Default. Each utterance starts from the model's prior mean (worth `cmn_prior_frames`
  /// frames) and the mean is updated every 20 ms with the frames seen so far: it converges on
  /// the speaker's channel within the first words. Deterministic; nothing leaks between sessions.
  running,
  /// Each utterance uses the model's prior mean, unchanged (pocketsphinx live CMN, reset).
  fixed,
  /// pocketsphinx's own behaviour: the mean is updated at the end of each utterance and carried to
  /// the decoder's next one (which may belong to another session).
  carry,
};
std::string_view to_string(cmn_mode mode);

struct pocketsphinx_config {
  /// Folder with the acoustic model, the language model and the dictionary.
  std::string model_dir = PARLEY_POCKETSPHINX_MODEL_DIR;
  /// Relative to model_dir unless absolute.
  std::string acoustic_model = "en-us";
  std::string language_model = "en-us.lm.bin";
  std::string dictionary = "cmudict-en-us.dict";

  /// What the assistant is for: intent phrasings, FAQ questions. Empty: no biasing.
  std::vector<std::string> domain_phrases;
  bias_mode bias = bias_mode::interpolate;
  /// Weight of the phrase model in the interpolation (the generic model gets 1 - weight).
  /// Measured over the corpus (docs/asr.md): 0.3 wins; WER is flat from 0.1 to 0.5.
  double domain_weight = 0.3;

  int n_workers = 0;   // decoding threads; 0: hardware threads
  int n_decoders = 0;  // decoders in the pool (utterances decoded at once); 0: n_workers

  bool partials = true;
  double partial_every_ms = 200.0;  // of audio
  int stability_window = 3;         // hypotheses compared for the stability estimate

  /// pocketsphinx's second (flat-lexicon) pass re-decodes the whole utterance inside
  /// ps_end_utt: more accurate on long utterances, but it puts ~50-100 ms of work after the
  /// endpoint. Off by default (measured in bench/asr).
  bool second_pass = false;
  bool bestpath = true;  // lattice best-path rescoring at the end (a few ms)
  cmn_mode cmn = cmn_mode::running;
  int cmn_prior_frames = 100;  // weight of the prior mean in cmn_mode::running (10 ms frames)

  /// espeak-ng program for pronunciations of unknown words; "" uses letter-to-sound rules only.
  std::string espeak_ng = "espeak-ng";
  /// Audio buffered but not yet decoded, per stream, before the oldest is dropped.
  double max_pending_ms = 30000.0;
  /// Extra pocketsphinx options, e.g. {"-beam", "1e-60"}; applied last.
  std::vector<std::pair<std::string, std::string>> decoder_options;
};

/// What create() did, for logs, `parley doctor` and the benchmark.
struct pocketsphinx_startup {
  int n_workers = 0;
  int n_decoders = 0;
  double startup_ms = 0.0;         // all of create()
  double decoder_init_ms = 0.0;    // mean per decoder (model, dictionary, LM, search)
  double decoder_rss_mb = 0.0;     // mean resident memory added per decoder (approximate)
  bias_mode bias = bias_mode::none;
  double domain_weight = 0.0;
  std::size_t n_domain_phrases = 0;
  std::size_t n_domain_words = 0;  // distinct words in the phrase model
  std::vector<pronunciation> added_words;  // unknown words given a pronunciation
};

struct pocketsphinx_stats {
  std::uint64_t n_opened = 0;
  std::uint64_t n_finals = 0;           // on_final delivered (text or error)
  std::uint64_t n_cancelled = 0;
  std::uint64_t n_partials = 0;
  std::uint64_t n_waited_for_decoder = 0;  // streams that found the pool empty
  std::uint64_t n_dropped_samples = 0;
  double audio_ms = 0.0;  // audio decoded
  double cpu_ms = 0.0;    // worker CPU time spent on it (thread CPU clock)
  /// Real-time factor per core: CPU time / audio time.
  double rtf() const { return audio_ms > 0.0 ? cpu_ms / audio_ms : 0.0; }
};

/// Stability of streaming hypotheses: the number of leading words identical in the last
/// `window` hypotheses (0 until there are two), divided by the current hypothesis' length.
class partial_tracker {
 public:
  explicit partial_tracker(int window = 3);
  /// Records `hypothesis` and returns its stability in [0, 1] (0 for an empty hypothesis).
  double update(std::string_view hypothesis);
  std::size_t stable_words() const { return stable_words_; }
  void reset();

 private:
  std::size_t window_;
  std::deque<std::vector<std::string>> recent_;
  std::size_t stable_words_ = 0;
};

class pocketsphinx_recognizer final : public engine::recognizer {
 public:
  /// Loads the model into `n_decoders` decoders, builds the biased LM, starts the workers.
  /// Takes seconds; call at start-up.
  static result<std::shared_ptr<pocketsphinx_recognizer>> create(pocketsphinx_config config);
  ~pocketsphinx_recognizer() override;
  pocketsphinx_recognizer(const pocketsphinx_recognizer&) = delete;
  pocketsphinx_recognizer& operator=(const pocketsphinx_recognizer&) = delete;

  std::string name() const override { return "pocketsphinx"; }
  engine::recognizer_caps caps() const override;
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override;

  const pocketsphinx_startup& startup() const;
  pocketsphinx_stats stats() const;
  const pocketsphinx_config& config() const;

  struct core;  // implementation (public only so that the .cpp can name it)

 private:
  explicit pocketsphinx_recognizer(std::shared_ptr<core> c);
  std::shared_ptr<core> core_;
};

/// pocketsphinx's own batch decode, the baseline of bench/asr: the generic model with every
/// pocketsphinx default (three passes, batch CMN over the whole utterance), decoding the whole
/// clip in one ps_process_raw call after it has been recorded. One thread at a time.
struct batch_result {
  std::string text;
  double audio_ms = 0.0;
  double cpu_ms = 0.0;  // the whole decode
};

class pocketsphinx_batch_decoder {
 public:
  static result<std::unique_ptr<pocketsphinx_batch_decoder>> create(const std::string& model_dir =
                                                                        PARLEY_POCKETSPHINX_MODEL_DIR);
  ~pocketsphinx_batch_decoder();
  pocketsphinx_batch_decoder(const pocketsphinx_batch_decoder&) = delete;
  pocketsphinx_batch_decoder& operator=(const pocketsphinx_batch_decoder&) = delete;

  result<batch_result> decode(std::span<const std::int16_t> samples);

 private:
  struct impl;
  explicit pocketsphinx_batch_decoder(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::pocketsphinx
