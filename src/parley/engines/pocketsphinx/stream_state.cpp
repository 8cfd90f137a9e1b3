// One utterance of the streaming recognizer: feeding, decoding turns, partials and the final
// (see stream_state.hpp).
#include "parley/engines/pocketsphinx/stream_state.hpp"

#include <sphinxbase/cmn.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/logmath.h>

#include <algorithm>

namespace parley::pocketsphinx::detail {

stream_state::stream_state(std::shared_ptr<pocketsphinx_recognizer::core> c, engine::recognizer_events events,
                           final_detail_fn on_detail)
    : core_(std::move(c)),
      tracker_(core_->config.stability_window),
      events_(std::move(events)),
      on_detail_(std::move(on_detail)) {
  next_partial_at_ = core_->piece_samples;
}

void stream_state::feed(std::span<const std::int16_t> samples) {
  if (samples.empty() || cancelled_.load(std::memory_order_acquire)) return;
  bool need_schedule = false;
  {
    std::lock_guard lock(mutex_);
    if (finish_requested_ || closed_) return;  // audio after finish() belongs to no utterance
    const std::size_t cap = core_->max_pending_samples;
    const std::size_t pending = pending_.size() - pending_off_;
    if (samples.size() >= cap) {  // the new audio alone fills the buffer: keep its newest part
      core_->n_dropped.fetch_add(pending + samples.size() - cap, std::memory_order_relaxed);
      pending_.clear();
      pending_off_ = 0;
      samples = samples.last(cap);
    } else if (pending + samples.size() > cap) {  // drop the oldest audio not yet decoded
      const std::size_t drop = pending + samples.size() - cap;
      pending_off_ += drop;
      core_->n_dropped.fetch_add(drop, std::memory_order_relaxed);
    }
    if (pending_off_ > 0 && pending_off_ >= pending_.size() / 2) {
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pending_off_));
      pending_off_ = 0;
    }
    pending_.insert(pending_.end(), samples.begin(), samples.end());
    if (!queued_) {
      queued_ = true;
      need_schedule = true;
    }
  }
  if (need_schedule) core_->schedule(shared_from_this());
}

std::size_t stream_state::pending_samples() {
  std::lock_guard lock(mutex_);
  return pending_.size() - pending_off_;
}

void stream_state::finish() {
  if (cancelled_.load(std::memory_order_acquire)) return;
  bool need_schedule = false;
  {
    std::lock_guard lock(mutex_);
    if (finish_requested_ || closed_) return;
    finish_requested_ = true;
    t_finish_ = steady_clock::now();
    backlog_at_finish_ = pending_.size() - pending_off_;
    if (!queued_) {
      queued_ = true;
      need_schedule = true;
    }
  }
  // Once the recognizer is shut down no worker will run this stream again (it may have been
  // left in a queue): answer here. deliver_final() delivers at most once.
  if (core_->stopped.load(std::memory_order_acquire) ||
      (need_schedule && !core_->schedule(shared_from_this(), /*urgent=*/true)))
    deliver_final(make_error(errc::unavailable, "pocketsphinx: the recognizer has shut down"));
  else if (!need_schedule)
    core_->expedite(shared_from_this());  // already queued behind streams still listening
}

void stream_state::cancel() {
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  core_->n_cancelled.fetch_add(1, std::memory_order_relaxed);
  // Barrier: wait for a callback running on another thread; inside our own callback the flag
  // alone keeps later callbacks from running.
  if (callback_thread_.load(std::memory_order_acquire) != std::this_thread::get_id()) {
    std::lock_guard lock(callback_mutex_);
    events_ = {};
    on_detail_ = nullptr;
  }
  // Let a worker return the decoder to the pool promptly.
  bool need_schedule = false;
  {
    std::lock_guard lock(mutex_);
    if (!queued_ && !closed_) {
      queued_ = true;
      need_schedule = true;
    }
  }
  if (need_schedule) core_->schedule(shared_from_this());
}

