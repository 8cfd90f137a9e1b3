// The load client (`parley bench --target`) against a real `parley serve --engines mock` on
// loopback: a few concurrent sessions, one spoken turn each, every TTFA sample reported, no
// errors, the server's memory read. Bounded waits only; no timing asserts.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct run_result {
  int exit_code = -1;
  std::string output;
};

run_result parley(const std::string& args) {
  const std::string command = "timeout 120 " + std::string(PARLEY_BINARY) + " " + args + " 2>&1";
  run_result r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  while (const auto n = fread(buffer.data(), 1, buffer.size(), pipe)) r.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `parley serve --engines mock` on a free port, its output in a log file; SIGTERM at the end.
class mock_server {
 public:
  explicit mock_server(const fs::path& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      execl(PARLEY_BINARY, PARLEY_BINARY, "serve", "--engines", "mock", "--host", "127.0.0.1", "--port", "0",
            "--llm-profile", "zero", "--tts-profile", "zero", "--transcripts", "what time is it", "--log-level",
            "warn", static_cast<char*>(nullptr));
      _exit(127);
    }
    // "parley serve: http://127.0.0.1:PORT/ ..." first, then "ready · ..." once the engines are set.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(log);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto at = text.find("http://127.0.0.1:");
      if (at != std::string::npos && text.find("\nready") != std::string::npos) {
        port_ = std::stoi(text.substr(at + 17));
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  ~mock_server() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {  // 15 s, then the hard way
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(50ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const {
    std::ifstream in(log_);
    return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class ws_load : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("parley-load-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(ws_load, five_sessions_get_five_answers_and_no_error) {
  mock_server server(dir_ / "server.log");
  ASSERT_GT(server.port(), 0) << server.log();
  const auto r = parley("bench --target ws://127.0.0.1:" + std::to_string(server.port()) +
                        "/ws --sessions 5 --turns 1 --ramp-ms 200 --idle-s 0.5 --duration-s 90 --no-progress" +
                        " --server-pid " + std::to_string(server.pid()) + " --json " + path("load.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n--- server ---\n" << server.log();
  std::ifstream in(path("load.json"));
  const auto report = nlohmann::json::parse(in);
  EXPECT_EQ(report["client"]["ttfa"]["n"], 5) << report.dump(2);
  EXPECT_EQ(report["counts"]["sessions_connected"], 5);
  EXPECT_EQ(report["counts"]["error_events"], 0);
  EXPECT_EQ(report["counts"]["sessions_failed"], 0);
  EXPECT_EQ(report["counts"]["sessions_dropped"], 0);
  EXPECT_EQ(report["counts"]["turns_unanswered"], 0);
  EXPECT_EQ(report["counts"]["sessions_finished"], 5);
  EXPECT_GT(report["counts"]["playout_reports_sent"].get<int>(), 0);
  EXPECT_EQ(report["server_counters"]["input_chunks_dropped"], 0);
  // The server's own view of each turn came back in turn.metrics.
  ASSERT_TRUE(report["server"].contains("overhead")) << report.dump(2);
  EXPECT_EQ(report["server"]["overhead"]["n"], 5);
  // ... split into its hand-off gaps (docs/latency.md §3).
  ASSERT_TRUE(report["server"].contains("gap_route")) << report.dump(2);
  EXPECT_EQ(report["server"]["gap_route"]["n"], 5);
  EXPECT_EQ(report["server"]["gap_send"]["n"], 5);
  EXPECT_TRUE(report["memory"].contains("per_idle_session_kib")) << report.dump(2);
  EXPECT_NE(r.output.find("ttfa"), std::string::npos) << r.output;
}

TEST_F(ws_load, phone_calls_over_the_media_stream_get_their_answers_and_echo_the_marks) {
  mock_server server(dir_ / "server.log");
  ASSERT_GT(server.port(), 0) << server.log();
  const auto r = parley("bench --target ws://127.0.0.1:" + std::to_string(server.port()) +
                        "/v1/media-stream --sessions 3 --turns 2 --ramp-ms 200 --duration-s 90 --no-progress" +
                        " --server-pid " + std::to_string(server.pid()) + " --json " + path("load.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n--- server ---\n" << server.log();
  std::ifstream in(path("load.json"));
  const auto report = nlohmann::json::parse(in);
  EXPECT_EQ(report["client"]["ttfa"]["n"], 6) << report.dump(2);
  EXPECT_EQ(report["counts"]["sessions_connected"], 3);
  EXPECT_EQ(report["counts"]["turns_completed"], 6);
  EXPECT_EQ(report["counts"]["sessions_finished"], 3) << "stop ends each call and the server closes it";
  EXPECT_GT(report["counts"]["playout_reports_sent"].get<int>(), 0) << "marks echoed as played";
  EXPECT_EQ(report["server_counters"]["turns"], 6);
  EXPECT_GT(report["cpu"]["per_session_s"].get<double>(), 0.0) << report.dump(2);
  EXPECT_NE(r.output.find("mu-law media messages"), std::string::npos) << r.output;
}

TEST_F(ws_load, sessions_speaking_the_openai_realtime_protocol_get_their_answers) {
  mock_server server(dir_ / "server.log");
  ASSERT_GT(server.port(), 0) << server.log();
  const auto r = parley("bench --target ws://127.0.0.1:" + std::to_string(server.port()) +
                        "/v1/realtime --sessions 2 --turns 2 --ramp-ms 200 --duration-s 90 --no-progress" +
                        " --server-pid " + std::to_string(server.pid()) + " --json " + path("load.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output << "\n--- server ---\n" << server.log();
  std::ifstream in(path("load.json"));
  const auto report = nlohmann::json::parse(in);
  EXPECT_EQ(report["client"]["ttfa"]["n"], 4) << report.dump(2);
  EXPECT_EQ(report["counts"]["sessions_connected"], 2);
  EXPECT_EQ(report["counts"]["turns_completed"], 4);
  EXPECT_EQ(report["counts"]["error_events"], 0);
  EXPECT_EQ(report["counts"]["extra_replies"], 0);
  EXPECT_EQ(report["server_counters"]["input_chunks_dropped"], 0);
  EXPECT_GT(report["counts"]["audio_frames_received"].get<int>(), 0) << report.dump(2);
  EXPECT_EQ(report["counts"]["sessions_finished"], 2) << "the client closes after its last turn";
  EXPECT_NE(r.output.find("OpenAI Realtime protocol"), std::string::npos) << r.output;
}

TEST_F(ws_load, a_server_that_is_not_there_fails_every_session) {
  // Port 1 on loopback: nothing listens there (connection refused at once).
  const auto r = parley("bench --target ws://127.0.0.1:1/ws --sessions 3 --ramp-ms 0 --duration-s 30 --no-progress");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("3 failed"), std::string::npos) << r.output;
}

TEST_F(ws_load, bench_needs_a_manifest_or_a_target) {
  const auto r = parley("bench --engines mock");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--manifest"), std::string::npos) << r.output;
}

}  // namespace
