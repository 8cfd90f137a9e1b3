// engine/engine_set — the engines one session runs with.
//
// Ownership: engines are shared (shared_ptr) by every session of a process; a session keeps the
// set alive for its whole life. The composition root (apps/) is the only place that fills it with
// concrete adapters.
#pragma once

#include <memory>

#include "parley/engine/chat_model.hpp"
#include "parley/engine/recognizer.hpp"
#include "parley/engine/synthesizer.hpp"

namespace parley::engine {

struct engine_set {
  std::shared_ptr<recognizer> asr;
  std::shared_ptr<chat_model> llm;
  std::shared_ptr<synthesizer> tts;

  bool complete() const { return asr && llm && tts; }
};

}  // namespace parley::engine