bool stream_state::finish_requested() {
  std::lock_guard lock(mutex_);
  return finish_requested_ && !closed_;
}

void stream_state::work() {
  if (cancelled()) return abandon();
  if (decoder_ == nullptr && nothing_to_decode()) {  // finish() without audio: no decoder needed
    close();
    return deliver_final(engine::recognized{});
  }
  if (decoder_ == nullptr) {
    decoder_ = core_->acquire(shared_from_this());
    if (decoder_ == nullptr) return;  // waiting for a decoder; release() will requeue us
  }
  if (!utterance_started_) start_utterance();
  if (t_first_turn_after_finish_ == time_point{}) {
    std::lock_guard lock(mutex_);
    if (finish_requested_) t_first_turn_after_finish_ = steady_clock::now();
  }

  std::size_t budget = core_->slice_samples;
  for (;;) {
    bool finishing = false;
    bool urgent = false;  // finish() was called: decode the rest without yielding
    {
      std::lock_guard lock(mutex_);
      urgent = finish_requested_;
      const std::size_t available = pending_.size() - pending_off_;
      const std::size_t take = std::min({available, core_->piece_samples, budget});
      piece_.assign(pending_.begin() + static_cast<std::ptrdiff_t>(pending_off_),
                    pending_.begin() + static_cast<std::ptrdiff_t>(pending_off_ + take));
      pending_off_ += take;
      if (pending_off_ == pending_.size()) {
        pending_.clear();
        pending_off_ = 0;
      }
      if (piece_.empty()) {
        if (!finish_requested_) {
          queued_ = false;  // idle until feed()/finish()/cancel() queues us again
          return;
        }
        finishing = true;
      }
    }
    if (finishing) return finalize();

    decode(piece_);
    decoded_samples_ += piece_.size();
    core_->decoded_samples.fetch_add(piece_.size(), std::memory_order_relaxed);
    budget -= piece_.size();
    if (cancelled()) return abandon();
    if (!urgent) maybe_partial();  // after finish() only the final matters
    if (budget == 0 && urgent) {
      budget = core_->slice_samples;  // the endpoint is decided: the final comes first
    } else if (budget == 0) {
      // Yield to other streams (still queued_). Refused only while shutting down.
      if (!core_->schedule(shared_from_this())) on_shutdown();
      return;
    }
  }
}

void stream_state::on_shutdown() {
  if (finish_requested())
    deliver_final(make_error(errc::unavailable, "pocketsphinx: the recognizer has shut down"));
}

bool stream_state::nothing_to_decode() {
  std::lock_guard lock(mutex_);
  return finish_requested_ && pending_.size() == pending_off_ && !utterance_started_;
}

void stream_state::start_utterance() {
  ps_decoder_t* ps = decoder_->ps;
  cmn_ = nullptr;
  const auto mode = core_->config.cmn;
  if (mode != cmn_mode::carry && !decoder_->cmn_prior.empty()) {
    if (feat_t* feat = ps_get_feat(ps); feat != nullptr && feat->cmn_struct != nullptr) {
      cmn_t* cmn = feat->cmn_struct;
      prior_.assign(decoder_->cmn_prior.begin(), decoder_->cmn_prior.end());
      if (mode == cmn_mode::adaptive) {
        std::lock_guard lock(core_->cmn_mutex);
        // The channel's own prior once it has one; a new channel starts from the shared one.
        const auto it = channel_ != 0 ? core_->cmn_channels.find(channel_) : core_->cmn_channels.end();
        if (it != core_->cmn_channels.end() && it->second.mean.size() == prior_.size()) {
          prior_ = it->second.mean;
          restart_done_ = true;  // the channel's own history is a better start than a restart
          it->second.last_used = ++core_->cmn_clock;
        } else if (core_->cmn_shared_prior.size() == prior_.size()) {
          prior_ = core_->cmn_shared_prior;
        }
      }
      // The prior mean, worth `prior_weight_` frames of evidence (cmn_t is a public sphinxbase
      // struct: current mean, running sum, frame count).
      prior_weight_ = mode == cmn_mode::fixed ? 500 : std::max(1, core_->config.cmn_prior_frames);
      for (int i = 0; i < cmn->veclen; ++i) {
        const auto v = static_cast<mfcc_t>(prior_[static_cast<std::size_t>(i)]);
        cmn->cmn_mean[i] = v;
        cmn->sum[i] = v * static_cast<mfcc_t>(prior_weight_);
      }
      cmn->nframe = prior_weight_;
      cmn_window_shifted_ = false;
      if (mode != cmn_mode::fixed) cmn_ = cmn;
    }
  }
  // pocketsphinx's front-end keeps a noise estimate (-remove_noise) and a silence detector
  // level across utterances until the stream restarts: restart it, so that what the previous
  // user of this pooled decoder said (another session) changes nothing here.
  if (mode != cmn_mode::carry && ps_start_stream(ps) < 0) failed_ = true;
  if (ps_start_utt(ps) < 0) failed_ = true;
  utterance_started_ = true;
}

