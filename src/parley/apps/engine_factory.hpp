// apps/engine_factory — the composition root: the one place that names concrete engines.
//
// Role: turns the CLI/config engine choice into an engine_set. "default" is the embedded offline
// stack: pocketsphinx (biased towards what the local responder handles) → local responder
// (intents + FAQ) → flite, with the fixed phrases pre-synthesized. "mock" is the scripted
// engines with provider-like latency, for tests and benchmarks. Every set comes with its turn
// router (agent/turn_router): intents → response cache → LLM tiers, with the PII policy.
// Threading: call at start-up (it loads models and warms every engine, so it takes a moment);
// the engines it returns are shared and thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/agent/filler.hpp"
#include "parley/agent/session.hpp"
#include "parley/agent/turn_router.hpp"
#include "parley/cache/redis/redis_store.hpp"
#include "parley/cache/response_cache.hpp"
#include "parley/core/error.hpp"
#include "parley/engine/engine_set.hpp"
#include "parley/engine/responder.hpp"
#include "parley/engines/openai/openai_config.hpp"
#include "parley/routing/health_prober.hpp"

namespace parley::app {

/// A tool the LLM may call: an HTTP endpoint of the application (the assistant file's [[tools]];
/// engines/openai/http_tool). LLM servers call tools; the local responder does not.
struct tool_choice {
  std::string name;                                              // as the model calls it
  std::string description;                                       // what it does, for the model
  std::string parameters = R"({"type":"object","properties":{}})";  // JSON Schema of the arguments
  std::string url;                                               // http(s)://host[:port]/path
  std::string method = "POST";                                   // GET, POST, PUT or PATCH
  int timeout_ms = 3000;                                         // connect + call + reply
  std::vector<std::pair<std::string, std::string>> headers;     // header → environment variable with its value

  bool operator==(const tool_choice&) const = default;
};

struct engine_choice {
  std::string engines = "default";              // default | mock
  // the assistant (the assistant file's [assistant] table)
  std::string assistant_name = "parley";  // what the web page calls it
  std::string greeting;                   // said when a live (serve) session starts; "" = none
  std::string system_prompt{agent::k_default_system_prompt};  // the LLM's instructions (persona)
  std::string fallback_reply;             // what the local responder says to what it cannot answer
                                          // with no LLM behind it; "" = names the FAQ's topic
  std::string llm_profile = "cloud-fast-tier";  // mock chat model latency profile
  std::string tts_profile = "piper-cpu";        // mock synthesizer latency profile
  double asr_final_ms = 20.0;                   // mock recognizer finalisation delay
  std::vector<std::string> transcripts;         // mock recognizer: transcript of utterance i
  std::uint64_t seed = 1;
  // default engines
  std::string voice;      // TTS voice: a flite voice (slt, awb, rms, kal16, kal) or "espeak:LANG"; "" = flite default
  std::string faq_path;   // FAQ knowledge file; "" = the bundled store example
  bool intents = true;    // the local responder's built-in intents (time, date, timers, sums, conversions)
  int n_asr_workers = 0;   // decoding threads; 0 = one per core
  int n_asr_decoders = 0;  // utterances decoded at once (~90 MB each); 0 = n_asr_workers
  // speech providers over OpenAI's audio API (engines/openai/openai_speech); the embedded engines
  // stay behind them as the fallback (routing/speech_fallback). None when the url is empty.
  std::string asr_url;                  // API root including /v1: http(s): POST /audio/transcriptions per utterance; ws(s): streamed to {root}/realtime
  std::string asr_model = "whisper-1";
  double asr_budget_ms = 1500.0;        // no transcript this long after the turn ended → the embedded recognizer
  std::string tts_url;                  // API root including /v1: POST /audio/speech per sentence
  std::string tts_model = "tts-1";
  std::string tts_voice = "alloy";
  double tts_budget_ms = 1000.0;        // no audio this long after the request → the embedded voice
  std::string speech_key_env = "OPENAI_API_KEY";  // environment variable holding the speech provider's key
  // routing and the response cache
  std::string cache = "memory";          // off | memory | redis (memory in front of a shared Redis)
  std::string redis = "127.0.0.1:6379";  // HOST:PORT of the shared tier (cache = redis)
  std::string cache_embedder = "ngram";  // ngram | FILE.gguf (llama.cpp) | http(s)://HOST/v1 (/v1/embeddings)
  std::string cache_embedder_model;      // the model name, for an embeddings server
  double cache_threshold = 0.0;          // > 0: the semantic threshold of static replies (time-sensitive: +0.075)
  std::string privacy = "pii_local_only";  // pii_local_only | allow_cloud
  // an OpenAI-compatible LLM server (docs/providers.md); none when llm_url is empty
  std::string llm_url;                      // API root including /v1, e.g. http://127.0.0.1:8080/v1
  std::string llm_model;                    // model name as the server knows it
  int llm_max_tokens = 400;                 // longest reply a server may write (max_tokens)
  std::string llm_key_env = "OPENAI_API_KEY";  // environment variable holding the API key
  std::optional<double> llm_temperature;    // sampling temperature sent to the server (unset: the server's)
  std::vector<std::pair<std::string, std::string>> llm_headers;  // extra headers: name → environment variable with the value
  std::vector<tool_choice> tools;           // HTTP tools the LLM server may call
  std::string llm_fallback_url;             // a second server, same model and key: used when the first fails
  double hedge_ms = 0.0;                    // > 0: no first token after this long → ask the fallback too
  double hedge_budget = 0.0;                // > 0: hedges at most this fraction of requests
  std::string llm_tier = "cloud";           // local (this machine: PII may go there) | cloud
  double llm_first_token_budget_ms = 800.0;  // turns prefer the other LLM tier when this one's p95 TTFT is over it;
                                             // a turn over it plays a filler (session budgets: docs/latency.md §8)
  double tool_budget_ms = 1500.0;  // a tool call running longer announces itself ("Let me check."); 0 off
  double ttfa_budget_ms = 0.0;     // noted as a breach when a turn's TTFA is over it; 0 off
  bool fillers = true;             // play filler phrases when a budget runs out (else only note the breach)
  // a GGUF model run in-process by llama.cpp as the local LLM tier; none when model_path is empty
  std::string model_path;
  int model_ctx = 4096;    // context window per session (tokens)
  int model_threads = 0;   // decoding threads; 0 = one per core
  int model_max_tokens = 256;  // longest reply (tokens)

