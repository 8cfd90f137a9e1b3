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
//     calls ps_end_utt and ps_get_hyp and delivers on_final. A stream decodes at most 1 s of
//     audio per turn before yielding to the others, except once finish() was called: then it
//     goes to the front of the queue and is decoded to its final without yielding (the endpoint
//     is decided and a user is waiting; partials are no longer computed).
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
#include <functional>
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
  /// Default. Like `running`, but the prior is the recognizer's own estimate of the deployment's
  /// channel instead of the acoustic model's (which fits its training audio, not this input path):
  /// after each completed utterance with at least 20 frames (200 ms) of audio the prior moves
  /// towards that utterance's mean by `cmn_adapt_rate` (an exponential average over the last ~10
  /// utterances of all sessions). Until utterances complete it is the model's prior.
  /// What is shared: 13 numbers (a mean cepstrum, no content), under a mutex; it is worth
  /// `cmn_prior_frames` (1 s) of audio, so each utterance's own frames outweigh it within a second.
  /// Utterances that name a channel (recognizer_events::channel: a session's microphone, raw or
  /// cleaned) also keep a prior per channel, an average of that channel's utterances; a channel's
  /// next utterance starts from it, a new channel from the shared one (up to 4096 channels, the
  /// least recently used dropped).
  /// Consequences: a transcript depends on the utterances decoded before it (reproducible for the
  /// same history, not independent of it — tests that need that use `running`), and sessions with
  /// very different channels pull the prior apart (measured on the interleaved corpus: the espeak
  /// voice loses while the flite voices and the noisy files gain; docs/benchmarks.md).
  adaptive,
  /// Each utterance starts from the model's prior mean (worth `cmn_prior_frames` frames) and the
  /// mean is updated every 20 ms with the frames seen so far. Nothing carries between utterances
  /// (every mode but `carry` also restarts pocketsphinx's noise estimate per utterance; what is
  /// left is its Gaussian-selection history: ~1 % of the path score, no change in the words).
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
  /// Measured (parley_asr_bench --sweep): WER barely moves from 0.02 to 0.6 — pocketsphinx applies
  /// the language weight to each model's log probability before mixing, so the mixture is
  /// nearly a maximum; the language weight below is the knob that matters.
  double domain_weight = 0.1;
  /// pocketsphinx -lw (how much the LM counts against the acoustics); <= 0: 6.5, pocketsphinx's
  /// own. 8.0 with a phrase model was best on the flite voices the biasing was tuned on and cost
  /// accuracy on every voice it was not (docs/benchmarks.md, "Unseen speech").
  double language_weight = 6.5;

  int n_workers = 0;   // decoding threads; 0: hardware threads
  int n_decoders = 0;  // decoders in the pool (utterances decoded at once); 0: n_workers

  bool partials = true;
  double partial_every_ms = 200.0;  // of audio
  int stability_window = 3;         // hypotheses compared for the stability estimate

  /// pocketsphinx's second (flat-lexicon) pass re-decodes the whole utterance inside
  /// ps_end_utt: more accurate on long utterances, but it puts ~50-100 ms of work after the
  /// endpoint. Off by default (measured in bench/asr).
  bool second_pass = false;
  /// Lattice best-path rescoring inside ps_end_utt, after the endpoint. Measured over the corpus
  /// (parley_asr_bench --sweep): off costs 2.3 points of WER on clean flite intent/faq/short
  /// queries (7.3 → 9.6 %), so it stays on, and its cost is bounded by `max_words_per_frame`.
  bool bestpath = true;
  /// pocketsphinx -maxwpf: word exits kept per 10 ms frame. The lattice that ps_end_utt builds and
  /// rescores grows with them (quadratic in the worst case); 10 left WER unchanged on the corpus
  /// and cut the CPU time of ps_end_utt at p95 from 117 to 72 ms (max 340 → 193 ms) and decoding
  /// by 8 %. -1: unlimited (pocketsphinx's default).
  int max_words_per_frame = 10;
  /// pocketsphinx -pl_window: frames the phone-loop lookahead runs ahead of the word search, to
  /// prune it. The last `lookahead_frames` frames of an utterance have no lookahead and are
  /// searched unpruned inside ps_end_utt, after the endpoint; in noisy audio that made each of
  /// them cost up to ~12 ms. 3 (pocketsphinx's default is 5) with `max_hmms_per_frame` 4000 cut
  /// ps_end_utt p95 from 49 to 19 ms and max from 111 to 34 ms over the corpus, and decoding CPU
  /// by 30-45 %, with WER unchanged or better (docs/benchmarks.md, ASR finalisation). 0 disables
  /// the lookahead (decoding ~2× slower).
  int lookahead_frames = 3;
  /// pocketsphinx -maxhmmpf: active HMMs kept per frame (the best ones). Bounds the cost of the
  /// frames where noise keeps the search wide; 4000 (pocketsphinx's default is 30000) left WER
  /// unchanged. -1: unlimited.
  int max_hmms_per_frame = 4000;
  cmn_mode cmn = cmn_mode::adaptive;
  int cmn_prior_frames = 100;   // weight of the prior mean (adaptive, running), in 10 ms frames
  double cmn_adapt_rate = 0.1;  // adaptive: how far one utterance moves the shared prior
  /// Restart with the utterance's own mean: once this much audio (ms) of an utterance is decoded,
  /// the decoder starts the utterance over from the cepstral mean of that audio instead of the
  /// prior, and decodes it again (then the mean runs on as before). A prior is a guess about the
  /// channel; for a voice, microphone or telephone line unlike the ones it came from, the words of
  /// the first second were decoded against the wrong mean, which pocketsphinx's batch decode never
  /// does. Costs one re-decode of this much audio per utterance, while the person is still
  /// speaking: only while the last 200 ms hold speech (in the trailing silence the endpoint may
  /// come before the re-decode is done; it looks again every 200 ms of audio, up to twice this
  /// long; always at the same points of the utterance, so the words do not depend on pacing). Utterances shorter than it keep the prior, and so do those of a channel with a
  /// prior of its own (cmn_mode::adaptive: the session's earlier turns measured it). Not in
  /// cmn_mode::fixed or carry. 0: off.
  /// 1500 was chosen on the unseen corpus's dev half (500-2000 measured; docs/benchmarks.md).
  double cmn_restart_ms = 1500.0;

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

