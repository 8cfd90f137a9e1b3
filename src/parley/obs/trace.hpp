// obs/trace — the JSONL turn trace: one JSON object per line, one line per finished turn.
//
// Role: `trace_writer` appends to_json(turn_timeline) (json.hpp) to a file, for offline analysis
// (jq, pandas) of every turn's stamps and metrics. The line format is in docs/latency.md.
// Threading: write() is safe from any thread; lines never interleave.
// Ownership: the writer owns the open file and closes it when destroyed; it is movable, not
// copyable (a moved-from writer may only be destroyed or assigned to). Each line is flushed to the
// OS before write() returns, so a crash of parley loses no written turn (a power loss may: there
// is no fsync).
// Errors: open() and write() return errors as values (io_error with the path and the OS reason).
//
//   auto trace = obs::trace_writer::open("turns.jsonl");
//   if (!trace) return trace.error();
//   if (auto st = trace->write(timeline); !st) PARLEY_LOG(warn, st.error().describe());
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "parley/core/error.hpp"
#include "parley/obs/timeline.hpp"

namespace parley::obs {

class trace_writer {
 public:
  /// Opens `path` for appending, creating it if needed (not its directory).
  static result<trace_writer> open(const std::filesystem::path& path);

  /// Appends to_json(t) as one line and flushes.
  status write(const turn_timeline& t);
  /// Appends any JSON object as one line and flushes (e.g. a run header).
  status write(const nlohmann::json& line);

  const std::filesystem::path& path() const { return state_->path; }

 private:
  struct file_closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  struct state {
    std::filesystem::path path;
    std::unique_ptr<std::FILE, file_closer> file;
    std::mutex mutex;
  };
  explicit trace_writer(std::unique_ptr<state> s) : state_(std::move(s)) {}
  status write_line(std::string_view line);

  std::unique_ptr<state> state_;
};

}  // namespace parley::obs
