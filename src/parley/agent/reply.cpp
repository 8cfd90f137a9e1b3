#include "parley/agent/reply.hpp"

#include <boost/asio/post.hpp>
#include <algorithm>
#include <utility>

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

// Engine callbacks hand out views; what crosses to the strand must own its data.
std::string to_owned(std::string_view text) { return std::string(text); }
std::vector<std::int16_t> to_owned(std::span<const std::int16_t> pcm) { return {pcm.begin(), pcm.end()}; }
template <class T>
T to_owned(T&& value) { return std::forward<T>(value); }

void append_words(std::string& to, std::string_view words) {
  if (words.empty()) return;
  if (!to.empty()) to += ' ';
  to += words;
}

// The words of `text` heard when `fraction` of its audio has played: the words whose end falls
// within that share of the characters (speech time is roughly proportional to characters).
std::string_view words_heard(std::string_view text, double fraction) {
  const auto limit = static_cast<std::size_t>(fraction * static_cast<double>(text.size()) + 1e-9);
  std::size_t end = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool word_ends = text[i] != ' ' && (i + 1 == text.size() || text[i + 1] == ' ');
    if (!word_ends) continue;
    if (i + 1 > limit) break;
    end = i + 1;
  }
  return text.substr(0, end);
}

}  // namespace

std::shared_ptr<reply> reply::create(const reply_env& env, generation_id id, obs::turn_timeline timeline,
                                     reply_callbacks callbacks) {
  return std::shared_ptr<reply>(new reply(env, id, std::move(timeline), std::move(callbacks)));
}

reply::reply(const reply_env& env, generation_id id, obs::turn_timeline timeline, reply_callbacks callbacks)
    : env_(env),
      clock_(*env.clk),
      id_(id),
      timeline_(std::move(timeline)),
      callbacks_(std::move(callbacks)),
      chunker_(env.chunking),
      playout_(env.playout_slack_ms) {
  timeline_.generation = id;
}

reply::~reply() {
  stop_.request_stop();
  llm_stop_.request_stop();
}

// Wraps an engine callback: stamps the wall time where it happens (so provider time and parley
// time are told apart) and hops onto the strand, as a critical handler (bulk_lane.hpp).
template <class... Args, class Handler>
auto reply::to_strand(Handler handler) {
  return [weak = weak_from_this(), handler = std::move(handler)](Args... args) {
    auto caller = weak.lock();
    if (!caller) return;
    const time_point t = caller->clock_.now();
    auto mark = caller->env_.lane ? caller->env_.lane->mark_critical() : bulk_lane::critical_mark();
    boost::asio::post(caller->env_.strand, [weak, handler, t, mark = std::move(mark),
                                            ... args = to_owned(std::move(args))]() mutable {
      mark.release();
      auto self = weak.lock();
      if (!self || !self->live()) return;
      handler(*self, t, std::move(args)...);
    });
  };
}

// ---- what to say ----------------------------------------------------------------------------

void reply::stream_from(const std::shared_ptr<engine::chat_model>& model, engine::chat_request request) {
  const time_point t_request = clock_.now();
  timeline_.mark(obs::stamp::llm_request, t_request);
  auto fillers = env_.filler;
  fillers.enabled = fillers.enabled && env_.fillers != nullptr;
  budget_.emplace(env_.budgets, fillers);
  budget_->llm_requested(t_request);
  arm_budget_timer();
  model->stream(std::move(request),
                {.on_token = to_strand<std::string_view>(
                     [](reply& r, time_point t, std::string token) { r.on_token(std::move(token), t); }),
                 .on_done = to_strand<status>([](reply& r, time_point t, status done) { r.on_llm_done(std::move(done), t); }),
                 .on_progress = to_strand<engine::chat_progress>(
                     [](reply& r, time_point t, engine::chat_progress p) { r.on_llm_progress(p, t); })},
                llm_stop_.get_token());
}

