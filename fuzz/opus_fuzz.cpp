// libFuzzer target for the Opus path (net/opus_codec.hpp): in an Opus session every binary
// message from the client is handed to libopus as a packet. Run it with scripts/fuzz.sh.
//
// Properties checked beyond "no crash, no sanitizer report":
// - decoding any bytes gives either PCM (at most 120 ms at 16 kHz, never empty) or invalid_opus
//   with a message; a decoder that refused a packet keeps decoding the next one;
// - the input also drives the encoder: PCM made from the bytes, at an Opus rate chosen by the
//   first byte, is encoded into 20 ms packets, each non-empty and carrying exactly 20 ms, and
//   every packet the encoder made decodes (to 20 ms at 16 kHz).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "parley/net/opus_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace parley::net;
  static opus_input shared_decoder = *opus_input::create();  // long-lived, as a session's: state carries over
  const std::span<const std::uint8_t> bytes(data, size);

  auto decoded = shared_decoder.decode(bytes);
  if (auto* pcm = std::get_if<std::vector<std::int16_t>>(&decoded)) {
    if (pcm->empty() || pcm->size() > opus_input::k_max_packet_samples) std::abort();
  } else {
    const auto& err = std::get<wire_error>(decoded);
    if (err.code != wire_errc::invalid_opus || err.message.empty()) std::abort();
  }

  if (size < 1) return 0;
  static constexpr int k_rates[] = {8000, 12000, 16000, 24000, 48000};
  const int rate = k_rates[data[0] % 5];
  std::vector<std::int16_t> pcm((size - 1) / 2);
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    pcm[i] = static_cast<std::int16_t>(data[1 + 2 * i] | (data[2 + 2 * i] << 8));
  }
  auto encoder = opus_output::create(rate);
  if (!encoder) std::abort();
  auto packets = encoder->push(pcm);
  for (auto& p : encoder->flush()) packets.push_back(std::move(p));
  const std::size_t frame = static_cast<std::size_t>(rate / 50);
  if (packets.size() != (pcm.size() + frame - 1) / frame) std::abort();  // every 20 ms, the tail padded
  auto decoder = opus_input::create();
  if (!decoder) std::abort();
  for (const auto& p : packets) {
    if (p.bytes.empty() || p.n_samples != frame) std::abort();
    auto back = decoder->decode(p.bytes);
    auto* out = std::get_if<std::vector<std::int16_t>>(&back);
    if (out == nullptr || out->size() != static_cast<std::size_t>(opus_input::k_rate_hz / 50)) std::abort();
  }
  return 0;
}
