// engines/openai/openai_speech — speech providers over OpenAI's audio API: a recognizer that posts
// each utterance to {base_url}/audio/transcriptions and a synthesizer that streams from
// {base_url}/audio/speech. Any server speaking that API works: OpenAI, a Whisper or Piper server
// behind an OpenAI-compatible front, or another `parley serve` (docs/protocol.md §9).
//
// Role: engine::recognizer and engine::synthesizer adapters over the same keep-alive connection
// pool as the chat model (http_pool.hpp); warm() opens a connection ahead of the first request
// (the composition root calls it at start), and prepare() does the same without waiting when a
// session starts, so its first turn does not pay a connect after the provider closed an idle one.
//   recognizer  feed() keeps the utterance (16 kHz PCM16, at most max_utterance_s); finish() posts
//               it as a WAV in multipart/form-data (model, language, response_format json) and
//               on_final gets {"text"} (confidence: none). Not streaming: all work is at finish().
//   synthesizer posts {"model", "voice", "input", "response_format": "pcm"} and delivers the
//               24 kHz PCM16 body as it arrives, in chunks of at most chunk_ms.
// Threading: both are shared and thread-safe; the HTTP work runs on the adapter's own network
// thread, and the callbacks are called there (never concurrently for one request).
// Cancellation: recognizer_stream::cancel() returns once no callback can run any more (the upload
// in flight, if any, is left to finish or time out on the network thread, its answer dropped).
// A synthesizer's stop token closes its connection at once; on_done(cancelled) follows.
// Errors (on_final / on_done): unavailable (connection refused or lost, HTTP 5xx or 429), timeout
// (no answer / no first audio / a silent gap beyond the configured times), engine_failure (HTTP 4xx
// with the provider's message, a malformed answer). Never the key.
// Units: milliseconds; 16 kHz in, 24 kHz out (caps()).
//
//   openai::speech_config cfg;
//   cfg.provider.base_url = "http://127.0.0.1:8081/v1";  // e.g. another parley serve
//   auto asr = openai::openai_recognizer::create(cfg);   // invalid_argument: bad base_url
//   auto tts = openai::openai_synthesizer::create(cfg);
#pragma once

#include <memory>
#include <string>

#include "parley/engine/recognizer.hpp"
#include "parley/engine/synthesizer.hpp"
#include "parley/engines/openai/openai_config.hpp"

namespace parley::openai {

namespace detail {
class provider_client;
}

struct speech_config {
  provider_config provider;
  std::string asr_model = "whisper-1";  // as the provider names its recognizer
  std::string language = "en";          // sent with each upload; "" = not sent
  std::string tts_model = "tts-1";      // as the provider names its voice model
  std::string voice = "alloy";
  /// The recognizer: the whole answer (upload, decode, reply) within this.
  int transcription_timeout_ms = 5000;
  double max_utterance_s = 120.0;  // audio beyond it is not kept (the upload stays bounded)
  /// The synthesizer: the first audio within this after the request, then no gap longer than
  /// inter_chunk_timeout_ms.
  int first_audio_timeout_ms = 3000;
  int inter_chunk_timeout_ms = 2000;
  double chunk_ms = 40.0;  // audio per on_audio call, at most
};

class openai_recognizer final : public engine::recognizer {
 public:
  static result<std::shared_ptr<openai_recognizer>> create(speech_config config);
  ~openai_recognizer() override;
  openai_recognizer(const openai_recognizer&) = delete;
  openai_recognizer& operator=(const openai_recognizer&) = delete;

  std::string name() const override;
  engine::recognizer_caps caps() const override { return {.sample_rate_hz = 16000, .streaming = false, .partials = false}; }
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override;
  /// Makes sure a connection is open (a new one if the pooled one was closed while idle); returns at once.
  void prepare() override;

  /// Opens one pooled connection now (blocking, bounded by the connect timeout).
  status warm();
  std::size_t n_connects() const;

  struct impl;

 private:
  explicit openai_recognizer(std::shared_ptr<impl> state);
  std::shared_ptr<impl> impl_;
};

class openai_synthesizer final : public engine::synthesizer {
 public:
  static result<std::shared_ptr<openai_synthesizer>> create(speech_config config);
  ~openai_synthesizer() override;
  openai_synthesizer(const openai_synthesizer&) = delete;
  openai_synthesizer& operator=(const openai_synthesizer&) = delete;

  std::string name() const override;
  engine::synthesizer_caps caps() const override { return {.sample_rate_hz = 24000, .streaming = true}; }
  void synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) override;
  /// Makes sure a connection is open (a new one if the pooled one was closed while idle); returns at once.
  void prepare() override;

  /// Opens one pooled connection now (blocking, bounded by the connect timeout).
  status warm();
  std::size_t n_connects() const;

  struct impl;

 private:
  explicit openai_synthesizer(std::shared_ptr<impl> state);
  std::shared_ptr<impl> impl_;
};

}  // namespace parley::openai