void stream_state::adapt_shared_prior() {
  if (core_->config.cmn != cmn_mode::adaptive || cmn_ == nullptr || failed_) return;
  const int n_data = cmn_->nframe - prior_weight_;
  std::vector<float> mean(static_cast<std::size_t>(cmn_->veclen));
  if (!cmn_window_shifted_) {
    if (n_data < 20) return;  // too little speech to say anything about the channel
    for (int i = 0; i < cmn_->veclen; ++i)
      mean[static_cast<std::size_t>(i)] =
          static_cast<float>((cmn_->sum[i] - prior_[static_cast<std::size_t>(i)] * prior_weight_) / n_data);
  } else {  // a long utterance: sphinxbase rescaled its window; the current mean is data by now
    for (int i = 0; i < cmn_->veclen; ++i) mean[static_cast<std::size_t>(i)] = static_cast<float>(cmn_->cmn_mean[i]);
  }
  const auto rate = static_cast<float>(std::clamp(core_->config.cmn_adapt_rate, 0.0, 1.0));
  std::lock_guard lock(core_->cmn_mutex);
  auto& shared = core_->cmn_shared_prior;
  if (shared.size() != mean.size()) return;
  if (channel_ != 0) {
    // The channel's prior follows its own utterances quickly (an average over the first ones,
    // then the shared rate): it is one microphone, so its history is the best guess.
    auto [it, added] = core_->cmn_channels.try_emplace(channel_);
    auto& c = it->second;
    if (added || c.mean.size() != mean.size()) c = {prior_, 0, 0};
    const float channel_rate = std::max(rate, 1.0f / static_cast<float>(c.n_utterances + 2));
    for (std::size_t i = 0; i < mean.size(); ++i) c.mean[i] = (1.0f - channel_rate) * c.mean[i] + channel_rate * mean[i];
    ++c.n_utterances;
    c.last_used = ++core_->cmn_clock;
    if (core_->cmn_channels.size() > pocketsphinx_recognizer::core::k_max_channels) {
      auto oldest = core_->cmn_channels.begin();
      for (auto j = core_->cmn_channels.begin(); j != core_->cmn_channels.end(); ++j) {
        if (j->second.last_used < oldest->second.last_used) oldest = j;
      }
      core_->cmn_channels.erase(oldest);
    }
  }
  for (std::size_t i = 0; i < shared.size(); ++i) shared[i] = (1.0f - rate) * shared[i] + rate * mean[i];
}