void reply::speak(std::string text) {
  text_ = std::move(text);
  llm_done_ = true;
  auto segments = chunker_.push(text_);
  for (auto& rest : chunker_.flush()) segments.push_back(std::move(rest));
  enqueue_segments(std::move(segments));  // may finish the reply
}

void reply::play_cached(std::string text, const reply_audio& audio) {
  emit(token_chunk{text});
  text_ = std::move(text);
  llm_done_ = true;
  audio_rate_hz_ = audio.sample_rate_hz;
  spans_.push_back({text_, 0, audio.pcm.size(), true});
  out_clip(audio.pcm);
  finish();
}

void reply::apologize(std::string_view what, const error& why) {
  llm_done_ = true;
  fail(what, why);
  finish();
}

// ---- the LLM's stream -----------------------------------------------------------------------

void reply::on_token(std::string token, time_point t) {
  if (llm_done_) return;  // the length cap ended the stream; a token already in flight
  ++n_tokens_;
  if (budget_ && budget_->waiting_for_first_token()) {
    check_budgets(t);  // a token after the deadline is a breach, even if its timer is late
    budget_->first_token();
    arm_budget_timer();
  }
  timeline_.mark(obs::stamp::llm_first_token, t);
  text_ += token;
  emit(token_chunk{token});
  if (env_.mode == pipeline_mode::streaming) enqueue_segments(chunker_.push(token));
  if (env_.max_reply_chars > 0 && text_.size() >= env_.max_reply_chars && !llm_done_) {
    llm_stop_.request_stop();  // the synthesizer goes on with what was written
    timeline_.add_note(obs::note_name::reply_capped, static_cast<double>(text_.size()));
    on_llm_done({}, t);
  }
}

void reply::on_llm_done(status done, time_point t) {
  if (llm_done_) return;  // capped: the model's own end (cancelled) comes later
  if (budget_) {
    check_budgets(t);  // the model is done: nothing of it can breach any more
    budget_.reset();
    if (budget_timer_) budget_timer_->cancel();
  }
  llm_done_ = true;
  if (!done) fail("llm", done.error());
  // Sequential mode chunks the whole reply only now; streaming mode has chunked as tokens came.
  auto segments = env_.mode == pipeline_mode::sequential ? chunker_.push(text_) : std::vector<std::string>{};
  for (auto& rest : chunker_.flush()) segments.push_back(std::move(rest));
  enqueue_segments(std::move(segments));  // may finish the reply
}

