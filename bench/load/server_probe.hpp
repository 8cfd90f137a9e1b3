// bench/load/server_probe — what the load client reads of the server besides its sessions.
//
// Role: the server's own counters (GET /metrics, Prometheus text) before and after a run, and its
// memory and CPU time from /proc/PID/{status,stat} when it runs on this machine (--server-pid).
// Threading: blocking calls for the load client's main thread; fetch_metrics() runs its own
// io_context, bounded to about 6 s. Units: KiB (as /proc reports them), counter values as read.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace parley::load {

/// A field of /proc/PID/status in KiB (VmRSS, VmHWM), or nothing.
std::optional<double> proc_status_kib(int pid, std::string_view field);

/// The CPU time (user + system, all threads) the process `pid` has used so far, in seconds, or nothing.
std::optional<double> proc_cpu_seconds(int pid);

/// The unlabelled samples of a Prometheus text page (name → value).
std::map<std::string, double> parse_prometheus(const std::string& text);

/// GET /metrics on the server's host (bounded to 5 s), with the bearer token if not empty;
/// nothing if it does not answer 200.
std::optional<std::map<std::string, double>> fetch_metrics(const boost::asio::ip::tcp::endpoint& endpoint,
                                                           const std::string& host, const std::string& token);

}  // namespace parley::load
