#include "parley/agent/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <algorithm>
#include <array>
#include <deque>
#include <future>
#include <optional>
#include <vector>

#include "parley/audio/framer.hpp"
#include "parley/audio/frontend.hpp"
#include "parley/core/cancel.hpp"
#include "parley/core/log.hpp"
#include "parley/core/ring.hpp"
#include "parley/text/pii.hpp"

namespace parley::agent {

std::string_view to_string(pipeline_mode mode) {
  return mode == pipeline_mode::streaming ? "streaming" : "sequential";
}

result<pipeline_mode> parse_pipeline_mode(std::string_view text) {
  if (text == "streaming") return pipeline_mode::streaming;
  if (text == "sequential") return pipeline_mode::sequential;
  return make_error(errc::invalid_argument, "unknown mode '" + std::string(text) + "' (streaming or sequential)");
}

namespace {


struct input_chunk {
  std::vector<std::int16_t> samples;
  time_point t_arrival;  // when the chunk reached parley (its last sample was captured)
};

// The last few input frames, raw and cleaned, oldest first. Storage grows to `capacity` frames
// and is then reused in place: remembering a frame allocates nothing once the ring is full (it
// runs for every 20 ms frame of every session).
class preroll_ring {
 public:
  explicit preroll_ring(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}

  void push(std::span<const std::int16_t> raw, std::span<const std::int16_t> cleaned) {
    frame* f = nullptr;
    if (frames_.size() < capacity_) {
      f = &frames_.emplace_back();
    } else {
      f = &frames_[oldest_];
      oldest_ = (oldest_ + 1) % capacity_;
    }
    f->n = std::min({raw.size(), cleaned.size(), f->raw.size()});
    std::copy_n(raw.begin(), f->n, f->raw.begin());
    std::copy_n(cleaned.begin(), f->n, f->cleaned.begin());
  }

  /// Calls fn(raw, cleaned) for each frame, oldest first.
  template <class Fn>
  void for_each(Fn fn) const {
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const frame& f = frames_[(oldest_ + i) % frames_.size()];
      fn(std::span<const std::int16_t>(f.raw.data(), f.n), std::span<const std::int16_t>(f.cleaned.data(), f.n));
    }
  }

 private:
  struct frame {
    std::array<std::int16_t, audio::k_frame_samples> raw, cleaned;
    std::size_t n = 0;
  };
  std::size_t capacity_;
  std::vector<frame> frames_;
  std::size_t oldest_ = 0;  // where the oldest frame is once the ring is full
};

// The user's side of a turn, from speech onset to the final transcript.
struct user_turn {
  turn_id id;
  obs::turn_timeline timeline;
  std::unique_ptr<engine::recognizer_stream> asr;  // null for a typed turn
  bool asr_hears_cleaned = false;  // decided when the turn starts (session_options)
  bool transcribed = false;                     // its transcript arrived (it may wait for earlier turns)
  result<std::string> transcript = std::string();
  bool typed = false;  // submit_text: its text is the transcript, no transcript events
};

// One reply attempt (DESIGN §4): everything working on it shares `stop` and stamps `id`.
struct generation {
  generation_id id;
  std::stop_source stop;
  obs::turn_timeline timeline;
  text::sentence_chunker chunker;
  std::deque<std::string> pending_segments;  // waiting for the synthesizer, in order
  std::string segment_in_tts;                // being synthesized now ("" when idle)
  bool tts_busy = false;
  bool llm_done = false;
  std::string reply_text;   // everything the model streamed
  std::string spoken_text;  // segments whose audio has been sent out
  std::vector<std::vector<std::int16_t>> held_audio;  // sequential mode: sent only at the end
  int audio_rate_hz = 0;
  // Routed turns (session_options::router): the query, and what to hand back to the cache.
  std::string query;
  bool cacheable = false;           // the router allows caching; cleared on any error or overflow
  std::vector<std::int16_t> sent_audio;  // everything sent out, while cacheable
  // Budgets and fillers (LLM routes): the watch, the filler being played, and their timers
  // (bound to the session strand; destroying the generation cancels them).
  std::optional<budget_watch> budget;
  std::optional<filler_player> filler;
  bool filler_recorded = false;  // its end is in the timeline
  std::unique_ptr<boost::asio::steady_timer> budget_timer;
  std::unique_ptr<boost::asio::steady_timer> filler_timer;

  explicit generation(const text::chunker_config& chunking) : chunker(chunking) {}
};

// Engine callbacks hand out views; what crosses to the strand must own its data.
std::string to_owned(std::string_view text) { return std::string(text); }
std::vector<std::int16_t> to_owned(std::span<const std::int16_t> pcm) { return {pcm.begin(), pcm.end()}; }
template <class T>
T to_owned(T&& value) { return std::forward<T>(value); }

endpointer_config with_hangover(endpointer_config config, int hangover_ms) {
  config.vad_hangover_ms = hangover_ms;
  return config;
}

void append_sentence(std::string& to, std::string_view segment) {
  if (!to.empty()) to += ' ';
  to += segment;
}

}  // namespace

