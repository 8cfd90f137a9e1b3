// apps/engine_factory — the composition root: the one place that names concrete engines.
//
// Role: turns the CLI/config engine choice into an engine_set. "default" is the embedded offline
// stack: pocketsphinx (biased towards what the local responder handles) → local responder
// (intents + FAQ) → flite, with the fixed phrases pre-synthesized. "mock" is the scripted
// engines with provider-like latency, for tests and benchmarks.
// Threading: call at start-up (it loads models and warms every engine, so it takes a moment);
// the engines it returns are shared and thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engine/engine_set.hpp"
#include "parley/engine/responder.hpp"

namespace parley::app {

struct engine_choice {
  std::string engines = "default";              // default | mock
  std::string llm_profile = "cloud-fast-tier";  // mock chat model latency profile
  std::string tts_profile = "piper-cpu";        // mock synthesizer latency profile
  double asr_final_ms = 20.0;                   // mock recognizer finalisation delay
  std::vector<std::string> transcripts;         // mock recognizer: transcript of utterance i
  std::uint64_t seed = 1;
  // default engines
  std::string voice;      // TTS voice: a flite voice (slt, awb, rms, kal16, kal) or "espeak:LANG"; "" = flite default
  std::string faq_path;   // FAQ knowledge file; "" = the bundled store example
  int n_asr_workers = 0;   // decoding threads; 0 = one per core
  int n_asr_decoders = 0;  // utterances decoded at once (~90 MB each); 0 = n_asr_workers
};

struct built_engines {
  engine::engine_set set;
  std::shared_ptr<engine::responder> responder;  // the local responder (default engines)
  bool mock = false;
  std::string notice;    // said to the user before running (empty when nothing to say)
  std::string summary;   // one line: which engines run
};

result<built_engines> build_engines(const engine_choice& choice, boost::asio::any_io_executor executor);

/// The engines of the default stack one by one (for `parley say`, `transcribe`, `doctor`).
result<std::shared_ptr<engine::synthesizer>> build_tts(const engine_choice& choice);
result<std::shared_ptr<engine::responder>> build_responder(const engine_choice& choice, boost::asio::any_io_executor executor);
result<std::shared_ptr<engine::recognizer>> build_recognizer(const engine_choice& choice,
                                                             std::vector<std::string> domain_phrases);

/// The bundled example FAQ (data/faq/store.json), found beside the sources or the installed data.
std::string default_faq_path();

}  // namespace parley::app
