// agent/session — one conversation: audio in, turns detected, replies streamed out; it owns
// turn-taking (DESIGN §9).
//
// Role: the turn pipeline (DESIGN §1), intake side. Input audio frames go through the WebRTC
// front-end (high-pass, noise suppression, VAD) and the endpointer; the utterance streams into the
// recognizer; at the endpoint the final transcript becomes a user turn (turns commit in the order
// they were spoken), the router picks where the answer comes from, and a `reply`
// (agent/reply.hpp) produces it: tokens → sentence chunker → TTS → output_audio_chunk events, all
// stages overlapping (pipeline_mode::streaming) or, for comparison, each waiting for the whole
// output of the previous one (pipeline_mode::sequential). Every turn's latency timeline
// (obs::turn_timeline) is stamped on the way and handed to `on_turn` when the turn completes.
// Turn-taking: a new committed turn interrupts the reply in progress; with barge-in on, so does
// the user's speech over a reply that is playing, in every front end — sinks report what they
// played through on_playout(), and history keeps only the words heard, marked interrupted.
// Threading: all session state lives on one strand of the given executor. push_audio(),
// end_input(), submit_text(), interrupt(), on_playout() and close() may be called from any thread
// and never block on the pipeline (push_audio() is a bounded ring that drops the oldest chunk when
// full and counts it). Callbacks run on the session strand; they must not block.
// Cancellation: interrupt() fences the active generation (nothing stamped with its id is emitted
// afterwards), requests stop from every engine working on it, and emits an `interrupt_event` per
// interrupted reply (also one that was generated but is still playing).
// Merged turns (with content-aware endpointing): speech that resumes within
// turn_end_config::merge_window_ms of a turn's endpoint, while that turn's reply has been heard
// for at most merge_max_heard_ms, continues the turn: the reply is withdrawn (an interrupt_event
// with reason "merged"; history forgets the request and the reply) and the two utterances are
// committed as one user turn, their words joined. The withdrawn turn completes as part of the
// merged one (on_turn runs once, for the merged turn, noted `merged_with`); a turn whose reply might
// still be withdrawn completes once the window has passed.
// False interruptions (with barge-in): when the speech that cut a reply turns out to hold no words
// or only a backchannel ("uh-huh", "okay") and its transcript arrives within
// barge_in_config::resume_within_ms of the cut, the reply resumes from its first word not heard
// (route "resume"); history keeps one assistant message, the words heard before and after.
// Preemptive replies (with content-aware endpointing, turn_end_config::preempt_after_ms): in the
// silence after the speech, before the turn has ended, the reply to the words so far starts and
// is held (nothing leaves). If the turn ends with the same words it is released at once (note
// `preempted_ms`); otherwise, or when the speech goes on, it is discarded and its engines stopped.
// Nothing acts preemptively: the router declines intents and models that may call tools.
// Fillers: when the LLM's first token is over its budget (or a tool call over its own) and no
// reply audio has left, a pre-synthesized filler ("One moment.") is sent word by word at playout
// pace as output audio of the same generation (first = false; it is not reply audio: no
// t_first_audio_out, not cached, not in n_output_samples). The reply's first audio stops it at a
// word boundary and leaves at once; an interrupt clears it like any reply audio.
// Lifetime: close() (also run by the destructor) stops all work and returns once no callback can
// run any more.
//
//   auto s = agent::session::create(io.get_executor(), engines, {}, {
//       .on_event = [](const event& e) { ... },
//       .on_turn = [](const obs::turn_timeline& t) { ... }});
//   s->push_audio(frame_16k);  ...  s->end_input();   // then wait for end_of_stream
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/agent/barge_in.hpp"
#include "parley/agent/budget.hpp"
#include "parley/agent/bulk_lane.hpp"
#include "parley/agent/endpointer.hpp"
#include "parley/agent/filler.hpp"
#include "parley/agent/reply.hpp"
#include "parley/agent/reply_router.hpp"
#include "parley/agent/turn_end.hpp"
#include "parley/audio/frontend.hpp"
#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/core/events.hpp"
#include "parley/engine/engine_set.hpp"
#include "parley/obs/timeline.hpp"
#include "parley/text/chunker.hpp"