// All state below is touched only on strand_, except the atomics and the input ring.
class session_core : public std::enable_shared_from_this<session_core> {
 public:
  session_core(boost::asio::any_io_executor executor, engine::engine_set engines, session_options options,
               session_callbacks callbacks, const clock& clk, audio::frontend frontend)
      : strand_(boost::asio::make_strand(executor)),
        engines_(std::move(engines)),
        options_(std::move(options)),
        callbacks_(std::move(callbacks)),
        clock_(clk),
        frontend_(std::move(frontend)),
        framer_(audio::k_frame_samples),
        endpointer_(with_hangover(options_.endpointing, frontend_.hangover_ms())),
        input_(options_.input_queue_chunks) {
    static std::atomic<std::uint64_t> next_session{1};
    id_ = session_id{next_session.fetch_add(1)};
    history_.push_back({engine::chat_role::system, options_.system_prompt, false});
  }

  session_id id() const { return id_; }

  // ---- any thread -------------------------------------------------------------------------
  void push_audio(std::vector<std::int16_t> samples) {
    if (closed_.load(std::memory_order_acquire) || samples.empty()) return;
    n_input_chunks_.fetch_add(1, std::memory_order_relaxed);
    input_.push(input_chunk{std::move(samples), clock_.now()});
    if (!drain_scheduled_.exchange(true, std::memory_order_acq_rel)) {
      if (options_.input_lane) {
        // Runs in the lane's turn, behind the critical hops waiting then; straight away if the
        // strand is free. Weak: the lane is ours (options_), so a strong reference would be a cycle.
        options_.input_lane->submit([weak = weak_from_this()] {
          if (auto self = weak.lock()) boost::asio::dispatch(self->strand_, [self] { self->drain_input(); });
        });
      } else {
        boost::asio::post(strand_, [self = shared_from_this()] { self->drain_input(); });
      }
    }
  }

  void end_input() { on_strand([this] { handle_end_input(); }); }
  void announce(std::string text) {
    on_strand([this, text = std::move(text)]() mutable { handle_announce(std::move(text)); });
  }
  void submit_text(std::string text) {
    on_strand([this, text = std::move(text)]() mutable { handle_text_turn(std::move(text)); });
  }
  void interrupt(std::string reason) {
    // Fence at once, from the caller's thread: whatever the strand is doing, no data of the
    // current generation is emitted after this line. The rest happens on the strand.
    fence_.close_all();
    on_strand([this, reason = std::move(reason)]() mutable { handle_interrupt(std::move(reason)); });
  }

  void close() {
    if (closed_.exchange(true)) return;
    auto shutdown = [self = shared_from_this()] { self->shut_down(); };
    if (strand_.running_in_this_thread()) {
      shutdown();
      return;
    }
    std::promise<void> done;
    boost::asio::post(strand_, [&done, shutdown] { shutdown(); done.set_value(); });
    done.get_future().wait();
  }

  session_stats stats() const {
    return {n_input_chunks_.load(), input_.n_dropped(), n_turns_.load(), n_interrupts_.load()};
  }

 private:
  // Everything posted to the strand except input frames is on a turn's critical path: with an
  // input lane, frame processing gives way to it until it runs.
  bulk_lane::critical_mark critical() {
    return options_.input_lane ? options_.input_lane->mark_critical() : bulk_lane::critical_mark();
  }

  template <class F>
  void on_strand(F f) {
    boost::asio::post(strand_, [self = shared_from_this(), f = std::move(f), mark = critical()]() mutable {
      mark.release();
      if (!self->shut_down_) f();
    });
  }

  // Wraps an engine callback: stamps the wall time where it happens (so provider time and parley
  // time are told apart) and hops onto the strand.
  template <class... Args, class Handler>
  auto to_strand(Handler handler) {
    return [weak = weak_from_this(), handler = std::move(handler)](Args... args) {
      auto self = weak.lock();
      if (!self) return;
      const time_point t = self->clock_.now();
      boost::asio::post(self->strand_, [self, handler, t, mark = self->critical(),
                                        ... args = to_owned(std::move(args))]() mutable {
        mark.release();
        if (!self->shut_down_) handler(*self, t, std::move(args)...);
      });
    };
  }

  // ---- input: framing, VAD, endpointing ------------------------------------------------------
  void drain_input() {
    drain_scheduled_.store(false, std::memory_order_release);
    if (shut_down_) return;
    while (auto chunk = input_.pop()) {
      framer_.push(chunk->samples, [&](std::span<const std::int16_t> frame) { process_frame(frame, chunk->t_arrival); });
    }
  }

  void process_frame(std::span<const std::int16_t> raw, time_point t_arrival) {
    // The front-end cleans a copy of the frame (high-pass, noise suppression, gain) and votes.
    std::copy(raw.begin(), raw.end(), frame_buffer_.begin());
    const std::span<std::int16_t> frame(frame_buffer_.data(), raw.size());
    const auto p_voiced = frontend_.process(frame);
    const bool voiced = p_voiced && *p_voiced >= 0.5;
    const media_time t_start = t_media_;
    t_media_ += static_cast<media_time>(frame.size());
    recent_arrivals_.push_back({t_media_, t_arrival});
    if (recent_arrivals_.size() > k_arrivals_kept) recent_arrivals_.pop_front();

    // The recognizer hears the frame before noise suppression unless asked otherwise: suppression
    // helps the VAD in noise but costs recognition accuracy on clean speech (docs/benchmarks.md).
    const std::span<const std::int16_t> cleaned = frame;
    remember_preroll(raw, cleaned);
    if (turn_) turn_->asr->feed(turn_->asr_hears_cleaned ? cleaned : raw);

    handle_decision(endpointer_.on_frame(t_start, static_cast<media_time>(frame.size()), voiced), clock_.now());
  }

