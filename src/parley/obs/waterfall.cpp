#include "parley/obs/waterfall.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>
#include <vector>

namespace parley::obs {

namespace {

constexpr int k_label_cols = 16;
constexpr int k_value_cols = 10;
constexpr int k_min_width = 40;

constexpr std::string_view k_reset = "\x1b[0m";
constexpr std::string_view k_bold = "\x1b[1m";
constexpr std::string_view k_dim = "\x1b[2m";

struct row_spec {
  std::string_view label;
  std::array<stamp, 3> from;  // the first of these that is stamped starts the row
  std::size_t n_from;
  stamp to;
  std::string_view color;
  bool optional = false;  // drawn only when stamped (off the critical path)
};

constexpr std::array<row_spec, 6> k_rows = {{
    {"endpoint", {stamp::speech_end}, 1, stamp::turn_end, "\x1b[33m"},
    {"asr", {stamp::turn_end}, 1, stamp::asr_final, "\x1b[36m"},
    {"llm→first seg", {stamp::llm_request}, 1, stamp::first_segment, "\x1b[35m"},
    {"tts first audio", {stamp::tts_request}, 1, stamp::tts_first_audio, "\x1b[32m"},
    // Whatever produced the audio last (TTS, else a cached segment, else the transcript's route).
    {"out",
     {stamp::tts_first_audio, stamp::first_segment, stamp::asr_final},
     3,
     stamp::first_audio_out,
     "\x1b[34m"},
    // The filler phrase played while waiting (light shade: heard, but not the reply).
    {"filler", {stamp::filler_start}, 1, stamp::filler_end, "\x1b[37m", true},
}};

/// Terminal columns taken by UTF-8 text without escapes: one per code point.
int columns(std::string_view s) {
  return static_cast<int>(std::ranges::count_if(s, [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string pad_right(std::string_view s, int cols) {
  return std::string(s) + repeat(" ", cols - columns(s));
}
std::string pad_left(std::string_view s, int cols) {
  return repeat(" ", cols - columns(s)) + std::string(s);
}

/// Cuts `s` to `cols` code points, ending in "…" when cut.
std::string fit(std::string_view s, int cols) {
  if (columns(s) <= cols) return std::string(s);
  std::string out;
  int n = 0;
  for (const char c : s) {
    if ((c & 0xC0) != 0x80 && ++n > cols - 1) break;
    out += c;
  }
  return out + "…";
}

/// "0.30 ms", "40.0 ms", "721 ms", "12.5 s": about three significant digits.
std::string format_ms(double ms) {
  char buf[32];
  const double a = std::fabs(ms);
  if (a >= 10000) {
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
  } else {
    std::snprintf(buf, sizeof buf, a >= 100 ? "%.0f ms" : a >= 1 ? "%.1f ms" : "%.2f ms", ms);
  }
  return buf;
}

std::string format_ms(std::optional<double> ms) { return ms ? format_ms(*ms) : "—"; }

class painter {
 public:
  explicit painter(bool color) : color_(color) {}
  void add(std::string_view text, std::string_view style = {}) {
    if (text.empty()) return;
    if (color_ && !style.empty()) {
      out_.append(style).append(text).append(k_reset);
    } else {
      out_.append(text);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  bool color_;
  std::string out_;
};

std::string header(const turn_timeline& t) {
  std::string line = "turn " + (t.turn ? t.turn.str() : std::string("—"));
  const auto part = [&](std::string_view s) { line.append(" · ").append(s); };
  if (!t.mode.empty()) part(t.mode);
  if (!t.route.empty()) part(t.route);
  if (t.flags.cache_hit) part("cache hit");
  if (t.flags.fallback) part("fallback");
  if (t.flags.hedge) part("hedge");
  if (t.flags.filler) part("filler");
  if (t.flags.interrupted) part("interrupted");
  if (t.flags.failed) part("failed");
  return line;
}

struct interval {
  double from_ms;  // relative to the axis origin
  double to_ms;
};

std::optional<interval> row_interval(const turn_timeline& t, const row_spec& row, time_point t0) {
  const auto to = t.at(row.to);
  if (!to) return std::nullopt;
  for (std::size_t i = 0; i < row.n_from; ++i) {
    if (const auto from = t.at(row.from[i])) return interval{to_ms(*from - t0), to_ms(*to - t0)};
  }
  return std::nullopt;
}

}  // namespace

std::string render_waterfall(const turn_timeline& t, const waterfall_options& options) {
  const int width = std::max(options.width, k_min_width);
  const int bar_cols = width - k_label_cols - k_value_cols;
  const time_point t0 = t.origin().value_or(time_point{});

  std::array<std::optional<interval>, k_rows.size()> spans;
  double axis_ms = 0;
  for (std::size_t i = 0; i < k_rows.size(); ++i) {
    spans[i] = row_interval(t, k_rows[i], t0);
    if (spans[i]) axis_ms = std::max({axis_ms, spans[i]->from_ms, spans[i]->to_ms});
  }
  const double cols_per_ms = axis_ms > 0 ? bar_cols / axis_ms : 0.0;
  const auto cell = [&](double ms) {
    return std::clamp(static_cast<int>(std::lround(ms * cols_per_ms)), 0, bar_cols);
  };

  painter p(options.color);
  p.add(fit(header(t), width), k_bold);
  p.add("\n");
  for (std::size_t i = 0; i < k_rows.size(); ++i) {
    const auto& row = k_rows[i];
    if (row.optional && !spans[i]) continue;
    p.add(pad_right(row.label, k_label_cols));
    if (!spans[i]) {
      p.add(repeat(" ", bar_cols));
      p.add(pad_left("—", k_value_cols), k_dim);
      p.add("\n");
      continue;
    }
    const auto [a_ms, b_ms] = *spans[i];
    const int c0 = cell(a_ms);
    const int c1 = std::max(c0, cell(b_ms));
    // The LLM row shades the wait for the first token (llm_ttft) apart from the rest.
    int c_token = c0;
    if (row.to == stamp::first_segment) {
      if (const auto tok = t.at(stamp::llm_first_token)) {
        c_token = std::clamp(cell(to_ms(*tok - t0)), c0, c1);
      }
    }
    if (c1 == c0 && b_ms >= a_ms) {  // shorter than half a column: a hairline
      const int at = std::min(c0, bar_cols - 1);
      p.add(repeat(" ", at));
      p.add("▏", row.color);
      p.add(repeat(" ", bar_cols - at - 1));
    } else {
      p.add(repeat(" ", c0));
      p.add(repeat("▒", c_token - c0), row.color);
      p.add(repeat(row.optional ? "░" : "█", c1 - c_token), row.color);
      p.add(repeat(" ", bar_cols - c1));
    }
    p.add(pad_left(fit(format_ms(b_ms - a_ms), k_value_cols - 1), k_value_cols));
    p.add("\n");
  }
  // Axis: 0 under the bars' start, the axis length under their end.
  const std::string end_label = axis_ms > 0 ? fit(format_ms(axis_ms), bar_cols / 2) : "";
  p.add(repeat(" ", k_label_cols));
  p.add(end_label.empty() ? "0 ms" : pad_right("0 ms", bar_cols - columns(end_label)) + end_label,
        k_dim);
  p.add("\n");

  std::string footer = "ttfa " + format_ms(t.value(metric::ttfa)) + " · overhead " +
                       format_ms(t.value(metric::overhead));
  if (const auto ttft = t.value(metric::llm_ttft); ttft && t.answered_by_llm()) footer += " · llm ttft " + format_ms(*ttft);
  p.add(fit(footer, width), k_bold);
  p.add("\n");
  return p.take();
}

std::string render_summary_table(const metric_set& metrics) {
  const auto rows = metrics.summaries();
  int name_cols = static_cast<int>(std::string_view("metric").size());
  for (const auto& r : rows) name_cols = std::max(name_cols, columns(r.name));
  name_cols += 2;

  constexpr int n_cols = 8;
  constexpr int v_cols = 10;
  std::string out = pad_right("metric", name_cols) + pad_left("n", n_cols);
  for (const auto* h : {"p50", "p90", "p95", "p99", "mean"}) out += pad_left(h, v_cols);
  out += "   (ms)\n";
  for (const auto& [name, s] : rows) {
    out += pad_right(name, name_cols) + pad_left(std::to_string(s.n), n_cols);
    for (const double v : {s.p50, s.p90, s.p95, s.p99, s.mean}) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", v);
      out += pad_left(buf, v_cols);
    }
    out += '\n';
  }
  return out;
}

}  // namespace parley::obs