  bool operator==(const engine_choice&) const = default;
};

struct built_engines {
  engine::engine_set set;
  std::shared_ptr<engine::responder> responder;  // the local responder (default engines)
  std::shared_ptr<cache::response_cache> cache;  // null when --cache off
  std::shared_ptr<agent::turn_router> router;    // decides each turn's route; give it to every session
  std::shared_ptr<boost::asio::thread_pool> router_pool;  // where routing and cache I/O run
  std::shared_ptr<const agent::filler_bank> fillers;       // the spoken phrases' audio: fillers, the apology
  std::shared_ptr<engine::chat_model> local_model;        // the embedded llama.cpp model (--model), or null
  std::shared_ptr<routing::health_prober> prober;         // probes the LLM servers that failed (with a fallback)
  bool mock = false;
  std::string notice;    // said to the user before running (empty when nothing to say)
  std::string summary;   // one line: which engines run
};

/// What several engine sets built one by one (e.g. per benchmark session) share, as one process does.
struct shared_parts {
  std::shared_ptr<cache::response_cache> cache;           // null: built from the choice
  std::shared_ptr<boost::asio::thread_pool> router_pool;  // null: a new pool of 2 threads
  std::shared_ptr<engine::chat_model> local_model;        // null: loaded from choice.model_path (if any)
  std::shared_ptr<const agent::filler_bank> fillers;       // null: synthesized from the choice's voice
};

/// Builds the engines, the response cache and the router.
result<built_engines> build_engines(const engine_choice& choice, boost::asio::any_io_executor executor,
                                    shared_parts shared = {});

/// The response cache `choice` asks for: null for "off"; fails on an unknown kind or a bad address.
result<std::shared_ptr<cache::response_cache>> build_response_cache(const engine_choice& choice);

/// The embedded llama.cpp model `choice.model_path` names (loaded and warmed), or null when none.
result<std::shared_ptr<engine::chat_model>> build_local_model(const engine_choice& choice);

/// The Redis store of `choice.redis` (HOST:PORT; not connected yet). Errors: a bad address.
result<std::unique_ptr<cache::redis_store>> build_redis_store(const engine_choice& choice);

/// The assistant's HTTP tools (choice.tools), their clients started, no connection opened yet.
/// Errors: a bad declaration, or a header whose environment variable is not set.
result<std::vector<openai::tool>> build_tools(const engine_choice& choice);

/// The OpenAI-compatible server at `url` with `choice`'s model, key, headers and temperature
/// (its connection opened at once; a server that cannot be reached is logged as a warning),
/// e.g. for `parley doctor` to ask it one token.
result<std::shared_ptr<engine::chat_model>> build_llm_server(const engine_choice& choice, const std::string& url,
                                                             std::string name);

/// The engines of the default stack one by one (for `parley say`, `transcribe`, `doctor`).
result<std::shared_ptr<engine::synthesizer>> build_tts(const engine_choice& choice);
result<std::shared_ptr<engine::responder>> build_responder(const engine_choice& choice, boost::asio::any_io_executor executor);
result<std::shared_ptr<engine::recognizer>> build_recognizer(const engine_choice& choice,
                                                             std::vector<std::string> domain_phrases);

/// The bundled example FAQ (data/faq/store.json), found beside the sources or the installed data.
std::string default_faq_path();

}  // namespace parley::app