  // Both versions of the recent frames: the turn about to start decides which one the
  // recognizer hears.
  void remember_preroll(std::span<const std::int16_t> raw, std::span<const std::int16_t> cleaned) {
    preroll_.push(raw, cleaned);
  }

  void handle_decision(const endpoint_decision& d, time_point t_now) {
    switch (d.what) {
      case endpoint_decision::kind::none: break;
      case endpoint_decision::kind::speech_started: start_user_turn(d); break;
      case endpoint_decision::kind::turn_ended: end_user_turn(d, t_now); break;
    }
  }

  void start_user_turn(const endpoint_decision& d) {
    turn_.emplace();
    turn_->id = turn_id{++n_turns_started_};
    turn_->timeline.session = id_;
    turn_->timeline.turn = turn_->id;
    turn_->timeline.mode = std::string(to_string(options_.mode));
    const turn_id tid = turn_->id;
    emit(tid, generation_id{}, speech_started{}, d.t_speech_start);

    // Raw or cleaned audio for the recognizer, by how noisy the input is now; each is its own
    // channel for the recognizer's adaptation (their cepstral means differ).
    const double snr = frontend_.snr_db();
    turn_->asr_hears_cleaned = options_.recognizer_hears_denoised || snr < options_.recognizer_denoised_below_snr_db;
    if (turn_->asr_hears_cleaned && !options_.recognizer_hears_denoised) {
      turn_->timeline.add_note(obs::note_name::asr_cleaned, std::round(snr * 10.0) / 10.0);
    }
    auto stream = engines_.asr->open({
        .on_partial = to_strand<std::string, double>([tid](session_core& s, time_point, std::string text, double stability) {
          if (s.turn_ && s.turn_->id == tid) s.emit(tid, generation_id{}, transcript_partial{std::move(text), stability});
        }),
        .on_final = to_strand<result<std::string>>([tid](session_core& s, time_point t, result<std::string> text) {
          s.on_asr_final(tid, std::move(text), t);
        }),
        .channel = id_.value * 2 + (turn_->asr_hears_cleaned ? 1 : 0),
    });
    if (!stream) {
      emit(tid, generation_id{}, error_event{stream.error()});
      turn_.reset();
      return;
    }
    turn_->asr = std::move(*stream);
    preroll_.for_each([this](std::span<const std::int16_t> raw, std::span<const std::int16_t> cleaned) {
      turn_->asr->feed(turn_->asr_hears_cleaned ? cleaned : raw);
    });
  }

  // The endpoint was decided: the turn waits for its final transcript while the next one may begin.
  void end_user_turn(const endpoint_decision& d, time_point t_now) {
    if (!turn_) return;
    turn_->timeline.mark(obs::stamp::speech_end, arrival_of(d.t_speech_end));
    turn_->timeline.mark(obs::stamp::turn_end, t_now);
    emit(turn_->id, generation_id{}, speech_stopped{d.t_speech_end}, d.t_speech_end);
    turn_->asr->finish();
    awaiting_final_.push_back(std::move(*turn_));
    turn_.reset();
  }

  // When the sample at media time `t` reached parley: the arrival of the 20 ms frame holding it
  // (so at most one frame late).
  time_point arrival_of(media_time t) const {
    for (const auto& [frame_end, arrival] : recent_arrivals_) {
      if (frame_end >= t) return arrival;
    }
    return recent_arrivals_.empty() ? clock_.now() : recent_arrivals_.back().second;
  }

  void abandon_user_turn() {
    if (turn_) turn_->asr->cancel();
    turn_.reset();
  }

  // A recognizer may finish a later utterance before an earlier one; turns are committed in the
  // order they were spoken, so a transcript that overtook another waits for it.
  void on_asr_final(turn_id tid, result<std::string> text, time_point t) {
    auto it = std::find_if(awaiting_final_.begin(), awaiting_final_.end(), [tid](const user_turn& u) { return u.id == tid; });
    if (it == awaiting_final_.end()) return;
    it->timeline.mark(obs::stamp::asr_final, t);
    it->transcribed = true;
    it->transcript = std::move(text);
    while (!awaiting_final_.empty() && awaiting_final_.front().transcribed) {
      user_turn turn = std::move(awaiting_final_.front());
      awaiting_final_.pop_front();
      commit_transcribed_turn(std::move(turn));
    }
  }

  void commit_transcribed_turn(user_turn turn) {
    const turn_id tid = turn.id;
    auto& text = turn.transcript;
    if (turn.typed) {
      commit_user_turn(std::move(*text), std::move(turn.timeline));
      return;
    }
    if (!text) {
      emit(tid, generation_id{}, error_event{text.error()});
      complete_turn(turn.timeline);
      return;
    }
    turn.timeline.transcript = text::redact_pii(*text);  // timelines reach traces and logs
    emit(tid, generation_id{}, transcript_final{*text});
    if (text->empty()) {
      turn.timeline.route = "none";  // nothing recognisable: no reply
      complete_turn(turn.timeline);
      return;
    }
    commit_user_turn(std::move(*text), std::move(turn.timeline));
  }

