#include "parley/agent/session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <algorithm>
#include <array>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <vector>

#include "parley/audio/framer.hpp"
#include "parley/audio/frontend.hpp"
#include "parley/core/cancel.hpp"
#include "parley/core/log.hpp"
#include "parley/core/ring.hpp"
#include "parley/obs/wer.hpp"
#include "parley/text/pii.hpp"

namespace parley::agent {

namespace {


struct input_chunk {
  std::vector<std::int16_t> samples;
  time_point t_arrival;  // when the chunk reached parley (its last sample was captured)
  std::uint64_t seq = 0;  // 1, 2, … in push order
};

// manual_turns: a commit or clear, applied once the chunks pushed before it (seq ≤ upto) are framed.
struct input_mark {
  enum class kind { commit, clear };
  kind what = kind::commit;
  std::uint64_t upto = 0;
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
  std::optional<double> asr_confidence;  // the recognizer's confidence in the transcript
  bool typed = false;  // submit_text: its text is the transcript, no transcript events
  // Content-aware endpointing: what decided the silence that ends it (turn_end.hpp).
  std::string_view end_rule;
  double end_silence_ms = 0.0;
  std::string last_partial;  // the latest partial transcript
  text_ending ending = text_ending::empty;  // how the words so far end (turn_end_policy)
  bool partial_is_fresh = true;  // false from when the speech resumed after a preemption to the next partial
  // Merged turns: this turn's speech resumed soon after turn `continues` ended, and continues it.
  std::optional<turn_id> continues;
  std::string merge_context;    // the continued turn's words (endpointing judges the whole utterance)
  bool held_for_merge = false;  // a later turn continues this one: its words wait for that turn
};

// "a b" from "a" and "b"; either may be empty.
std::string join_words(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return std::string(a) + " " + std::string(b);
}

// The words of `text` after as many words as `heard` has (what a cut reply has left to say).
std::string words_after(std::string_view text, std::string_view heard) {
  const auto is_blank = [](char c) { return c == ' ' || c == '\n' || c == '\t'; };
  std::size_t n_heard = 0;
  for (std::size_t i = 0; i < heard.size(); ++i) {
    if (!is_blank(heard[i]) && (i == 0 || is_blank(heard[i - 1]))) ++n_heard;
  }
  std::size_t at = 0;
  for (; at < text.size() && n_heard > 0; ++at) {
    if (is_blank(text[at]) && at > 0 && !is_blank(text[at - 1])) --n_heard;  // a word ended
  }
  if (n_heard > 0) return {};  // heard it all
  while (at < text.size() && is_blank(text[at])) ++at;
  return std::string(text.substr(at));
}

endpointer_config with_hangover(endpointer_config config, int hangover_ms) {
  config.vad_hangover_ms = hangover_ms;
  return config;
}

// The LLM's instructions: the persona, then what the application knows about the caller.
std::string system_prompt(const session_options& options) {
  if (options.caller_context.empty()) return options.system_prompt;
  return options.system_prompt +
         "\n\nWhat the application knows about the caller (use it when it helps; do not read it out unasked):\n" +
         options.caller_context;
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
    history_.push_back({engine::chat_role::system, system_prompt(options_), false});
  }

  session_id id() const { return id_; }

  // ---- any thread -------------------------------------------------------------------------
  void push_audio(std::vector<std::int16_t> samples) {
    if (closed_.load(std::memory_order_acquire) || samples.empty()) return;
    const std::uint64_t seq = n_input_chunks_.fetch_add(1, std::memory_order_acq_rel) + 1;
    input_.push(input_chunk{std::move(samples), clock_.now(), seq});
    schedule_drain();
  }

  // Marks go through the input path, so that they apply between the chunks pushed before and after.
  void commit_turn() { push_mark(input_mark::kind::commit); }
  void clear_turn() { push_mark(input_mark::kind::clear); }
  void push_mark(input_mark::kind what) {
    if (closed_.load(std::memory_order_acquire) || !options_.manual_turns) return;
    {
      std::lock_guard lock(marks_mutex_);
      marks_.push_back({what, n_input_chunks_.load(std::memory_order_acquire)});
    }
    schedule_drain();
  }

  void schedule_drain() {
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
    fence_->close_all();
    on_strand([this, reason = std::move(reason)]() mutable { handle_interrupt(std::move(reason)); });
  }

  void on_playout(generation_id gid, std::uint64_t n_played) {
    on_strand([this, gid, n_played] { handle_playout(gid, n_played); });
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
    return {n_input_chunks_.load(), input_.n_dropped(), n_turns_.load(),  n_interrupts_.load(),
            n_barge_ins_.load(),    n_merged_.load(),   n_resumed_.load(),
            n_preempted_.load(),    n_preempt_hits_.load(), n_preempt_discarded_.load(),
            n_preempt_wasted_tokens_.load()};
  }

