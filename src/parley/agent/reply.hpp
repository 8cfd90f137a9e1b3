// agent/reply — one reply attempt, a *generation* (DESIGN §4): text → sentence chunker → TTS →
// audio out, with its fence id, its stop source, its latency budgets and filler, what it hands
// to the response cache, and what the listener has heard of it.
//
// Role: the session (agent/session.hpp) decides *when* to reply and to what (intake,
// endpointing, transcript order, routing); a reply only produces one answer and accounts for it.
// The two talk through a narrow interface: the session calls the methods below, the reply calls
// back through `reply_callbacks` (its events, "generated", "complete"). A reply does not know
// whether its turn is committed, so one can run before it is (preemptive generation).
// Threading: every method and callback runs on the session's strand (`reply_env::strand`);
// engine callbacks are posted there, and do nothing once the reply is destroyed or fenced.
// Ownership: the session owns its replies (shared_ptr); engine callbacks hold weak references.
// Cancellation: interrupt() requests stop from every engine working on the reply (LLM decode per
// token, TTS per chunk, HTTP reads) and stops its playout clock; the session fences the id first.
// Heard text: each synthesized segment's audio span is recorded; with the played sample count
// (the sink's playout reports, or a real-time estimate) the reply says which words were heard —
// whole segments, then the words of a partly played segment in proportion to its characters.
// Failure: a provider that fails (the LLM stream, the synthesizer, the recognizer through
// apologize()) never leaves silence. The reply keeps what it has said, and ends with the
// apology: the bank's pre-synthesized clip (it plays whatever failed), or, without a bank, the
// apology's text through the synthesizer. The error is emitted as an error_event; the timeline
// is flagged `failed`, with the first error as the `failure` note. Cancellation is no failure.
// Units: audio as PCM16 at the synthesizer's (or cached audio's) rate; wall times from `clk`.
//
//   auto r = reply::create(env, gid, std::move(timeline), {.on_event = ..., .on_generated = ...,
//                                                           .on_complete = ...});
//   r->stream_from(model, std::move(request));      // or speak(text), play_cached(text, audio)
//   r->on_playout(n_played);  ...  r->interrupt("barge_in", now);
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "parley/agent/barge_in.hpp"
#include "parley/agent/budget.hpp"
#include "parley/agent/bulk_lane.hpp"
#include "parley/agent/filler.hpp"
#include "parley/agent/reply_router.hpp"
#include "parley/core/cancel.hpp"
#include "parley/core/events.hpp"
#include "parley/engine/chat_model.hpp"
#include "parley/engine/synthesizer.hpp"
#include "parley/obs/timeline.hpp"
#include "parley/text/chunker.hpp"

namespace parley::agent {

enum class pipeline_mode { streaming, sequential };
std::string_view to_string(pipeline_mode mode);
result<pipeline_mode> parse_pipeline_mode(std::string_view text);

/// What every reply of one session shares; owned by the session, outlives its replies.
struct reply_env {
  boost::asio::strand<boost::asio::any_io_executor> strand;
  const clock* clk = nullptr;
  std::shared_ptr<engine::synthesizer> tts;
  pipeline_mode mode = pipeline_mode::streaming;
  text::chunker_config chunking;
  latency_budgets budgets;
  filler_policy filler;
  std::shared_ptr<const filler_bank> fillers;  // null: no filler plays
  double max_cached_reply_ms = 30000.0;
  /// A model's stream is stopped once the reply text reaches this many characters (an endless
  /// stream ends; what was written is spoken). 0: no cap.
  std::size_t max_reply_chars = 4000;
  double playout_slack_ms = 250.0;
  /// Marks a handler posted to the strand as on a turn's critical path (bulk_lane.hpp); null: none.
  std::shared_ptr<bulk_lane> lane;
  /// The session's fence: a reply whose id it has closed (interrupt() fences from any thread before
  /// the strand hears of it) handles no more engine callbacks. Null: only interrupt() stops it.
  std::shared_ptr<const generation_fence> fence;  // shared: it outlives a reply that outlives its session
};

class reply;

struct reply_callbacks {
  /// An event of this reply, to emit with its turn and generation (the session applies the fence).
  std::function<void(reply&, event_body)> on_event;
  /// Everything was generated and sent (or it failed): the text is final, the audio all out.
  std::function<void(reply&)> on_generated;
};

class reply : public std::enable_shared_from_this<reply> {
 public:
  static std::shared_ptr<reply> create(const reply_env& env, generation_id id, obs::turn_timeline timeline,
                                       reply_callbacks callbacks);
  ~reply();
  reply(const reply&) = delete;
  reply& operator=(const reply&) = delete;

  // ---- what to say (call one, once) ----
  /// Streams the model's answer to `request` (budgets and fillers apply).
  void stream_from(const std::shared_ptr<engine::chat_model>& model, engine::chat_request request);
  /// A reply known in full (an intent, the fallback, an announcement): chunked and synthesized.
  void speak(std::string text);
  /// The same for a routed answer: its text also goes out as one token chunk, as a model's would.
  void write(std::string text) {
    emit(token_chunk{text});
    speak(std::move(text));
  }
  /// A cached reply: its audio goes out as is, no LLM and no TTS.
  void play_cached(std::string text, const reply_audio& audio);
  /// A reply that is only the apology: the turn failed before there was anything to answer
  /// (`what` failed with `why`, e.g. the recognizer).
  void apologize(std::string_view what, const error& why);

