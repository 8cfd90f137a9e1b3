#include "parley/apps/manifest.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

namespace parley::app {

result<std::vector<manifest_entry>> read_manifest(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(errc::not_found, "cannot open manifest '" + path.string() + "'");
  const auto base = path.parent_path();
  std::vector<manifest_entry> entries;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
    const auto where = path.string() + ":" + std::to_string(line_no);
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return make_error(errc::invalid_argument, where + ": not a JSON object");
    if (!j.contains("file") || !j["file"].is_string() || !j.contains("text") || !j["text"].is_string() ||
        !j.contains("speech_end_ms") || !j["speech_end_ms"].is_number()) {
      return make_error(errc::invalid_argument, where + ": needs \"file\", \"text\" and \"speech_end_ms\"");
    }
    for (const char* key : {"id", "category", "voice", "condition", "interrupt_text"}) {
      if (j.contains(key) && !j[key].is_string()) {
        return make_error(errc::invalid_argument, where + ": \"" + key + "\" must be a string");
      }
    }
    if (j.contains("speech_start_ms") && !j["speech_start_ms"].is_number()) {
      return make_error(errc::invalid_argument, where + ": \"speech_start_ms\" must be a number");
    }
    manifest_entry e;
    e.file = base / j["file"].get<std::string>();
    e.text = j["text"].get<std::string>();
    e.id = j.value("id", e.file.stem().string());
    e.category = j.value("category", "");
    e.voice = j.value("voice", "");
    e.condition = j.value("condition", "");
    e.speech_start_ms = j.value("speech_start_ms", 0.0);
    e.speech_end_ms = j["speech_end_ms"].get<double>();
    if (e.speech_end_ms < 0.0) return make_error(errc::invalid_argument, where + ": speech_end_ms is negative");
    if (j.contains("interrupt_file")) {
      if (!j["interrupt_file"].is_string() || !j.contains("interrupt_at_ms") || !j["interrupt_at_ms"].is_number()) {
        return make_error(errc::invalid_argument,
                          where + ": \"interrupt_file\" (a string) needs \"interrupt_at_ms\" (a number)");
      }
      e.interrupt_file = base / j["interrupt_file"].get<std::string>();
      e.interrupt_text = j.value("interrupt_text", "");
      e.interrupt_at_ms = j["interrupt_at_ms"].get<double>();
      if (e.interrupt_at_ms < e.speech_end_ms) {
        return make_error(errc::invalid_argument, where + ": interrupt_at_ms must not be before speech_end_ms");
      }
    }
    entries.push_back(std::move(e));
  }
  if (entries.empty()) return make_error(errc::empty_input, "manifest '" + path.string() + "' has no entries");
  return entries;
}

}  // namespace parley::app
