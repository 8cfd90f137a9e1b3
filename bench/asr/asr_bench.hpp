// bench/asr/asr_bench — what the pieces of parley_asr_bench share (see asr_bench.cpp for the tool).
//
// Role: the corpus (utterances cut at the true end of speech + tail, optionally cleaned by the
// audio front-end: corpus.cpp), the decoding runs over it (batch baseline, streaming, sentence-level
// switching: decode_runs.cpp) and the tables and JSON made of their results (report.cpp).
// Threading: the runs stream `lanes` files at once on threads of their own and return when every
// file is decoded; everything else runs on the caller's thread. Errors: std::runtime_error (a
// command-line tool; main() prints it and exits 1). Units: ms, samples at 16 kHz, WER as a fraction.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"
#include "parley/obs/wer.hpp"

namespace parley::asr_bench {

namespace ps = parley::pocketsphinx;
using parley::obs::wer_result;
using parley::obs::wer_total;
using json = nlohmann::json;

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

// --- the corpus (corpus.cpp) -------------------------------------------------------------

/// The CPU model and hardware threads of this machine.
std::string machine_info();

/// The phrases file: one phrase per line, blank lines and '#' comments skipped.
std::vector<std::string> read_phrases(const std::string& path);

/// Every file of the manifest, its audio cut at the true end of speech + `tail_ms`.
std::vector<utterance> read_corpus(const std::string& manifest, double tail_ms);

/// The front-end settings --denoise accepts, in the order of the levels; "auto" is what a session
/// does by default (raw audio, or the cleaned one when the input's SNR is low; see denoised()).
extern const std::vector<std::string> k_denoise_names;

/// A copy of `corpus` cleaned by the audio front-end (`name` from k_denoise_names), each file
/// through a fresh front-end in 20 ms frames, as a session's input path does. "auto": each file
/// through a session's default front-end; where the endpointer would start the turn, its SNR
/// decides, as the session does, whether the recognizer hears the cleaned audio (SNR below
/// `auto_snr_db`) or the raw input; prints how many files chose each.
std::vector<utterance> denoised(const std::vector<utterance>& corpus, const std::string& name, double auto_snr_db);

// --- decoding (decode_runs.cpp) ----------------------------------------------------------

/// pocketsphinx's batch decode of every utterance (the baseline).
system_run run_baseline(const std::vector<utterance>& corpus, const std::string& model_dir);

/// Streams every utterance through `asr`; `lanes` files at once; realtime or fast pacing.
system_run run_streaming(const std::vector<utterance>& corpus, ps::pocketsphinx_recognizer& asr,
                         const std::string& name, bool realtime, int lanes);

/// Option (d), sentence-level switching: every utterance is decoded twice at once, with the generic
/// LM and with the phrase LM alone, and the hypothesis with the better path score wins (a
/// maximum over the two models; `bias` is added to the phrase model's score, pocketsphinx units).
system_run run_switching(const std::vector<utterance>& corpus, ps::pocketsphinx_recognizer& generic,
                         ps::pocketsphinx_recognizer& domain, const std::string& name, int lanes, double bias,
                         std::size_t* n_domain_wins);

/// Transcripts made elsewhere, one utterance per fresh `parley transcribe` process
/// (bench/asr/transcribe_each.sh): `path` holds lines "FILE<TAB>TRANSCRIPT", FILE matched to the
/// corpus by its file name. Every utterance must have one (an empty transcript: nothing heard).
system_run read_transcripts(const std::vector<utterance>& corpus, const std::string& name, const std::string& path);

// --- reporting (report.cpp) --------------------------------------------------------------

using filter = std::function<bool(const utterance&)>;

/// The WER summed over the utterances `f` keeps.
wer_total total_of(const std::vector<utterance>& corpus, const system_run& run, const filter& f);

/// A WER in percent with one decimal ("-" without utterances).
std::string pct(const wer_total& t);

/// A clean recording of a flite voice (the headline rows).
bool is_clean_flite(const utterance& u);

/// The nearest-rank percentile `p` (0..100) of `v` (0 when empty).
double percentile(std::vector<double> v, double p);

/// The query categories of the corpus, in the order of the table's columns.
extern const std::vector<std::string> k_categories;

/// The (voice, condition) pairs of the corpus, in the order they first appear.
std::vector<std::pair<std::string, std::string>> sources_of(const std::vector<utterance>& corpus);

/// WER % by voice/condition x category.
void print_matrix(std::ostream& os, const std::vector<utterance>& corpus, const system_run& run);

/// The WER table for docs/benchmarks.md: one row per voice/condition (and summary rows), two
/// columns per system (intent+faq+short queries, all queries; `run_names` head the runs'), then
/// the RTF per core.
void write_markdown(std::ostream& os, const std::vector<utterance>& corpus, const system_run* baseline,
                    const std::vector<system_run>& runs, const std::vector<std::string>& run_names);

/// Finalisation latency percentiles (overall, per condition) with the breakdown of where the time
/// goes and the slowest utterances. Returns the numbers as JSON.
json print_finalisation(std::ostream& os, const std::vector<utterance>& corpus, const system_run& run);

/// A run's results, per utterance, as JSON.
json run_json(const std::vector<utterance>& corpus, const system_run& run);

}  // namespace parley::asr_bench
