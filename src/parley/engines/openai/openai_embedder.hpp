// engines/openai/openai_embedder — embeddings from an OpenAI-compatible /v1/embeddings API.
//
// Role: an engine::embedder for the semantic response cache. POSTs {base_url}/embeddings with
// {"model", "input"} over the same kind of keep-alive pool as the chat model and returns the
// vector L2-normalised (unit length).
// Threading: embed() is thread-safe and blocking, bounded by connect_timeout_ms +
// request_timeout_ms; call it from a worker, never a session strand. The HTTP work runs on the
// embedder's own network thread.
// Ownership: owns its thread and connections. Cancellation: none (bounded by the timeouts).
// Errors: as the chat model (unavailable, timeout, engine_failure with the HTTP status and the
// provider's message; never the key). An empty text gives the zero vector without a request.
// Units: dims() floats; 0 until known when the config does not say.
//
//   openai::embedder_config cfg;
//   cfg.provider.base_url = "http://127.0.0.1:11434/v1";
//   cfg.model = "nomic-embed-text";
//   auto e = openai::openai_embedder::create(cfg);  // invalid_argument: bad base_url or CA file
//   auto v = (*e)->embed("when do you open");
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "parley/engine/embedder.hpp"
#include "parley/engines/openai/openai_config.hpp"

namespace parley::openai {

namespace detail {
class provider_client;
}

class openai_embedder final : public engine::embedder {
 public:
  /// The embedder of `config`, its network thread started (no connection yet); invalid_argument
  /// for a bad base_url or a CA file that cannot be loaded (config time).
  static result<std::shared_ptr<openai_embedder>> create(embedder_config config);
  ~openai_embedder() override;
  openai_embedder(const openai_embedder&) = delete;
  openai_embedder& operator=(const openai_embedder&) = delete;

  std::string name() const override;
  std::size_t dims() const override;
  result<std::vector<float>> embed(std::string_view text) override;

  /// Opens one pooled connection ahead of the first embed(); blocking, bounded by the timeouts.
  status warm();
  std::size_t n_connects() const;

 private:
  openai_embedder(embedder_config config, std::unique_ptr<detail::provider_client> client);
  embedder_config config_;
  std::atomic<std::size_t> dims_{0};
  std::unique_ptr<detail::provider_client> client_;
};

}  // namespace parley::openai
