#include "parley/engines/llama/llama_embedder.hpp"

#include <llama.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include "parley/engines/llama/backend.hpp"

namespace parley::llama {

struct llama_embedder::impl {
  llama_embedder_config config;
  llama_model* model = nullptr;
  llama_context* ctx = nullptr;
  const llama_vocab* vocab = nullptr;
  bool pooled = true;  // false: the last token's embedding is taken
  std::size_t dims = 0;
  std::mutex mutex;    // one query at a time through the one context

  ~impl() {
    if (ctx != nullptr) llama_free(ctx);
    if (model != nullptr) llama_model_free(model);
  }

  llama_context* make_context(enum llama_pooling_type pooling) const {
    auto p = llama_context_default_params();
    p.n_ctx = static_cast<std::uint32_t>(config.context_tokens);
    p.n_batch = p.n_ubatch = static_cast<std::uint32_t>(config.context_tokens);  // one pass per query
    p.n_seq_max = 1;
    p.embeddings = true;
    p.pooling_type = pooling;
    p.no_perf = true;
    const int threads = config.threads > 0 ? config.threads : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    p.n_threads = p.n_threads_batch = threads;
    return llama_init_from_model(model, p);
  }
};

result<std::unique_ptr<llama_embedder>> llama_embedder::load(llama_embedder_config config) {
  if (config.context_tokens < 8) return make_error(errc::invalid_argument, "llama embedder: context of at least 8 tokens");
  auto loaded = detail::load_model(config.model_path);
  if (!loaded) return loaded.error();
  auto m = std::make_unique<impl>();
  m->config = std::move(config);
  m->model = *loaded;
  m->vocab = llama_model_get_vocab(m->model);
  m->ctx = m->make_context(LLAMA_POOLING_TYPE_UNSPECIFIED);  // the model's own pooling
  if (m->ctx != nullptr && llama_pooling_type(m->ctx) == LLAMA_POOLING_TYPE_NONE) {
    llama_free(m->ctx);  // a generative model: pool its token states by their mean
    m->ctx = m->make_context(LLAMA_POOLING_TYPE_MEAN);
  }
  if (m->ctx == nullptr) return make_error(errc::engine_failure, "llama.cpp could not create an embedding context");
  m->dims = static_cast<std::size_t>(llama_model_n_embd(m->model));
  return std::unique_ptr<llama_embedder>(new llama_embedder(std::move(m)));
}

llama_embedder::llama_embedder(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
llama_embedder::~llama_embedder() = default;

std::string llama_embedder::name() const { return "llama:" + impl_->config.model_path.stem().string(); }

std::size_t llama_embedder::dims() const { return impl_->dims; }

result<std::vector<float>> llama_embedder::embed(std::string_view text) {
  auto& m = *impl_;
  std::vector<float> out(m.dims, 0.0F);
  if (text.empty()) return out;

  std::vector<llama_token> tokens(text.size() + 8);
  int n = llama_tokenize(m.vocab, text.data(), static_cast<std::int32_t>(text.size()), tokens.data(),
                         static_cast<std::int32_t>(tokens.size()), /*add_special=*/true, /*parse_special=*/false);
  if (n < 0) return make_error(errc::engine_failure, "llama embedder: the text could not be tokenized");
  tokens.resize(static_cast<std::size_t>(std::min(n, m.config.context_tokens)));
  if (tokens.empty()) return out;

  std::lock_guard lock(m.mutex);
  llama_memory_clear(llama_get_memory(m.ctx), true);
  llama_batch batch = llama_batch_init(static_cast<std::int32_t>(tokens.size()), 0, 1);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    batch.token[i] = tokens[i];
    batch.pos[i] = static_cast<llama_pos>(i);
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = 1;  // every token's state is an output: pooling reads them all
  }
  batch.n_tokens = static_cast<std::int32_t>(tokens.size());
  const int rc = llama_model_has_encoder(m.model) && !llama_model_has_decoder(m.model) ? llama_encode(m.ctx, batch)
                                                                                        : llama_decode(m.ctx, batch);
  llama_batch_free(batch);
  if (rc != 0) return make_error(errc::engine_failure, "llama embedder: decoding failed (" + std::to_string(rc) + ")");

  const float* v = llama_get_embeddings_seq(m.ctx, 0);
  if (v == nullptr) v = llama_get_embeddings_ith(m.ctx, -1);
  if (v == nullptr) return make_error(errc::engine_failure, "llama embedder: the model gave no embedding");
  double norm = 0.0;
  for (std::size_t i = 0; i < m.dims; ++i) norm += static_cast<double>(v[i]) * v[i];
  norm = std::sqrt(norm);
  if (norm == 0.0 || !std::isfinite(norm)) return out;
  for (std::size_t i = 0; i < m.dims; ++i) out[i] = static_cast<float>(v[i] / norm);
  return out;
}

}  // namespace parley::llama
