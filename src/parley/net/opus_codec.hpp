// net/opus_codec — Opus on the wire (libopus): opus_input decodes a client's packets
// (input_audio_format "opus") to 16 kHz PCM16; opus_output encodes reply audio
// (output_audio_format "opus") into 20 ms packets.
//
// opus_input: one libopus decoder per session, running at the session's 16 kHz input rate whatever rate
// the client's encoder ran at (Opus decodes any packet at any of its rates), so Opus input needs
// no resampler. One WebSocket binary message = one Opus packet (2.5 to 120 ms; 20 ms is typical).
// opus_output: one encoder per reply generation, at the announced output rate (an Opus rate); PCM is
// cut into 20 ms frames; the last, partial frame is padded with silence by flush().
// Threading: not thread-safe; owned by one connection and used on its strand only.
// Ownership: move-only; each owns its libopus state.
// Errors are values (no exceptions): create() returns errc::invalid_argument for a rate Opus does
// not run at and errc::internal when libopus cannot make its state (out of memory); an empty or
// undecodable packet gives wire_errc::invalid_opus (the session goes on).
// Units: sample rates in Hz, samples are mono (16 kHz for opus_input).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <variant>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/net/protocol.hpp"

struct OpusDecoder;
struct OpusEncoder;

namespace parley::net {

class opus_input {
 public:
  static constexpr int k_rate_hz = 16000;
  static constexpr std::size_t k_max_packet_samples = k_rate_hz * 120 / 1000;  // 120 ms, Opus' longest

  /// A decoder at 16 kHz; errc::internal if libopus cannot make one (out of memory).
  static result<opus_input> create();
  /// The packet's PCM at 16 kHz, or invalid_opus.
  std::variant<std::vector<std::int16_t>, wire_error> decode(std::span<const std::uint8_t> packet);

 private:
  struct deleter {
    void operator()(OpusDecoder* d) const;
  };
  explicit opus_input(std::unique_ptr<OpusDecoder, deleter> decoder) : decoder_(std::move(decoder)) {}
  std::unique_ptr<OpusDecoder, deleter> decoder_;
};

class opus_output {
 public:
  struct packet {
    std::vector<std::uint8_t> bytes;
    std::size_t n_samples = 0;  // PCM samples it carries (20 ms at the rate)
  };
  /// An encoder at rate_hz: errc::invalid_argument unless it is an Opus rate (is_opus_rate),
  /// errc::internal if libopus cannot make one.
  static result<opus_output> create(int rate_hz);
  int rate_hz() const { return rate_hz_; }
  /// Appends PCM; returns the packets of every complete 20 ms frame (a packet whose encoding failed,
  /// which libopus never does for valid input, is empty: skip it).
  std::vector<packet> push(std::span<const std::int16_t> pcm);
  /// The remaining partial frame padded with silence to 20 ms (nothing when none is pending).
  std::vector<packet> flush();

 private:
  struct deleter {
    void operator()(OpusEncoder* e) const;
  };
  opus_output(int rate_hz, std::unique_ptr<OpusEncoder, deleter> encoder);
  packet encode_frame();
  int rate_hz_;
  std::size_t frame_samples_;
  std::vector<std::int16_t> pending_;
  std::unique_ptr<OpusEncoder, deleter> encoder_;
};

}  // namespace parley::net