  // A typed turn is complete when it arrives, but it still comes after any spoken turn that ended
  // before it and waits for that turn's transcript.
  void handle_text_turn(std::string text) {
    obs::turn_timeline timeline;
    timeline.session = id_;
    timeline.turn = turn_id{++n_turns_started_};
    timeline.mode = std::string(to_string(options_.mode));
    timeline.transcript = text::redact_pii(text);
    const auto now = clock_.now();
    timeline.mark(obs::stamp::turn_end, now);
    timeline.mark(obs::stamp::asr_final, now);
    if (awaiting_final_.empty()) {
      commit_user_turn(std::move(text), std::move(timeline));
      return;
    }
    user_turn typed;
    typed.id = timeline.turn;
    typed.timeline = std::move(timeline);
    typed.transcribed = true;
    typed.transcript = std::move(text);
    typed.typed = true;
    awaiting_final_.push_back(std::move(typed));
  }

  void handle_end_input() {
    drain_input();
    input_ended_ = true;
    handle_decision(endpointer_.on_end_of_input(t_media_), clock_.now());

    maybe_end_stream();
  }

  // ---- the reply -----------------------------------------------------------------------------
  void commit_user_turn(std::string text, obs::turn_timeline timeline) {
    if (generation_) handle_interrupt("new_turn");
    emit(timeline.turn, generation_id{}, user_turn_committed{text});
    remember({engine::chat_role::user, text, false});
    if (!options_.router) {
      stream_reply(open_generation(std::move(timeline), "llm"), engines_.llm);
      return;
    }
    auto& gen = open_generation(std::move(timeline), "routing");
    gen.query = std::move(text);
    const generation_id gid = gen.id;
    if (auto routed = options_.router->route_inline({gen.query, responder_context()})) {
      on_routed(gid, std::move(*routed));  // decided here: no hop to the router's worker and back
      return;
    }
    options_.router->route({gen.query, responder_context()},
                           to_strand<routed_reply>([gid](session_core& s, time_point, routed_reply reply) {
                             s.on_routed(gid, std::move(reply));
                           }));
  }

  engine::responder_context responder_context() {
    return {id_, [weak = weak_from_this()](std::string spoken) {
              if (auto self = weak.lock()) self->announce(std::move(spoken));
            }};
  }

  // The router answered: follow its route. Routing time (t_asr_final → here) counts as overhead.
  void on_routed(generation_id gid, routed_reply reply) {
    auto* gen = current(gid);
    if (!gen) return;
    gen->timeline.route = reply.route;
    gen->timeline.flags.cache_hit = reply.cache_hit;
    if (!reply.reason.empty()) gen->timeline.notes.push_back({"route_reason", reply.reason});
    if (reply.cache_similarity > 0.0) gen->timeline.notes.push_back({"cache_similarity", reply.cache_similarity});
    if (reply.pii) gen->timeline.notes.push_back({"pii", std::string("redacted")});
    gen->cacheable = reply.cacheable;
    if (reply.audio) {
      play_cached(*gen, std::move(reply.text), *reply.audio);
    } else if (reply.model) {
      stream_reply(*gen, reply.model);
    } else {
      // A whole reply from a local handler: it is the "provider", answering at once.
      const auto now = clock_.now();
      gen->timeline.mark(obs::stamp::llm_request, now);
      gen->timeline.mark(obs::stamp::llm_first_token, now);
      emit(gen->timeline.turn, gid, token_chunk{reply.text});
      speak_whole(*gen, std::move(reply.text));  // last use of gen: this may finish the reply
    }
  }

  // A cached reply: its audio goes out as is, no LLM and no TTS (their stamps stay absent).
  void play_cached(generation& gen, std::string text, const reply_audio& audio) {
    emit(gen.timeline.turn, gen.id, token_chunk{text});
    gen.reply_text = text;
    gen.spoken_text = std::move(text);
    gen.llm_done = true;
    gen.audio_rate_hz = audio.sample_rate_hz;
    const std::size_t chunk = static_cast<std::size_t>(std::max(1, audio.sample_rate_hz / 10));  // 100 ms
    for (std::size_t k = 0; k < audio.pcm.size(); k += chunk) {
      const auto end = audio.pcm.begin() + static_cast<std::ptrdiff_t>(std::min(audio.pcm.size(), k + chunk));
      send_audio(gen, std::vector<std::int16_t>(audio.pcm.begin() + static_cast<std::ptrdiff_t>(k), end));
    }
    finish_reply(gen);
  }

