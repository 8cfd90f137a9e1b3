// net/opus_codec — implementation. See opus_codec.hpp.
#include "parley/net/opus_codec.hpp"

#include <opus.h>

#include <algorithm>
#include <string>

namespace parley::net {

void opus_input::deleter::operator()(OpusDecoder* d) const { opus_decoder_destroy(d); }

result<opus_input> opus_input::create() {
  int err = OPUS_OK;
  std::unique_ptr<OpusDecoder, deleter> decoder(opus_decoder_create(k_rate_hz, 1, &err));
  if (err != OPUS_OK || !decoder) return make_error(errc::internal, std::string("opus decoder: ") + opus_strerror(err));
  return opus_input(std::move(decoder));
}

std::variant<std::vector<std::int16_t>, wire_error> opus_input::decode(std::span<const std::uint8_t> packet) {
  if (packet.empty()) return wire_error{wire_errc::invalid_opus, "an empty binary message is not an Opus packet", ""};
  // The packet's own length (its TOC byte and frame count), checked before decoding.
  const int n_samples = opus_packet_get_nb_samples(packet.data(), static_cast<opus_int32>(packet.size()), k_rate_hz);
  if (n_samples <= 0 || static_cast<std::size_t>(n_samples) > k_max_packet_samples) {
    return wire_error{wire_errc::invalid_opus, "the binary message is not a valid Opus packet", ""};
  }
  std::vector<std::int16_t> pcm(k_max_packet_samples);
  const int n = opus_decode(decoder_.get(), packet.data(), static_cast<opus_int32>(packet.size()), pcm.data(),
                            static_cast<int>(pcm.size()), 0);
  if (n < 0) {
    return wire_error{wire_errc::invalid_opus, std::string("undecodable Opus packet: ") + opus_strerror(n), ""};
  }
  pcm.resize(static_cast<std::size_t>(n));
  return pcm;
}

void opus_output::deleter::operator()(OpusEncoder* e) const { opus_encoder_destroy(e); }

result<opus_output> opus_output::create(int rate_hz) {
  if (!is_opus_rate(rate_hz)) {
    return make_error(errc::invalid_argument, "opus encoder: " + std::to_string(rate_hz) + " Hz is not an Opus rate");
  }
  int err = OPUS_OK;
  std::unique_ptr<OpusEncoder, deleter> encoder(opus_encoder_create(rate_hz, 1, OPUS_APPLICATION_VOIP, &err));
  if (err != OPUS_OK || !encoder) return make_error(errc::internal, std::string("opus encoder: ") + opus_strerror(err));
  return opus_output(rate_hz, std::move(encoder));
}

opus_output::opus_output(int rate_hz, std::unique_ptr<OpusEncoder, deleter> encoder)
    : rate_hz_(rate_hz), frame_samples_(static_cast<std::size_t>(rate_hz / 50)), encoder_(std::move(encoder)) {
  pending_.reserve(frame_samples_);
}

opus_output::packet opus_output::encode_frame() {
  packet p;
  p.bytes.resize(1500);  // far above what 20 ms of mono speech needs at any bitrate Opus picks
  const int n = opus_encode(encoder_.get(), pending_.data(), static_cast<int>(frame_samples_), p.bytes.data(),
                            static_cast<opus_int32>(p.bytes.size()));
  p.bytes.resize(static_cast<std::size_t>(std::max(n, 0)));  // n < 0 cannot happen for a full frame: an empty packet
  p.n_samples = frame_samples_;
  pending_.clear();
  return p;
}

std::vector<opus_output::packet> opus_output::push(std::span<const std::int16_t> pcm) {
  std::vector<packet> out;
  while (!pcm.empty()) {
    const auto take = std::min(pcm.size(), frame_samples_ - pending_.size());
    pending_.insert(pending_.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(take));
    pcm = pcm.subspan(take);
    if (pending_.size() == frame_samples_) out.push_back(encode_frame());
  }
  return out;
}

std::vector<opus_output::packet> opus_output::flush() {
  std::vector<packet> out;
  if (pending_.empty()) return out;
  pending_.resize(frame_samples_, 0);
  out.push_back(encode_frame());
  return out;
}

}  // namespace parley::net
