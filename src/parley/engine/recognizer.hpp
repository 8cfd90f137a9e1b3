// engine/recognizer — the speech recognizer (ASR) interface.
//
// Role: turns one utterance of 16 kHz mono PCM into text, streaming: audio is fed as it arrives,
// partial hypotheses may come while the user speaks, and `finish()` (the endpoint was decided)
// asks for the final transcript, which should come within tens of milliseconds.
// Threading: a `recognizer` is shared by all sessions (models are loaded once, immutable) and
// `open()` may be called from any thread. A `recognizer_stream` belongs to one session: feed(),
// finish() and cancel() are called from that session's strand, never concurrently. The callbacks
// in `recognizer_events` may run on any thread (an engine worker); they must not block.
// Lifetime/cancellation: after finish(), on_final is called exactly once (with the text or an
// error). After cancel() returns, no callback is invoked any more. Destroying a stream cancels it.
//
//   auto stream = asr.open({.on_partial = ..., .on_final = [](result<recognized> r) { ... }});
//   stream->feed(frame);  ...  stream->finish();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "parley/core/error.hpp"

namespace parley::engine {

struct recognizer_caps {
  int sample_rate_hz = 16000;  // what feed() expects
  bool streaming = true;       // decodes while audio arrives (false: all work happens in finish())
  bool partials = false;       // emits partial hypotheses
};

/// A final transcript and how sure the recognizer is of it.
struct recognized {
  std::string text;  // possibly empty: nothing recognisable
  /// The posterior probability of the transcript given the audio, in [0, 1] (pocketsphinx: of the
  /// best path through the utterance's word lattice). nullopt: the engine gives none.
  std::optional<double> confidence;
};

struct recognizer_events {
  /// A partial hypothesis of the utterance so far; `stability` in [0, 1].
  std::function<void(std::string text, double stability)> on_partial;
  /// The final transcript or an error. Exactly once after finish().
  std::function<void(result<recognized> final)> on_final;
  /// Where the audio comes from: utterances of one channel (one session's microphone, raw or
  /// cleaned) share a recognizer's adaptation to it (pocketsphinx: the cepstral mean), so one
  /// session's noisy room does not shift another's. 0: no channel (recognizer-wide state only).
  std::uint64_t channel = 0;
};

class recognizer_stream {
 public:
  virtual ~recognizer_stream() = default;
  /// Appends audio of the current utterance (caps().sample_rate_hz, mono). Must not block.
  virtual void feed(std::span<const std::int16_t> samples) = 0;
  /// The utterance is over: produce the final transcript through on_final.
  virtual void finish() = 0;
  /// Abandons the utterance; no callback runs after this returns.
  virtual void cancel() = 0;
};

class recognizer {
 public:
  virtual ~recognizer() = default;
  virtual std::string name() const = 0;
  virtual recognizer_caps caps() const = 0;
  /// Opens a stream for one utterance.
  virtual result<std::unique_ptr<recognizer_stream>> open(recognizer_events events) = 0;
  /// How far decoding is behind the live audio right now: the most audio, in ms, that any open
  /// stream has fed and the engine has not decoded yet. A server refuses new sessions while it
  /// is high (overload admission). nullopt: the engine cannot tell. Any thread; cheap.
  virtual std::optional<double> backlog_ms() const { return std::nullopt; }
  /// A session is starting: open now what its first utterance will need (a provider's connection),
  /// without blocking. Any thread; the default does nothing.
  virtual void prepare() {}
};

}  // namespace parley::engine
