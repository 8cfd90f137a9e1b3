// libFuzzer target for the telephone media-stream decoder (net/media_stream.hpp): every message on
// /v1/media-stream comes from the network. Run it with scripts/fuzz.sh.
//
// Properties checked beyond "no crash, no sanitizer report": an error has a non-empty message; a
// decoded media payload encodes back (as parley's own media message) and decodes to the same
// bytes; a DTMF digit is one of the sixteen keys; μ-law decoding every payload byte and encoding
// it back gives the same code (0x7F, negative zero, aside).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "parley/net/media_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace parley::net;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_media_stream(text);
  if (auto* err = std::get_if<ms_error>(&decoded)) {
    if (err->message.empty()) std::abort();
    return 0;
  }
  auto& event = std::get<ms_event>(decoded);
  if (auto* media = std::get_if<ms_media>(&event)) {
    const auto again = decode_media_stream(encode_ms_media("MZ", media->payload));
    const auto* back = std::get_if<ms_event>(&again);
    if (!back || !std::holds_alternative<ms_media>(*back) || std::get<ms_media>(*back).payload != media->payload) {
      std::abort();
    }
    for (const auto code : media->payload) {
      if (code != 0x7F && mulaw_encode(mulaw_decode(code)) != code) std::abort();
    }
  } else if (auto* dtmf = std::get_if<ms_dtmf>(&event)) {
    if (std::string_view("0123456789*#ABCD").find(dtmf->digit) == std::string_view::npos) std::abort();
  } else if (auto* start = std::get_if<ms_start>(&event)) {
    if (start->stream_sid.empty()) std::abort();
    (void)encode_ms_clear(start->stream_sid);  // a stream id that came in as JSON goes out as JSON
  }
  return 0;
}
