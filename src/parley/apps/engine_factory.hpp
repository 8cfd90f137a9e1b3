// apps/engine_factory — the composition root: the one place that names concrete engines.
//
// Role: turns the CLI/config engine choice into an engine_set. "default" means the embedded
// offline stack; until its adapters are built (pocketsphinx, flite, local responder — the next
// milestone), "default" falls back to the mock engines and says so plainly in `notice`.
// Threading: call at start-up; the engines it returns are shared and thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engine/engine_set.hpp"

namespace parley::app {

struct engine_choice {
  std::string engines = "default";              // default | mock
  std::string llm_profile = "cloud-fast-tier";  // mock chat model latency profile
  std::string tts_profile = "piper-cpu";        // mock synthesizer latency profile
  double asr_final_ms = 20.0;                   // mock recognizer finalisation delay
  std::vector<std::string> transcripts;         // mock recognizer: transcript of utterance i
  std::uint64_t seed = 1;
};

struct built_engines {
  engine::engine_set set;
  bool mock = false;
  std::string notice;    // said to the user before running (empty when nothing to say)
  std::string summary;   // one line: which engines run
};

result<built_engines> build_engines(const engine_choice& choice, boost::asio::any_io_executor executor);

}  // namespace parley::app
