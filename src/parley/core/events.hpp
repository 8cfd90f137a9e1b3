// core/events — the one closed set of events that flows through a session.
//
// Every event is an `envelope` (who/which reply/when) plus one alternative of `event_body`.
// Four classes decide how an event moves (DESIGN §3):
//   realtime — interrupt: handled at once, never queued behind data, never dropped;
//   data     — tokens, text segments, output audio: ordered, dropped when their generation is stale;
//   control  — VAD, transcripts, turn commits, reply done, errors: ordered, dropped when stale;
//   sticky   — end of stream: ordered, never dropped.
// Input audio is not an event: it enters through session::push_audio() (a bounded ring), and
// what a sink played through session::on_playout().
// Threading: plain value types; a session emits them on its strand.
// Units: media_time in samples on the 16 kHz input timeline; wall time from the steady clock
// (metrics only); audio as PCM16 at the stated rate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/core/ids.hpp"

namespace parley {

enum class event_class { realtime, data, control, sticky };

struct envelope {
  session_id session;
  turn_id turn;
  generation_id generation;
  std::uint64_t seq = 0;        // per-session, strictly increasing
  media_time t_media = 0;       // samples on the input timeline when the event was produced
  time_point t_wall{};          // steady clock, for metrics only
};

// Each event type states its class (DESIGN §3) as `k_class`: reordering the variant changes nothing.
struct speech_started { static constexpr event_class k_class = event_class::control; };
struct speech_stopped {
  static constexpr event_class k_class = event_class::control;
  media_time t_speech_end = 0;
};
struct transcript_partial {
  static constexpr event_class k_class = event_class::control;
  std::string text;
  double stability = 0.0;
};
struct transcript_final {
  static constexpr event_class k_class = event_class::control;
  std::string text;
  std::optional<double> confidence;  // the recognizer's, in [0, 1]; nullopt when it gives none
};
struct user_turn_committed {
  static constexpr event_class k_class = event_class::control;
  std::string text;
};
struct token_chunk {
  static constexpr event_class k_class = event_class::data;
  std::string text;
};
struct text_segment {
  static constexpr event_class k_class = event_class::data;
  std::string text;
  bool first = false;
};
struct output_audio_chunk {
  static constexpr event_class k_class = event_class::data;
  std::vector<std::int16_t> samples;
  int rate_hz = 0;
  bool first = false;
};
struct reply_done {
  static constexpr event_class k_class = event_class::control;
  std::string text;
  bool interrupted = false;
};
/// The reply of the envelope's generation was cut: a sink drops what it still holds of it. Emitted
/// once per interrupted generation, also for a reply that was fully generated but still playing.
struct interrupt_event {
  static constexpr event_class k_class = event_class::realtime;
  std::string reason;                 // "barge_in", "new_turn", "client", "api", ...
  std::uint64_t n_sent_samples = 0;   // of the reply's audio (at rate_hz), fillers included
  std::uint64_t n_played_samples = 0; // of those, what the listener heard (reported or estimated)
  int rate_hz = 0;
  std::optional<time_point> t_speech_start;  // barge-in: when the interrupting speech began (arrival)
  std::string heard_text;             // what history keeps of the reply
};
/// A tool the reply's model called (the assistant file's [[tools]]), reported twice: when it starts
/// (no output) and when it returned (`output`: what the model was handed, a reply or "error: ...").
struct tool_call_event {
  static constexpr event_class k_class = event_class::control;
  std::string call_id;
  std::string name;
  std::string arguments;              // JSON text, as the model wrote it
  std::optional<std::string> output;
};
struct end_of_stream { static constexpr event_class k_class = event_class::sticky; };
struct error_event {
  static constexpr event_class k_class = event_class::control;
  parley::error err;
};

using event_body = std::variant<speech_started, speech_stopped, transcript_partial, transcript_final,
                                user_turn_committed, token_chunk, text_segment, output_audio_chunk, reply_done,
                                interrupt_event, end_of_stream, error_event, tool_call_event>;

struct event {
  envelope env;
  event_body body;
};

constexpr event_class class_of(const event_body& body) {
  return std::visit([](const auto& b) { return std::decay_t<decltype(b)>::k_class; }, body);
}

/// Short stable name of an event type ("speech_started", "output_audio_chunk", ...).
const char* name_of(const event_body& body);

}  // namespace parley
