// tests/engines/llama_server/llama_server_process — a real llama.cpp `llama-server` for tests and
// benchmarks, on a random-weight model written by scripts/llama/make_model.py.
//
// Role: finds the binary (scripts/llama/build_server.sh builds it into third_party/llama/build),
// writes the model once into a work directory (reused while newer than the script), starts the
// server on 127.0.0.1 on a port it picks itself, waits (bounded) for GET /health to answer 200,
// and stops it again (SIGTERM, then SIGKILL after a bound). The child also gets SIGKILL if the test process
// dies first (PR_SET_PDEATHSIG), so no server outlives a crashed test.
// Threading: a process handle used from one thread; start() forks, so call it before the test
// starts threads of its own (the fixture's SetUp is fine).
// Units: milliseconds.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace parley::testing {

namespace fs = std::filesystem;

/// The llama-server binary: $PARLEY_LLAMA_SERVER, else `built_in` (the path CMake passes). Empty
/// when it does not exist or is not executable.
inline fs::path find_llama_server(const fs::path& built_in) {
  fs::path p = built_in;
  if (const char* env = std::getenv("PARLEY_LLAMA_SERVER"); env != nullptr && *env != '\0') p = env;
  if (p.empty() || ::access(p.c_str(), X_OK) != 0) return {};
  return p;
}

/// The Python that runs make_model.py: $PARLEY_PYTHON, else /usr/bin/python3 (Debian's, which
/// has python3-numpy), else python3 from PATH.
inline std::string model_python() {
  if (const char* env = std::getenv("PARLEY_PYTHON"); env != nullptr && *env != '\0') return env;
  if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  return "python3";
}

struct model_result {
  enum class kind { ok, unavailable, failed };
  kind what = kind::failed;
  fs::path path;
  std::string message;  // why not (unavailable: numpy or gguf-py missing; failed: the log)
};

/// The file's text, or its last `max_tail` bytes.
inline std::string read_text(const fs::path& p, std::size_t max_tail = 4000) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (max_tail != std::string::npos && s.size() > max_tail) s = "..." + s.substr(s.size() - max_tail);
  return s;
}

/// Writes (or reuses) `work_dir/<size>-seed<seed>[-ctx<ctx>].gguf` (ctx 0: the size's default
/// context length). A model newer than the script is reused; the script writes to a temporary
/// name and renames, so concurrent test processes are safe.
inline model_result ensure_model(const fs::path& source_dir, const fs::path& work_dir, const std::string& size,
                                 int seed, int ctx = 0) {
  const fs::path script = source_dir / "scripts" / "llama" / "make_model.py";
  const std::string ctx_suffix = ctx > 0 ? "-ctx" + std::to_string(ctx) : "";
  const fs::path model = work_dir / (size + "-seed" + std::to_string(seed) + ctx_suffix + ".gguf");
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  if (fs::exists(model, ec) && fs::last_write_time(model, ec) >= fs::last_write_time(script, ec)) {
    return {model_result::kind::ok, model, ""};
  }
  const fs::path log = work_dir / ("make_model-" + std::to_string(::getpid()) + ".log");
  const std::string cmd = model_python() + " '" + script.string() + "' --size " + size + " --seed " +
                          std::to_string(seed) + (ctx > 0 ? " --ctx " + std::to_string(ctx) : "") + " --out '" +
                          model.string() + "' > '" + log.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  const int exit_code = (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
  const std::string out = read_text(log);
  if (exit_code == 0 && fs::exists(model, ec)) {
    fs::remove(log, ec);
    return {model_result::kind::ok, model, out};
  }
  if (exit_code == 77) {
    fs::remove(log, ec);
    return {model_result::kind::unavailable, {}, out};
  }
  return {model_result::kind::failed, {}, "make_model.py exited with " + std::to_string(exit_code) + ": " + out};
}

/// A plain blocking HTTP/1.1 GET on 127.0.0.1 (Connection: close), bounded by `timeout_ms` per
/// socket operation. Returns the status code (0 when there was no HTTP answer) and the body.
inline std::pair<int, std::string> http_get(int port, const std::string& target, int timeout_ms = 2000) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {0, ""};
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                            "\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        response.append(buf, static_cast<std::size_t>(n));
        if (response.size() > (1u << 20)) break;
      }
    }
  }
  ::close(fd);
  int code = 0;
  if (response.rfind("HTTP/1.", 0) == 0 && response.size() >= 12) code = std::atoi(response.c_str() + 9);
  const auto body_at = response.find("\r\n\r\n");
  return {code, body_at == std::string::npos ? std::string() : response.substr(body_at + 4)};
}

struct llama_server_options {
  fs::path binary;
  fs::path model;
  fs::path log;                    // stdout and stderr of the server
  int port = 0;                    // 0: the server picks a free one (see start())
  int ctx = 4096;                  // -c (shared by the slots)
  int slots = 2;                   // -np
  int threads = 2;                 // -t
  std::vector<std::string> extra;  // more flags
  int ready_timeout_ms = 60000;    // bound on start-up (model load, warm-up)
};

class llama_server_process {
 public:
  llama_server_process() = default;
  llama_server_process(const llama_server_process&) = delete;
  llama_server_process& operator=(const llama_server_process&) = delete;
  ~llama_server_process() { stop(); }

  /// Starts the server and waits until it has loaded the model and GET /health answers 200. With
  /// port 0 (the default) the server binds a free port itself and the port is read from its
  /// log ("listening on http://127.0.0.1:N"), so concurrent tests cannot race for one. On failure
  /// returns a message with the server's log tail and leaves nothing running.
  std::optional<std::string> start(const llama_server_options& o) {
    if (!spawn(o)) return "could not start " + o.binary.string();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.ready_timeout_ms);
    const std::string marker = "listening on http://127.0.0.1:";
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return "llama-server exited during start-up; log:\n" + read_text(o.log);
      }
      int port = o.port;
      if (port == 0) {
        const std::string log = read_text(o.log, std::string::npos);
        if (const auto at = log.find(marker); at != std::string::npos) {
          port = std::atoi(log.c_str() + at + marker.size());
        }
      }
      if (port > 0 && http_get(port, "/health", 1000).first == 200) {
        port_ = port;
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    return "llama-server was not ready within " + std::to_string(o.ready_timeout_ms) + " ms; log:\n" + read_text(o.log);
  }

  /// SIGTERM, up to `grace_ms` for it to exit, then SIGKILL. Idempotent.
  void stop(int grace_ms = 5000) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    int st = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  bool spawn(const llama_server_options& o) {
    std::vector<std::string> args = {o.binary.string(),
                                     "-m", o.model.string(),
                                     "--host", "127.0.0.1",
                                     "--port", std::to_string(o.port),
                                     "-c", std::to_string(o.ctx),
                                     "-np", std::to_string(o.slots),
                                     "-t", std::to_string(o.threads),
                                     "--no-webui"};
    args.insert(args.end(), o.extra.begin(), o.extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = ::open(o.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
      if (log_fd >= 0) ::close(log_fd);
      if (null_fd >= 0) ::close(null_fd);
      return false;
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    ::close(null_fd);
    if (pid < 0) return false;
    pid_ = pid;
    return true;
  }

  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace parley::testing