namespace {

/// Whether the last 200 ms of `audio` hold speech: a 20 ms step within 20 dB of the loudest step
/// so far. In the trailing silence the endpoint may be due any moment, and a restart then would
/// delay the final transcript by the re-decode.
bool still_speaking(std::span<const std::int16_t> audio) {
  constexpr std::size_t step = 320, recent = 10 * step;
  double loudest = 0.0, latest = 0.0;
  for (std::size_t k = 0; k + step <= audio.size(); k += step) {
    double energy = 0.0;
    for (std::size_t i = k; i < k + step; ++i) energy += static_cast<double>(audio[i]) * audio[i];
    loudest = std::max(loudest, energy);
    if (k + recent >= audio.size()) latest = std::max(latest, energy);
  }
  return loudest > 0.0 && latest >= loudest / 100.0;
}

}  // namespace

void stream_state::decode(std::span<const std::int16_t> samples) {
  // The restart is considered at fixed points of the utterance (cmn_restart_ms, then every
  // 200 ms), however the audio arrived, so the words do not depend on pacing.
  constexpr std::size_t k_check_every = 3200;
  const double restart_ms = core_->config.cmn_restart_ms;
  const auto at = restart_ms > 0.0 ? static_cast<std::size_t>(ms_to_samples(restart_ms)) : 0;
  while (!samples.empty()) {
    if (restart_done_ || cmn_ == nullptr || at == 0) return decode_steps(samples);
    const std::size_t next_check = head_.size() < at ? at : (head_.size() - at) / k_check_every * k_check_every + at + k_check_every;
    const auto part = samples.first(std::min(samples.size(), next_check - head_.size()));
    samples = samples.subspan(part.size());
    decode_steps(part);
    head_.insert(head_.end(), part.begin(), part.end());
    if (head_.size() != next_check) continue;
    if (still_speaking(head_)) {
      restart_from_own_mean();
    } else if (head_.size() >= 2 * at) {  // no speech at any check: keep the first pass
      restart_done_ = true;
      head_ = {};
    }
  }
}

void stream_state::restart_from_own_mean() {
  restart_done_ = true;
  std::vector<std::int16_t> head = std::move(head_);
  head_ = {};
  const int n_data = cmn_->nframe - prior_weight_;
  if (failed_ || cmn_window_shifted_ || n_data < 20) return;
  std::vector<float> mean(static_cast<std::size_t>(cmn_->veclen));
  for (int i = 0; i < cmn_->veclen; ++i)
    mean[static_cast<std::size_t>(i)] =
        static_cast<float>((cmn_->sum[i] - prior_[static_cast<std::size_t>(i)] * prior_weight_) / n_data);
  // Discard the first pass (ps_end_utt resets the search) and decode the same audio again from
  // its own mean, worth the frames it was measured on.
  ps_end_utt(decoder_->ps);
  for (int i = 0; i < cmn_->veclen; ++i) {
    cmn_->cmn_mean[i] = mean[static_cast<std::size_t>(i)];
    cmn_->sum[i] = mean[static_cast<std::size_t>(i)] * static_cast<mfcc_t>(n_data);
  }
  cmn_->nframe = n_data;
  prior_ = std::move(mean);
  prior_weight_ = n_data;
  if (ps_start_stream(decoder_->ps) < 0 || ps_start_utt(decoder_->ps) < 0) failed_ = true;
  detail_.cmn_restarted = true;
  decode_steps(head);
}

void stream_state::decode_steps(std::span<const std::int16_t> samples) {
  constexpr std::size_t step = 320;
  for (std::size_t k = 0; k < samples.size() && !failed_; k += step) {
    const std::size_t n = std::min(step, samples.size() - k);
    if (ps_process_raw(decoder_->ps, samples.data() + k, n, FALSE, FALSE) < 0) failed_ = true;
    if (cmn_ != nullptr) {
      const int before = cmn_->nframe;
      cmn_live_update(cmn_);
      if (cmn_->nframe < before) cmn_window_shifted_ = true;
    }
  }
}

