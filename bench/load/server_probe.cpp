// The server's /metrics counters and /proc memory, as the load client reads them (see server_probe.hpp).
#include "bench/load/server_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace parley::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

std::optional<double> proc_status_kib(int pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return std::strtod(line.c_str() + field.size() + 1, nullptr);
    }
  }
  return std::nullopt;
}

std::optional<double> proc_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // Fields after the command name (which may hold spaces, so start after its closing parenthesis):
  // state is field 3; utime and stime are fields 14 and 15, in clock ticks.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::strtod(field.c_str(), nullptr);
    if (i == 15) stime = std::strtod(field.c_str(), nullptr);
  }
  if (!fields) return std::nullopt;
  const long ticks = sysconf(_SC_CLK_TCK);
  return ticks > 0 ? std::optional((utime + stime) / static_cast<double>(ticks)) : std::nullopt;
}

std::map<std::string, double> parse_prometheus(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.find('{') != std::string::npos) continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, line.find(' '))] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

std::optional<std::map<std::string, double>> fetch_metrics(const asio::ip::tcp::endpoint& endpoint,
                                                           const std::string& host, const std::string& token) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  asio::io_context io;
  std::optional<std::string> body;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        beast::tcp_stream stream(co_await asio::this_coro::executor);
        stream.expires_after(5s);
        auto [ec] = co_await stream.async_connect(endpoint, use_tuple);
        if (ec) co_return;
        http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
        req.set(http::field::host, host);
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
        req.keep_alive(false);
        auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
        if (wec) co_return;
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        auto [rec, rn] = co_await http::async_read(stream, buffer, res, use_tuple);
        if (rec || res.result() != http::status::ok) co_return;
        body = std::move(res.body());
      },
      asio::detached);
  io.run_for(6s);
  if (!body) return std::nullopt;
  return parse_prometheus(*body);
}

}  // namespace parley::load
