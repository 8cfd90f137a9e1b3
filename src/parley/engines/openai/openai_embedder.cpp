#include "parley/engines/openai/openai_embedder.hpp"

#include <boost/asio/co_spawn.hpp>
#include <chrono>
#include <cmath>
#include <exception>
#include <future>
#include <nlohmann/json.hpp>

#include "parley/engines/openai/http_pool.hpp"

namespace parley::openai {

using namespace detail;  // NOLINT: asio, beast, http aliases of this adapter

namespace {

constexpr std::uint64_t max_embedding_body_bytes = 64u << 20;

using embedding = result<std::vector<float>>;
using embedding_promise = std::promise<embedding>;

result<std::vector<float>> parse_embedding(std::string_view body, std::size_t expected_dims) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error(errc::engine_failure, "embeddings reply is not JSON");
  const auto data = j.find("data");
  if (data == j.end() || !data->is_array() || data->empty() || !(*data)[0].is_object()) {
    return make_error(errc::engine_failure, "embeddings reply has no data");
  }
  const auto& first = (*data)[0];
  const auto values = first.find("embedding");
  if (values == first.end() || !values->is_array() || values->empty()) {
    return make_error(errc::engine_failure, "embeddings reply has no embedding array");
  }
  std::vector<float> v;
  v.reserve(values->size());
  double norm2 = 0.0;
  for (const auto& x : *values) {
    if (!x.is_number()) return make_error(errc::engine_failure, "embedding holds a non-number");
    const double d = x.get<double>();
    if (!std::isfinite(d)) return make_error(errc::engine_failure, "embedding holds a non-finite number");
    norm2 += d * d;
    v.push_back(static_cast<float>(d));
  }
  if (expected_dims != 0 && v.size() != expected_dims) {
    return make_error(errc::engine_failure, "embedding has " + std::to_string(v.size()) + " dimensions, expected " +
                                                std::to_string(expected_dims));
  }
  if (norm2 > 0.0) {
    const double inv = 1.0 / std::sqrt(norm2);
    for (auto& f : v) f = static_cast<float>(f * inv);
  }
  return v;
}

asio::awaitable<void> run_embed(provider_client& client, std::string body, int timeout_ms, std::size_t dims,
                                std::shared_ptr<embedding_promise> done) {
  fetched r = co_await client.fetch(client.make_post("/embeddings", std::move(body), /*event_stream=*/false),
                                    timeout_ms, max_embedding_body_bytes);
  switch (r.failed) {
    case fetched::failure::none:
      break;
    case fetched::failure::connect:
      done->set_value(std::move(r.why));
      co_return;
    case fetched::failure::timeout:
      done->set_value(make_error(errc::timeout, "no embeddings reply within " + std::to_string(timeout_ms) + " ms"));
      co_return;
    case fetched::failure::too_long:
    case fetched::failure::io:
      done->set_value(make_error(errc::unavailable, "embeddings request failed: " + r.why.message));
      co_return;
  }
  if (r.status != 200) {
    done->set_value(make_error(r.status >= 500 || r.status == 429 ? errc::unavailable : errc::engine_failure,
                               client.redact(http_error_text(r.status, r.body))));
    co_return;
  }
  done->set_value(parse_embedding(r.body, dims));
}

}  // namespace

result<std::shared_ptr<openai_embedder>> openai_embedder::create(embedder_config config) {
  auto client = provider_client::create(config.provider);
  if (!client) return client.error();
  return std::shared_ptr<openai_embedder>(new openai_embedder(std::move(config), std::move(*client)));
}

openai_embedder::openai_embedder(embedder_config config, std::unique_ptr<provider_client> client)
    : config_(std::move(config)), dims_(config_.dims), client_(std::move(client)) {}

openai_embedder::~openai_embedder() = default;

std::string openai_embedder::name() const {
  if (!config_.provider.name.empty()) return config_.provider.name;
  return "openai-embeddings:" + config_.model + "@" + client_->where().host;
}

std::size_t openai_embedder::dims() const { return dims_.load(std::memory_order_relaxed); }

std::size_t openai_embedder::n_connects() const { return client_->n_connects(); }

result<std::vector<float>> openai_embedder::embed(std::string_view text) {
  if (text.empty()) return std::vector<float>(dims(), 0.0f);
  const nlohmann::json body = {{"model", config_.model}, {"input", std::string(text)}};
  auto done = std::make_shared<embedding_promise>();
  auto future = done->get_future();
  asio::co_spawn(client_->io(),
                 run_embed(*client_, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                           config_.request_timeout_ms, config_.dims, done),
                 [done](std::exception_ptr e) {
                   if (e) done->set_value(make_error(errc::internal, "embeddings request failed unexpectedly"));
                 });
  // The network operations carry their own timeouts; this bound only guards against a bug.
  const auto bound = std::chrono::milliseconds(config_.provider.connect_timeout_ms + config_.request_timeout_ms + 2000);
  if (future.wait_for(bound) != std::future_status::ready) {
    return make_error(errc::timeout, "embeddings request did not finish in time");
  }
  embedding r = future.get();
  if (r) {
    std::size_t expected = 0;
    dims_.compare_exchange_strong(expected, r->size(), std::memory_order_relaxed);
  }
  return r;
}

status openai_embedder::warm() {
  auto done = std::make_shared<std::promise<status>>();
  auto future = done->get_future();
  auto* client = client_.get();
  asio::co_spawn(
      client->io(), [client]() -> asio::awaitable<status> { co_return co_await client->warm(); },
      [done](std::exception_ptr e, status s) {
        done->set_value(e ? status(make_error(errc::internal, "warm-up failed unexpectedly")) : std::move(s));
      });
  if (future.wait_for(std::chrono::milliseconds(config_.provider.connect_timeout_ms + 2000)) !=
      std::future_status::ready) {
    return make_error(errc::timeout, "warm-up did not finish in time");
  }
  return future.get();
}

}  // namespace parley::openai