namespace parley::agent {

/// The LLM's instructions when the assistant file gives no persona.
inline constexpr std::string_view k_default_system_prompt =
    "You are a helpful voice assistant. Answer briefly, in plain spoken sentences.";

struct session_options {
  pipeline_mode mode = pipeline_mode::streaming;
  endpointer_config endpointing;
  /// Content-aware endpointing (turn_end.hpp): the silence that ends a turn follows the partial
  /// transcript and the router's request_confidence(), instead of endpointing.silence_ms. Nullopt
  /// (the default): the fixed silence.
  std::optional<turn_end_config> turn_end;
  audio::frontend_config frontend;  // high-pass, noise suppression, gain control, VAD
  /// false (default): the recognizer hears the input as it came, the front-end's cleaning serves
  /// the VAD only; true: the recognizer hears the cleaned frame too. Measured in
  /// docs/benchmarks.md: suppression fixes endpointing in noise but costs recognition on clean speech.
  bool recognizer_hears_denoised = false;
  /// Per turn, when the input's SNR (audio::frontend::snr_db) is below this at the start of the
  /// turn, the recognizer hears the cleaned frame for that turn: suppression helps recognition in
  /// noise and hurts it on clean speech (docs/benchmarks.md). 0: never (raw unless the flag above).
  double recognizer_denoised_below_snr_db = audio::k_asr_denoise_below_snr_db;
  text::chunker_config chunking;
  std::string system_prompt{k_default_system_prompt};
  /// Said when a live session starts (the server announces it once session.created is sent;
  /// `run` and `bench` do not, their input starts at once). "" = none.
  std::string greeting;
  /// What the application knows about the caller (an account, an order, a name), added to the
  /// system prompt for this session's LLM requests. A session with context never stores its
  /// replies in the shared response cache (they may be about this caller); lookups still happen.
  std::string caller_context;
  /// This session's replies are its own (it answers under its own instructions: a Realtime
  /// client's `instructions`): none is stored in the shared response cache; lookups still happen.
  bool private_replies = false;
  /// Transcription only (a Realtime transcription session): each turn's transcript is reported
  /// and committed (transcript_final, user_turn_committed) and nothing answers it — no reply, no
  /// preemptive one, no merged turns, nothing kept in history. Typed turns are committed the same way.
  bool transcribe_only = false;
  /// Turns are ended by the caller, not by silence (a Realtime client's `turn_detection: null`,
  /// push-to-talk): the audio pushed since the last commit_turn() or clear_turn() is one turn,
  /// begun at its first frame; commit_turn() ends it and clear_turn() drops it. The front-end
  /// still cleans the audio and the barge-in gate still listens, but the endpointer decides
  /// nothing. end_input() drops a turn not committed.
  bool manual_turns = false;
  /// Input ring capacity in pushed chunks (100 × 20 ms = 2 s); beyond it the oldest is dropped.
  std::size_t input_queue_chunks = 100;
  /// Audio kept from before the speech onset and fed to the recognizer with the utterance.
  double preroll_ms = 300.0;
  /// Conversation memory: older messages beyond this are dropped (the system prompt stays).
  std::size_t max_history_messages = 40;
  /// Decides per turn where the reply comes from (intent, cache, local or cloud LLM). Null: the
  /// engine set's chat model answers every turn.
  std::shared_ptr<reply_router> router;
  /// Longest reply whose audio is kept to hand to the router's cache (longer replies are not cached).
  double max_cached_reply_ms = 30000.0;
  /// The longest reply text a model may stream (characters, ~4 minutes of speech); at the cap its
  /// stream is stopped and what was written is spoken. 0: no cap.
  std::size_t max_reply_chars = 4000;
  /// Per-stage latency budgets (docs/latency.md §8). Every breach is noted in the turn timeline;
  /// an LLM slow to its first token, or a long tool call, plays a filler while no reply audio has
  /// left yet.
  latency_budgets budgets;
  filler_policy filler;
  /// The filler phrases' audio (build_filler_bank() at start-up, at the synthesizer's rate). Null:
  /// no fillers are played (breaches are still noted).
  std::shared_ptr<const agent::filler_bank> filler_bank;
  /// Where input frames are processed when many sessions share the executor (the server: one
  /// lane for all): frame processing then gives way to the turns' critical hops (bulk_lane.hpp).
  /// Null: frames are posted straight to the session's strand.
  std::shared_ptr<bulk_lane> input_lane;
  /// Barge-in (off by default): the user's speech over a reply that is playing interrupts it
  /// (barge_in.hpp). With it on, the session follows each reply's playout (on_playout(), or a
  /// real-time estimate) and a turn completes — on_turn — only once its reply has played out or
  /// was cut, so the timeline and history say what was heard.
  barge_in_config barge_in;
};

struct session_callbacks {
  /// Each event is handed over by value: a callback that passes it on to another thread may move
  /// it (a reply's audio chunk is then never copied); one taking `const event&` works as well.
  std::function<void(event)> on_event;
  std::function<void(const obs::turn_timeline&)> on_turn;
};

struct session_stats {
  std::uint64_t n_input_chunks = 0;
  std::uint64_t n_dropped_chunks = 0;  // input chunks dropped because the ring was full
  std::uint64_t n_turns = 0;           // turns completed (answered, empty, or interrupted)
  std::uint64_t n_interrupts = 0;
  std::uint64_t n_barge_ins = 0;       // of those, by the user's speech over a playing reply
  std::uint64_t n_merged = 0;          // turns that continued the one before (merged turns)
  std::uint64_t n_resumed = 0;         // replies resumed after a false interruption
  std::uint64_t n_preempted = 0;       // preemptive replies started (routed before the turn ended)
  std::uint64_t n_preempt_hits = 0;    // of those, released as the turn's reply
  std::uint64_t n_preempt_discarded = 0;  // ... and thrown away (other words, or the speech went on)
  std::uint64_t n_preempt_wasted_tokens = 0;  // model tokens streamed into discarded ones
};

class session_core;

class session {
 public:
  /// Builds a session; fails (errc::invalid_argument) if an engine is missing or the VAD cannot start.
  static result<std::unique_ptr<session>> create(boost::asio::any_io_executor executor, engine::engine_set engines,
                                                 session_options options, session_callbacks callbacks,
                                                 const clock& clk = steady_clock_source::instance());
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  session_id id() const;
  /// Input audio, 16 kHz mono PCM16, in order, any chunk size (20 ms is typical). Never blocks.
  void push_audio(std::span<const std::int16_t> samples);
  /// The same, taking the buffer over instead of copying it.
  void push_audio(std::vector<std::int16_t>&& samples);
  /// No more audio: a turn in progress ends now; `end_of_stream` is emitted once all replies are done.
  void end_input();
  /// manual_turns: the audio pushed since the last commit or clear is a turn, ending now (no-op
  /// when none was pushed). Ignored without manual_turns.
  void commit_turn();
  /// manual_turns: the audio pushed since the last commit or clear is dropped, unrecognized.
  void clear_turn();
  /// A user turn given as text (no audio, no ASR).
  void submit_text(std::string text);
  /// Speaks `text` unprompted (a timer firing, a notification): after the reply in progress, if any.
  void announce(std::string text);
  /// Interrupts the reply being generated or still playing, if any. Idempotent.
  void interrupt(std::string reason = "api");
  /// A sink (the WebSocket client's reports, the paced player of run/bench) has played
  /// `n_samples_played` samples of `generation`'s audio in all, at the rate it was emitted,
  /// fillers included. Any thread; never blocks. Reports for other generations are ignored.
  void on_playout(generation_id generation, std::uint64_t n_samples_played);
  /// Stops everything; afterwards no callback runs. Safe to call twice.
  void close();
  session_stats stats() const;

 private:
  explicit session(std::shared_ptr<session_core> core);
  std::shared_ptr<session_core> core_;
};

}  // namespace parley::agent
