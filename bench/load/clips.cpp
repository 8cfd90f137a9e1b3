// The load client's target URL and the audio its sessions speak (see load_run.hpp).
#include <map>
#include <string_view>

#include "bench/load/load_run.hpp"
#include "bench/load/room_tone.hpp"
#include "parley/apps/manifest.hpp"
#include "parley/audio/resampler.hpp"
#include "parley/audio/wav.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/net/media_stream.hpp"

namespace parley::load {

result<target_url> parse_target(const std::string& url) {
  if (url.rfind("wss://", 0) == 0) {
    return make_error(errc::invalid_argument, "--target: wss:// is not supported by the load client yet (use ws://)");
  }
  constexpr std::string_view scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) return make_error(errc::invalid_argument, "--target must look like ws://HOST:PORT/ws");
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  target_url t;
  t.path = slash == std::string::npos ? "/ws" : rest.substr(slash);
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string::npos) return make_error(errc::invalid_argument, "--target: bad IPv6 address");
    t.host = authority.substr(1, close - 1);
    t.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "80";
  } else {
    const auto colon = authority.rfind(':');
    t.host = authority.substr(0, colon);
    t.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (t.host.empty() || t.port.empty()) return make_error(errc::invalid_argument, "--target must look like ws://HOST:PORT/ws");
  return t;
}

clip synthetic_clip() {
  std::vector<std::int16_t> pcm(static_cast<std::size_t>(ms_to_samples(500.0)), 0);
  const auto voice = mock::speechlike_pcm(static_cast<std::size_t>(ms_to_samples(1200.0)), k_input_rate_hz, 800);
  pcm.insert(pcm.end(), voice.begin(), voice.end());
  pcm.insert(pcm.end(), static_cast<std::size_t>(ms_to_samples(1000.0)), 0);
  const auto n = static_cast<media_time>(pcm.size());
  return {"synthetic", std::make_shared<const std::vector<std::int16_t>>(std::move(pcm)), ms_to_samples(1700.0),
          room_samples_before(500.0, n)};
}

result<std::vector<clip>> manifest_clips(const std::string& path, int limit) {
  auto entries = app::read_manifest(path);
  if (!entries) return entries.error();
  if (limit > 0 && static_cast<std::size_t>(limit) < entries->size()) entries->resize(static_cast<std::size_t>(limit));
  std::vector<clip> clips;
  std::map<std::string, std::shared_ptr<const std::vector<std::int16_t>>> loaded;
  for (const auto& e : *entries) {
    auto& pcm = loaded[e.file.string()];
    if (!pcm) {
      auto audio = audio::read_audio_file(e.file.string());
      if (!audio) return audio.error();
      pcm = std::make_shared<const std::vector<std::int16_t>>(std::move(audio->samples));
    }
    clips.push_back({e.id, pcm, ms_to_samples(e.speech_end_ms),
                     room_samples_before(e.speech_start_ms, static_cast<media_time>(pcm->size()))});
  }
  return clips;
}

result<void> add_telephone_audio(std::vector<clip>& clips) {
  std::map<const std::vector<std::int16_t>*, std::shared_ptr<const std::vector<std::uint8_t>>> done;
  for (auto& c : clips) {
    auto& mulaw = done[c.pcm.get()];
    if (!mulaw) {
      auto down = audio::resampler::create(k_input_rate_hz, net::k_telephone_rate_hz);
      if (!down) return down.error();
      auto pcm_8k = down->process(*c.pcm);
      const auto tail = down->flush();
      pcm_8k.insert(pcm_8k.end(), tail.begin(), tail.end());
      mulaw = std::make_shared<const std::vector<std::uint8_t>>(net::mulaw_encode(pcm_8k));
    }
    c.mulaw = mulaw;
  }
  return {};
}

}  // namespace parley::load