  // ---- preemptive generation ----
  /// Until release(), nothing of the reply leaves: its events wait in order, its audio is not
  /// counted as sent, its "generated" callback waits, and no filler starts. Call before saying
  /// anything. The reply works as usual meanwhile (model stream, synthesis).
  void hold() { held_ = true; }
  /// Sends what waited, in order (the first audio is stamped now), then streams as usual; runs the
  /// "generated" callback if it had finished. No-op unless held.
  void release();
  bool held() const { return held_; }
  /// Tokens the model streamed into this reply (the work a discarded preemptive reply wasted).
  std::size_t n_tokens() const { return n_tokens_; }

  // ---- what happened to it ----
  /// The sink played `n_played` samples of this reply's audio in all (fillers included).
  void on_playout(std::uint64_t n_played) { playout_.on_report(n_played); }
  /// Stops it: engines are asked to stop, the playout clock stops at what was heard by `now`.
  /// Returns the interrupt event to emit (reason, sent/played samples, heard text).
  interrupt_event interrupt(std::string reason, time_point now);

  generation_id id() const { return id_; }
  turn_id turn() const { return timeline_.turn; }
  obs::turn_timeline& timeline() { return timeline_; }
  bool generated() const { return generated_; }
  /// Its whole text is known (a model's stream has ended, or the text was given) and nothing failed.
  bool text_complete() const { return llm_done_ && !failed_; }
  bool playing(time_point now) const { return playout_.playing(now); }
  const playout_clock& playout() const { return playout_; }
  /// The whole text the reply produced (what the model streamed, or the text given).
  const std::string& text() const { return text_; }
  /// The words the listener has heard by `now`.
  std::string heard_text(time_point now) const;
  /// Cacheable reply audio, once generated (empty when the reply may not be cached).
  bool cacheable() const { return cacheable_; }
  /// Hands over the kept audio for the cache (once).
  std::shared_ptr<const reply_audio> take_cache_audio();
  /// Routed replies: whether the router allows caching this reply (set before it starts).
  void allow_caching(bool cacheable) { cacheable_ = cacheable; }

 private:
  reply(const reply_env& env, generation_id id, obs::turn_timeline timeline, reply_callbacks callbacks);

  struct segment_span {
    std::string text;
    std::uint64_t first_sample = 0;  // in the reply's own audio (fillers excluded)
    std::uint64_t end_sample = 0;
    bool synthesized = false;
  };

  template <class... Args, class Handler>
  auto to_strand(Handler handler);
  /// Still at work: not interrupted, and not fenced by the session.
  bool live() const { return !interrupted_ && (!env_.fence || env_.fence->is_current(id_)); }
  void emit(event_body body) {
    if (held_) {
      held_items_.emplace_back(std::move(body));
    } else {
      callbacks_.on_event(*this, std::move(body));
    }
  }

  void on_token(std::string token, time_point t);
  void on_llm_done(status done, time_point t);
  void on_llm_progress(const engine::chat_progress& p, time_point t);
  void enqueue_segments(std::vector<std::string> segments);
  void pump_tts();
  void on_tts_audio(std::vector<std::int16_t> pcm, time_point t);
  void on_tts_done(status done);
  void send_audio(std::vector<std::int16_t> pcm);
  /// Whole audio of the reply's own (cached reply, apology clip) in 100 ms chunks, in mode order.
  void out_clip(std::span<const std::int16_t> pcm);
  void finish();
  /// A provider failed (`what`: "asr", "llm", "tts"); cancellation is ignored.
  void fail(std::string_view what, const error& e);
  /// Adds the apology. False when it was queued to the synthesizer (finish() runs again after).
  bool add_apology();

  void arm_budget_timer();
  void check_budgets(time_point now);
  void start_filler(filler_kind kind);
  void pump_filler();
  void record_filler_end(const char* cut_reason, std::optional<time_point> t_stop = std::nullopt);
  void note_finished_breaches();

  const reply_env env_;  // a copy: small (handles and settings), and it never dangles
  const clock& clock_;
  generation_id id_;
  std::stop_source stop_;      // every engine working on the reply
  std::stop_source llm_stop_;  // the model's stream alone (the length cap stops only it)
  obs::turn_timeline timeline_;
  reply_callbacks callbacks_;
  text::sentence_chunker chunker_;
  std::deque<std::string> pending_segments_;  // waiting for the synthesizer, in order
  bool tts_busy_ = false;
  bool llm_done_ = false;
  bool generated_ = false;
  bool interrupted_ = false;
  bool failed_ = false;
  bool apologized_ = false;
  std::string text_;
  std::vector<segment_span> spans_;  // each segment sent to the synthesizer, in order
  std::uint64_t reply_samples_ = 0;  // reply audio produced so far (fillers excluded)
  std::uint64_t filler_samples_ = 0;  // filler audio sent (it always precedes the reply's)
  std::vector<std::vector<std::int16_t>> held_audio_;  // sequential mode: sent only at the end
  int audio_rate_hz_ = 0;
  playout_clock playout_;
  bool cacheable_ = false;
  std::vector<std::int16_t> cache_audio_;
  std::optional<budget_watch> budget_;
  std::optional<time_point> tool_started_at_;  // a round of tool calls is running since
  std::optional<filler_player> filler_;
  bool held_ = false;                // preemptive: nothing leaves until release()
  bool finish_held_ = false;         // it finished while held: "generated" runs at release()
  std::vector<std::variant<event_body, std::vector<std::int16_t>>> held_items_;  // events and audio, in order
  std::size_t n_tokens_ = 0;
  bool filler_recorded_ = false;
  std::unique_ptr<boost::asio::steady_timer> budget_timer_;
  std::unique_ptr<boost::asio::steady_timer> filler_timer_;
};

}  // namespace parley::agent