  void stream_reply(generation& gen, const std::shared_ptr<engine::chat_model>& model) {
    engine::chat_request request;
    request.messages = history_;
    request.context = responder_context();
    const generation_id gid = gen.id;
    const time_point t_request = clock_.now();
    gen.timeline.mark(obs::stamp::llm_request, t_request);
    auto fillers = options_.filler;
    fillers.enabled = fillers.enabled && options_.filler_bank != nullptr;
    gen.budget.emplace(options_.budgets, fillers);
    gen.budget->llm_requested(t_request);
    arm_budget_timer(gen);
    model->stream(std::move(request),
                  {.on_token = to_strand<std::string_view>([gid](session_core& s, time_point t, std::string token) {
                     s.on_token(gid, std::move(token), t);
                   }),
                   .on_done = to_strand<status>([gid](session_core& s, time_point t, status done) {
                     s.on_llm_done(gid, std::move(done), t);
                   }),
                   .on_progress = to_strand<engine::chat_progress>(
                       [gid](session_core& s, time_point t, engine::chat_progress p) { s.on_llm_progress(gid, p, t); })},
                  gen.stop.get_token());
  }

  // ---- budgets and fillers -------------------------------------------------------------------
  // How the request is being served (fallback chains, tool loops): into the timeline, and the
  // tool budget.
  void on_llm_progress(generation_id gid, const engine::chat_progress& p, time_point t) {
    auto* gen = current(gid);
    if (!gen) return;
    using kind = engine::chat_progress::kind;
    auto& tl = gen->timeline;
    switch (p.what) {
      case kind::tool_started:
        tl.add_note(obs::note_name::tool_call, p.name);
        if (gen->budget) gen->budget->tool_started(t);
        break;
      case kind::tool_finished:
        if (gen->budget) gen->budget->tool_finished();
        break;
      case kind::hedge:
        tl.flags.hedge = true;
        tl.add_note(obs::note_name::hedge_to, p.name);
        break;
      case kind::hedge_denied:
        tl.add_note(obs::note_name::hedge_denied, 1.0);
        break;
      case kind::fallback:
        tl.flags.fallback = true;
        tl.add_note(obs::note_name::fallback_to, p.name);
        break;
      case kind::served:
        if (!p.name.empty()) tl.add_note(obs::note_name::llm_provider, p.name);
        if (tl.flags.hedge) tl.add_note(obs::note_name::hedge_won, p.hedge_won ? 1.0 : 0.0);
        break;
    }
    if (gen->budget) {
      check_budgets(*gen, t);
      arm_budget_timer(*gen);
    }
  }

