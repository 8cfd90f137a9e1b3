#include "parley/agent/clip_transcriber.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <memory>
#include <vector>

#include "parley/agent/endpointer.hpp"
#include "parley/audio/framer.hpp"

namespace parley::agent {
namespace {

/// Where the recognizer's final transcript lands (from an engine thread).
struct final_slot {
  std::mutex mutex;
  std::condition_variable ready;
  std::optional<result<engine::recognized>> value;
};

}  // namespace

result<clip_transcription> transcribe_clip(engine::recognizer& asr, std::span<const std::int16_t> samples,
                                           const clip_transcriber_options& options, std::stop_token stop) {
  auto frontend = audio::frontend::create(options.frontend);
  if (!frontend) return frontend.error();
  // Shared with the callback: after a timeout the recognizer may still answer into it.
  auto final_text = std::make_shared<final_slot>();
  auto stream = asr.open({.on_partial = {}, .on_final = [final_text](result<engine::recognized> r) {
                            {
                              std::lock_guard lock(final_text->mutex);
                              final_text->value.emplace(std::move(r));
                            }
                            final_text->ready.notify_all();
                          }});
  if (!stream) return stream.error();

  clip_transcription out;
  out.duration_s = static_cast<double>(samples.size()) / k_input_rate_hz;
  endpointer onset;
  std::optional<bool> hears_cleaned;
  std::vector<std::int16_t> held_raw, held_cleaned;
  media_time t = 0;
  audio::framer framer;
  std::vector<std::int16_t> cleaned(audio::k_frame_samples);
  const auto n_preroll = (static_cast<std::size_t>(options.preroll_ms) / audio::k_frame_ms + 1) * audio::k_frame_samples;
  framer.push(samples, [&](std::span<const std::int16_t> raw) {
    if (stop.stop_requested()) return;
    std::copy(raw.begin(), raw.end(), cleaned.begin());
    const auto p_voiced = frontend->process(cleaned);
    const bool voiced = p_voiced && *p_voiced >= 0.5;
    const auto n = static_cast<media_time>(raw.size());
    if (!hears_cleaned) {
      held_raw.insert(held_raw.end(), raw.begin(), raw.end());
      held_cleaned.insert(held_cleaned.end(), cleaned.begin(), cleaned.end());
      if (onset.on_frame(t, n, voiced).what == endpoint_decision::kind::speech_started) {
        out.speech_found = true;
        out.snr_db = frontend->snr_db();
        hears_cleaned = options.denoised || *out.snr_db < options.denoise_below_snr_db;
        const auto& held = *hears_cleaned ? held_cleaned : held_raw;
        (*stream)->feed(std::span<const std::int16_t>(held).last(std::min(held.size(), n_preroll)));
      }
    } else {
      (*stream)->feed(*hears_cleaned ? std::span<const std::int16_t>(cleaned) : raw);
    }
    t += n;
  });
  if (stop.stop_requested()) {
    (*stream)->cancel();
    return make_error(errc::cancelled, "transcription cancelled");
  }
  if (!hears_cleaned) (*stream)->feed(options.denoised ? held_cleaned : held_raw);  // no onset: all of it
  out.heard_denoised = hears_cleaned.value_or(options.denoised);
  (*stream)->finish();

  // Declared before the lock: it may run at once, and is destroyed after the lock is released.
  const std::stop_callback wake(stop, [&final_text] {
    std::lock_guard inner(final_text->mutex);
    final_text->ready.notify_all();
  });
  std::unique_lock lock(final_text->mutex);
  const bool answered = final_text->ready.wait_for(lock, options.wait, [&] {
    return final_text->value.has_value() || stop.stop_requested();
  }) && final_text->value.has_value();
  if (!answered) {
    lock.unlock();
    (*stream)->cancel();
    if (stop.stop_requested()) return make_error(errc::cancelled, "transcription cancelled");
    return make_error(errc::timeout, "the recognizer gave no transcript within " +
                                         std::to_string(options.wait.count() / 1000) + " s");
  }
  auto heard = std::move(*final_text->value);
  if (!heard) return heard.error();
  out.heard = std::move(*heard);
  return out;
}

}  // namespace parley::agent
