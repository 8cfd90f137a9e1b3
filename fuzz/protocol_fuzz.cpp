// libFuzzer target for the protocol v1 decoder (net/protocol.hpp): every client message the
// server decodes comes from the network. Run it with scripts/fuzz.sh.
//
// Properties checked beyond "no crash, no sanitizer report": a decoded event's type name is one of
// the five client types; an error has a code with a name and a non-empty message; whatever the
// decoder returns can be encoded back (as an error event) into JSON without throwing; a
// session.update asking for Opus (input_audio_format / output_audio_format) names Opus rates only.
// (Opus packets themselves are decoded by libopus behind opus_codec.hpp's length checks.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "parley/net/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace parley::net;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_client_text(text);
  if (auto* err = std::get_if<wire_error>(&decoded)) {
    if (err->message.empty() || to_string(err->code) == "unknown") std::abort();
    (void)encode(error_message{*err});
  } else {
    const auto type = type_of(std::get<client_event>(decoded));
    if (type.empty()) std::abort();
    if (auto* u = std::get_if<session_update>(&std::get<client_event>(decoded))) {
      // Opus directions only ever run at Opus rates; the session.created echo always encodes.
      if (u->input_audio_format == audio_format::opus && !is_opus_rate(u->input_sample_rate_hz)) std::abort();
      if (u->output_audio_format == audio_format::opus && u->output_sample_rate_hz &&
          !is_opus_rate(*u->output_sample_rate_hz)) {
        std::abort();
      }
      session_created created;
      created.input_sample_rate_hz = u->input_sample_rate_hz;
      created.output_sample_rate_hz = u->output_sample_rate_hz;
      created.input_audio_format = u->input_audio_format;
      created.output_audio_format = u->output_audio_format;
      (void)encode(created);
    }
    if (auto* t = std::get_if<text_input>(&std::get<client_event>(decoded))) {
      if (t->text.size() > k_max_text_bytes) std::abort();
      (void)encode(item_created{1, t->text});
    }
  }
  const std::span<const std::uint8_t> bytes(data, size);
  auto audio = decode_client_audio(bytes);
  if (std::holds_alternative<wire_error>(audio) != (size % 2 != 0)) std::abort();
  if (auto frame = decode_audio_frame(bytes)) {
    if (frame->samples.size() * 2 + k_audio_header_bytes != size) std::abort();
  }
  return 0;
}
