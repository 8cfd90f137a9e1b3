// engines/openai/openai_speech — implementation. See openai_speech.hpp.
#include "parley/engines/openai/openai_speech.hpp"

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "parley/audio/wav.hpp"
#include "parley/engines/openai/http_pool.hpp"

// GCC 12 at -O2 inlines Asio's coroutine-frame operator new (aligned_alloc) and its operator
// delete (free) into these coroutines and then reports them as mismatched: a false positive
// (cmake/parley_options.cmake says more; ASan checks the real thing at run time).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace parley::openai {

using namespace detail;  // NOLINT: asio, beast, http aliases of this adapter
using json = nlohmann::json;

namespace {

constexpr std::uint64_t k_max_transcript_body_bytes = 1u << 20;
constexpr std::size_t k_max_error_body_bytes = 4096;
constexpr int k_input_rate_hz = 16000;
constexpr int k_speech_rate_hz = 24000;

std::string ms_text(int ms) { return std::to_string(ms) + " ms"; }

/// Opens one pooled connection on `client`'s thread and waits for it (bounded).
status warm_client(provider_client& client, int connect_timeout_ms) {
  auto done = std::make_shared<std::promise<status>>();
  auto future = done->get_future();
  auto* c = &client;
  asio::co_spawn(
      client.io(), [c]() -> asio::awaitable<status> { co_return co_await c->warm(); },
      [done](std::exception_ptr e, status s) {
        done->set_value(e ? status(make_error(errc::internal, "warm-up failed unexpectedly")) : std::move(s));
      });
  if (future.wait_for(std::chrono::milliseconds(connect_timeout_ms + 2000)) != std::future_status::ready) {
    return make_error(errc::timeout, "warm-up did not finish in time");
  }
  return future.get();
}

/// Makes sure `client` has a live pooled connection, on its thread; returns at once.
void prepare_client(provider_client& client) {
  auto* c = &client;
  asio::co_spawn(
      client.io(), [c]() -> asio::awaitable<void> { (void)co_await c->warm(); }, asio::detached);
}

/// An HTTP failure status as an error: 5xx and 429 are the provider being unavailable, the rest
/// (4xx) a request it will not serve.
error http_failure(const provider_client& client, unsigned status, std::string_view body) {
  return make_error(status >= 500 || status == 429 ? errc::unavailable : errc::engine_failure,
                    client.redact(http_error_text(status, body)));
}

}  // namespace

// ---- the recognizer -----------------------------------------------------------------------------

struct openai_recognizer::impl {
  speech_config config;
  std::unique_ptr<provider_client> client;
  std::atomic<std::uint64_t> n_uploads{0};
};

namespace {

result<engine::recognized> parse_transcript(std::string_view body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
    return make_error(errc::engine_failure, "transcription reply has no text");
  }
  return engine::recognized{j["text"].get<std::string>(), std::nullopt};
}

asio::awaitable<void> run_transcription(openai_recognizer::impl* m, std::string boundary,
                                        std::string body, std::shared_ptr<pending_transcript> out) {
  auto& client = *m->client;
  auto req = client.make_post("/audio/transcriptions", std::move(body), /*event_stream=*/false);
  req.set(http::field::content_type, "multipart/form-data; boundary=" + boundary);
  const int timeout_ms = m->config.transcription_timeout_ms;
  fetched r = co_await client.fetch(std::move(req), timeout_ms, k_max_transcript_body_bytes);
  switch (r.failed) {
    case fetched::failure::none:
      break;
    case fetched::failure::connect:
      out->deliver(std::move(r.why));
      co_return;
    case fetched::failure::timeout:
      out->deliver(make_error(errc::timeout, "no transcript within " + ms_text(timeout_ms)));
      co_return;
    case fetched::failure::too_long:
    case fetched::failure::io:
      out->deliver(make_error(errc::unavailable, "transcription request failed: " + r.why.message));
      co_return;
  }
  if (r.status != 200) {
    out->deliver(http_failure(client, r.status, r.body));
    co_return;
  }
  out->deliver(parse_transcript(r.body));
}

class upload_stream final : public engine::recognizer_stream {
 public:
  upload_stream(openai_recognizer::impl* m, engine::recognizer_events events)
      : m_(m), out_(std::make_shared<pending_transcript>()) {
    out_->events = std::move(events);
  }
  ~upload_stream() override { cancel(); }

  void feed(std::span<const std::int16_t> samples) override {
    if (finished_) return;
    const auto cap = static_cast<std::size_t>(m_->config.max_utterance_s * k_input_rate_hz);
    const auto room = cap - std::min(cap, audio_.size());
    audio_.insert(audio_.end(), samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(std::min(room, samples.size())));
  }

