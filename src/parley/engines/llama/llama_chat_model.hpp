// engines/llama/llama_chat_model — a GGUF model run in-process with llama.cpp.
//
// Role: an engine::chat_model for the local LLM tier. The model is loaded once and shared by
// every session; each session keeps its own llama.cpp context between turns, so a turn decodes
// only the tokens that are new since the last one (KV reuse: the longest common token prefix of
// the new prompt and what the context holds is kept, the rest is dropped and decoded). The KV
// state of a system prompt is computed once per model and copied into each new session's
// context. When a conversation no longer fits the context window, the oldest turns are dropped
// (the system prompt and the newest user turn are always kept). The chat template is the
// model's own (llama_chat_apply_template; ChatML when the model has none).
// Threading: every method may be called from any thread. stream() returns at once; a second
// thread makes the next session's context ahead of need; all decoding runs on this model's one
// worker thread, which interleaves the active requests a step at a
// time (a prompt chunk or one token), so one long reply does not hold back another session's
// first token. Callbacks run on that worker thread and must not block.
// Cancellation: a stop request is seen before the next decode step: on_done(cancelled) follows
// within one token. on_done is called exactly once, nothing after it.
// Ownership: the model owns its worker, contexts and the llama.cpp model; destroying it cancels
// what is queued or running (on_done(cancelled)) and joins the worker.
// Errors: load() -> not_found (no file), engine_failure (llama.cpp refused the file).
// on_done -> invalid_argument (no messages, or the newest message alone does not fit the
// context), engine_failure (a decode failed).
// Units: token counts; milliseconds nowhere (timings are the caller's).
//
//   auto model = llama::llama_chat_model::load({.model_path = "model.gguf"});
//   (*model)->stream(request, {.on_token = ..., .on_done = ...}, stop.get_token());
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "parley/core/error.hpp"
#include "parley/core/ids.hpp"
#include "parley/engine/chat_model.hpp"

namespace parley::llama {

struct llama_config {
  std::filesystem::path model_path;
  int context_tokens = 4096;    // per session; 0 = the model's training context
  int batch_tokens = 512;       // prompt tokens per decode step
  int threads = 0;              // 0 = every core
  int max_sessions = 8;         // contexts kept (plus one spare made ahead); the least recently used is reused beyond this
  int default_max_tokens = 256; // reply length when the request does not say
  int reserve_tokens = 256;     // room kept free for the reply when trimming old turns
  double temperature = 0.7;     // 0 = greedy
  int top_k = 40;
  double top_p = 0.95;
  double min_p = 0.05;
  std::uint32_t seed = 0xC0FFEE;
  bool warm_up = true;          // decode a few tokens at load so the first turn runs at speed
  bool reuse_kv = true;         // false: every request decodes its whole prompt (for benchmarks)
};

/// Counters since load, for tests, benchmarks and `parley doctor`.
struct llama_stats {
  std::uint64_t requests = 0;
  std::uint64_t prompt_tokens = 0;    // tokens of the rendered prompts
  std::uint64_t reused_tokens = 0;    // of those, found in the session's KV cache (not decoded)
  std::uint64_t copied_tokens = 0;    // of those, copied from a system prompt's saved KV state
  std::uint64_t decoded_tokens = 0;   // prompt tokens decoded
  std::uint64_t generated_tokens = 0; // reply tokens sampled
  std::uint64_t trimmed_turns = 0;    // old messages dropped to fit the context window
  std::uint64_t system_states = 0;    // system-prompt KV states computed (once per distinct prompt)
  std::uint64_t contexts_created = 0; // llama.cpp contexts made (one spare is made ahead of need)
};

class llama_chat_model final : public engine::chat_model {
 public:
  static result<std::unique_ptr<llama_chat_model>> load(llama_config config);
  /// The llama.cpp compute devices this process can use, e.g. "CPU (AMD EPYC ...)";
  /// engine_failure when no backend library could be loaded.
  static result<std::string> devices();
  ~llama_chat_model() override;
  llama_chat_model(const llama_chat_model&) = delete;
  llama_chat_model& operator=(const llama_chat_model&) = delete;

  std::string name() const override;
  engine::chat_caps caps() const override;
  void stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) override;
  void forget_session(session_id session) override;

  llama_stats stats() const;
  /// e.g. "llama 1B F16 · 1.24 B params · ctx 4096 · 2 threads".
  std::string describe() const;

  struct impl;

 private:
  explicit llama_chat_model(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::llama