 private:
  // A preemptive reply, held until its turn ends (maybe_preempt()).
  struct preemption {
    std::shared_ptr<reply> r;  // null once the router declined
    turn_id turn;
    std::string words;         // the words it answers, normalised (obs::normalize_for_wer)
    time_point t_start;
    bool routed = false;       // the router gave it a route: it is at work
  };
  // False interruptions (barge_in_config::resume_within_ms).
  struct resumable_reply {
    turn_id by;                 // the turn whose speech cut it
    std::string rest;           // its words not heard
    std::string heard;          // its message's words heard
    std::uint64_t history_seq;  // that message
    time_point t_cut;
  };
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
                                        ... args = std::move(args)]() mutable {
        mark.release();
        if (!self->shut_down_) handler(*self, t, std::move(args)...);
      });
    };
  }

  // ---- input: framing, VAD, endpointing ------------------------------------------------------
  void drain_input() {
    drain_scheduled_.store(false, std::memory_order_release);
    if (shut_down_) return;
    for (;;) {
      std::optional<input_mark> mark;
      {
        std::lock_guard lock(marks_mutex_);
        if (!marks_.empty()) mark = marks_.front();
      }
      auto chunk = mark ? input_.pop_if([&](const input_chunk& c) { return c.seq <= mark->upto; }) : input_.pop();
      if (chunk) {
        frame_chunk(*chunk);
        continue;
      }
      if (!mark) return;
      {
        std::lock_guard lock(marks_mutex_);
        marks_.pop_front();
      }
      if (mark->what == input_mark::kind::commit) {
        commit_manual_turn();
      } else {
        abandon_user_turn();
      }
    }
  }

  void frame_chunk(const input_chunk& chunk) {
    framer_.push(chunk.samples, [&](std::span<const std::int16_t> frame) { process_frame(frame, chunk.t_arrival); });
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
    if (options_.manual_turns && !turn_) start_user_turn({endpoint_decision::kind::speech_started, t_start, t_start});
    if (turn_ && turn_->asr) turn_->asr->feed(turn_->asr_hears_cleaned ? cleaned : raw);

    const time_point now = clock_.now();
    const auto decision = endpointer_.on_frame(t_start, static_cast<media_time>(frame.size()), voiced);
    if (!options_.manual_turns) handle_decision(decision, now);
    maybe_preempt(now);
    gate_.on_frame(t_media_, static_cast<media_time>(frame.size()), voiced);
    check_barge_in(now);
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
    consider_merge(d, clock_.now());
    follow_partial("");  // no words yet: the policy's default silence (or what the continued turn said)


    // Raw or cleaned audio for the recognizer, by how noisy the input is now; each is its own
    // channel for the recognizer's adaptation (their cepstral means differ).
    const double snr = frontend_.snr_db();
    turn_->asr_hears_cleaned = options_.recognizer_hears_denoised || snr < options_.recognizer_denoised_below_snr_db;
    if (turn_->asr_hears_cleaned && !options_.recognizer_hears_denoised) {
      turn_->timeline.add_note(obs::note_name::asr_cleaned, std::round(snr * 10.0) / 10.0);
    }
    auto stream = engines_.asr->open({
        .on_partial = to_strand<std::string, double>([tid](session_core& s, time_point, std::string text, double stability) {
          if (!s.turn_ || s.turn_->id != tid) return;
          s.follow_partial(text);
          s.emit(tid, generation_id{}, transcript_partial{std::move(text), stability});
        }),
        .on_final = to_strand<result<engine::recognized>>(
            [tid](session_core& s, time_point t, result<engine::recognized> final) {
              s.on_asr_final(tid, std::move(final), t);
            }),
        .channel = id_.value * 2 + (turn_->asr_hears_cleaned ? 1 : 0),
    });
    if (!stream) {
      // No recognizer for this turn: the person is still speaking, so the turn runs on to its
      // end like any other and is then answered with the apology (commit_transcribed_turn).
      emit(tid, generation_id{}, error_event{stream.error()});
      turn_->transcript = stream.error();
      return;
    }
    turn_->asr = std::move(*stream);
    if (options_.manual_turns) return;  // the turn is what was pushed since the last commit: no pre-roll
    preroll_.for_each([this](std::span<const std::int16_t> raw, std::span<const std::int16_t> cleaned) {
      turn_->asr->feed(turn_->asr_hears_cleaned ? cleaned : raw);
    });
  }

  // Content-aware endpointing: the words so far (and the local tier's confidence that they are a
  // complete request) set the silence that ends the current turn.
  void follow_partial(const std::string& partial) {
    if (!turn_end_ || !turn_) return;
    turn_->last_partial = partial;
    turn_->partial_is_fresh = true;
    // A turn that continues an earlier one is judged on the whole utterance.
    const std::string text = join_words(turn_->merge_context, partial);
    const auto p = options_.router ? options_.router->request_confidence(text, id_) : std::nullopt;
    const auto d = turn_end_->decide(text, p, 0.0);
    endpointer_.set_silence_ms(d.required_silence_ms);
    turn_->end_rule = d.reason.empty() ? to_string(d.ending) : d.reason;
    turn_->ending = d.ending;
    turn_->end_silence_ms = d.required_silence_ms;
  }

  // The endpoint was decided: the turn waits for its final transcript while the next one may begin.
  void end_user_turn(const endpoint_decision& d, time_point t_now) {
    if (!turn_) return;
    if (turn_end_) {
      turn_->timeline.add_note(obs::note_name::turn_end_rule, std::string(turn_->end_rule));
      turn_->timeline.add_note(obs::note_name::turn_end_silence_ms, turn_->end_silence_ms);
    }
    turn_->timeline.mark(obs::stamp::speech_end, arrival_of(d.t_speech_end));
    turn_->timeline.mark(obs::stamp::turn_end, t_now);
    last_end_ = turn_end_mark{turn_->id, t_media_, t_now};
    emit(turn_->id, generation_id{}, speech_stopped{d.t_speech_end}, d.t_speech_end);

    const bool without_recognizer = !turn_->asr;
    if (turn_->asr) turn_->asr->finish();
    turn_->transcribed = without_recognizer;  // its transcript (the open error) is all there is
    awaiting_final_.push_back(std::move(*turn_));
    turn_.reset();
    if (without_recognizer) commit_transcribed_turns();
  }

  // ---- merged turns --------------------------------------------------------------------------
  // Speech that starts within the merge window of the last endpoint continues that turn, when its
  // reply has been heard for at most merge_max_heard_ms (or it has none yet): the reply is
  // withdrawn — nothing more of it plays, history forgets the request and the reply — and the two
  // utterances are committed as one user turn (commit_transcribed_turn).
  void consider_merge(const endpoint_decision& d, time_point now) {
    if (!turn_end_ || !last_end_ || input_ended_ || options_.transcribe_only || options_.manual_turns) return;
    const auto& config = turn_end_->config();
    if (config.merge_window_ms <= 0.0 ||
        samples_to_ms(d.t_speech_start - last_end_->t_media) > config.merge_window_ms) {
      return;
    }
    const turn_id earlier = last_end_->id;
    const auto waiting = std::find_if(awaiting_final_.begin(), awaiting_final_.end(),
                                      [earlier](const user_turn& u) { return u.id == earlier; });
    if (waiting != awaiting_final_.end()) {  // not committed yet: it waits for this one
      waiting->held_for_merge = true;
      continue_turn(earlier, waiting->last_partial);
      return;
    }
    if (!last_committed_ || last_committed_->id != earlier) return;  // it had no words
    const std::shared_ptr<reply> r = reply_of(earlier);
    if (!r) return;  // answered, heard and complete
    const double heard = heard_ms(*r, now);
    if (heard > config.merge_max_heard_ms || !forget_since(last_committed_->history_seq)) return;
    withdraw(r, now);
    merge_prefix_ = merge_prefix{earlier, std::move(last_committed_->text), heard};
    last_committed_.reset();
    continue_turn(earlier, merge_prefix_->text);
  }

  void continue_turn(turn_id earlier, std::string words) {
    turn_->continues = earlier;
    turn_->merge_context = std::move(words);
  }

  // The reply (generating or playing) answering turn `tid`, if its turn is not complete.
  std::shared_ptr<reply> reply_of(turn_id tid) const {
    if (reply_ && reply_->turn() == tid) return reply_;
    for (const auto& p : playing_) {
      if (p.r->turn() == tid) return p.r;
    }
    return nullptr;
  }

  static double heard_ms(const reply& r, time_point now) {
    const auto& clock = r.playout();
    return clock.rate_hz() > 0 ? 1000.0 * static_cast<double>(clock.played(now)) / clock.rate_hz() : 0.0;
  }

  // Takes a reply back: it stops at once (the sink drops what it holds), its turn does not complete.
  void withdraw(const std::shared_ptr<reply>& r, time_point now) {
    fence_->close_all();
    if (reply_ == r) reply_.reset();
    std::erase_if(playing_, [&r](const playing_reply& p) { return p.r == r; });
    reply_continues_.reset();
    emit(r->turn(), r->id(), r->interrupt("merged", now));
    on_strand([this] { start_pending_announcement(); });
  }

  // Whether a generated reply's turn must wait before it completes: speech resuming now would still
  // withdraw it (consider_merge), so its turn is not over yet.
  bool may_still_merge(const reply& r, time_point now) const {
    if (!turn_end_ || input_ended_ || turn_ || !last_end_ || last_end_->id != r.turn()) return false;
    const auto& config = turn_end_->config();
    return config.merge_window_ms > 0.0 && heard_ms(r, now) <= config.merge_max_heard_ms &&
           samples_to_ms(t_media_ - last_end_->t_media) <= config.merge_window_ms &&
           now <= merge_deadline();
  }

  time_point merge_deadline() const { return last_end_->t_wall + from_ms(turn_end_->config().merge_window_ms); }

  // When the sample at media time `t` reached parley: the arrival of the 20 ms frame holding it
  // (so at most one frame late).
  time_point arrival_of(media_time t) const {
    for (const auto& [frame_end, arrival] : recent_arrivals_) {
      if (frame_end >= t) return arrival;
    }
    return recent_arrivals_.empty() ? clock_.now() : recent_arrivals_.back().second;
  }

  void abandon_user_turn() {
    if (turn_ && pre_ && pre_->turn == turn_->id) discard_preemption();
    if (turn_ && turn_->asr) turn_->asr->cancel();
    turn_.reset();
  }

  // A recognizer may finish a later utterance before an earlier one; turns are committed in the
  // order they were spoken, so a transcript that overtook another waits for it.
  void on_asr_final(turn_id tid, result<engine::recognized> final, time_point t) {
    auto it = std::find_if(awaiting_final_.begin(), awaiting_final_.end(), [tid](const user_turn& u) { return u.id == tid; });
    if (it == awaiting_final_.end()) return;
    it->timeline.mark(obs::stamp::asr_final, t);
    it->transcribed = true;
    if (final) {
      it->transcript = std::move(final->text);
      it->asr_confidence = final->confidence;
    } else {
      it->transcript = final.error();
    }
    commit_transcribed_turns();
  }

  // Commits the turns at the front that have their transcript, in the order they were spoken.
  void commit_transcribed_turns() {
    while (!awaiting_final_.empty() && awaiting_final_.front().transcribed) {
      user_turn turn = std::move(awaiting_final_.front());
      awaiting_final_.pop_front();
      if (turn.held_for_merge) {
        hold_for_merge(std::move(turn));
      } else {
        commit_transcribed_turn(std::move(turn));
      }
    }
  }

  // A turn a later one continues (merged turns): its words wait for that turn, which commits both.
  void hold_for_merge(user_turn turn) {
    if (pre_ && pre_->turn == turn.id) discard_preemption();  // its words will not be the turn's
    std::string words = turn.transcript ? std::move(*turn.transcript) : std::string();
    if (turn.transcript) emit(turn.id, generation_id{}, transcript_final{words, turn.asr_confidence});
    if (turn_ && turn_->continues == turn.id) turn_->merge_context = words;
    merge_prefix_ = merge_prefix{turn.id, std::move(words), 0.0};
  }

  void commit_transcribed_turn(user_turn turn) {
    const turn_id tid = turn.id;
    auto& text = turn.transcript;
    if (turn.typed) {
      commit_user_turn(std::move(*text), std::move(turn.timeline));
      return;
    }
    std::optional<preemption> preempted;  // a reply started on this turn's words before it ended
    if (pre_ && pre_->turn == tid) preempted = std::exchange(pre_, std::nullopt);
    if (!text) {  // the recognizer failed: the person hears the apology, not silence
      discard(std::move(preempted));
      if (reply_ || !playing_.empty()) handle_interrupt("new_turn");
      open_reply(std::move(turn.timeline), "apology").apologize("asr", text.error());
      return;
    }
    std::string words = *text;  // what the user turn says: this utterance's, or with the one it continues
    if (turn.continues && merge_prefix_ && merge_prefix_->of == *turn.continues) {
      words = join_words(merge_prefix_->text, words);
      turn.timeline.add_note(obs::note_name::merged_with, static_cast<double>(turn.continues->value));
      turn.timeline.add_note(obs::note_name::merged_heard_ms, std::round(merge_prefix_->heard_ms));
      merge_prefix_.reset();
      n_merged_.fetch_add(1, std::memory_order_relaxed);
    }
    turn.timeline.transcript = text::redact_pii(words);  // timelines reach traces and logs
    if (turn.asr_confidence) {
      turn.timeline.add_note(obs::note_name::asr_confidence, std::round(*turn.asr_confidence * 1000.0) / 1000.0);
    }
    emit(tid, generation_id{}, transcript_final{*text, turn.asr_confidence});
    if (resumable_ && resumable_->by == tid) {
      auto cut = std::move(*resumable_);
      resumable_.reset();
      const bool in_time = clock_.now() - cut.t_cut <= from_ms(options_.barge_in.resume_within_ms);
      if (in_time && words == *text && (words.empty() || is_backchannel(words))) {
        discard(std::move(preempted));
        resume(std::move(cut), std::move(turn.timeline));
        return;
      }
    }
    if (preempted && preempted->r && preempted->routed && !words.empty() && !reply_ &&
        obs::normalize_for_wer(words) == preempted->words && fence_->is_current(preempted->r->id())) {
      adopt(std::move(*preempted), std::move(words), std::move(turn.timeline), turn.asr_confidence);
      return;
    }
    discard(std::move(preempted));
    if (words.empty()) {
      turn.timeline.route = "none";  // nothing recognisable: no reply
      complete_turn(turn.timeline);
      return;
    }
    commit_user_turn(std::move(words), std::move(turn.timeline), turn.asr_confidence);
  }

  // A false interruption: the speech that cut a reply held no request. The reply goes on from its
  // first word not heard, as the same assistant message in history.
  void resume(resumable_reply cut, obs::turn_timeline timeline) {
    if (reply_ || !playing_.empty()) handle_interrupt("new_turn");
    const auto now = clock_.now();
    n_resumed_.fetch_add(1, std::memory_order_relaxed);
    timeline.add_note(obs::note_name::resumed_after_ms, std::round(to_ms(now - cut.t_cut)));
    auto& r = open_reply(std::move(timeline), "resume");
    reply_continues_ = continuation{cut.history_seq, std::move(cut.heard)};
    r.timeline().mark(obs::stamp::llm_request, now);  // the words are known: no provider to wait for
    r.timeline().mark(obs::stamp::llm_first_token, now);
    r.write(std::move(cut.rest));  // may finish the reply
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

  // manual_turns: the caller ends the turn; its speech ends with the audio pushed before the commit.
  void commit_manual_turn() {
    if (turn_) end_user_turn({endpoint_decision::kind::turn_ended, 0, t_media_}, clock_.now());
  }

  void handle_end_input() {
    drain_input();
    if (options_.manual_turns) abandon_user_turn();  // never committed
    input_ended_ = true;
    handle_decision(endpointer_.on_end_of_input(t_media_), clock_.now());
    // No more input, so no barge-in: replies still playing are as good as heard.
    for (auto& p : playing_) complete_turn(p.r->timeline());
    playing_.clear();
    playout_timer_.cancel();

    maybe_end_stream();
  }

  // ---- the reply -----------------------------------------------------------------------------
  // `asr_confidence`: the recognizer's confidence in a spoken turn's words (nullopt: typed, or the
  // recognizer gives none); the local tier asks before acting on words it is unsure of.
  void commit_user_turn(std::string text, obs::turn_timeline timeline, std::optional<double> asr_confidence = {}) {
    if (options_.transcribe_only) {  // reported, never answered
      emit(timeline.turn, generation_id{}, user_turn_committed{std::move(text)});
      timeline.route = "none";
      complete_turn(timeline);
      return;
    }
    if (reply_ || !playing_.empty()) handle_interrupt("new_turn");
    record_user_turn(text, timeline.turn, asr_confidence);
    if (!options_.router) {
      open_reply(std::move(timeline), "llm").stream_from(engines_.llm, chat_request());
      return;
    }
    auto& r = open_reply(std::move(timeline), "routing");
    const generation_id gid = r.id();
    query_ = std::move(text);
    if (auto routed = options_.router->route_inline({query_, responder_context()})) {
      on_routed(gid, std::move(*routed));  // decided here: no hop to the router's worker and back
      return;
    }
    options_.router->route({query_, responder_context()},
                           to_strand<routed_reply>([gid](session_core& s, time_point, routed_reply reply) {
                             s.on_routed(gid, std::move(reply));
                           }));
  }

  // The user turn is committed: the event, history, and what answering it needs to know.
  void record_user_turn(const std::string& text, turn_id turn, std::optional<double> asr_confidence) {
    query_asr_confidence_ = asr_confidence;
    resumable_.reset();  // a request: whatever was cut stays cut
    emit(turn, generation_id{}, user_turn_committed{text});
    last_committed_ = committed_turn{turn, text, remember({engine::chat_role::user, text, false})};
  }

  // The model's request: the history, and (preemptive) the words not committed yet as the user's.
  engine::chat_request chat_request(std::optional<std::string> pending_user_text = std::nullopt) {
    engine::chat_request request;
    request.messages = history_;
    if (pending_user_text) request.messages.push_back({engine::chat_role::user, std::move(*pending_user_text), false});
    request.context = responder_context();
    return request;
  }

  engine::responder_context responder_context() {
    return {id_,
            [weak = weak_from_this()](std::string spoken) {
              if (auto self = weak.lock()) self->announce(std::move(spoken));
            },
            query_asr_confidence_};
  }

  // The router answered: follow its route. Routing time (t_asr_final → here) counts as overhead.
  void on_routed(generation_id gid, routed_reply routed) {
    if (!reply_ || reply_->id() != gid || !fence_->is_current(gid)) return;
    follow_route(*reply_, std::move(routed), std::nullopt);
  }

  // The reply says what the route gives: cached audio, a model's stream, or a local handler's
  // whole text. `pending_user_text`: a preemptive reply's words, not in history yet.
  void follow_route(reply& r, routed_reply routed, std::optional<std::string> pending_user_text) {
    auto& tl = r.timeline();
    tl.route = routed.route;
    tl.flags.cache_hit = routed.cache_hit;
    if (!routed.reason.empty()) tl.notes.push_back({"route_reason", routed.reason});
    if (routed.cache_similarity > 0.0) tl.notes.push_back({"cache_similarity", routed.cache_similarity});
    if (routed.pii) tl.notes.push_back({"pii", std::string("redacted")});
    r.allow_caching(routed.cacheable && options_.caller_context.empty() &&  // never one caller's reply to another
                    !options_.private_replies);
    if (routed.audio) {
      r.play_cached(std::move(routed.text), *routed.audio);
    } else if (routed.model) {
      r.stream_from(routed.model, chat_request(std::move(pending_user_text)));
    } else {
      // A whole reply from a local handler: it is the "provider", answering at once.
      const auto now = clock_.now();
      tl.mark(obs::stamp::llm_request, now);
      tl.mark(obs::stamp::llm_first_token, now);
      r.write(std::move(routed.text));  // may finish the reply
    }
  }

  std::shared_ptr<reply> make_reply(obs::turn_timeline timeline) {
    return reply::create(reply_env_, fence_->open_next(), std::move(timeline),
                         {.on_event = [this](reply& r, event_body body) { emit(r.turn(), r.id(), std::move(body)); },
                          .on_generated = [this](reply& r) { on_reply_generated(r); }});
  }

  reply& open_reply(obs::turn_timeline timeline, std::string route) {
    timeline.route = std::move(route);
    reply_continues_.reset();
    reply_ = make_reply(std::move(timeline));
    return *reply_;
  }

  // ---- preemptive replies (turn_end_config::preempt_after_ms) ---------------------------------
  // Once the speech has been followed by preempt_after_ms of silence and the words so far do not
  // end unfinished, the reply to them starts, held (reply::hold): routed with nothing acting
  // (route_request::preemptive), the model asked, the text synthesized. The turn's final words
  // decide: the same (normalised) → adopt() releases it at once; else, or if the speech goes on,
  // it is discarded and its work cancelled.
  void maybe_preempt(time_point now) {
    if (!turn_ || !turn_end_ || !options_.router || turn_end_->config().preempt_after_ms <= 0.0 ||
        options_.transcribe_only || options_.manual_turns) {
      return;
    }
    const double silence = endpointer_.trailing_silence_ms(t_media_);
    if (silence < turn_end_->config().preempt_after_ms) {
      if (pre_ && pre_->turn == turn_->id) {  // speaking again: those words were not all
        discard_preemption();
        turn_->partial_is_fresh = false;  // nor is the partial until the recognizer has heard more
      }
      return;
    }
    if (!turn_->partial_is_fresh || turn_->ending == text_ending::empty || turn_->ending == text_ending::unfinished) {
      return;
    }
    if (reply_) return;  // one generation at a time: a reply still being generated keeps the fence
    std::string query = join_words(turn_->merge_context, turn_->last_partial);
    std::string words = obs::normalize_for_wer(query);
    if (words.empty() || (pre_ && pre_->turn == turn_->id && pre_->words == words)) return;
    discard_preemption();  // on other words
    obs::turn_timeline timeline;
    timeline.session = id_;
    timeline.turn = turn_->id;
    timeline.mode = std::string(to_string(options_.mode));
    auto r = make_reply(std::move(timeline));
    r->hold();
    const generation_id gid = r->id();
    pre_ = preemption{std::move(r), turn_->id, std::move(words), now};
    route_request request{query, responder_context(), /*preemptive=*/true};
    if (auto routed = options_.router->route_inline(request)) {
      on_preempt_routed(gid, std::move(query), std::move(*routed));
      return;
    }
    options_.router->route(std::move(request), to_strand<routed_reply>([gid, query](session_core& s, time_point,
                                                                                 routed_reply routed) {
                             s.on_preempt_routed(gid, query, std::move(routed));
                           }));
  }

  void on_preempt_routed(generation_id gid, std::string query, routed_reply routed) {
    if (!pre_ || !pre_->r || pre_->r->id() != gid) return;
    if (routed.route.empty()) {  // declined (the local tier would act, a tool could run): the turn routes at its end
      pre_->r.reset();
      return;
    }
    pre_->routed = true;
    n_preempted_.fetch_add(1, std::memory_order_relaxed);
    follow_route(*pre_->r, std::move(routed), std::move(query));
  }

  // The turn ended with the words the preemptive reply answers: it is the turn's reply, and what it
  // has ready leaves now.
  void adopt(preemption p, std::string text, obs::turn_timeline user, std::optional<double> asr_confidence) {
    if (!playing_.empty()) handle_interrupt("new_turn", std::nullopt, /*close_fence=*/false);
    record_user_turn(text, user.turn, asr_confidence);
    query_ = std::move(text);
    // One timeline: the user turn's stamps (speech end, turn end, final transcript) and notes,
    // with the reply's.
    auto& tl = p.r->timeline();
    for (const auto s : obs::all_stamps) {
      if (const auto t = user.at(s); t && !tl.has(s)) tl.set(s, *t);
    }
    tl.transcript = std::move(user.transcript);
    tl.notes.insert(tl.notes.begin(), user.notes.begin(), user.notes.end());
    if (const auto t_final = tl.at(obs::stamp::asr_final)) {
      tl.add_note(obs::note_name::preempted_ms, std::round(to_ms(*t_final - p.t_start)));
    }
    n_preempt_hits_.fetch_add(1, std::memory_order_relaxed);
    reply_ = std::move(p.r);
    reply_->release();  // may complete it
  }

  void discard(std::optional<preemption> p) {
    if (!p || !p->r) return;
    if (p->routed) {
      n_preempt_discarded_.fetch_add(1, std::memory_order_relaxed);
      n_preempt_wasted_tokens_.fetch_add(p->r->n_tokens(), std::memory_order_relaxed);
    }
    p->r->interrupt("preempt_discarded", clock_.now());  // its engines stop; nothing of it left
  }

  void discard_preemption() { discard(std::exchange(pre_, std::nullopt)); }

  // Something to say unprompted (a timer firing): spoken when no reply is being generated, in order.
  void handle_announce(std::string text) {
    if (reply_) {
      pending_announcements_.push_back(std::move(text));
      return;
    }
    obs::turn_timeline timeline;
    timeline.session = id_;
    timeline.turn = turn_id{++n_turns_started_};
    timeline.mode = std::string(to_string(options_.mode));
    open_reply(std::move(timeline), "announce").speak(std::move(text));
  }

  void start_pending_announcement() {
    if (reply_ || pending_announcements_.empty()) return;
    auto text = std::move(pending_announcements_.front());
    pending_announcements_.pop_front();
    handle_announce(std::move(text));
  }

  // The reply was produced in full: history gets its text, the cache its audio. Its turn is
  // complete now, or — when the session follows playout (barge-in on) — once it has played out.
  void on_reply_generated(reply& r) {
    if (reply_.get() != &r) return;
    auto self_reply = std::move(reply_);  // r is *self_reply: kept alive to the end of this call
    const auto now = clock_.now();
    std::uint64_t seq = 0;
    std::string heard_before;  // a resumed reply: the words of its message heard before the cut
    if (reply_continues_) {
      seq = reply_continues_->history_seq;
      heard_before = std::move(reply_continues_->heard_before);
      reply_continues_.reset();
      amend(seq, join_words(heard_before, r.text()), false);
    } else {
      seq = remember({engine::chat_role::assistant, r.text(), false});
    }
    if (r.cacheable() && options_.router && !r.text().empty()) {
      options_.router->remember(std::move(query_), r.text(), r.take_cache_audio());
    }
    // Once the input has ended nobody can talk over a reply: its turn completes when generated.
    const bool followed = options_.barge_in.enabled && !input_ended_ && r.playing(now);
    if (followed || may_still_merge(r, now)) {
      playing_.push_back({std::move(self_reply), seq, std::move(heard_before)});
      arm_playout_timer();
    } else {
      complete_turn(r.timeline());
    }
    start_pending_announcement();
  }

  // ---- playout: what the listener heard ------------------------------------------------------
  void handle_playout(generation_id gid, std::uint64_t n_played) {
    if (reply_ && reply_->id() == gid) reply_->on_playout(n_played);
    for (auto& p : playing_) {
      if (p.r->id() == gid) p.r->on_playout(n_played);
    }
    settle_playing(clock_.now());
  }

  // Replies that have played out complete their turns. Without reports a reply has played out
  // at its real-time estimate; with reports, when they reach its end — or, should they stop
  // coming (a client gone quiet), k_playout_grace after the estimate.
  void settle_playing(time_point now) {
    for (auto it = playing_.begin(); it != playing_.end();) {
      const auto end = it->r->playout().estimated_end();
      const bool overdue = end && now >= *end + k_playout_grace;
      const bool followed = options_.barge_in.enabled && it->r->playing(now) && !overdue;
      if (followed || may_still_merge(*it->r, now)) {
        ++it;
        continue;
      }
      auto done = std::move(*it);
      it = playing_.erase(it);
      complete_turn(done.r->timeline());
    }
    if (!playing_.empty()) arm_playout_timer();
  }

  void arm_playout_timer() {
    std::optional<time_point> due;
    for (const auto& p : playing_) {
      if (auto end = p.r->playout().estimated_end()) {
        const auto at = p.r->playout().reports_seen() ? *end + k_playout_grace : *end;
        due = due ? std::min(*due, at) : at;
      }
      if (may_still_merge(*p.r, clock_.now())) due = due ? std::min(*due, merge_deadline()) : merge_deadline();
    }
    if (!due) return;
    playout_timer_.expires_after(std::max(duration::zero(), *due - clock_.now()) + std::chrono::milliseconds(1));
    playout_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->shut_down_) return;
      self->settle_playing(self->clock_.now());
    });
  }

  bool anything_playing(time_point now) const {
    if (reply_ && reply_->playing(now)) return true;
    return std::any_of(playing_.begin(), playing_.end(), [now](const playing_reply& p) { return p.r->playing(now); });
  }

  // The user has spoken long enough over a reply that is playing: it stops (DESIGN §9).
  void check_barge_in(time_point now) {
    if (!gate_.poll()) return;
    if (!anything_playing(now)) return;
    n_barge_ins_.fetch_add(1, std::memory_order_relaxed);
    handle_interrupt("barge_in", arrival_of(*gate_.onset()));
  }

  // Interrupts every reply still generating or playing (DESIGN §4): (1) fence, (2) cancel, (3)
  // tell the sink to drop what it holds (an interrupt event per reply, oldest first), (4) history
  // keeps only what the listener heard, marked interrupted.
  // `close_fence` false: the replies interrupted are of older generations than the current one
  // (an adopted preemptive reply's), which must stay current.
  void handle_interrupt(std::string reason, std::optional<time_point> t_speech_start = std::nullopt,
                        bool close_fence = true) {
    if (!reply_ && playing_.empty()) return;  // nothing to interrupt: idempotent
    if (close_fence) fence_->close_all();
    n_interrupts_.fetch_add(1, std::memory_order_relaxed);
    const time_point now = clock_.now();
    resumable_.reset();
    // A barge-in may turn out to be no words (a cough, "uh-huh"): the reply that was playing is
    // kept resumable until the interrupting turn's transcript says (commit_transcribed_turn).
    const auto offer_resume = [&](const reply& r, bool was_playing, const interrupt_event& e, std::uint64_t seq,
                                  const std::string& heard_before) {
      if (reason != "barge_in" || options_.barge_in.resume_within_ms <= 0.0 || !turn_ || !was_playing ||
          !r.text_complete()) {
        return;
      }
      if (auto rest = words_after(r.text(), e.heard_text); !rest.empty()) {
        resumable_ = resumable_reply{turn_->id, std::move(rest), join_words(heard_before, e.heard_text), seq, now};
      }
    };
    for (auto& p : playing_) {
      const bool was_playing = p.r->playing(now);
      auto e = p.r->interrupt(reason, now);
      e.t_speech_start = t_speech_start;
      amend(p.history_seq, join_words(p.heard_before, e.heard_text));
      offer_resume(*p.r, was_playing, e, p.history_seq, p.heard_before);
      emit(p.r->turn(), p.r->id(), std::move(e));
      complete_turn(p.r->timeline());
    }
    playing_.clear();
    if (reply_) {
      auto r = std::move(reply_);
      const bool was_playing = r->playing(now);
      auto e = r->interrupt(reason, now);
      e.t_speech_start = t_speech_start;
      std::uint64_t seq = 0;
      std::string heard_before;
      if (reply_continues_) {  // a resumed reply cut again: its message keeps what was heard of both
        seq = reply_continues_->history_seq;
        heard_before = std::move(reply_continues_->heard_before);
        reply_continues_.reset();
        amend(seq, join_words(heard_before, e.heard_text));
      } else {
        seq = remember({engine::chat_role::assistant, e.heard_text, true});
      }
      offer_resume(*r, was_playing, e, seq, heard_before);
      emit(r->turn(), r->id(), std::move(e));
      complete_turn(r->timeline());
    }
    on_strand([this] { start_pending_announcement(); });  // after whatever follows the interrupt
  }

  // ---- bookkeeping ---------------------------------------------------------------------------
  // Appends to the conversation memory; returns the message's sequence number (for amend()).
  std::uint64_t remember(engine::chat_message message) {
    history_.push_back(std::move(message));
    while (history_.size() > options_.max_history_messages + 1) {
      history_.erase(history_.begin() + 1);
      ++n_forgotten_;
    }
    return n_remembered_++;
  }

  // A message remembered earlier says something else now: a reply cut short keeps only what was
  // heard (interrupted), a resumed one grows by what followed.
  void amend(std::uint64_t seq, std::string content, bool interrupted = true) {
    if (seq < n_forgotten_) return;  // already forgotten
    const auto index = static_cast<std::size_t>(seq - n_forgotten_) + 1;  // after the system prompt
    if (index >= history_.size()) return;
    history_[index].content = std::move(content);
    history_[index].interrupted = interrupted;
  }

  // Forgets message `seq` and the one after it (a user turn and its reply, merged into the next
  // turn). False, forgetting nothing, when anything else was remembered since or it is gone already.
  bool forget_since(std::uint64_t seq) {
    if (seq < n_forgotten_ || seq >= n_remembered_ || n_remembered_ - seq > 2) return false;
    history_.resize(static_cast<std::size_t>(seq - n_forgotten_) + 1);
    n_remembered_ = seq;
    return true;
  }

  void complete_turn(const obs::turn_timeline& timeline) {
    n_turns_.fetch_add(1, std::memory_order_relaxed);
    if (callbacks_.on_turn) callbacks_.on_turn(timeline);
    // Checked once the current handler is over: a turn can complete in the middle of one (a new
    // user turn interrupting the last reply) while the session is not idle at all.
    on_strand([this] { maybe_end_stream(); });
  }

  void maybe_end_stream() {
    if (!input_ended_ || turn_ || !awaiting_final_.empty() || reply_ || !playing_.empty() ||
        !pending_announcements_.empty() || end_of_stream_sent_) {
      return;
    }
    end_of_stream_sent_ = true;
    emit(turn_id{}, generation_id{}, end_of_stream{});
  }

  void emit(turn_id tid, generation_id gid, event_body body, std::optional<media_time> t_media = std::nullopt) {
    const auto cls = class_of(body);
    // The fence (DESIGN §4): data and control events of a stale generation never leave.
    if (gid && (cls == event_class::data || cls == event_class::control) && !fence_->is_current(gid)) return;
    if (!callbacks_.on_event) return;
    callbacks_.on_event(event{envelope{id_, tid, gid, ++seq_, t_media.value_or(t_media_), clock_.now()}, std::move(body)});
  }

  void shut_down() {
    shut_down_ = true;
    fence_->close_all();
    reply_.reset();  // a reply's destructor asks its engines to stop
    pre_.reset();
    playing_.clear();
    playout_timer_.cancel();
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
  std::optional<turn_end_policy> turn_end_ =
      options_.turn_end ? std::optional<turn_end_policy>(*options_.turn_end) : std::nullopt;
  // Shared with the replies: a reply's engine callback may still run on the strand after the
  // session is gone, and must find the fence closed, not freed.
  std::shared_ptr<generation_fence> fence_ = std::make_shared<generation_fence>();

  bounded_ring<input_chunk> input_;
  std::atomic<bool> drain_scheduled_{false};
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> n_input_chunks_{0};
  std::mutex marks_mutex_;
  std::deque<input_mark> marks_;  // manual_turns: commits and clears not applied yet, in order
  std::atomic<std::uint64_t> n_turns_{0};
  std::atomic<std::uint64_t> n_interrupts_{0};

  media_time t_media_ = 0;
  static constexpr std::size_t k_arrivals_kept = 50;  // 1 s of frames: covers the VAD hangover
  std::deque<std::pair<media_time, time_point>> recent_arrivals_;  // (end of frame, arrival)
  preroll_ring preroll_{static_cast<std::size_t>(std::max(0.0, options_.preroll_ms) / audio::k_frame_ms) + 1};
  std::optional<user_turn> turn_;          // the turn being spoken now
  std::deque<user_turn> awaiting_final_;   // ended turns, in order, waiting for their (or an earlier) transcript
  reply_env reply_env_{.strand = strand_,
                       .clk = &clock_,
                       .tts = engines_.tts,
                       .mode = options_.mode,
                       .chunking = options_.chunking,
                       .budgets = options_.budgets,
                       .filler = options_.filler,
                       .fillers = options_.filler_bank,
                       .max_cached_reply_ms = options_.max_cached_reply_ms,
                       .max_reply_chars = options_.max_reply_chars,
                       .playout_slack_ms = options_.barge_in.playout_slack_ms,
                       .lane = options_.input_lane,
                       .fence = fence_};
  std::shared_ptr<reply> reply_;  // the reply being generated, if any
  struct playing_reply {
    std::shared_ptr<reply> r;
    std::uint64_t history_seq = 0;  // its message in history_ (remember()'s number)
    std::string heard_before;       // a resumed reply: the words of that message heard before the cut
  };
  // Merged turns (turn_end_config::merge_window_ms).
  struct turn_end_mark {
    turn_id id;
    media_time t_media = 0;  // the endpoint, on the input timeline
    time_point t_wall;
  };
  std::optional<turn_end_mark> last_end_;  // the last spoken turn's endpoint
  struct committed_turn {
    turn_id id;
    std::string text;
    std::uint64_t history_seq = 0;  // its request in history_
  };
  std::optional<committed_turn> last_committed_;
  struct merge_prefix {
    turn_id of;        // the turn continued
    std::string text;  // its words
    double heard_ms = 0.0;  // of its withdrawn reply
  };
  std::optional<merge_prefix> merge_prefix_;  // waiting for the turn that continues it
  // False interruptions (barge_in_config::resume_within_ms).
  std::optional<resumable_reply> resumable_;
  struct continuation {
    std::uint64_t history_seq;  // the cut reply's message, which reply_ continues
    std::string heard_before;
  };
  std::optional<continuation> reply_continues_;  // reply_ is a resumed reply
  std::optional<preemption> pre_;
  std::atomic<std::uint64_t> n_preempted_{0}, n_preempt_hits_{0}, n_preempt_discarded_{0}, n_preempt_wasted_tokens_{0};
  std::atomic<std::uint64_t> n_merged_{0};
  std::atomic<std::uint64_t> n_resumed_{0};
  std::deque<playing_reply> playing_;  // generated, still playing (barge-in on), oldest first
  std::string query_;                  // the routed query of reply_, handed to the cache with it
  std::optional<double> query_asr_confidence_;  // the recognizer's confidence in it (responder_context)
  static constexpr duration k_playout_grace = std::chrono::seconds(2);
  boost::asio::steady_timer playout_timer_{strand_};
  barge_in_gate gate_{options_.barge_in};
  std::atomic<std::uint64_t> n_barge_ins_{0};
  std::uint64_t n_remembered_ = 0;  // messages remember()ed (system prompt excluded)
  std::uint64_t n_forgotten_ = 0;   // of those, dropped from the front
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
  if (options.turn_end) {
    if (auto s = validate(*options.turn_end); !s) return s.error();
  }
  if (options.filler_bank) {
    const int rate = engines.tts->caps().sample_rate_hz;
    const auto& bank = *options.filler_bank;
    for (const auto* clip : {&bank.waiting, &bank.tool, &bank.apology}) {
      if (clip == &bank.apology && clip->pcm.empty()) continue;  // none: the synthesizer speaks it
      if (clip->sample_rate_hz != rate || clip->word_ends.empty() || clip->word_ends.back() != clip->pcm.size()) {
        return make_error(errc::invalid_argument,
                          "filler \"" + clip->text + "\": its audio must be at the synthesizer's rate, with word ends");
      }
    }
  }
  auto frontend = audio::frontend::create(options.frontend);
  if (!frontend) return frontend.error();
  // Speech providers open their connections now, while the person is still saying hello.
  engines.asr->prepare();
  engines.tts->prepare();
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
void session::commit_turn() { core_->commit_turn(); }
void session::clear_turn() { core_->clear_turn(); }
void session::submit_text(std::string text) { core_->submit_text(std::move(text)); }
void session::announce(std::string text) { core_->announce(std::move(text)); }
void session::interrupt(std::string reason) { core_->interrupt(std::move(reason)); }
void session::on_playout(generation_id generation, std::uint64_t n_samples_played) {
  core_->on_playout(generation, n_samples_played);
}
void session::close() { core_->close(); }
session_stats session::stats() const { return core_->stats(); }

}  // namespace parley::agent