  void finish() override {
    if (finished_) return;
    finished_ = true;
    const auto n = m_->n_uploads.fetch_add(1, std::memory_order_relaxed);
    const std::string boundary = "parley-utterance-" + std::to_string(n) + "-" + std::to_string(audio_.size());
    const auto field = [&](std::string_view name, std::string_view value) {
      return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n" +
             std::string(value) + "\r\n";
    };
    std::string body = "--" + boundary +
                       "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"utterance.wav\"\r\n"
                       "Content-Type: audio/wav\r\n\r\n" +
                       audio::wav_header(k_input_rate_hz, audio_.size()) + audio::pcm16le_bytes(audio_) + "\r\n";
    body += field("model", m_->config.asr_model);
    if (!m_->config.language.empty()) body += field("language", m_->config.language);
    body += field("response_format", "json");
    body += "--" + boundary + "--\r\n";
    audio_ = {};
    auto out = out_;
    asio::co_spawn(m_->client->io(), run_transcription(m_, boundary, std::move(body), out), [out](std::exception_ptr e) {
      if (e) out->deliver(make_error(errc::internal, "transcription request failed unexpectedly"));
    });
  }

  void cancel() override { out_->cancel(); }

 private:
  openai_recognizer::impl* m_;  // the recognizer outlives its streams (engine/recognizer.hpp)
  std::shared_ptr<pending_transcript> out_;
  std::vector<std::int16_t> audio_;
  bool finished_ = false;
};

}  // namespace

result<std::shared_ptr<openai_recognizer>> openai_recognizer::create(speech_config config) {
  auto client = provider_client::create(config.provider);
  if (!client) return client.error();
  auto state = std::make_shared<impl>();
  state->config = std::move(config);
  state->client = std::move(*client);
  return std::shared_ptr<openai_recognizer>(new openai_recognizer(std::move(state)));
}

openai_recognizer::openai_recognizer(std::shared_ptr<impl> state) : impl_(std::move(state)) {}
openai_recognizer::~openai_recognizer() = default;

std::string openai_recognizer::name() const {
  if (!impl_->config.provider.name.empty()) return impl_->config.provider.name;
  return "openai-asr:" + impl_->config.asr_model + "@" + impl_->client->where().host_header;
}

result<std::unique_ptr<engine::recognizer_stream>> openai_recognizer::open(engine::recognizer_events events) {
  return std::unique_ptr<engine::recognizer_stream>(new upload_stream(impl_.get(), std::move(events)));
}

void openai_recognizer::prepare() { prepare_client(*impl_->client); }
status openai_recognizer::warm() { return warm_client(*impl_->client, impl_->config.provider.connect_timeout_ms); }
std::size_t openai_recognizer::n_connects() const { return impl_->client->n_connects(); }

// ---- the synthesizer ----------------------------------------------------------------------------

struct openai_synthesizer::impl {
  speech_config config;
  std::unique_ptr<provider_client> client;
};

namespace {

/// One synthesize() call; its state lives on the network thread.
struct speech_call : std::enable_shared_from_this<speech_call> {
  speech_call(openai_synthesizer::impl* m, engine::synthesizer_events ev) : model(m), events(std::move(ev)) {}
  // Not owned: the synthesizer's destructor waits for every call (its client joins its thread),
  // and must never run on that thread, as dropping the last owner here would.
  openai_synthesizer::impl* model;
  engine::synthesizer_events events;
  std::shared_ptr<connection> conn;  // the connection in use (cancel closes it)
  bool done = false;
  std::size_t n_samples = 0;  // delivered so far
  std::optional<std::stop_callback<std::function<void()>>> on_stop;

