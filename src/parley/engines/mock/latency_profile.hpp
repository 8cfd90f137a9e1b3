// engines/mock/latency_profile — latency shapes of real providers, for mock engines.
//
// Role: a `latency_dist` is a log-normal fitted to a published median and p99, plus a rare
// "spike" (probability, extra median delay), exactly the shape of ../shared/profiles/providers.json.
// `llm_profile` adds a token rate. The built-in table mirrors that file's "llm" section so the
// mocks work without it; load_llm_profiles() reads the file (or one of the same shape) when present.
// Threading: value types; sample() takes the caller's RNG (one per mock stream).
// Units: milliseconds, tokens per second.
#pragma once

#include <map>
#include <random>
#include <string>

#include "parley/core/error.hpp"

namespace parley::mock {

struct spike {
  double p = 0.0;         // probability that a request gets the extra delay
  double extra_ms = 0.0;  // median of the extra delay (log-normal, modest spread)
};

struct latency_dist {
  double p50_ms = 0.0;
  double p99_ms = 0.0;    // <= p50_ms means "no spread": always p50_ms
  struct spike spike;

  static latency_dist fixed(double ms) { return latency_dist{ms, ms, {}}; }
  bool is_zero() const { return p50_ms <= 0.0 && spike.p <= 0.0; }
  /// Draws one delay in milliseconds (>= 0).
  double sample(std::mt19937_64& rng) const;
};

struct llm_profile {
  std::string name;
  latency_dist ttft;
  double tokens_per_s = 0.0;  // <= 0: every token at once
  double jitter = 0.2;        // relative spread of each inter-token gap (uniform ±jitter)

  /// A profile with no latency at all (`--llm-profile zero`).
  static llm_profile zero();
};

struct tts_profile {
  std::string name;
  latency_dist ttfb;             // request → first audio chunk
  double realtime_factor = 0.0;  // synthesis time / audio time after the first chunk
};

/// Built-in profiles: "zero" plus the providers.json "llm" table.
const std::map<std::string, llm_profile>& builtin_llm_profiles();

/// Looks a profile up by name in `profiles` (or the built-ins); not_found lists the known names.
result<llm_profile> find_llm_profile(const std::string& name,
                                     const std::map<std::string, llm_profile>& profiles = builtin_llm_profiles());

/// Built-in TTS profiles: "zero" plus the providers.json "tts_first_audio" table.
const std::map<std::string, tts_profile>& builtin_tts_profiles();
result<tts_profile> find_tts_profile(const std::string& name);

/// Parses the "llm" section of a providers.json-shaped document.
result<std::map<std::string, llm_profile>> parse_llm_profiles(const std::string& json_text);

}  // namespace parley::mock