/// pocketsphinx's view of a final transcript, for callers that want more than the text (the
/// benchmark's sentence-level LM switching; later, a confidence for routing).
/// The finalisation breakdown (finish() → on_final) says where the time after the endpoint goes.
struct final_detail {
  std::string text;
  std::optional<double> confidence;  // as delivered with the final transcript (engine::recognized)
  std::int64_t path_score = 0;  // best path score (log domain, pocketsphinx units; higher is better)
  std::int64_t n_frames = 0;    // 10 ms frames decoded (after pocketsphinx's silence removal)
  double backlog_ms = 0.0;      // audio not yet decoded when finish() was called
  double wait_ms = 0.0;         // finish() → a worker starts on the stream (queue, other streams)
  double catch_up_ms = 0.0;     // decoding the backlog after that (including yields to others)
  double end_utt_ms = 0.0;      // ps_end_utt (last frames, best-path search) and the hypothesis
  double end_utt_cpu_ms = 0.0;  // the same in CPU time of the worker (independent of machine load)
  bool cmn_restarted = false;   // decoded again from its own cepstral mean (cmn_restart_ms)
};
using final_detail_fn = std::function<void(const final_detail&)>;

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
  /// open() plus `on_detail`, called on the worker right before a successful on_final (same rules).
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events, final_detail_fn on_detail);

  /// The most undecoded audio of any stream waiting for a worker or a decoder (see recognizer).
  std::optional<double> backlog_ms() const override;
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