// How the request is being served (fallback chains, tool loops): into the timeline, and the
// tool budget.
void reply::on_llm_progress(const engine::chat_progress& p, time_point t) {
  using kind = engine::chat_progress::kind;
  auto& tl = timeline_;
  switch (p.what) {
    case kind::tool_started:
      tl.add_note(obs::note_name::tool_call, p.name);
      if (!tool_started_at_) tool_started_at_ = t;  // one progress per call; a round's calls start together
      if (budget_) budget_->tool_started(t);
      emit(tool_call_event{p.call_id, p.name, p.arguments, std::nullopt});
      break;
    case kind::tool_finished:
      emit(tool_call_event{p.call_id, p.name, p.arguments, p.output});
      if (tool_started_at_) {
        tl.add_note(obs::note_name::tool_ms, std::chrono::duration<double, std::milli>(t - *tool_started_at_).count());
        tool_started_at_.reset();
      }
      if (budget_) budget_->tool_finished();
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
  if (budget_) {
    check_budgets(t);
    arm_budget_timer();
  }
}

// ---- segments → TTS → audio -------------------------------------------------------------------

void reply::enqueue_segments(std::vector<std::string> segments) {
  for (auto& segment : segments) {
    const bool first = timeline_.mark(obs::stamp::first_segment, clock_.now());
    ++timeline_.n_segments;
    emit(text_segment{segment, first});
    pending_segments_.push_back(std::move(segment));
  }
  // Sequential mode synthesizes only once the whole reply text is known. May finish the reply.
  if (env_.mode == pipeline_mode::streaming || llm_done_) pump_tts();
}

void reply::pump_tts() {
  if (tts_busy_) return;
  if (pending_segments_.empty()) {
    if (llm_done_) finish();
    return;
  }
  spans_.push_back({std::move(pending_segments_.front()), reply_samples_, reply_samples_, false});
  pending_segments_.pop_front();
  tts_busy_ = true;
  timeline_.mark(obs::stamp::tts_request, clock_.now());
  env_.tts->synthesize(
      spans_.back().text,
      {.on_audio = to_strand<std::span<const std::int16_t>>(
           [](reply& r, time_point t, std::vector<std::int16_t> pcm) { r.on_tts_audio(std::move(pcm), t); }),
       .on_done = to_strand<status>([](reply& r, time_point, status done) { r.on_tts_done(std::move(done)); })},
      stop_.get_token());
}

void reply::on_tts_audio(std::vector<std::int16_t> pcm, time_point t) {
  if (pcm.empty()) return;
  timeline_.mark(obs::stamp::tts_first_audio, t);
  audio_rate_hz_ = env_.tts->caps().sample_rate_hz;
  reply_samples_ += pcm.size();
  spans_.back().end_sample = reply_samples_;
  if (env_.mode == pipeline_mode::streaming) {
    send_audio(std::move(pcm));
  } else {
    held_audio_.push_back(std::move(pcm));
  }
}

void reply::on_tts_done(status done) {
  if (!done) fail("tts", done.error());
  spans_.back().synthesized = true;
  tts_busy_ = false;
  pump_tts();
}

void reply::send_audio(std::vector<std::int16_t> pcm) {
  if (held_) {
    held_items_.emplace_back(std::move(pcm));
    return;
  }
  const time_point now = clock_.now();
  const bool first = timeline_.mark(obs::stamp::first_audio_out, now);
  if (first) {
    // The reply is ready: no filler from now on, and one playing stops at its word boundary
    // (the client finishes the word it is playing, then plays this).
    if (budget_) budget_->reply_audio_started();
    if (filler_) {
      record_filler_end("reply");  // idempotent: a filler that played out is already recorded
      if (const auto t_end = timeline_.at(obs::stamp::filler_end); t_end && *t_end > now) {
        timeline_.add_note(obs::note_name::filler_overhang_ms, to_ms(*t_end - now));
      }
    }
  }
  timeline_.n_output_samples += static_cast<std::int64_t>(pcm.size());
  timeline_.output_rate_hz = audio_rate_hz_;
  if (cacheable_) {
    const double kept_ms =
        1000.0 * static_cast<double>(cache_audio_.size() + pcm.size()) / std::max(1, audio_rate_hz_);
    if (audio_rate_hz_ > 0 && kept_ms <= env_.max_cached_reply_ms) {
      cache_audio_.insert(cache_audio_.end(), pcm.begin(), pcm.end());
    } else {
      cacheable_ = false;
      cache_audio_ = {};
    }
  }
  playout_.on_sent(pcm.size(), audio_rate_hz_, now);
  emit(output_audio_chunk{std::move(pcm), audio_rate_hz_, first});
}

void reply::out_clip(std::span<const std::int16_t> pcm) {
  const std::size_t chunk = static_cast<std::size_t>(std::max(1, audio_rate_hz_ / 10));  // 100 ms
  for (std::size_t k = 0; k < pcm.size(); k += chunk) {
    auto part = pcm.subspan(k, std::min(chunk, pcm.size() - k));
    reply_samples_ += part.size();
    if (env_.mode == pipeline_mode::streaming) {
      send_audio({part.begin(), part.end()});
    } else {
      held_audio_.emplace_back(part.begin(), part.end());
    }
  }
}

void reply::fail(std::string_view what, const error& e) {
  cacheable_ = false;
  if (e.code == errc::cancelled) return;
  emit(error_event{e});
  if (!failed_) timeline_.add_note(obs::note_name::failure, std::string(what) + ": " + e.message);
  failed_ = true;
  timeline_.flags.failed = true;
}

bool reply::add_apology() {
  const filler_clip* clip = env_.fillers && !env_.fillers->apology.pcm.empty() ? &env_.fillers->apology : nullptr;
  const std::string words = clip ? clip->text : filler_phrases{}.apology;
  const bool spaced = text_.empty() || text_.back() == ' ';  // a stream cut after a sentence's space
  emit(token_chunk{spaced ? words : " " + words});
  text_ += spaced ? words : " " + words;
  timeline_.add_note(obs::note_name::apology, std::string(clip ? "clip" : "synthesized"));
  if (!clip) {  // through the synthesizer, like any segment; it finishes the reply when done
    enqueue_segments({words});
    return false;
  }
  if (audio_rate_hz_ == 0) audio_rate_hz_ = clip->sample_rate_hz;
  spans_.push_back({words, reply_samples_, reply_samples_ + clip->pcm.size(), true});
  out_clip(clip->pcm);
  return true;
}

void reply::finish() {
  if (failed_ && !apologized_) {
    apologized_ = true;
    if (!add_apology()) return;
  }
  for (auto& pcm : held_audio_) send_audio(std::move(pcm));
  held_audio_.clear();
  record_filler_end("ended");  // a reply with no audio at all (an error, an empty reply)
  note_finished_breaches();
  generated_ = true;
  playout_.on_generated();
  timeline_.mark(obs::stamp::reply_done, clock_.now());
  timeline_.reply = text::redact_pii(text_);
  emit(reply_done{text_, false});
  if (held_) {
    finish_held_ = true;
    return;
  }
  auto self = shared_from_this();  // the session may drop it in the callback
  callbacks_.on_generated(*this);
}

void reply::release() {
  if (!held_) return;
  held_ = false;
  auto self = shared_from_this();  // the session may drop it in a callback
  for (auto& item : std::exchange(held_items_, {})) {
    if (auto* pcm = std::get_if<std::vector<std::int16_t>>(&item)) {
      send_audio(std::move(*pcm));
    } else {
      callbacks_.on_event(*this, std::move(std::get<event_body>(item)));
    }
  }
  if (std::exchange(finish_held_, false)) callbacks_.on_generated(*this);
}

// ---- interruption and what was heard ----------------------------------------------------------

interrupt_event reply::interrupt(std::string reason, time_point now) {
  interrupt_event e;
  e.reason = std::move(reason);
  if (interrupted_) return e;
  interrupted_ = true;
  stop_.request_stop();
  llm_stop_.request_stop();
  e.n_sent_samples = playout_.sent();
  e.n_played_samples = playout_.played(now);
  e.rate_hz = playout_.rate_hz() > 0 ? playout_.rate_hz() : audio_rate_hz_;
  e.heard_text = heard_text(now);
  playout_.stop(now);
  if (budget_timer_) budget_timer_->cancel();
  if (!generated_) {
    timeline_.mark(obs::stamp::reply_done, now);
    record_filler_end("interrupted", now);
    note_finished_breaches();
  }
  timeline_.flags.interrupted = true;
  timeline_.add_note(obs::note_name::interrupt_reason, e.reason);
  timeline_.reply = text::redact_pii(e.heard_text);
  timeline_.add_note(obs::note_name::heard_ms,
                     e.rate_hz > 0 ? 1000.0 * static_cast<double>(e.n_played_samples) / e.rate_hz : 0.0);
  return e;
}

std::string reply::heard_text(time_point now) const {
  if (generated_ && !interrupted_ && !playout_.playing(now)) return text_;
  const std::uint64_t played = playout_.played(now);
  const std::uint64_t heard = played > filler_samples_ ? played - filler_samples_ : 0;  // fillers come first
  std::string out;
  for (const auto& s : spans_) {
    if (s.first_sample >= heard) break;
    if (s.synthesized && s.end_sample <= heard) {
      append_words(out, s.text);
      continue;
    }
    // Partly played: its audio so far spans [first, end); the whole segment's length is known
    // only once it is synthesized, so an unfinished one counts what was produced as its length.
    const double span = static_cast<double>(std::max<std::uint64_t>(1, s.end_sample - s.first_sample));
    const double fraction = s.synthesized ? static_cast<double>(heard - s.first_sample) / span : 0.0;
    append_words(out, words_heard(s.text, fraction));
    break;
  }
  return out;
}

std::shared_ptr<const reply_audio> reply::take_cache_audio() {
  if (!cacheable_ || cache_audio_.empty()) return nullptr;
  return std::make_shared<const reply_audio>(reply_audio{audio_rate_hz_, std::move(cache_audio_)});
}

// ---- budgets and fillers ----------------------------------------------------------------------

void reply::arm_budget_timer() {
  const auto due = budget_ ? budget_->next_deadline() : std::nullopt;
  if (!due) {
    if (budget_timer_) budget_timer_->cancel();
    return;
  }
  if (!budget_timer_) budget_timer_ = std::make_unique<boost::asio::steady_timer>(env_.strand);
  budget_timer_->expires_after(std::max(duration::zero(), *due - clock_.now()));
  budget_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || !self->live() || !self->budget_) return;
    self->check_budgets(self->clock_.now());
    self->arm_budget_timer();
  });
}

