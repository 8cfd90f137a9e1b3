#include "parley/obs/json.hpp"

#include <chrono>

namespace parley::obs {

namespace {

nlohmann::json optional_ms(std::optional<double> ms) {
  return ms ? nlohmann::json(*ms) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const turn_timeline& t) {
  nlohmann::json j;
  j["session"] = t.session.value;
  j["turn"] = t.turn.value;
  j["generation"] = t.generation.value;
  j["mode"] = t.mode;
  j["route"] = t.route;
  j["flags"] = {{"cache_hit", t.flags.cache_hit},
                {"fallback", t.flags.fallback},
                {"hedge", t.flags.hedge},
                {"filler", t.flags.filler},
                {"interrupted", t.flags.interrupted},
                {"failed", t.flags.failed}};
  j["transcript"] = t.transcript;
  j["reply"] = t.reply;
  j["n_segments"] = t.n_segments;
  j["n_output_samples"] = t.n_output_samples;
  j["output_rate_hz"] = t.output_rate_hz;
  j["reply_audio_ms"] = optional_ms(t.reply_audio_ms());

  // Any stamp present implies an origin.
  const auto origin = t.origin_stamp();
  const auto t0 = t.origin();
  j["origin"] = origin ? nlohmann::json(to_string(*origin)) : nlohmann::json(nullptr);
  j["origin_steady_ns"] =
      t0 ? nlohmann::json(
               std::chrono::duration_cast<std::chrono::nanoseconds>(t0->time_since_epoch()).count())
         : nlohmann::json(nullptr);
  auto& stamps = j["stamps_ms"] = nlohmann::json::object();
  for (const stamp s : all_stamps) {
    const auto at = t.at(s);
    stamps[std::string(to_string(s))] =
        optional_ms(at ? std::optional(to_ms(*at - *t0)) : std::nullopt);
  }
  auto& metrics = j["metrics_ms"] = nlohmann::json::object();
  for (const auto& m : all_metrics) metrics[std::string(m.name)] = optional_ms(t.value(m.id));

  auto& notes = j["notes"] = nlohmann::json::array();
  for (const auto& n : t.notes) {
    notes.push_back(
        {{"name", n.name},
         {"value", std::visit([](const auto& v) { return nlohmann::json(v); }, n.value)}});
  }
  return j;
}

nlohmann::json to_json(const histogram_summary& s) {
  return {{"n", s.n},     {"p50", s.p50}, {"p90", s.p90},
          {"p95", s.p95}, {"p99", s.p99}, {"mean", s.mean}};
}

nlohmann::json to_json(const metric_set& metrics) {
  auto j = nlohmann::json::object();
  for (const auto& [name, summary] : metrics.summaries()) j[name] = to_json(summary);
  return j;
}

}  // namespace parley::obs
