// core/events — the one closed set of events that flows through a session.
//
// Every event is an `envelope` (who/which reply/when) plus one alternative of `event_body`.
// Four classes decide how an event moves (DESIGN §3):
//   realtime — input audio, interrupt, cancel: handled at once, never queued behind data, never dropped;
//   data     — tokens, text segments, output audio: ordered, dropped when their generation is stale;
//   control  — VAD, transcripts, turn commits, playout progress, errors: ordered, dropped when stale;
//   sticky   — end of stream, tool results: ordered, never dropped.
// Threading: plain value types; a session emits them on its strand.
// Units: media_time in samples on the 16 kHz input timeline; wall time from the steady clock
// (metrics only); audio as PCM16 at the stated rate.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/core/ids.hpp"

namespace parley {

struct envelope {
  session_id session;
  turn_id turn;
  generation_id generation;
  std::uint64_t seq = 0;        // per-session, strictly increasing
  media_time t_media = 0;       // samples on the input timeline when the event was produced
  time_point t_wall{};          // steady clock, for metrics only
};

struct input_audio_frame { std::vector<std::int16_t> samples; };  // 16 kHz mono
struct speech_started {};
struct speech_stopped { media_time t_speech_end = 0; };
struct transcript_partial { std::string text; double stability = 0.0; };
struct transcript_final { std::string text; };
struct user_turn_committed { std::string text; };
struct token_chunk { std::string text; };
struct text_segment { std::string text; bool first = false; };
struct output_audio_chunk { std::vector<std::int16_t> samples; int rate_hz = 0; bool first = false; };
struct reply_done { std::string text; bool interrupted = false; };
struct playout_progress { media_time n_played_samples = 0; };
struct interrupt_event { std::string reason; };
struct cancel_event {};
struct end_of_stream {};
struct tool_result { std::string name; std::string content; };
struct error_event { parley::error err; };

using event_body = std::variant<input_audio_frame, speech_started, speech_stopped, transcript_partial,
                                transcript_final, user_turn_committed, token_chunk, text_segment,
                                output_audio_chunk, reply_done, playout_progress, interrupt_event,
                                cancel_event, end_of_stream, tool_result, error_event>;

struct event {
  envelope env;
  event_body body;
};

enum class event_class { realtime, data, control, sticky };

constexpr event_class class_of(const event_body& body) {
  switch (body.index()) {
    case 0: case 11: case 12: return event_class::realtime;   // input audio, interrupt, cancel
    case 6: case 7: case 8: return event_class::data;          // tokens, segments, output audio
    case 13: case 14: return event_class::sticky;              // end of stream, tool result
    default: return event_class::control;
  }
}

/// Short stable name of an event type ("speech_started", "output_audio_chunk", ...).
const char* name_of(const event_body& body);

}  // namespace parley
