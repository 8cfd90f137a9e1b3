// engines/llama/llama_embedder — sentence embeddings from a GGUF model run by llama.cpp.
//
// Role: an engine::embedder for the semantic response cache, fully offline: an embedding model in
// GGUF form (e.g. a BERT-family sentence encoder such as bge-small or nomic-embed-text; any
// llama.cpp model works, pooled) turns a query into a unit vector. The pooling is the model's own
// (its GGUF says mean, CLS or last); a generative model without one is mean-pooled.
// Threading: embed() is thread-safe and blocking (one context, one query at a time, a few ms for
// a short query on a small encoder); call it from a worker, never a session strand.
// Errors: load() -> not_found, engine_failure (llama.cpp refused the file or the context).
// embed() -> engine_failure when decoding fails. Text longer than the context is cut to it.
// An empty text gives the zero vector.
// Units: dims() floats.
//
//   auto e = llama::llama_embedder::load({.model_path = "bge-small-en-v1.5-f16.gguf"});
//   auto v = (*e)->embed("when do you open");
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "parley/core/error.hpp"
#include "parley/engine/embedder.hpp"

namespace parley::llama {

struct llama_embedder_config {
  std::filesystem::path model_path;
  int context_tokens = 512;  // longest query embedded (tokens); longer text is cut
  int threads = 0;           // 0 = every core
};

class llama_embedder final : public engine::embedder {
 public:
  static result<std::unique_ptr<llama_embedder>> load(llama_embedder_config config);
  ~llama_embedder() override;
  llama_embedder(const llama_embedder&) = delete;
  llama_embedder& operator=(const llama_embedder&) = delete;

  std::string name() const override;
  std::size_t dims() const override;
  result<std::vector<float>> embed(std::string_view text) override;

  struct impl;

 private:
  explicit llama_embedder(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::llama