  void arm_budget_timer(generation& gen) {
    const auto due = gen.budget ? gen.budget->next_deadline() : std::nullopt;
    if (!due) {
      if (gen.budget_timer) gen.budget_timer->cancel();
      return;
    }
    if (!gen.budget_timer) gen.budget_timer = std::make_unique<boost::asio::steady_timer>(strand_);
    gen.budget_timer->expires_after(std::max(duration::zero(), *due - clock_.now()));
    gen.budget_timer->async_wait([weak = weak_from_this(), gid = gen.id](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->shut_down_) return;
      if (auto* g = self->current(gid); g && g->budget) {
        self->check_budgets(*g, self->clock_.now());
        self->arm_budget_timer(*g);
      }
    });
  }

  // Notes every budget breached by `now`, and starts the filler the watch decided on.
  void check_budgets(generation& gen, time_point now) {
    for (const auto& breach : gen.budget->poll(now)) {
      gen.timeline.add_note(obs::note_name::budget_breach, std::string(breach.stage));
      if (breach.filler) start_filler(gen, *breach.filler);
    }
  }

  void start_filler(generation& gen, filler_kind kind) {
    if (!options_.filler_bank || gen.filler) return;
    gen.filler.emplace(options_.filler_bank, kind, options_.filler.lead_ms);
    const time_point now = clock_.now();
    gen.filler->start(now);
    gen.timeline.flags.filler = true;
    gen.timeline.mark(obs::stamp::filler_start, now);
    gen.timeline.add_note(obs::note_name::filler, gen.filler->clip().text);
    pump_filler(gen);
  }

  // Sends the filler's words that are due, then waits for the next one.
  void pump_filler(generation& gen) {
    auto& player = *gen.filler;
    const time_point now = clock_.now();
    while (auto w = player.next_word(now)) {
      const auto pcm = player.samples(*w);
      emit(gen.timeline.turn, gen.id,
           output_audio_chunk{{pcm.begin(), pcm.end()}, player.clip().sample_rate_hz, false});
    }
    const auto due = player.next_due();
    if (!due) {
      record_filler_end(gen, nullptr);  // every word sent: it plays out in full
      return;
    }
    if (!gen.filler_timer) gen.filler_timer = std::make_unique<boost::asio::steady_timer>(strand_);
    gen.filler_timer->expires_after(std::max(duration::zero(), *due - now));
    gen.filler_timer->async_wait([weak = weak_from_this(), gid = gen.id](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->shut_down_) return;
      if (auto* g = self->current(gid); g && g->filler && !g->filler->done()) self->pump_filler(*g);
    });
  }

  // The filler stops sending words (`cut_reason`: "reply", "interrupted", "ended"; null: it
  // played out). Its end goes into the timeline once.
  void record_filler_end(generation& gen, const char* cut_reason, std::optional<time_point> t_stop = std::nullopt) {
    if (!gen.filler || gen.filler_recorded) return;
    gen.filler_recorded = true;
    const bool words_left = gen.filler->cut();
    if (gen.filler_timer) gen.filler_timer->cancel();
    auto t_end = *gen.filler->t_end();
    if (t_stop) t_end = std::min(t_end, *t_stop);  // interrupted: the client clears what it holds
    gen.timeline.mark(obs::stamp::filler_end, t_end);
    gen.timeline.add_note(obs::note_name::filler_words, static_cast<double>(gen.filler->n_words_sent()));
    if (words_left && cut_reason != nullptr) gen.timeline.add_note(obs::note_name::filler_cut, std::string(cut_reason));
  }

  generation& open_generation(obs::turn_timeline timeline, std::string route) {
    generation_.emplace(options_.chunking);
    auto& gen = *generation_;
    gen.id = fence_.open_next();
    gen.timeline = std::move(timeline);
    gen.timeline.generation = gen.id;
    gen.timeline.route = std::move(route);
    return gen;
  }

  // Something to say unprompted (a timer firing): spoken when no reply is in progress, in order.
  void handle_announce(std::string text) {
    if (generation_) {
      pending_announcements_.push_back(std::move(text));
      return;
    }
    obs::turn_timeline timeline;
    timeline.session = id_;
    timeline.turn = turn_id{++n_turns_started_};
    timeline.mode = std::string(to_string(options_.mode));
    speak_whole(open_generation(std::move(timeline), "announce"), std::move(text));
  }

  // A reply known in full: chunked and synthesized like streamed tokens. May finish the reply.
  void speak_whole(generation& gen, std::string text) {
    gen.reply_text = std::move(text);
    gen.llm_done = true;
    auto segments = gen.chunker.push(gen.reply_text);
    for (auto& rest : gen.chunker.flush()) segments.push_back(std::move(rest));
    enqueue_segments(gen, std::move(segments));
  }

  void start_pending_announcement() {
    if (generation_ || pending_announcements_.empty()) return;
    auto text = std::move(pending_announcements_.front());
    pending_announcements_.pop_front();
    handle_announce(std::move(text));
  }

  generation* current(generation_id gid) {
    return (generation_ && generation_->id == gid && fence_.is_current(gid)) ? &*generation_ : nullptr;
  }

  void on_token(generation_id gid, std::string token, time_point t) {
    auto* gen = current(gid);
    if (!gen) return;
    if (gen->budget && gen->budget->waiting_for_first_token()) {
      check_budgets(*gen, t);  // a token after the deadline is a breach, even if its timer is late
      gen->budget->first_token();
      arm_budget_timer(*gen);
    }
    gen->timeline.mark(obs::stamp::llm_first_token, t);
    gen->reply_text += token;
    emit(gen->timeline.turn, gid, token_chunk{token});
    if (options_.mode == pipeline_mode::streaming) enqueue_segments(*gen, gen->chunker.push(token));
  }

  void on_llm_done(generation_id gid, status done, time_point t) {
    auto* gen = current(gid);
    if (!gen) return;
    if (gen->budget) {
      check_budgets(*gen, t);  // the model is done: nothing of it can breach any more
      gen->budget.reset();
      if (gen->budget_timer) gen->budget_timer->cancel();
    }
    gen->llm_done = true;
    if (!done) gen->cacheable = false;
    if (!done && done.error().code != errc::cancelled) emit(gen->timeline.turn, gid, error_event{done.error()});
    // Sequential mode chunks the whole reply only now; streaming mode has chunked as tokens came.
    auto segments = options_.mode == pipeline_mode::sequential ? gen->chunker.push(gen->reply_text)
                                                               : std::vector<std::string>{};
    for (auto& rest : gen->chunker.flush()) segments.push_back(std::move(rest));
    enqueue_segments(*gen, std::move(segments));  // last use of gen: this may finish the reply
  }

  void enqueue_segments(generation& gen, std::vector<std::string> segments) {
    for (auto& segment : segments) {
      const bool first = gen.timeline.mark(obs::stamp::first_segment, clock_.now());
      ++gen.timeline.n_segments;
      emit(gen.timeline.turn, gen.id, text_segment{segment, first});
      gen.pending_segments.push_back(std::move(segment));
    }
    // Sequential mode synthesizes only once the whole reply text is known. May finish the reply.
    if (options_.mode == pipeline_mode::streaming || gen.llm_done) pump_tts(gen);
  }

  void pump_tts(generation& gen) {
    if (gen.tts_busy) return;
    if (gen.pending_segments.empty()) {
      if (gen.llm_done) finish_reply(gen);
      return;
    }
    gen.segment_in_tts = std::move(gen.pending_segments.front());
    gen.pending_segments.pop_front();
    gen.tts_busy = true;
    gen.timeline.mark(obs::stamp::tts_request, clock_.now());
    const generation_id gid = gen.id;
    engines_.tts->synthesize(
        gen.segment_in_tts,
        {.on_audio = to_strand<std::span<const std::int16_t>>(
             [gid](session_core& s, time_point t, std::vector<std::int16_t> pcm) { s.on_tts_audio(gid, std::move(pcm), t); }),
         .on_done = to_strand<status>([gid](session_core& s, time_point, status done) { s.on_tts_done(gid, std::move(done)); })},
        gen.stop.get_token());
  }

  void on_tts_audio(generation_id gid, std::vector<std::int16_t> pcm, time_point t) {
    auto* gen = current(gid);
    if (!gen || pcm.empty()) return;
    gen->timeline.mark(obs::stamp::tts_first_audio, t);
    gen->audio_rate_hz = engines_.tts->caps().sample_rate_hz;
    if (options_.mode == pipeline_mode::streaming) {
      send_audio(*gen, std::move(pcm));
    } else {
      gen->held_audio.push_back(std::move(pcm));
    }
  }

  void on_tts_done(generation_id gid, status done) {
    auto* gen = current(gid);
    if (!gen) return;
    if (!done) gen->cacheable = false;
    if (!done && done.error().code != errc::cancelled) emit(gen->timeline.turn, gid, error_event{done.error()});
    append_sentence(gen->spoken_text, gen->segment_in_tts);
    gen->segment_in_tts.clear();
    gen->tts_busy = false;
    pump_tts(*gen);
  }

  void send_audio(generation& gen, std::vector<std::int16_t> pcm) {
    const time_point now = clock_.now();
    const bool first = gen.timeline.mark(obs::stamp::first_audio_out, now);
    if (first) {
      // The reply is ready: no filler from now on, and one playing stops at its word boundary
      // (the client finishes the word it is playing, then plays this).
      if (gen.budget) gen.budget->reply_audio_started();
      if (gen.filler) {
        record_filler_end(gen, "reply");  // idempotent: a filler that played out is already recorded
        if (const auto t_end = gen.timeline.at(obs::stamp::filler_end); t_end && *t_end > now) {
          gen.timeline.add_note(obs::note_name::filler_overhang_ms, to_ms(*t_end - now));
        }
      }
    }
    gen.timeline.n_output_samples += static_cast<std::int64_t>(pcm.size());
    gen.timeline.output_rate_hz = gen.audio_rate_hz;
    if (gen.cacheable) {
      const double kept_ms =
          1000.0 * static_cast<double>(gen.sent_audio.size() + pcm.size()) / std::max(1, gen.audio_rate_hz);
      if (gen.audio_rate_hz > 0 && kept_ms <= options_.max_cached_reply_ms) {
        gen.sent_audio.insert(gen.sent_audio.end(), pcm.begin(), pcm.end());
      } else {
        gen.cacheable = false;
        gen.sent_audio = {};
      }
    }
    emit(gen.timeline.turn, gen.id, output_audio_chunk{std::move(pcm), gen.audio_rate_hz, first});
  }

  void finish_reply(generation& gen) {
    for (auto& pcm : gen.held_audio) send_audio(gen, std::move(pcm));
    gen.held_audio.clear();
    record_filler_end(gen, "ended");  // a reply with no audio at all (an error, an empty reply)
    note_finished_breaches(gen.timeline);
    gen.timeline.mark(obs::stamp::reply_done, clock_.now());
    gen.timeline.reply = text::redact_pii(gen.reply_text);
    emit(gen.timeline.turn, gen.id, reply_done{gen.reply_text, false});
    remember({engine::chat_role::assistant, gen.reply_text, false});
    if (gen.cacheable && options_.router && !gen.reply_text.empty()) {
      auto audio = gen.sent_audio.empty()
                       ? nullptr
                       : std::make_shared<const reply_audio>(reply_audio{gen.audio_rate_hz, std::move(gen.sent_audio)});
      options_.router->remember(std::move(gen.query), gen.reply_text, std::move(audio));
    }
    auto timeline = std::move(gen.timeline);
    generation_.reset();
    complete_turn(timeline);
    start_pending_announcement();
  }

  void handle_interrupt(std::string reason) {
    if (!generation_) return;  // nothing to interrupt: idempotent
    auto& gen = *generation_;
    fence_.close_all();        // 1. fence (again, if interrupt() already did): nothing of it leaves now
    gen.stop.request_stop();   // 2. cancel every engine working on it
    n_interrupts_.fetch_add(1, std::memory_order_relaxed);
    emit(gen.timeline.turn, gen.id, interrupt_event{std::move(reason)});  // 3. tell the client to clear its buffer
    // 4. history keeps only what was sent out, marked interrupted.
    const time_point now = clock_.now();
    gen.timeline.mark(obs::stamp::reply_done, now);
    gen.timeline.flags.interrupted = true;
    record_filler_end(gen, "interrupted", now);
    note_finished_breaches(gen.timeline);
    gen.timeline.reply = text::redact_pii(gen.spoken_text);
    remember({engine::chat_role::assistant, gen.spoken_text, true});
    auto timeline = std::move(gen.timeline);
    generation_.reset();
    complete_turn(timeline);
    on_strand([this] { start_pending_announcement(); });  // after whatever follows the interrupt
  }

  // ---- bookkeeping ---------------------------------------------------------------------------
  void note_finished_breaches(obs::turn_timeline& timeline) {
    for (const auto stage : finished_breaches(options_.budgets, timeline)) {
      timeline.add_note(obs::note_name::budget_breach, std::string(stage));
    }
  }

  void remember(engine::chat_message message) {
    history_.push_back(std::move(message));
    while (history_.size() > options_.max_history_messages + 1) history_.erase(history_.begin() + 1);
  }

  void complete_turn(const obs::turn_timeline& timeline) {
    n_turns_.fetch_add(1, std::memory_order_relaxed);
    if (callbacks_.on_turn) callbacks_.on_turn(timeline);
    // Checked once the current handler is over: a turn can complete in the middle of one (a new
    // user turn interrupting the last reply) while the session is not idle at all.
    on_strand([this] { maybe_end_stream(); });
  }

  void maybe_end_stream() {
    if (!input_ended_ || turn_ || !awaiting_final_.empty() || generation_ || !pending_announcements_.empty() ||
        end_of_stream_sent_) {
      return;
    }
    end_of_stream_sent_ = true;
    emit(turn_id{}, generation_id{}, end_of_stream{});
  }

  void emit(turn_id tid, generation_id gid, event_body body, std::optional<media_time> t_media = std::nullopt) {
    const auto cls = class_of(body);
    // The fence (DESIGN §4): data and control events of a stale generation never leave.
    if (gid && (cls == event_class::data || cls == event_class::control) && !fence_.is_current(gid)) return;
    if (!callbacks_.on_event) return;
    callbacks_.on_event(event{envelope{id_, tid, gid, ++seq_, t_media.value_or(t_media_), clock_.now()}, std::move(body)});
  }

  void shut_down() {
    shut_down_ = true;
    if (generation_) {
      fence_.close_all();
      generation_->stop.request_stop();
      generation_.reset();
    }
    abandon_user_turn();
    for (auto& turn : awaiting_final_) {
      if (turn.asr) turn.asr->cancel();
    }
    awaiting_final_.clear();
    callbacks_ = {};
    if (options_.router) options_.router->session_ended(id_);
  }

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  engine::engine_set engines_;
  session_options options_;
  session_callbacks callbacks_;
  const clock& clock_;
  session_id id_;

  audio::frontend frontend_;
  std::array<std::int16_t, audio::k_frame_samples> frame_buffer_{};
  audio::framer framer_;
  endpointer endpointer_;
  generation_fence fence_;

  bounded_ring<input_chunk> input_;
  std::atomic<bool> drain_scheduled_{false};
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> n_input_chunks_{0};
  std::atomic<std::uint64_t> n_turns_{0};
  std::atomic<std::uint64_t> n_interrupts_{0};

  media_time t_media_ = 0;
  static constexpr std::size_t k_arrivals_kept = 50;  // 1 s of frames: covers the VAD hangover
  std::deque<std::pair<media_time, time_point>> recent_arrivals_;  // (end of frame, arrival)
  preroll_ring preroll_{static_cast<std::size_t>(std::max(0.0, options_.preroll_ms) / audio::k_frame_ms) + 1};
  std::optional<user_turn> turn_;          // the turn being spoken now
  std::deque<user_turn> awaiting_final_;   // ended turns, in order, waiting for their (or an earlier) transcript
  std::optional<generation> generation_;
  std::vector<engine::chat_message> history_;
  std::deque<std::string> pending_announcements_;
  std::uint64_t n_turns_started_ = 0;
  std::uint64_t seq_ = 0;
  bool input_ended_ = false;
  bool end_of_stream_sent_ = false;
  bool shut_down_ = false;
};

