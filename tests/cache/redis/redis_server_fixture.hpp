// tests/cache/redis/redis_server_fixture — a real redis-server on loopback, owned by a test.
//
// Role: starts /usr/bin/redis-server as a child process on 127.0.0.1 and a free port (no
// persistence: --save '' --appendonly no), waits (bounded) until it answers PING, and kills it
// on stop() or destruction. It can be stopped and started again on the same port (to test
// recovery), paused with SIGSTOP (a server that accepts connections but never answers: command
// timeouts) and resumed. Several instances may run at once (e.g. two parley instances sharing
// one Redis, or two Redis servers). `query()` sends one inline command over a raw socket and
// returns the first reply line, for assertions that look behind the store (PTTL, EXISTS, DBSIZE).
// Needs no hiredis: plain POSIX sockets, so any test can include it.
// Threading: use one instance from one thread. The child gets PR_SET_PDEATHSIG(SIGKILL), so it
// dies with the thread that started it — start it from the test's main thread (or a thread that
// outlives the server), never from a short-lived worker.
// Units: waits in milliseconds.
//
//   parley::test::redis_server server;
//   if (!parley::test::redis_server::available()) GTEST_SKIP() << parley::test::redis_server::skip_reason();
//   ASSERT_TRUE(server.start()) << server.last_error();
//   cfg.port = server.port();
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace parley::test {

class redis_server {
 public:
  static constexpr const char* k_binary = "/usr/bin/redis-server";

  /// Whether redis-server is installed (tests skip with skip_reason() when it is not).
  static bool available() { return ::access(k_binary, X_OK) == 0; }
  static std::string skip_reason() {
    return std::string(k_binary) + " not found: install redis-server (scripts/setup.sh) to run the Redis tests";
  }

  /// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
  }

  /// `extra_args` are appended to the command line (e.g. {"--requirepass", "secret"}).
  explicit redis_server(std::vector<std::string> extra_args = {}) : extra_args_(std::move(extra_args)) {}
  ~redis_server() { stop(); }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  /// Starts the server and waits until it answers PING (at most `wait_ms`). The first start picks
  /// a free port (retrying if another process took it first); later starts reuse that port.
  bool start(int wait_ms = 10000) {
    if (running()) return true;
    const bool fixed_port = port_ != 0;
    for (int attempt = 0; attempt < (fixed_port ? 1 : 5); ++attempt) {
      if (!fixed_port) port_ = free_port();
      if (port_ == 0) {
        error_ = "no free port";
        return false;
      }
      if (spawn() && wait_ready(wait_ms)) return true;
      stop();
      if (!fixed_port) port_ = 0;
    }
    return false;
  }

  /// Kills the server (SIGKILL: as abrupt as a crash) and reaps it. Keeps the port for start().
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  /// SIGSTOP / SIGCONT: a paused server keeps accepting TCP connections (the kernel does) but
  /// answers nothing, so clients hit their command timeouts.
  void pause() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  const std::string& last_error() const { return error_; }

  /// Sends one inline command ("PTTL parley:k") and returns the first line of the reply without
  /// its CRLF (":1234", "+PONG", "$5"), or "" on failure. Waits at most `timeout_ms`. Does not
  /// authenticate: on a server started with --requirepass it answers "-NOAUTH …".
  std::string query(std::string_view inline_command, int timeout_ms = 2000) const {
    const int fd = connect_socket(timeout_ms);
    if (fd < 0) return {};
    std::string out;
    std::string req(inline_command);
    req += "\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char ch = 0;
      while (::recv(fd, &ch, 1, 0) == 1) {
        if (ch == '\n') break;
        if (ch != '\r') out.push_back(ch);
      }
    }
    ::close(fd);
    return out;
  }

 private:
  bool spawn() {
    const std::string port = std::to_string(port_);
    std::vector<std::string> args = {k_binary, "--port", port, "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
                                     "--logfile", ""};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      error_ = "fork failed";
      return false;
    }
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int devnull = ::open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        ::dup2(devnull, STDIN_FILENO);
        ::dup2(devnull, STDOUT_FILENO);
        ::dup2(devnull, STDERR_FILENO);
      }
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execv(k_binary, argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    return true;
  }

  bool wait_ready(int wait_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {  // exited: port taken, bad argument, …
        pid_ = -1;
        error_ = "redis-server exited during start-up on port " + std::to_string(port_);
        return false;
      }
      const std::string reply = query("PING", 200);
      if (reply == "+PONG" || reply.rfind("-NOAUTH", 0) == 0) return true;  // up (NOAUTH: --requirepass)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    error_ = "redis-server did not answer PING within " + std::to_string(wait_ms) + " ms";
    return false;
  }

  int connect_socket(int timeout_ms) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    timeval tv{};
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace parley::test
