#include "parley/obs/json.hpp"

#include <gtest/gtest.h>

#include "obs_test_util.hpp"

namespace parley::obs {
namespace {

TEST(turn_json, carries_ids_annotations_relative_stamps_metrics_and_notes) {
  manual_clock clock;
  auto t = test::full_turn(clock);
  t.flags.hedge = true;
  t.transcript = "what time is it";
  t.reply = "It is noon.";
  t.n_segments = 1;
  t.n_output_samples = 32000;
  t.output_rate_hz = 16000;
  t.notes.push_back({"budget_breach", std::string("llm_ttft")});
  t.notes.push_back({"time_to_silence_ms", 42.5});

  const auto j = to_json(t);
  EXPECT_EQ(j["session"], 1);
  EXPECT_EQ(j["turn"], 3);
  EXPECT_EQ(j["generation"], 4);
  EXPECT_EQ(j["mode"], "streaming");
  EXPECT_EQ(j["route"], "llm");
  EXPECT_EQ(j["flags"], (nlohmann::json{{"cache_hit", false},
                                        {"fallback", false},
                                        {"hedge", true},
                                        {"filler", false},
                                        {"interrupted", false}, {"failed", false}}));
  EXPECT_EQ(j["transcript"], "what time is it");
  EXPECT_EQ(j["reply"], "It is noon.");
  EXPECT_EQ(j["n_segments"], 1);
  EXPECT_EQ(j["n_output_samples"], 32000);
  EXPECT_EQ(j["output_rate_hz"], 16000);
  EXPECT_DOUBLE_EQ(j["reply_audio_ms"].get<double>(), 2000.0);

  EXPECT_EQ(j["origin"], "t_speech_end");
  EXPECT_EQ(j["origin_steady_ns"].get<std::int64_t>(),
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                t.at(stamp::speech_end)->time_since_epoch())
                .count());
  ASSERT_EQ(j["stamps_ms"].size(), n_stamps);
  EXPECT_DOUBLE_EQ(j["stamps_ms"]["t_speech_end"].get<double>(), 0.0);
  EXPECT_NEAR(j["stamps_ms"]["t_first_audio_out"].get<double>(), 721.0, 1e-9);
  EXPECT_NEAR(j["stamps_ms"]["t_reply_done"].get<double>(), 2721.0, 1e-9);
  ASSERT_EQ(j["metrics_ms"].size(), n_metrics);
  for (const auto& m : all_metrics) {
    EXPECT_DOUBLE_EQ(j["metrics_ms"][std::string(m.name)].get<double>(), *t.value(m.id)) << m.name;
  }
  EXPECT_EQ(
      j["notes"],
      (nlohmann::json::parse(
          R"([{"name":"budget_breach","value":"llm_ttft"},{"name":"time_to_silence_ms","value":42.5}])")));
}

TEST(turn_json, missing_stamps_and_metrics_are_null_and_origin_falls_back_to_the_earliest) {
  manual_clock clock;
  turn_timeline t;
  t.mark(stamp::asr_final, clock.now() + from_ms(40));
  t.mark(stamp::turn_end, clock.now());
  const auto j = to_json(t);
  EXPECT_EQ(j["origin"], "t_turn_end");
  EXPECT_TRUE(j["stamps_ms"]["t_speech_end"].is_null());
  EXPECT_DOUBLE_EQ(j["stamps_ms"]["t_turn_end"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["stamps_ms"]["t_asr_final"].get<double>(), 40.0);
  EXPECT_TRUE(j["metrics_ms"]["ttfa"].is_null());
  EXPECT_DOUBLE_EQ(j["metrics_ms"]["asr_final"].get<double>(), 40.0);
  EXPECT_TRUE(j["reply_audio_ms"].is_null());

  const auto empty = to_json(turn_timeline{});
  EXPECT_TRUE(empty["origin"].is_null());
  EXPECT_TRUE(empty["origin_steady_ns"].is_null());
  EXPECT_EQ(empty["stamps_ms"].size(), n_stamps);
  EXPECT_TRUE(empty["notes"].is_array());
}

TEST(metric_set_json, has_the_bench_report_shape) {
  manual_clock clock;
  metric_set metrics;
  metrics.record(test::full_turn(clock));
  metrics.record("ttfa", 821.0);
  const auto j = to_json(metrics);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), n_metrics);
  for (const auto& [name, obj] : j.items()) {
    ASSERT_EQ(obj.size(), 6u) << name;
    for (const char* key : {"n", "p50", "p90", "p95", "p99", "mean"}) {
      EXPECT_TRUE(obj.contains(key)) << name << "." << key;
      EXPECT_TRUE(obj[key].is_number()) << name << "." << key;
    }
  }
  EXPECT_EQ(j["ttfa"]["n"], 2);
  EXPECT_NEAR(j["ttfa"]["mean"].get<double>(), 771.0, 1e-9);
  EXPECT_NEAR(j["ttfa"]["p50"].get<double>(), 721.0, 721.0 * 0.01);
  EXPECT_NEAR(j["ttfa"]["p99"].get<double>(), 821.0, 821.0 * 0.01);
  EXPECT_EQ(to_json(metric_set{}), nlohmann::json::object());
}

}  // namespace
}  // namespace parley::obs
