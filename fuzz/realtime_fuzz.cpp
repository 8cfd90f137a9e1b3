// libFuzzer target for the OpenAI Realtime protocol decoder (net/realtime_protocol.hpp): every
// client event of /v1/realtime comes from the network. Run it with scripts/fuzz.sh.
//
// Properties checked beyond "no crash, no sanitizer report": an error has a code with a name and
// a non-empty message and encodes as a Realtime `error` event; an accepted session.update is
// applied and its session.updated encodes, with input and output rates the codec can speak;
// appended audio never holds more samples than its text had base64 characters; a truncate names a
// real generation. Every input is decoded twice: as sent, and after an accepted session.update to
// G.711 μ-law in (so the 8 kHz decoders see it too).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parley/net/realtime_protocol.hpp"

namespace {

void check(parley::net::realtime_codec& codec, std::string_view text) {
  using namespace parley::net;
  auto decoded = codec.decode(text);
  if (auto* err = std::get_if<wire_error>(&decoded)) {
    if (err->message.empty() || to_string(err->code) == "unknown") std::abort();
    if (codec.encode(error_message{*err}).size() != 1) std::abort();
    return;
  }
  auto& ev = std::get<client_event>(decoded);
  if (std::holds_alternative<session_update>(ev)) {
    codec.apply_staged();
    const auto u = codec.as_session_update();
    if (u.input_sample_rate_hz != 24000 && u.input_sample_rate_hz != 8000) std::abort();
    if (codec.encode(session_created{.updated = true}).size() != 1) std::abort();
  } else if (auto* a = std::get_if<audio_append>(&ev)) {
    if (a->pcm.size() > text.size()) std::abort();
  } else if (auto* t = std::get_if<item_truncate>(&ev)) {
    if (t->generation == 0 || t->audio_end_ms < 0) std::abort();
  } else if (auto* m = std::get_if<text_input>(&ev)) {
    if (m->text.size() > k_max_text_bytes || codec.encode_text_item(m->text).size() != 2) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  parley::net::realtime_codec pcm({});
  check(pcm, text);
  parley::net::realtime_codec mulaw({});
  check(mulaw, R"({"type":"session.update","session":{"audio":{"input":{"format":{"type":"audio/pcmu"}}}}})");
  check(mulaw, text);
  return 0;
}