// Notes every budget breached by `now`, and starts the filler the watch decided on.
void reply::check_budgets(time_point now) {
  for (const auto& breach : budget_->poll(now)) {
    timeline_.add_note(obs::note_name::budget_breach, std::string(breach.stage));
    if (breach.filler) start_filler(*breach.filler);
  }
}

void reply::start_filler(filler_kind kind) {
  if (!env_.fillers || filler_ || held_) return;  // a held reply is not late for anybody yet
  filler_.emplace(env_.fillers, kind, env_.filler.lead_ms);
  const time_point now = clock_.now();
  filler_->start(now);
  timeline_.flags.filler = true;
  timeline_.mark(obs::stamp::filler_start, now);
  timeline_.add_note(obs::note_name::filler, filler_->clip().text);
  pump_filler();
}

// Sends the filler's words that are due, then waits for the next one. Filler audio is output of
// this generation (first = false; not reply audio: no t_first_audio_out, not cached).
void reply::pump_filler() {
  auto& player = *filler_;
  const time_point now = clock_.now();
  while (auto w = player.next_word(now)) {
    const auto pcm = player.samples(*w);
    filler_samples_ += pcm.size();
    playout_.on_sent(pcm.size(), player.clip().sample_rate_hz, now);
    emit(output_audio_chunk{{pcm.begin(), pcm.end()}, player.clip().sample_rate_hz, false});
  }
  const auto due = player.next_due();
  if (!due) {
    record_filler_end(nullptr);  // every word sent: it plays out in full
    return;
  }
  if (!filler_timer_) filler_timer_ = std::make_unique<boost::asio::steady_timer>(env_.strand);
  filler_timer_->expires_after(std::max(duration::zero(), *due - now));
  filler_timer_->async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || !self->live()) return;
    if (self->filler_ && !self->filler_->done()) self->pump_filler();
  });
}

// The filler stops sending words (`cut_reason`: "reply", "interrupted", "ended"; null: it
// played out). Its end goes into the timeline once.
void reply::record_filler_end(const char* cut_reason, std::optional<time_point> t_stop) {
  if (!filler_ || filler_recorded_) return;
  filler_recorded_ = true;
  const bool words_left = filler_->cut();
  if (filler_timer_) filler_timer_->cancel();
  auto t_end = *filler_->t_end();
  if (t_stop) t_end = std::min(t_end, *t_stop);  // interrupted: the client clears what it holds
  timeline_.mark(obs::stamp::filler_end, t_end);
  timeline_.add_note(obs::note_name::filler_words, static_cast<double>(filler_->n_words_sent()));
  if (words_left && cut_reason != nullptr) timeline_.add_note(obs::note_name::filler_cut, std::string(cut_reason));
}

void reply::note_finished_breaches() {
  for (const auto stage : finished_breaches(env_.budgets, timeline_)) {
    timeline_.add_note(obs::note_name::budget_breach, std::string(stage));
  }
}

}  // namespace parley::agent
