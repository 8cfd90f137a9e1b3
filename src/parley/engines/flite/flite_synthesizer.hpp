// engines/flite — streaming text-to-speech with CMU Flite 2.2 (Debian's flite1-dev voices).
//
// Role: an engine::synthesizer that turns one segment of text into PCM16 mono audio, chunk by
// chunk, through flite's audio streaming callback (cst_audio_streaming_info.asc): the first chunk
// leaves as soon as the vocoder has produced chunk_ms of audio, not when the utterance is done.
// Voices (all US English, compiled into the flite libraries, so no file can go missing):
//   rms    male,   clustergen (statistical parametric), 16 kHz — the default (see below)
//   slt    female, clustergen, 16 kHz
//   awb    male (Scottish accent), clustergen, 16 kHz
//   kal16  male,   diphone, 16 kHz — the fastest (≈30x less CPU than rms), most robotic
//   kal    male,   diphone, 8 kHz (telephone band)
// Default voice, chosen by measurement: the lowest word error rate when each voice's audio is
// transcribed by pocketsphinx en-us as a stand-in listener (measured in docs/benchmarks.md,
// "TTS first audio"). rms is the most intelligible, is wideband (16 kHz; kal is telephone-band
// 8 kHz and loses half its words), is a clustergen voice (smoother, more natural prosody than
// the kal diphones) with a US accent (awb is Scottish), and speaks a little slower (0.35 s/word
// vs 0.31), which suits an assistant. Its first chunk for a 12-word sentence comes in ~5-10 ms
// (tts_bench). slt is the female alternative. The ASR may favour male voices; the gap to kal is
// beyond doubt, the order of the three clustergen voices less so.
// Text: normalised first (text/normalize.hpp: numbers, money, times, units ...; configurable),
// then made ASCII for flite (accents folded: é → e; other non-ASCII characters become spaces).
// Streaming detail: flite streams within an utterance, but a clustergen voice (rms, slt, awb)
// predicts the parameters of the whole utterance before it vocodes the first chunk, so the first
// chunk waits for about a third of the utterance's work. Hence split_first_clause, and texts
// over 600 bytes are cut into several utterances (at sentence, then clause ends).
// Threading: flite_init() and every voice registration run once per process, on first use;
// create() only checks the voice with one short probe synthesis and starts its workers.
// Synthesis runs on n_workers threads owned by the synthesizer; requests
// wait in a FIFO queue of at most max_queued live entries (requests already cancelled while they
// wait do not count: a worker completes them at once). synthesize() may be called from any thread
// and never blocks: when the queue is full it calls on_done(errc::unavailable) at once, on the
// caller's thread. Every other callback runs on a worker thread; for one request they never
// overlap. Flite is re-entrant for concurrent synthesis with one shared voice as long as the
// streaming hook is set per utterance, not on the voice: valgrind's helgrind, which sees inside
// the uninstrumented flite libraries, finds no race in 4 workers sharing a voice (only glibc's
// internally locked rand(), used by clustergen's noise excitation), and TSan covers this
// adapter's own code (tests/engines/flite_test.cpp). So workers share the process-wide voice
// (flite registers each voice once per process anyway) and the streaming state lives in each
// utterance.
// Cancellation: the stop token is checked before a request starts (a request cancelled while
// queued completes with errc::cancelled, unsynthesized, as soon as a worker reaches it) and at
// every chunk (flite is told CST_AUDIO_STREAM_STOP): on_done(errc::cancelled) follows within one
// chunk. Text analysis before the first chunk (~5-20 ms per sentence) is not interruptible.
// on_done is called exactly once per request, after its last on_audio.
// Lifetime: the destructor cancels queued and running requests (each still gets its on_done)
// and joins the workers; it may run on a worker thread (e.g. when the last reference is dropped
// inside a callback).
// Units: audio at caps().sample_rate_hz (output_rate_hz, or the voice's native rate when 0),
// resampled with audio::resampler when they differ; chunk_ms in milliseconds of audio.
//
//   auto tts = parley::flite::flite_synthesizer::create({.voice = "slt", .output_rate_hz = 16000});
//   if (!tts) return tts.error();          // e.g. not_found: unknown voice, with the known ones
//   (*tts)->synthesize("It's 5:30 pm.", {.on_audio = play, .on_done = finished}, stop.get_token());
#pragma once

#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engine/synthesizer.hpp"
#include "parley/text/normalize.hpp"

namespace parley::flite {

struct flite_voice_info {
  std::string name;         // "rms"
  int sample_rate_hz = 0;   // native rate
  std::string description;  // "US English male, clustergen, 16 kHz"
};

struct flite_config {
  std::string voice = "rms";       // one of flite_synthesizer::voices(); "cmu_us_rms" also works
  int n_workers = 1;               // synthesis threads, 1..16 (requests in parallel)
  int output_rate_hz = 0;          // 0: the voice's native rate; else resampled (8000..48000)
  double chunk_ms = 40.0;          // audio per chunk from flite (5..1000); the last may be shorter
  std::size_t max_queued = 64;     // requests waiting for a worker, >= 1
  bool normalize_text = true;      // run text::normalize_for_speech first
  // Speak the first clause ("Sure," / "Well, in that case,") as its own utterance: clustergen
  // voices plan a whole utterance before its first chunk, so this cuts the time to first audio
  // of a long sentence about threefold. The continuation's leading pause is trimmed so the
  // pause at that comma stays as long as flite makes it within one utterance.
  bool split_first_clause = true;
  text::normalize_options normalize{};
};

class flite_synthesizer final : public engine::synthesizer {
 public:
  /// Validates the config and starts the workers. Errors (never exceptions): not_found for an
  /// unknown voice (the message lists the known ones), invalid_argument for bad numbers,
  /// engine_failure if the voice cannot synthesize a test word.
  static result<std::shared_ptr<flite_synthesizer>> create(flite_config config = {});

  /// Names of the bundled voices, default first.
  static std::vector<std::string> voices();
  static std::vector<flite_voice_info> voice_infos();
  /// "rms": the most intelligible bundled voice in a speech-recognition round trip (see above).
  static std::string default_voice();

  ~flite_synthesizer() override;
  flite_synthesizer(const flite_synthesizer&) = delete;
  flite_synthesizer& operator=(const flite_synthesizer&) = delete;

  std::string name() const override;  // "flite:rms"
  engine::synthesizer_caps caps() const override;
  void synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) override;

  int native_rate_hz() const;
  /// Requests waiting for a worker now (not counting those being synthesized).
  std::size_t n_queued() const;

  struct state;  // shared with the worker threads

 private:
  explicit flite_synthesizer(std::shared_ptr<state> s);
  std::shared_ptr<state> state_;
};

/// The text as flite gets it (after optional normalisation): ASCII only, accents folded, other
/// non-ASCII characters and control characters turned into spaces, runs of spaces collapsed.
std::string to_flite_text(std::string_view text);

}  // namespace parley::flite
