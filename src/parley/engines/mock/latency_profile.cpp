#include "parley/engines/mock/latency_profile.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace parley::mock {
namespace {

constexpr double k_z99 = 2.3263478740408408;  // standard normal quantile at 0.99
constexpr double k_spike_sigma = 0.25;        // spread of a spike's extra delay

double draw_lognormal(std::mt19937_64& rng, double median, double sigma) {
  if (median <= 0.0) return 0.0;
  if (sigma <= 0.0) return median;
  std::lognormal_distribution<double> dist(std::log(median), sigma);
  return dist(rng);
}

}  // namespace

double latency_dist::sample(std::mt19937_64& rng) const {
  const double sigma = (p99_ms > p50_ms && p50_ms > 0.0) ? std::log(p99_ms / p50_ms) / k_z99 : 0.0;
  double ms = draw_lognormal(rng, p50_ms, sigma);
  if (spike.p > 0.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng) < spike.p) {
    ms += draw_lognormal(rng, spike.extra_ms, k_spike_sigma);
  }
  return std::max(0.0, ms);
}

llm_profile llm_profile::zero() { return llm_profile{"zero", latency_dist::fixed(0.0), 0.0, 0.0}; }

const std::map<std::string, llm_profile>& builtin_llm_profiles() {
  // Mirrors ../shared/profiles/providers.json ("llm"): log-normal TTFT fitted to public p50/p99.
  static const std::map<std::string, llm_profile> profiles = [] {
    std::map<std::string, llm_profile> m;
    auto add = [&m](const char* name, double p50, double p99, double tps, double spike_p, double spike_ms) {
      m[name] = llm_profile{name, latency_dist{p50, p99, spike{spike_p, spike_ms}}, tps, 0.2};
    };
    add("groq-llama-70b", 220, 350, 250, 0.02, 900);
    add("cloud-fast-tier", 300, 900, 90, 0.05, 1500);
    add("cloud-balanced", 500, 1500, 70, 0.05, 2500);
    add("cloud-premium", 850, 2500, 50, 0.08, 3000);
    add("self-hosted-7b", 110, 180, 120, 0.01, 400);
    m["zero"] = llm_profile::zero();
    return m;
  }();
  return profiles;
}

const std::map<std::string, tts_profile>& builtin_tts_profiles() {
  // Mirrors ../shared/profiles/providers.json ("tts_first_audio").
  static const std::map<std::string, tts_profile> profiles = {
      {"cartesia-sonic-3", {"cartesia-sonic-3", {188, 450, {}}, 0.05}},
      {"elevenlabs-flash-v2.5", {"elevenlabs-flash-v2.5", {288, 600, {}}, 0.08}},
      {"deepgram-aura-2", {"deepgram-aura-2", {313, 650, {}}, 0.08}},
      {"piper-cpu", {"piper-cpu", {120, 250, {}}, 0.2}},
      {"zero", {"zero", latency_dist::fixed(0.0), 0.0}},
  };
  return profiles;
}

namespace {
template <class Profile>
result<Profile> find_profile(const char* kind, const std::string& name, const std::map<std::string, Profile>& profiles) {
  if (auto it = profiles.find(name); it != profiles.end()) return it->second;
  std::string known;
  for (const auto& [key, _] : profiles) known += (known.empty() ? "" : ", ") + key;
  return make_error(errc::not_found, std::string("unknown ") + kind + " profile '" + name + "' (known: " + known + ")");
}
}  // namespace

result<tts_profile> find_tts_profile(const std::string& name) {
  return find_profile("TTS", name, builtin_tts_profiles());
}

result<llm_profile> find_llm_profile(const std::string& name, const std::map<std::string, llm_profile>& profiles) {
  return find_profile("LLM", name, profiles);
}

namespace {
// `obj[key]` as a number: `fallback` when absent, an error (not an exception) when it is there but
// not a number.
result<double> number_field(const nlohmann::json& obj, const char* key, double fallback, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (!it->is_number()) return make_error(errc::invalid_argument, where + ": \"" + key + "\" must be a number");
  return it->get<double>();
}
}  // namespace

result<std::map<std::string, llm_profile>> parse_llm_profiles(const std::string& json_text) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(errc::invalid_argument, "profiles file is not valid JSON");
  if (!doc.contains("llm") || !doc["llm"].is_object()) {
    return make_error(errc::invalid_argument, "profiles file has no \"llm\" object");
  }
  std::map<std::string, llm_profile> out{{"zero", llm_profile::zero()}};
  for (const auto& [name, p] : doc["llm"].items()) {
    const std::string where = "profile '" + name + "'";
    if (!p.is_object()) return make_error(errc::invalid_argument, where + " is not an object");
    const auto ttft = p.value("ttft_ms", nlohmann::json::object());
    if (!ttft.is_object() || !ttft.contains("p50") || !ttft["p50"].is_number()) {
      return make_error(errc::invalid_argument, where + " lacks ttft_ms.p50");
    }
    llm_profile prof;
    prof.name = name;
    prof.ttft.p50_ms = ttft["p50"].get<double>();
    auto p99 = number_field(ttft, "p99", prof.ttft.p50_ms, where + ", ttft_ms");
    auto tokens_per_s = number_field(p, "tokens_per_s", 0.0, where);
    if (!p99) return p99.error();
    if (!tokens_per_s) return tokens_per_s.error();
    prof.ttft.p99_ms = *p99;
    prof.tokens_per_s = *tokens_per_s;
    if (p.contains("spike") && p["spike"].is_object()) {
      auto spike_p = number_field(p["spike"], "p", 0.0, where + ", spike");
      auto extra_ms = number_field(p["spike"], "extra_ms", 0.0, where + ", spike");
      if (!spike_p) return spike_p.error();
      if (!extra_ms) return extra_ms.error();
      prof.ttft.spike.p = *spike_p;
      prof.ttft.spike.extra_ms = *extra_ms;
    }
    out[name] = prof;
  }
  return out;
}

}  // namespace parley::mock
