#include "parley/obs/trace.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "obs_test_util.hpp"

namespace parley::obs {
namespace {

namespace fs = std::filesystem;

class trace_writer_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("parley_obs_trace_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<nlohmann::json> read_lines(const fs::path& path) {
    std::ifstream in(path);
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  fs::path dir_;
};

TEST_F(trace_writer_test, writes_one_parseable_line_per_turn) {
  manual_clock clock;
  const auto path = dir_ / "turns.jsonl";
  {
    auto trace = trace_writer::open(path);
    ASSERT_TRUE(trace) << trace.error().describe();
    EXPECT_EQ(trace->path(), path);
    for (std::uint64_t i = 1; i <= 3; ++i) {
      auto t = test::full_turn(clock);
      t.turn.value = i;
      t.transcript = "turn " + std::to_string(i) + " with \"quotes\"\nand a newline";
      ASSERT_TRUE(trace->write(t));
      // Flushed per line: readable before the writer closes.
      EXPECT_EQ(read_lines(path).size(), i);
    }
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["turn"], i + 1);
    EXPECT_EQ(lines[i]["transcript"],
              "turn " + std::to_string(i + 1) + " with \"quotes\"\nand a newline");
    EXPECT_NEAR(lines[i]["metrics_ms"]["ttfa"].get<double>(), 721.0, 1e-9);
  }
}

TEST_F(trace_writer_test, appends_to_an_existing_file_and_survives_bad_utf8) {
  const auto path = dir_ / "turns.jsonl";
  for (int run = 0; run < 2; ++run) {
    auto trace = trace_writer::open(path);
    ASSERT_TRUE(trace);
    turn_timeline t;
    t.transcript = std::string("cut mid-character: \xE2\x82");
    ASSERT_TRUE(trace->write(t));
    ASSERT_TRUE(trace->write(nlohmann::json{{"run", run}}));
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3]["run"], 1);
}

TEST_F(trace_writer_test, lines_from_many_threads_never_interleave) {
  const auto path = dir_ / "turns.jsonl";
  auto trace = trace_writer::open(path);
  ASSERT_TRUE(trace);
  manual_clock clock;
  const auto turn = test::full_turn(clock);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        for (int k = 0; k < 50; ++k) EXPECT_TRUE(trace->write(turn));
      });
    }
  }
  EXPECT_EQ(read_lines(path).size(), 200u);  // each parses
}

TEST_F(trace_writer_test, reports_an_unwritable_path_as_an_error) {
  const auto missing = dir_ / "no" / "such" / "dir" / "turns.jsonl";
  const auto r = trace_writer::open(missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::io_error);
  EXPECT_NE(r.error().message.find(missing.string()), std::string::npos) << r.error().message;

  const auto is_dir = trace_writer::open(dir_);
  ASSERT_FALSE(is_dir);
  EXPECT_EQ(is_dir.error().code, errc::io_error);
}

TEST_F(trace_writer_test, reports_a_failed_write_as_an_error) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto trace = trace_writer::open("/dev/full");
  ASSERT_TRUE(trace);
  const auto st = trace->write(turn_timeline{});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, errc::io_error);
}

}  // namespace
}  // namespace parley::obs