void stream_state::maybe_partial() {
  if (!core_->config.partials || failed_ || decoded_samples_ < next_partial_at_) return;
  const std::size_t every = core_->piece_samples;
  next_partial_at_ = (decoded_samples_ / every + 1) * every;
  std::string text = hypothesis(decoder_->ps);
  const double stability = tracker_.update(text);
  if (text.empty()) return;
  if (text == last_partial_ && tracker_.stable_words() == last_stable_words_) return;
  last_partial_ = text;
  last_stable_words_ = tracker_.stable_words();
  core_->n_partials.fetch_add(1, std::memory_order_relaxed);
  deliver_partial(std::move(text), stability);
}

void stream_state::finalize() {
  adapt_shared_prior();
  const auto t_end_utt = steady_clock::now();
  const double cpu_end_utt = thread_cpu_ms();
  const int rc = ps_end_utt(decoder_->ps);  // flushes the last frames; always ends the utterance
  result<engine::recognized> final = engine::recognized{};
  if (failed_ || rc < 0) {
    final = make_error(errc::engine_failure, "pocketsphinx: decoding failed");
  } else {
    int32 score = 0;
    const char* hyp = ps_get_hyp(decoder_->ps, &score);
    final->text = hyp ? std::string(hyp) : std::string();
    // The best path's posterior in the word lattice (bestpath search only: without it
    // pocketsphinx reports 1 whatever it heard). Nothing heard: no confidence either.
    if (core_->config.bestpath && !final->text.empty()) {
      final->confidence = std::clamp(logmath_exp(ps_get_logmath(decoder_->ps), ps_get_prob(decoder_->ps)), 0.0, 1.0);
    }
    detail_.text = final->text;
    detail_.confidence = final->confidence;
    detail_.path_score = score;
    detail_.n_frames = ps_get_n_frames(decoder_->ps);
  }
  {
    std::lock_guard lock(mutex_);
    const auto t_turn = t_first_turn_after_finish_ == time_point{} ? t_end_utt : t_first_turn_after_finish_;
    detail_.backlog_ms = samples_to_ms(static_cast<media_time>(backlog_at_finish_));
    detail_.wait_ms = to_ms(t_turn - t_finish_);
    detail_.catch_up_ms = to_ms(t_end_utt - t_turn);
    detail_.end_utt_ms = to_ms(steady_clock::now() - t_end_utt);
    detail_.end_utt_cpu_ms = thread_cpu_ms() - cpu_end_utt;
  }
  utterance_started_ = false;
  give_back_decoder();
  close();
  deliver_final(std::move(final));
}

void stream_state::abandon() {
  if (decoder_ != nullptr && utterance_started_) ps_end_utt(decoder_->ps);  // resets the decoder
  utterance_started_ = false;
  give_back_decoder();
  close();
}

void stream_state::give_back_decoder() {
  if (decoder_ == nullptr) return;
  decoder* d = decoder_;
  decoder_ = nullptr;
  core_->release(d);
}

void stream_state::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  queued_ = false;
  pending_.clear();
  pending_off_ = 0;
}

void stream_state::deliver_partial(std::string text, double stability) {
  std::lock_guard lock(callback_mutex_);
  if (cancelled() || !events_.on_partial) return;
  callback_thread_.store(std::this_thread::get_id(), std::memory_order_release);
  events_.on_partial(std::move(text), stability);
  callback_thread_.store(std::thread::id(), std::memory_order_release);
}

void stream_state::deliver_final(result<engine::recognized> final) {
  std::lock_guard lock(callback_mutex_);
  if (final_delivered_) return;
  final_delivered_ = true;
  core_->n_finals.fetch_add(1, std::memory_order_relaxed);
  if (cancelled() || !events_.on_final) return;
  callback_thread_.store(std::this_thread::get_id(), std::memory_order_release);
  auto on_final = std::move(events_.on_final);
  events_ = {};
  if (on_detail_ && final) on_detail_(detail_);
  on_detail_ = nullptr;
  on_final(std::move(final));
  callback_thread_.store(std::thread::id(), std::memory_order_release);
}

}  // namespace parley::pocketsphinx::detail
