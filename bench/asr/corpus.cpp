// parley_asr_bench's corpus: the manifest's files cut at the end of speech, and the front-end
// cleaning of --denoise (see asr_bench.hpp).
#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "bench/asr/asr_bench.hpp"
#include "parley/audio/frontend.hpp"
#include "parley/audio/wav.hpp"
#include "parley/core/clock.hpp"

namespace parley::asr_bench {

namespace fs = std::filesystem;

std::string machine_info() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " hardware threads";
}

std::vector<std::string> read_phrases(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read phrases file " + path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    out.push_back(line.substr(first));
  }
  return out;
}

std::vector<utterance> read_corpus(const std::string& manifest, double tail_ms) {
  std::ifstream in(manifest);
  if (!in) throw std::runtime_error("cannot read manifest " + manifest);
  const fs::path base = fs::path(manifest).parent_path();
  std::vector<utterance> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto j = json::parse(line);
    utterance u;
    u.id = j.value("id", "");
    u.file = (base / j.at("file").get<std::string>()).string();
    u.text = j.at("text").get<std::string>();
    u.category = j.value("category", "");
    u.voice = j.value("voice", "");
    u.condition = j.value("condition", "");
    u.speech_start_ms = j.value("speech_start_ms", 0.0);
    u.speech_end_ms = j.at("speech_end_ms").get<double>();
    auto clip = parley::audio::read_audio_file(u.file);
    if (!clip) throw std::runtime_error(clip.error().describe());
    const auto keep = static_cast<std::size_t>(parley::ms_to_samples(u.speech_end_ms + tail_ms));
    u.samples = std::move(clip->samples);
    if (u.samples.size() > keep) u.samples.resize(keep);
    out.push_back(std::move(u));
  }
  return out;
}


const std::vector<std::string> k_denoise_names = {"none", "hp", "low", "moderate", "high", "very_high", "auto"};

namespace {

/// "auto": each file through a session's default front-end (noise suppression high, level gate) in
/// 20 ms frames; at the point where the endpointer would start the turn (3 voiced frames in a
/// row) the front-end's snr_db() decides, as the session does, whether the recognizer hears the
/// cleaned audio (SNR below `auto_snr_db`) or the raw input. Prints how many files chose each.
std::vector<utterance> auto_denoised(const std::vector<utterance>& corpus, double auto_snr_db) {
  std::vector<utterance> out = corpus;
  std::map<std::string, std::pair<int, int>> chosen;  // condition → (cleaned, raw)
  for (auto& u : out) {
    auto fe = parley::audio::frontend::create({});
    if (!fe) throw std::runtime_error(fe.error().describe());
    std::vector<std::int16_t> cleaned = u.samples;
    constexpr std::size_t frame = 320;
    int run = 0;
    std::optional<bool> use_cleaned;
    for (std::size_t k = 0; k < cleaned.size(); k += frame) {
      std::array<std::int16_t, frame> buf{};
      const std::size_t n = std::min(frame, cleaned.size() - k);
      std::copy_n(cleaned.begin() + static_cast<std::ptrdiff_t>(k), n, buf.begin());
      auto r = fe->process(buf);
      if (!r) throw std::runtime_error(r.error().describe());
      std::copy_n(buf.begin(), n, cleaned.begin() + static_cast<std::ptrdiff_t>(k));
      run = *r >= 0.5 ? run + 1 : 0;
      if (!use_cleaned && run >= 3) use_cleaned = fe->snr_db() < auto_snr_db;
    }
    auto& c = chosen[u.condition];
    // As a session would be: one channel per voice and condition (a speaker in a room), raw and
    // cleaned audio apart.
    u.channel = 2 * (std::hash<std::string>{}(u.voice + "/" + u.condition) >> 1) + (use_cleaned.value_or(false) ? 1 : 0);
    if (use_cleaned.value_or(false)) {
      u.samples = std::move(cleaned);
      ++c.first;
    } else {
      ++c.second;
    }
  }
  std::cerr << "auto: cleaned audio below " << auto_snr_db << " dB SNR:";
  for (const auto& [condition, n] : chosen) std::cerr << " " << condition << " " << n.first << "/" << (n.first + n.second);
  std::cerr << "\n";
  return out;
}


}  // namespace

std::vector<utterance> denoised(const std::vector<utterance>& corpus, const std::string& name, double auto_snr_db) {
  if (name == "none") return corpus;
  if (name == "auto") return auto_denoised(corpus, auto_snr_db);
  parley::audio::frontend_config cfg;
  cfg.high_pass = true;
  cfg.gain_control = false;
  cfg.noise_suppression = name != "hp";
  if (cfg.noise_suppression) {
    const auto it = std::find(k_denoise_names.begin(), k_denoise_names.end(), name);
    if (it == k_denoise_names.end()) throw std::runtime_error("unknown --denoise setting " + name);
    cfg.noise_suppression_level = static_cast<int>(it - k_denoise_names.begin()) - 2;  // low = 0
  }
  std::vector<utterance> out = corpus;
  for (auto& u : out) {
    auto fe = parley::audio::frontend::create(cfg);
    if (!fe) throw std::runtime_error(fe.error().describe());
    constexpr std::size_t frame = 320;
    for (std::size_t k = 0; k < u.samples.size(); k += frame) {
      std::array<std::int16_t, frame> buf{};  // the last partial frame is zero-padded
      const std::size_t n = std::min(frame, u.samples.size() - k);
      std::copy_n(u.samples.begin() + static_cast<std::ptrdiff_t>(k), n, buf.begin());
      if (auto r = fe->process(buf); !r) throw std::runtime_error(r.error().describe());
      std::copy_n(buf.begin(), n, u.samples.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  return out;
}

}  // namespace parley::asr_bench
