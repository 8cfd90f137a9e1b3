#include "parley/obs/waterfall.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "obs_test_util.hpp"

namespace parley::obs {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

int code_points(std::string_view s) {
  return static_cast<int>(std::ranges::count_if(s, [](char c) { return (c & 0xC0) != 0x80; }));
}

int count_of(std::string_view haystack, std::string_view needle) {
  int n = 0;
  for (auto pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

/// The row whose label is `label`, or "" if none.
std::string row(const std::string& text, std::string_view label) {
  for (const auto& line : lines_of(text)) {
    if (line.starts_with(label) && line.size() > label.size() && line[label.size()] == ' ')
      return line;
  }
  return {};
}

TEST(waterfall, shows_every_stage_row_and_the_ttfa_footer) {
  manual_clock clock;
  const auto text = render_waterfall(test::full_turn(clock));
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 8u) << text;
  EXPECT_EQ(lines[0], "turn 3 · streaming · llm");
  for (const char* label : {"endpoint", "asr", "llm→first seg", "tts first audio", "out"}) {
    EXPECT_FALSE(row(text, label).empty()) << label << "\n" << text;
  }
  EXPECT_TRUE(row(text, "endpoint").ends_with(" 300 ms"));
  EXPECT_TRUE(row(text, "asr").ends_with(" 40.0 ms"));
  EXPECT_TRUE(row(text, "llm→first seg").ends_with(" 260 ms"));
  EXPECT_TRUE(row(text, "tts first audio").ends_with(" 120 ms"));
  EXPECT_TRUE(row(text, "out").ends_with(" 0.30 ms"));
  EXPECT_NE(lines[6].find("0 ms"), std::string::npos);
  EXPECT_TRUE(lines[6].ends_with("721 ms"));
  EXPECT_EQ(lines.back(), "ttfa 721 ms · overhead 1.0 ms · llm ttft 150 ms");
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(waterfall, a_turn_no_llm_answered_reports_no_llm_ttft) {
  manual_clock clock;
  auto t = test::full_turn(clock);
  t.route = "intent";  // a local handler: its "request" and "first token" are one instant
  const auto lines = lines_of(render_waterfall(t));
  EXPECT_EQ(lines.back(), "ttfa 721 ms · overhead 1.0 ms");
  t.route = "cloud_llm";
  EXPECT_EQ(lines_of(render_waterfall(t)).back(), "ttfa 721 ms · overhead 1.0 ms · llm ttft 150 ms");
}

TEST(waterfall, bars_sit_on_one_time_axis) {
  manual_clock clock;
  const auto text = render_waterfall(test::full_turn(clock), {.width = 80});
  // 80 − 16 label − 10 value = 54 columns for 721 ms.
  const auto bar_of = [&](std::string_view label) { return row(text, label).substr(16); };
  const auto start_col = [&](std::string_view label) {
    const auto bar = bar_of(label);
    const auto first = bar.find_first_not_of(' ');
    return code_points(bar.substr(0, first));
  };
  EXPECT_EQ(start_col("endpoint"), 0);
  EXPECT_EQ(count_of(bar_of("endpoint"), "█"), 22);  // 300/721 · 54 = 22.5 → 22 or 23
  EXPECT_EQ(start_col("asr"), 22);
  EXPECT_LT(start_col("asr"), start_col("llm→first seg"));
  EXPECT_LT(start_col("llm→first seg"), start_col("tts first audio"));
  EXPECT_LT(start_col("tts first audio"), start_col("out"));
  // ttft shaded inside the LLM bar: 150 of 260 ms.
  EXPECT_EQ(count_of(bar_of("llm→first seg"), "▒"), 11);
  EXPECT_EQ(count_of(bar_of("llm→first seg"), "█"), 8);
  EXPECT_EQ(count_of(bar_of("out"), "▏"), 1);
}

TEST(waterfall, respects_the_width_in_code_points) {
  manual_clock clock;
  auto t = test::full_turn(clock);
  t.flags = {true, true, true, true, true};
  t.route = "a-very-long-route-name-that-would-overflow-the-header";
  for (const int width : {40, 60, 72, 80, 120}) {
    const auto lines = lines_of(render_waterfall(t, {.width = width}));
    for (const auto& line : lines) EXPECT_LE(code_points(line), width) << width << ": " << line;
    EXPECT_EQ(code_points(lines[1]), width);  // a stage row fills the width exactly
  }
  // Narrower than the minimum renders at the minimum.
  for (const auto& line : lines_of(render_waterfall(t, {.width = 10})))
    EXPECT_LE(code_points(line), 40);
}

TEST(waterfall, color_adds_only_escape_sequences) {
  manual_clock clock;
  const auto t = test::full_turn(clock);
  const auto colored = render_waterfall(t, {.width = 60, .color = true});
  EXPECT_NE(colored.find("\x1b["), std::string::npos);
  const auto stripped = std::regex_replace(colored, std::regex("\x1b\\[[0-9;]*m"), "");
  EXPECT_EQ(stripped, render_waterfall(t, {.width = 60}));
}

TEST(waterfall, shows_missing_stages_as_a_dash) {
  const auto empty = render_waterfall(turn_timeline{});
  const auto lines = lines_of(empty);
  ASSERT_EQ(lines.size(), 8u) << empty;
  for (std::size_t i = 1; i <= 5; ++i) EXPECT_TRUE(lines[i].ends_with(" —")) << lines[i];
  EXPECT_EQ(lines.back(), "ttfa — · overhead —");

  // A cache hit: no LLM, no TTS; `out` starts at the transcript.
  manual_clock clock;
  turn_timeline hit;
  hit.flags.cache_hit = true;
  hit.mark(stamp::speech_end, clock.now());
  clock.advance_ms(200);
  hit.mark(stamp::turn_end, clock.now());
  clock.advance_ms(30);
  hit.mark(stamp::asr_final, clock.now());
  clock.advance_ms(5);
  hit.mark(stamp::first_audio_out, clock.now());
  const auto text = render_waterfall(hit);
  EXPECT_TRUE(row(text, "llm→first seg").ends_with(" —"));
  EXPECT_TRUE(row(text, "tts first audio").ends_with(" —"));
  EXPECT_TRUE(row(text, "out").ends_with(" 5.0 ms")) << text;
  EXPECT_NE(text.find("cache hit"), std::string::npos);
  EXPECT_TRUE(text.ends_with("ttfa 235 ms · overhead 5.0 ms\n")) << text;
}

TEST(waterfall, survives_inconsistent_and_extreme_stamps) {
  manual_clock clock;
  auto t = test::full_turn(clock);
  t.set(stamp::turn_end, *t.at(stamp::speech_end) - from_ms(50));            // before speech end
  t.set(stamp::first_audio_out, *t.at(stamp::speech_end) + from_ms(3.6e9));  // absurdly late
  for (const auto& line : lines_of(render_waterfall(t))) EXPECT_LE(code_points(line), 60) << line;
  EXPECT_TRUE(row(render_waterfall(t), "endpoint").ends_with(" -50.0 ms"));
}

TEST(summary_table, aligns_one_row_per_metric) {
  manual_clock clock;
  metric_set metrics;
  metrics.record(test::full_turn(clock));
  metrics.record("a_much_longer_custom_metric", 2.5);
  const auto text = render_summary_table(metrics);
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 1 + n_metrics + 1);
  EXPECT_TRUE(lines[0].starts_with("metric "));
  for (const char* col : {" n", " p50", " p90", " p95", " p99", " mean"}) {
    EXPECT_NE(lines[0].find(col), std::string::npos) << col;
  }
  EXPECT_TRUE(lines[6].starts_with("ttfa "));
  EXPECT_NE(lines[6].find(" 721.0 "), std::string::npos) << lines[6];
  // Columns line up: every data row has the same width, and the header's columns end where the
  // rows' columns end.
  for (std::size_t i = 2; i < lines.size(); ++i) EXPECT_EQ(lines[i].size(), lines[1].size());
  EXPECT_EQ(lines[0].find(" mean") + 5, lines[1].size());
  EXPECT_TRUE(lines.back().starts_with("a_much_longer_custom_metric "));
}

}  // namespace
}  // namespace parley::obs
