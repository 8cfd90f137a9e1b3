// engines/openai/realtime_recognizer — a streaming recognizer over the OpenAI Realtime protocol's
// transcription sessions: each utterance streams, as it is spoken, to a WebSocket at
// {base_url}/realtime (OpenAI, or another `parley serve`: docs/protocol.md, "The OpenAI Realtime
// protocol"), so the provider decodes while the user speaks and the transcript is ready moments
// after the turn ends — where openai_recognizer uploads the whole utterance only then.
//
// Role: engine::recognizer over warm connections. A connection is a transcription session set
// up once (session.update: type "transcription", input audio/pcm at 24 kHz, turn_detection null:
// parley's own endpointer decides when a turn ends) and then carries one utterance after another:
//   feed()    16 kHz → 24 kHz (audio::resampler), base64, input_audio_buffer.append — sent at once
//   finish()  input_audio_buffer.commit; conversation.item.input_audio_transcription.delta events
//             arrive as partials (their text so far), .completed is the final transcript
//             (confidence: none). An utterance under 100 ms (the protocol's least) is cleared and
//             its transcript is "".
//   cancel()  input_audio_buffer.clear, and the connection serves the next utterance at once (the
//             clear applies to the audio before it; deltas until input_audio_buffer.cleared are
//             ignored). One cancelled after its commit is closed: its transcript is on the way.
// prepare() (a session starts) and warm() (start-up) open a connection ahead of the first
// utterance, so no turn pays a connect and handshake; at most provider.pool_size idle ones are kept.
// A connection the provider closes (idle timeout, restart) is dropped and replaced on demand.
// Threading: shared and thread-safe. The network work runs on the adapter's own thread (the HTTP
// client's); feed(), finish() and cancel() only post to it. Callbacks run on that thread, never
// after cancel() returned.
// Errors (on_final): unavailable (no connection, the connection lost mid-utterance), timeout (no
// transcript within transcription_timeout_ms of finish()), engine_failure (the provider's `error`
// event, its message). Never the key. A fallback chain (routing/speech_fallback.hpp) turns any of
// them into the embedded recognizer's transcript.
// Units: milliseconds; 16 kHz in (caps()), 24 kHz PCM16 on the wire.
//
//   openai::speech_config cfg;
//   cfg.provider.base_url = "ws://127.0.0.1:8081/v1";          // ws(s):// or http(s)://, the API root
//   auto asr = openai::realtime_recognizer::create(cfg);        // invalid_argument: bad base_url
#pragma once

#include <memory>
#include <string>

#include "parley/engine/recognizer.hpp"
#include "parley/engines/openai/openai_speech.hpp"

namespace parley::openai {

/// True for a ws:// or wss:// URL: a speech provider speaking the Realtime protocol.
bool is_realtime_url(std::string_view url);

class realtime_recognizer final : public engine::recognizer {
 public:
  /// `config.provider.base_url`: ws://, wss://, http:// or https:// host[:port][/path]; the
  /// WebSocket is {path}/realtime (a path already ending in /realtime is used as it is).
  static result<std::shared_ptr<realtime_recognizer>> create(speech_config config);
  ~realtime_recognizer() override;
  realtime_recognizer(const realtime_recognizer&) = delete;
  realtime_recognizer& operator=(const realtime_recognizer&) = delete;

  std::string name() const override;
  engine::recognizer_caps caps() const override { return {.sample_rate_hz = 16000, .streaming = true, .partials = true}; }
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override;
  /// Makes sure an idle connection is open or opening; returns at once.
  void prepare() override;

  /// Opens one idle connection now and waits until its session is set up (bounded by the
  /// connect timeout).
  status warm();
  /// Transcription sessions set up so far (connect + TLS + WebSocket + session.update), for tests.
  std::size_t n_connects() const;

  struct impl;

 private:
  explicit realtime_recognizer(std::shared_ptr<impl> state);
  std::shared_ptr<impl> impl_;
};

}  // namespace parley::openai
