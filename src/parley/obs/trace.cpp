#include "parley/obs/trace.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "parley/obs/json.hpp"

namespace parley::obs {

namespace {

error io_error(const std::filesystem::path& path, std::string_view what, int err) {
  return make_error(errc::io_error, std::string(what) + " trace file '" + path.string() +
                                        "': " + std::strerror(err));
}

}  // namespace

result<trace_writer> trace_writer::open(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, file_closer> file(std::fopen(path.c_str(), "a"));
  if (!file) return io_error(path, "cannot open", errno);
  return trace_writer(std::unique_ptr<state>(new state{path, std::move(file), {}}));
}

status trace_writer::write(const turn_timeline& t) { return write(to_json(t)); }

status trace_writer::write(const nlohmann::json& line) {
  // Invalid UTF-8 (e.g. a transcript cut mid-character) is replaced, never thrown.
  return write_line(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n');
}

status trace_writer::write_line(std::string_view line) {
  std::lock_guard lock(state_->mutex);
  std::FILE* f = state_->file.get();
  if (std::fwrite(line.data(), 1, line.size(), f) != line.size() || std::fflush(f) != 0) {
    const int err = errno;
    std::clearerr(f);
    return io_error(state_->path, "cannot write", err);
  }
  return {};
}

}  // namespace parley::obs