  void finish(status s) {
    if (done) return;
    done = true;
    auto on_done = std::move(events.on_done);
    events = {};
    if (on_done) on_done(std::move(s));
  }
  void cancel() {
    if (done) return;
    finish(make_error(errc::cancelled, "cancelled"));
    if (conn) conn->close();
  }
  double delivered_ms() const { return 1000.0 * static_cast<double>(n_samples) / k_speech_rate_hz; }
};

bool closed_by_peer(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

asio::awaitable<void> run_speech(std::shared_ptr<speech_call> call, std::string body) {
  auto& client = *call->model->client;
  const auto& cfg = call->model->config;
  const auto fail = [&](error e) {
    if (call->conn) call->conn->close();
    call->conn.reset();
    call->finish(std::move(e));
  };
  // A pooled connection the server has closed meanwhile fails at once: one more try on a new one.
  for (int attempt = 0;; ++attempt) {
    call->conn.reset();
    if (status s = co_await client.acquire(call->conn); !s) {
      call->conn.reset();
      call->finish(std::move(s));
      co_return;
    }
    if (call->done) co_return;
    auto conn = call->conn;
    const bool reused = conn->n_requests > 0;
    ++conn->n_requests;
    auto req = client.make_post("/audio/speech", body, /*event_stream=*/false);
    req.set(http::field::accept, "audio/pcm");
    conn->tcp().expires_after(std::chrono::milliseconds(cfg.first_audio_timeout_ms));
    auto ec = co_await conn->write(req);
    if (call->done) co_return;
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // a stream of audio: bounded by the input, not here
    if (!ec) {
      ec = co_await conn->read_header(buffer, parser);
      if (call->done) co_return;
    }
    if (ec) {
      if (reused && attempt == 0 && closed_by_peer(ec)) {
        conn->close();
        continue;
      }
      fail(ec == beast::error::timeout
               ? make_error(errc::timeout, "no answer within " + ms_text(cfg.first_audio_timeout_ms))
               : make_error(errc::unavailable, "speech request failed: " + ec.message()));
      co_return;
    }
    const unsigned code = parser.get().result_int();
    std::string error_body;
    std::array<char, 16 * 1024> chunk{};
    std::optional<std::uint8_t> odd_byte;  // a sample split between two reads
    std::vector<std::int16_t> pcm;
    const auto max_samples = std::max<std::size_t>(1, static_cast<std::size_t>(cfg.chunk_ms * k_speech_rate_hz / 1000.0));
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      ec = co_await conn->read_some(buffer, parser);
      if (call->done) co_return;
      if (ec == http::error::need_buffer) ec = {};
      const std::size_t got = chunk.size() - parser.get().body().size;
      if (code != 200) {
        error_body.append(chunk.data(), std::min(got, k_max_error_body_bytes - std::min(k_max_error_body_bytes, error_body.size())));
      } else if (got > 0) {
        std::size_t at = 0;
        pcm.clear();
        if (odd_byte) {
          pcm.push_back(static_cast<std::int16_t>(*odd_byte | (static_cast<std::uint8_t>(chunk[0]) << 8)));
          odd_byte.reset();
          at = 1;
        }
        for (; at + 1 < got; at += 2) {
          pcm.push_back(static_cast<std::int16_t>(static_cast<std::uint8_t>(chunk[at]) |
                                                  (static_cast<std::uint8_t>(chunk[at + 1]) << 8)));
        }
        if (at < got) odd_byte = static_cast<std::uint8_t>(chunk[at]);
        for (std::size_t from = 0; from < pcm.size() && !call->done; from += max_samples) {
          const auto piece = std::span<const std::int16_t>(pcm).subspan(from, std::min(max_samples, pcm.size() - from));
          call->n_samples += piece.size();
          if (call->events.on_audio) call->events.on_audio(piece);
        }
        if (call->done) co_return;
        conn->tcp().expires_after(std::chrono::milliseconds(cfg.inter_chunk_timeout_ms));
      }
      if (ec) {
        fail(ec == beast::error::timeout
                 ? make_error(errc::timeout, "no audio for " + ms_text(cfg.inter_chunk_timeout_ms) + " after " +
                                                 std::to_string(static_cast<long>(call->delivered_ms())) + " ms of it")
                 : make_error(errc::unavailable, "connection lost after " +
                                                     std::to_string(static_cast<long>(call->delivered_ms())) +
                                                     " ms of audio: " + ec.message()));
        co_return;
      }
    }
    if (parser.keep_alive()) {
      client.release(std::move(call->conn));
    } else {
      conn->close();
    }
    call->conn.reset();
    if (code != 200) {
      call->finish(http_failure(client, code, error_body));
    } else {
      call->finish({});
    }
    co_return;
  }
}

}  // namespace

result<std::shared_ptr<openai_synthesizer>> openai_synthesizer::create(speech_config config) {
  auto client = provider_client::create(config.provider);
  if (!client) return client.error();
  auto state = std::make_shared<impl>();
  state->config = std::move(config);
  state->client = std::move(*client);
  return std::shared_ptr<openai_synthesizer>(new openai_synthesizer(std::move(state)));
}

openai_synthesizer::openai_synthesizer(std::shared_ptr<impl> state) : impl_(std::move(state)) {}
openai_synthesizer::~openai_synthesizer() = default;

std::string openai_synthesizer::name() const {
  if (!impl_->config.provider.name.empty()) return impl_->config.provider.name;
  return "openai-tts:" + impl_->config.tts_model + "/" + impl_->config.voice + "@" + impl_->client->where().host_header;
}

void openai_synthesizer::synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) {
  auto call = std::make_shared<speech_call>(impl_.get(), std::move(events));
  const json body = {{"model", impl_->config.tts_model},
                     {"voice", impl_->config.voice},
                     {"input", std::move(text)},
                     {"response_format", "pcm"}};
  auto& io = impl_->client->io();
  // A stop request reaches the call on its thread; one made already cancels it before it starts.
  call->on_stop.emplace(stop, std::function<void()>([&io, weak = std::weak_ptr(call)] {
                          asio::post(io, [weak] {
                            if (auto c = weak.lock()) c->cancel();
                          });
                        }));
  asio::co_spawn(io, run_speech(call, body.dump(-1, ' ', false, json::error_handler_t::replace)),
                 [call](std::exception_ptr e) {
                   if (e) call->finish(make_error(errc::internal, "speech request failed unexpectedly"));
                 });
}

void openai_synthesizer::prepare() { prepare_client(*impl_->client); }
status openai_synthesizer::warm() { return warm_client(*impl_->client, impl_->config.provider.connect_timeout_ms); }
std::size_t openai_synthesizer::n_connects() const { return impl_->client->n_connects(); }

}  // namespace parley::openai