// ---- the handle ------------------------------------------------------------------------------

result<std::unique_ptr<session>> session::create(boost::asio::any_io_executor executor, engine::engine_set engines,
                                                 session_options options, session_callbacks callbacks,
                                                 const clock& clk) {
  if (!engines.complete()) {
    return make_error(errc::invalid_argument, "a session needs a recognizer, a chat model and a synthesizer");
  }
  if (engines.asr->caps().sample_rate_hz != k_input_rate_hz) {
    return make_error(errc::invalid_argument, "the recognizer must take 16 kHz audio");
  }
  if (auto s = validate(options.budgets, options.filler); !s) return s.error();
  if (options.filler_bank) {
    const int rate = engines.tts->caps().sample_rate_hz;
    for (const auto* clip : {&options.filler_bank->waiting, &options.filler_bank->tool}) {
      if (clip->sample_rate_hz != rate || clip->word_ends.empty() || clip->word_ends.back() != clip->pcm.size()) {
        return make_error(errc::invalid_argument,
                          "filler \"" + clip->text + "\": its audio must be at the synthesizer's rate, with word ends");
      }
    }
  }
  auto frontend = audio::frontend::create(options.frontend);
  if (!frontend) return frontend.error();
  auto core = std::make_shared<session_core>(std::move(executor), std::move(engines), std::move(options),
                                             std::move(callbacks), clk, std::move(*frontend));
  return std::unique_ptr<session>(new session(std::move(core)));
}

session::session(std::shared_ptr<session_core> core) : core_(std::move(core)) {}
session::~session() { close(); }
session_id session::id() const { return core_->id(); }
void session::push_audio(std::span<const std::int16_t> samples) { core_->push_audio({samples.begin(), samples.end()}); }
void session::push_audio(std::vector<std::int16_t>&& samples) { core_->push_audio(std::move(samples)); }
void session::end_input() { core_->end_input(); }
void session::submit_text(std::string text) { core_->submit_text(std::move(text)); }
void session::announce(std::string text) { core_->announce(std::move(text)); }
void session::interrupt(std::string reason) { core_->interrupt(std::move(reason)); }
void session::close() { core_->close(); }
session_stats session::stats() const { return core_->stats(); }

}  // namespace parley::agent
