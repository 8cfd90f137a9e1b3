// engine/embedder — turns a short text (a user query) into a vector for semantic matching.
//
// Role: the response cache (cache/) compares queries by the cosine similarity of their
// embeddings. Implementations: the built-in n-gram hashing embedder (no model, engines/ngram), an
// OpenAI-compatible /v1/embeddings client (engines/openai), llama.cpp embeddings (engines/llama).
// Threading: shared by all sessions; embed() is thread-safe and blocking (it may do I/O bounded
// by the implementation's timeout), so call it from a worker, never from a session strand.
// Units: a vector of dims() floats, L2-normalised (unit length), so cosine similarity is the dot
// product. An empty or unembeddable text gives the zero vector, which matches nothing.
//
//   auto v = embedder.embed("when do you open");   // result<std::vector<float>>
//   double cos = engine::dot(*v, *w);
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::engine {

class embedder {
 public:
  virtual ~embedder() = default;
  virtual std::string name() const = 0;
  virtual std::size_t dims() const = 0;
  virtual result<std::vector<float>> embed(std::string_view text) = 0;
  /// True when embed() does no I/O and takes microseconds, so it may run on a session strand
  /// (the router then decides inline instead of hopping to its worker). Default: false.
  virtual bool quick() const { return false; }
};

/// Dot product of two equally long vectors (cosine similarity for unit vectors).
inline double dot(std::span<const float> a, std::span<const float> b) {
  double s = 0.0;
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

}  // namespace parley::engine
