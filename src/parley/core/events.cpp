#include "parley/core/events.hpp"

namespace parley {
namespace {
template <class... Fs> struct overloaded : Fs... { using Fs::operator()...; };
template <class... Fs> overloaded(Fs...) -> overloaded<Fs...>;
}  // namespace

const char* name_of(const event_body& body) {
  return std::visit(overloaded{
      [](const speech_started&) { return "speech_started"; },
      [](const speech_stopped&) { return "speech_stopped"; },
      [](const transcript_partial&) { return "transcript_partial"; },
      [](const transcript_final&) { return "transcript_final"; },
      [](const user_turn_committed&) { return "user_turn_committed"; },
      [](const token_chunk&) { return "token_chunk"; },
      [](const text_segment&) { return "text_segment"; },
      [](const output_audio_chunk&) { return "output_audio_chunk"; },
      [](const reply_done&) { return "reply_done"; },
      [](const interrupt_event&) { return "interrupt"; },
      [](const end_of_stream&) { return "end_of_stream"; },
      [](const error_event&) { return "error"; },
      [](const tool_call_event&) { return "tool_call"; },
  }, body);
}

}  // namespace parley
