// audio/wav — reading audio files and writing WAV files (libsndfile).
//
// Role: `read_audio_file` turns any file libsndfile can decode (WAV of any rate, bit depth or
// float, any channel count; FLAC, Ogg/Vorbis, Opus, MP3 where the library has them) into mono
// int16 at the rate parley wants. `write_wav` and `wav_writer` write PCM16 mono WAV, e.g. reply
// audio or recordings of a session.
// Threading: the free functions are reentrant; a `wav_writer` belongs to one thread at a time.
// Ownership: `wav_writer` owns its open file and closes it on close() or destruction.
// Errors: values, never exceptions; every message is one line and names the file. Bad files
// (missing, unreadable, not audio, empty, absurd header, truncated, random bytes) are errors,
// never crashes.
// Units: rates in Hz, durations in ms, sample counts in mono samples.
//
//   auto clip = parley::audio::read_audio_file("question.wav");          // 16 kHz mono
//   if (!clip) { std::cerr << clip.error().describe() << '\n'; return 1; }
//   auto w = parley::audio::wav_writer::open("reply.wav", 16000);
//   for (auto chunk : tts_chunks) if (auto s = w->append(chunk); !s) return s;
//   return w->close();
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"

namespace parley::audio {

/// Mono int16 audio with the facts about where it came from.
struct pcm_clip {
  std::vector<std::int16_t> samples;
  int rate_hz = k_input_rate_hz;
  int source_rate_hz = 0;   // the file's own rate
  int source_channels = 0;  // the file's channel count, before the down-mix

  double duration_ms() const;
};

/// Reads a whole audio file, down-mixes it to mono and resamples it to `target_rate_hz`.
/// Errors (each message names the file):
///   not_found          the path does not exist
///   io_error           a directory, not a regular file, or not readable (permissions, I/O)
///   unsupported_format not audio libsndfile can decode (e.g. text named .wav, random bytes,
///                      a header cut short), or an absurd header (rate or channel count)
///   empty_input        a 0-byte file or an audio file with no samples
///   invalid_argument   target_rate_hz outside [k_min_rate_hz, k_max_rate_hz]
result<pcm_clip> read_audio_file(const std::string& path, int target_rate_hz = k_input_rate_hz);

/// The same for a file held in memory (an upload): `bytes` decoded as read_audio_file decodes a
/// file; `name` (e.g. the upload's file name) only names it in errors. Errors: unsupported_format,
/// empty_input and invalid_argument as above.
result<pcm_clip> decode_audio(std::string_view bytes, const std::string& name, int target_rate_hz = k_input_rate_hz);

/// The 44-byte header of a PCM16 mono WAV at `rate_hz` holding `n_samples`; without a count (a
/// stream whose length is not known yet) the RIFF and data sizes are 0xFFFFFFFF, as streaming
/// encoders write them, and readers (libsndfile, decode_audio) read to the end.
std::string wav_header(int rate_hz, std::optional<std::size_t> n_samples = std::nullopt);
/// PCM16 samples as little-endian bytes (a WAV's data, a raw `pcm` stream).
std::string pcm16le_bytes(std::span<const std::int16_t> samples);

/// Writes `samples` as a PCM16 mono WAV at `rate_hz`, replacing any existing file.
status write_wav(const std::string& path, std::span<const std::int16_t> samples, int rate_hz);

/// Writes a PCM16 mono WAV incrementally. The header is rewritten after every append, so the
/// file on disk is a valid WAV holding every appended sample even if close() never runs (the
/// process dies, the reply is interrupted). Move-only.
class wav_writer {
 public:
  /// Creates (or truncates) `path`. io_error if it cannot be created; invalid_argument for a bad rate.
  static result<wav_writer> open(const std::string& path, int rate_hz);

  wav_writer(wav_writer&&) noexcept;
  wav_writer& operator=(wav_writer&&) noexcept;
  ~wav_writer();  // closes

  /// Appends samples at rate_hz. io_error on a failed write (e.g. disk full) or after close().
  status append(std::span<const std::int16_t> samples);
  /// Finishes the file. Idempotent; an error only if the final header write failed.
  status close();

  bool is_open() const;
  std::int64_t n_samples_written() const { return n_samples_written_; }
  int rate_hz() const { return rate_hz_; }
  const std::string& path() const { return path_; }

 private:
  struct impl;
  wav_writer(std::string path, int rate_hz, std::unique_ptr<impl> state);

  std::string path_;
  int rate_hz_ = 0;
  std::int64_t n_samples_written_ = 0;
  std::unique_ptr<impl> impl_;  // null once closed
};

}  // namespace parley::audio
