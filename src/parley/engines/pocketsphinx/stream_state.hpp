// engines/pocketsphinx/stream_state — one utterance of the streaming recognizer (internal).
//
// Role: the state behind a recognizer_stream: the audio fed and not yet decoded (bounded by
// max_pending_ms; the oldest is dropped and counted when full), the decoder it holds while its
// utterance is decoded, the per-utterance cepstral-mean prior, the partial-hypothesis tracker,
// and the delivery of partials and of exactly one final (with its final_detail).
// Threading: the caller's side (feed/finish/cancel) touches only the fields under `mutex_` and
// the atomics; the worker side runs one turn at a time (a stream is in at most one queue:
// `queued_` says so), and its worker-only fields pass from one worker to the next through the
// core's mutex. Callbacks run on a worker, under `callback_mutex_`.
// Ownership: shared by the caller's stream_handle, the core's queues and the worker running it;
// it lives until the last of them lets go. Cancellation: cancel() (or destroying the handle)
// stops every later callback — waiting for one running on another thread — and lets a worker
// return the decoder to the pool promptly. Units: samples at 16 kHz.
#pragma once

#include <sphinxbase/cmn.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/engines/pocketsphinx/recognizer_core.hpp"

namespace parley::pocketsphinx::detail {

class stream_state : public std::enable_shared_from_this<stream_state> {
 public:
  stream_state(std::shared_ptr<pocketsphinx_recognizer::core> c, engine::recognizer_events events,
               final_detail_fn on_detail);

  // --- caller side -----------------------------------------------------------------------
  void feed(std::span<const std::int16_t> samples);
  void finish();
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  /// Audio fed and not decoded yet, in samples (takes the stream's mutex).
  std::size_t pending_samples();
  bool finish_requested();

  // --- worker side -----------------------------------------------------------------------
  void set_decoder(decoder* d) { decoder_ = d; }

  /// One turn on a worker: decode what is buffered (at most a slice), emit partials, finish.
  void work();
  /// The recognizer is gone: no more decoding; answer a pending finish().
  void on_shutdown();

 private:
  bool nothing_to_decode();
  void start_utterance();
  /// cmn_mode::adaptive: move the shared prior towards this utterance's mean (before ps_end_utt).
  void adapt_shared_prior();
  /// Decodes `samples` in 20 ms steps (the same steps however the audio arrived, so results do
  /// not depend on pacing), updating the running cepstral mean after each.
  void decode(std::span<const std::int16_t> samples);
  void decode_steps(std::span<const std::int16_t> samples);
  /// pocketsphinx_config::cmn_restart_ms: the utterance again from the mean of its first part.
  void restart_from_own_mean();
  void maybe_partial();
  void finalize();
  void abandon();
  void give_back_decoder();
  void close();
  void deliver_partial(std::string text, double stability);
  void deliver_final(result<engine::recognized> final);

  std::shared_ptr<pocketsphinx_recognizer::core> core_;

  // Caller and worker, under mutex_.
  std::mutex mutex_;
  std::vector<std::int16_t> pending_;
  std::size_t pending_off_ = 0;
  bool finish_requested_ = false;
  time_point t_finish_{};                   // when finish() was called
  std::size_t backlog_at_finish_ = 0;       // samples not yet decoded then
  time_point t_first_turn_after_finish_{};  // a worker's first turn after finish() (worker-set)
  bool queued_ = false;  // in the ready queue, the waiting list, or running on a worker
  bool closed_ = false;  // final delivered or abandoned: no more work
  std::atomic<bool> cancelled_{false};

  // Worker only.
  decoder* decoder_ = nullptr;
  bool utterance_started_ = false;
  bool failed_ = false;
  cmn_t* cmn_ = nullptr;  // the decoder's CMN state, when updated while streaming
  std::vector<float> prior_;  // the prior mean this utterance started from
  int prior_weight_ = 0;
  bool cmn_window_shifted_ = false;
  std::vector<std::int16_t> head_;  // the audio decoded before the CMN restart (cmn_restart_ms)
  bool restart_done_ = false;
  std::size_t decoded_samples_ = 0;
  std::size_t next_partial_at_ = 0;
  std::vector<std::int16_t> piece_;
  partial_tracker tracker_;
  std::string last_partial_;
  std::size_t last_stable_words_ = 0;

  // Callbacks.
  std::mutex callback_mutex_;
  engine::recognizer_events events_;
  final_detail_fn on_detail_;
  const std::uint64_t channel_ = events_.channel;  // kept: events_ is cleared once final
  final_detail detail_;  // written by the worker before deliver_final, read inside it
  bool final_delivered_ = false;
  std::atomic<std::thread::id> callback_thread_{};};

// The caller's handle: destroying it cancels the utterance; the state lives on until the worker
// lets go of it.
class stream_handle final : public engine::recognizer_stream {
 public:
  explicit stream_handle(std::shared_ptr<stream_state> s) : state_(std::move(s)) {}
  ~stream_handle() override { state_->cancel(); }
  void feed(std::span<const std::int16_t> samples) override { state_->feed(samples); }
  void finish() override { state_->finish(); }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<stream_state> state_;
};

}  // namespace parley::pocketsphinx::detail
