// engines/espeak — streaming text-to-speech with espeak-ng (over 100 languages).
//
// Role: an engine::synthesizer over libespeak-ng in synchronous mode: audio comes out through
// espeak's synth callback a chunk at a time (espeak-ng picks the chunk size: about 20-60 ms)
// while the sentence is still being synthesized. Native rate 22050 Hz; resampled with
// audio::resampler when output_rate_hz asks for another.
// Voices: any espeak-ng language code ("en-us", "en-gb", "de", "fr", "cmn", ...), voice
// identifier ("gmw/en-US") or voice name ("English_(America)"), optionally with a variant
// ("en-us+f3"). voices() lists the language codes of the installed espeak-ng-data.
// Text: English voices normalise text first (text/normalize.hpp; configurable); other languages
// are passed as they are, because espeak-ng reads numbers, dates and symbols in each language
// itself and the normaliser is English.
// Threading: espeak-ng is one global, non-thread-safe state per process. Every espeak call runs
// on one engine thread, shared by all espeak_synthesizer instances (it switches voice and rate
// per request) and started by the first of them; requests from all instances run one at a time
// in FIFO order. synthesize() may be called from any thread and never blocks: when an instance
// already has max_queued requests outstanding (waiting or running) it calls
// on_done(errc::unavailable) at once, on the caller's thread. Every other callback runs on the
// engine thread; for one request they never overlap. on_audio runs while espeak-ng is busy:
// create() and voices() called from inside it fail (invalid_argument / empty) instead of
// deadlocking; synthesize() is fine from any callback.
// Cancellation: the stop token is checked before a request starts (cancelled while queued →
// on_done(errc::cancelled), nothing synthesized, as soon as the engine thread reaches it) and at
// every chunk (the callback tells espeak-ng to abort): on_done(errc::cancelled) follows within
// one chunk. on_done is called exactly once per request, after its last on_audio.
// Start-up errors are values from create(): a data folder that is not there (not_found), espeak-ng
// failing to initialise (engine_failure, with espeak's message), an unknown voice (not_found,
// listing the known languages). espeak-ng is initialised once per process with the data folder
// of the first successful create(); a later create() naming another folder is refused.
// Lifetime: the destructor cancels this instance's queued and running requests and waits until
// each has had its on_done (unless it runs on the engine thread, inside a callback: then they
// complete right after). The engine thread ends with the last instance.
// Units: audio at caps().sample_rate_hz, mono PCM16; speaking rate in words per minute.
//
//   auto tts = parley::espeak::espeak_synthesizer::create({.voice = "de", .output_rate_hz = 16000});
//   if (!tts) return tts.error();
//   (*tts)->synthesize("Guten Tag.", {.on_audio = play, .on_done = finished}, stop.get_token());
#pragma once

#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engine/synthesizer.hpp"
#include "parley/text/normalize.hpp"

namespace parley::espeak {

struct espeak_config {
  std::string voice = "en-us";   // language code, voice identifier or name, optional "+variant"
  int output_rate_hz = 0;        // 0: espeak-ng's native 22050 Hz; else resampled (8000..48000)
  int words_per_minute = 0;      // 0: espeak-ng's default (175); else 80..450
  std::size_t max_queued = 64;   // requests outstanding per instance (waiting or running), >= 1
  bool normalize_text = true;    // text::normalize_for_speech first — for English voices only
  text::normalize_options normalize{};
  std::string data_dir;          // the espeak-ng-data folder (or its parent); empty: the package's
};

class espeak_synthesizer final : public engine::synthesizer {
 public:
  static result<std::shared_ptr<espeak_synthesizer>> create(espeak_config config = {});

  /// Every language code the installed voices speak ("af", ..., "en", "en-gb", "en-us", ...,
  /// "zh"), each usable as espeak_config::voice; sorted; empty when
  /// espeak-ng cannot initialise.
  static std::vector<std::string> voices();

  ~espeak_synthesizer() override;
  espeak_synthesizer(const espeak_synthesizer&) = delete;
  espeak_synthesizer& operator=(const espeak_synthesizer&) = delete;

  std::string name() const override;  // "espeak:en-us"
  engine::synthesizer_caps caps() const override;
  void synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) override;

  int native_rate_hz() const;
  /// The language espeak-ng chose for the voice ("en-us").
  std::string language() const;
  /// This instance's requests not yet finished (waiting or running).
  std::size_t n_outstanding() const;

  struct client;  // shared with the engine thread

 private:
  explicit espeak_synthesizer(std::shared_ptr<client> c);
  std::shared_ptr<client> client_;
};

}  // namespace parley::espeak
