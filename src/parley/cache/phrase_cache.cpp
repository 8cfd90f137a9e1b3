#include "parley/cache/phrase_cache.hpp"

#include <boost/asio/post.hpp>
#include <cctype>
#include <future>
#include <mutex>

namespace parley::cache {
namespace {

std::string key_of(std::string_view text) {
  std::string key;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !key.empty();
      continue;
    }
    if (space) key += ' ';
    space = false;
    key += c;
  }
  return key;
}

}  // namespace

std::vector<std::string> default_fixed_phrases() {
  return {"Hello! How can I help?", "One moment.", "Let me check.", "Done.", "Okay.", "Sure.",
          "Sorry, I didn't catch that.", "Goodbye!"};
}

phrase_cache_synthesizer::phrase_cache_synthesizer(std::shared_ptr<engine::synthesizer> inner,
                                                   boost::asio::any_io_executor executor, double chunk_ms)
    : inner_(std::move(inner)),
      executor_(std::move(executor)),
      chunk_samples_(std::max<std::size_t>(1, static_cast<std::size_t>(chunk_ms * inner_->caps().sample_rate_hz / 1000.0))) {}

status phrase_cache_synthesizer::prewarm(const std::vector<std::string>& phrases, std::chrono::milliseconds timeout) {
  for (const auto& phrase : phrases) {
    auto pcm = std::make_shared<std::vector<std::int16_t>>();
    std::mutex mutex;
    std::promise<status> done;
    inner_->synthesize(phrase,
                       {.on_audio =
                            [&](std::span<const std::int16_t> chunk) {
                              std::lock_guard lock(mutex);
                              pcm->insert(pcm->end(), chunk.begin(), chunk.end());
                            },
                        .on_done = [&](status s) { done.set_value(std::move(s)); }},
                       std::stop_token{});
    auto result = done.get_future();
    if (result.wait_for(timeout) != std::future_status::ready) {
      return make_error(errc::timeout, "phrase cache: synthesizing \"" + phrase + "\" took too long");
    }
    if (auto s = result.get(); !s) return s;
    if (pcm->empty()) return make_error(errc::engine_failure, "phrase cache: no audio for \"" + phrase + "\"");
    phrases_[key_of(phrase)] = std::move(pcm);
  }
  return {};
}

bool phrase_cache_synthesizer::contains(const std::string& text) const { return phrases_.contains(key_of(text)); }

void phrase_cache_synthesizer::synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) {
  const auto it = phrases_.find(key_of(text));
  if (it == phrases_.end()) {
    inner_->synthesize(std::move(text), std::move(events), std::move(stop));
    return;
  }
  n_hits_.fetch_add(1, std::memory_order_relaxed);
  boost::asio::post(executor_, [pcm = it->second, chunk = chunk_samples_, events = std::move(events), stop = std::move(stop)] {
    const std::span<const std::int16_t> all(*pcm);
    for (std::size_t at = 0; at < all.size(); at += chunk) {
      if (stop.stop_requested()) {
        if (events.on_done) events.on_done(make_error(errc::cancelled, "synthesis cancelled"));
        return;
      }
      if (events.on_audio) events.on_audio(all.subspan(at, std::min(chunk, all.size() - at)));
    }
    if (events.on_done) events.on_done({});
  });
}

}  // namespace parley::cache
