#include "parley/obs/timeline.hpp"

namespace parley::obs {

static_assert(
    [] {
      for (std::size_t i = 0; i < n_metrics; ++i) {
        if (all_metrics[i].id != static_cast<metric>(i)) return false;
      }
      return true;
    }(),
    "all_metrics must list the metrics in enum order");

std::string_view to_string(stamp s) {
  static constexpr std::array<std::string_view, n_stamps> names = {
      "t_speech_end",      "t_turn_end",      "t_asr_final",   "t_llm_request",
      "t_llm_first_token", "t_first_segment", "t_tts_request", "t_tts_first_audio",
      "t_first_audio_out", "t_reply_done",    "t_filler_start", "t_filler_end"};
  return names[static_cast<std::size_t>(s)];
}

std::string_view to_string(metric m) { return info(m).name; }

std::optional<double> turn_timeline::reply_audio_ms() const {
  if (output_rate_hz <= 0) return std::nullopt;
  return samples_to_ms(n_output_samples, output_rate_hz);
}

bool turn_timeline::has_note(std::string_view name, std::optional<std::variant<double, std::string>> value) const {
  for (const auto& n : notes) {
    if (n.name == name && (!value || n.value == *value)) return true;
  }
  return false;
}

const std::string* turn_timeline::note_text(std::string_view name) const {
  for (const auto& n : notes) {
    if (const auto* v = std::get_if<std::string>(&n.value); v && n.name == name) return v;
  }
  return nullptr;
}

std::optional<double> turn_timeline::note_number(std::string_view name) const {
  for (const auto& n : notes) {
    if (const auto* v = std::get_if<double>(&n.value); v && n.name == name) return *v;
  }
  return std::nullopt;
}

bool turn_timeline::mark(stamp s, time_point t) {
  auto& slot = stamps_[index(s)];
  if (slot) return false;
  slot = t;
  return true;
}

std::optional<stamp> turn_timeline::origin_stamp() const {
  if (has(stamp::speech_end)) return stamp::speech_end;
  std::optional<stamp> earliest;
  for (const stamp s : all_stamps) {
    if (has(s) && (!earliest || *at(s) < *at(*earliest))) earliest = s;
  }
  return earliest;
}

std::optional<time_point> turn_timeline::origin() const {
  if (const auto s = origin_stamp()) return at(*s);
  return std::nullopt;
}

std::optional<duration> turn_timeline::span(stamp from, stamp to) const {
  const auto& a = stamps_[index(from)];
  const auto& b = stamps_[index(to)];
  if (!a || !b) return std::nullopt;
  return *b - *a;
}

std::optional<double> turn_timeline::span_ms(stamp from, stamp to) const {
  if (const auto d = span(from, to)) return to_ms(*d);
  return std::nullopt;
}

std::optional<duration> turn_timeline::overhead() const {
  // ttfa − endpoint_delay − asr_final telescopes to t_first_audio_out − t_asr_final, but all four
  // stamps are required so that overhead exists exactly when those three metrics do.
  if (!has(stamp::speech_end) || !has(stamp::turn_end)) return std::nullopt;
  auto total = span(stamp::asr_final, stamp::first_audio_out);
  if (!total) return std::nullopt;
  // A provider stage is either skipped (neither stamp: counts 0) or measured (both stamps). Only
  // its part after t_asr_final is inside the span: a preemptive reply's provider work may have
  // begun (or ended) before the final transcript.
  for (const metric m : {metric::llm_ttfs, metric::tts_ttfb}) {
    const auto& stage = info(m);
    if (!has(stage.from) && !has(stage.to)) continue;
    if (!span(stage.from, stage.to)) return std::nullopt;
    const time_point from = std::max(*at(stage.from), *at(stamp::asr_final));
    if (*at(stage.to) > from) *total -= *at(stage.to) - from;
  }
  return total;
}

std::optional<double> turn_timeline::value(metric m) const {
  const auto d = m == metric::overhead ? overhead() : span(info(m).from, info(m).to);
  if (!d) return std::nullopt;
  return to_ms(*d);
}

}  // namespace parley::obs
