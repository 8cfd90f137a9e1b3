// engines/openai/openai_chat_model — streaming chat over an OpenAI-compatible HTTP API.
//
// Role: an engine::chat_model that POSTs {base_url}/chat/completions with stream:true and turns
// the server-sent events into tokens. Works with llama-server, vLLM, Ollama, Groq and OpenAI
// (docs/providers.md). HTTP/1.1 keep-alive with a per-provider pool of idle connections; TLS via
// OpenSSL with certificate and host-name verification and SNI. warm() opens (and TLS-handshakes)
// a pooled connection ahead of the first request, so the first turn pays no handshake.
// Threading: every method may be called from any thread. stream() and warm() return at once; the
// request runs on this model's own network thread, and the callbacks (on_token, on_done, the
// warm completion) are called from that thread — they must not block. Tools run on a separate
// tool thread (one at a time per model), so a slow tool never stalls other streams' I/O.
// Ownership: the model owns its threads and connections; destroying it cancels its streams
// (each gets on_done(cancelled)) and waits for a running tool to return.
// Cancellation: a stop request closes the stream's socket at once and calls on_done(cancelled)
// right away; nothing is called after on_done. A tool already running finishes in the background
// and its result is dropped.
// Errors (on_done): connection refused / reset before any token, HTTP 5xx and 429 -> unavailable
// (after the retries); connect, first-token and inter-token timeouts -> timeout; other HTTP 4xx,
// malformed events, an error object inside the stream -> engine_failure with the status and the
// provider's message. Text already delivered is never streamed again: retries happen only
// before a request's first token. The API key never appears in names, logs or errors.
// Units: milliseconds in the config.
//
//   openai::chat_config cfg;
//   cfg.provider.base_url = "https://api.groq.com/openai/v1";
//   cfg.provider.api_key_env = "GROQ_API_KEY";
//   cfg.model = "llama-3.1-8b-instant";
//   auto model = openai::openai_chat_model::create(cfg);  // invalid_argument: bad base_url, CA file, tool
//   if (!model) return model.error();
//   (*model)->warm();                                   // at session start
//   (*model)->stream(request, {.on_token = ..., .on_done = ...}, stop.get_token());
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "parley/engine/chat_model.hpp"
#include "parley/engines/openai/openai_config.hpp"

namespace parley::openai {

class openai_chat_model final : public engine::chat_model {
 public:
  /// The model of `config`, its network thread started (no connection yet); invalid_argument for
  /// a bad base_url, a CA file that cannot be loaded or a bad tool (config time).
  static result<std::shared_ptr<openai_chat_model>> create(chat_config config);
  ~openai_chat_model() override;
  openai_chat_model(const openai_chat_model&) = delete;
  openai_chat_model& operator=(const openai_chat_model&) = delete;

  std::string name() const override;
  engine::chat_caps caps() const override;
  void stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) override;

  /// Resolves DNS and opens one idle pooled connection (TLS handshake included) unless one is
  /// already there. `done` (optional) gets the outcome on the network thread.
  void warm(std::function<void(status)> done = {});

  /// Adds (or replaces, by name) a tool for the streams started after this call.
  /// invalid_argument (and nothing added) when the schema is not a JSON object or `run` is empty.
  status add_tool(tool t);

  /// Connections opened so far (each a TCP connect plus TLS handshake for https).
  std::size_t n_connects() const;

  struct impl;  // opaque (network thread, pool, tools)

 private:
  explicit openai_chat_model(std::shared_ptr<impl> state);
  std::shared_ptr<impl> impl_;
};

}  // namespace parley::openai
