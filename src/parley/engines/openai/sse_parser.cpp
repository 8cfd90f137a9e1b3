#include "parley/engines/openai/sse_parser.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "parley/text/utf8.hpp"

namespace parley::openai {

// ---- sse_parser ------------------------------------------------------------------------------

status sse_parser::fail(std::string message) {
  failed_ = make_error(errc::invalid_argument, std::move(message));
  return *failed_;
}

status sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  if (failed_) return *failed_;
  n_bytes_fed_ += bytes.size();
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes[i] == '\n') {  // the LF of a CRLF split across chunks
        ++i;
        continue;
      }
    }
    const std::size_t j = bytes.find_first_of("\r\n", i);
    const std::size_t end = j == std::string_view::npos ? bytes.size() : j;
    if (line_.size() + (end - i) > limits_.max_line_bytes) {
      return fail("event-stream line longer than " + std::to_string(limits_.max_line_bytes) + " bytes");
    }
    line_.append(bytes.substr(i, end - i));
    if (j == std::string_view::npos) break;
    if (auto s = take_line(line_, out); !s) return s;
    line_.clear();
    after_cr_ = bytes[j] == '\r';
    i = j + 1;
  }
  return {};
}

status sse_parser::finish(std::vector<sse_event>& out) {
  if (failed_) return *failed_;
  if (!line_.empty()) {
    if (auto s = take_line(line_, out); !s) return s;
    line_.clear();
  }
  return take_line({}, out);  // dispatch whatever is pending
}

status sse_parser::take_line(std::string_view line, std::vector<sse_event>& out) {
  if (!started_) {
    started_ = true;
    if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  }
  if (line.empty()) {
    if (has_data_) {
      data_.pop_back();  // the '\n' after the last data line
      out.push_back(sse_event{std::move(type_), std::move(data_)});
    }
    data_.clear();
    type_.clear();
    has_data_ = false;
    return {};
  }
  if (line.front() == ':') return {};  // comment (often a keep-alive ping)
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (data_.size() + value.size() + 1 > limits_.max_event_bytes) {
      return fail("event-stream event larger than " + std::to_string(limits_.max_event_bytes) + " bytes");
    }
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  }
  // id, retry and unknown fields: ignored.
  return {};
}

// ---- utf8_carry ------------------------------------------------------------------------------

std::string utf8_carry::push(std::string_view piece) {
  pending_.append(piece);
  const std::size_t n = text::utf8_complete_prefix(pending_);
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

// ---- decode_chat_chunk -----------------------------------------------------------------------

namespace {

std::string string_or_empty(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string error_text(const nlohmann::json& e) {
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object()) {
    std::string msg = string_or_empty(e, "message");
    if (msg.empty()) msg = string_or_empty(e, "type");
    if (msg.empty()) msg = "provider error";
    return msg;
  }
  return "provider error";
}

}  // namespace

result<chat_delta> decode_chat_chunk(std::string_view json) {
  // A server may send bytes that are not UTF-8 (a model's broken multi-byte token, a proxy that
  // cut a character). The JSON parser refuses them, which would end the whole reply; replaced by
  // U+FFFD they cost one character instead.
  std::string repaired;
  if (!text::is_valid_utf8(json)) json = repaired = text::sanitize_utf8(json);
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(errc::engine_failure, "malformed stream chunk: not a JSON object");
  }
  chat_delta d;
  if (const auto e = j.find("error"); e != j.end() && !e->is_null()) {
    d.error = error_text(*e);
    return d;
  }
  const auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return d;  // e.g. usage-only
  const auto& choice = (*choices)[0];
  if (!choice.is_object()) return make_error(errc::engine_failure, "malformed stream chunk: bad choice");
  d.finish_reason = string_or_empty(choice, "finish_reason");
  // Streaming servers send `delta`; a few non-streaming fallbacks send `message`.
  auto delta = choice.find("delta");
  if (delta == choice.end()) delta = choice.find("message");
  if (delta == choice.end() || !delta->is_object()) return d;
  d.content = string_or_empty(*delta, "content");
  if (const auto calls = delta->find("tool_calls"); calls != delta->end() && calls->is_array()) {
    int position = 0;
    for (const auto& c : *calls) {
      if (!c.is_object()) continue;
      tool_call_delta t;
      const auto idx = c.find("index");
      t.index = idx != c.end() && idx->is_number_integer() ? idx->get<int>() : position;
      t.id = string_or_empty(c, "id");
      if (const auto fn = c.find("function"); fn != c.end() && fn->is_object()) {
        t.name = string_or_empty(*fn, "name");
        if (const auto args = fn->find("arguments"); args != fn->end()) {
          // Some servers send the arguments as an object rather than a JSON text.
          t.arguments = args->is_string() ? args->get<std::string>() : (args->is_null() ? "" : args->dump());
        }
      }
      d.tool_calls.push_back(std::move(t));
      ++position;
    }
  }
  return d;
}

// ---- tool_call_accumulator -------------------------------------------------------------------

void tool_call_accumulator::add(const tool_call_delta& delta) {
  auto it = std::find_if(calls_.begin(), calls_.end(), [&](const slot& s) { return s.index == delta.index; });
  if (it == calls_.end()) {
    calls_.push_back(slot{delta.index, {}});
    it = calls_.end() - 1;
  }
  if (!delta.id.empty()) it->call.id = delta.id;
  if (it->call.name.empty()) it->call.name = delta.name;  // the name comes whole, once
  it->call.arguments_json += delta.arguments;
}

std::vector<tool_call> tool_call_accumulator::calls() const {
  std::vector<slot> sorted = calls_;
  std::sort(sorted.begin(), sorted.end(), [](const slot& a, const slot& b) { return a.index < b.index; });
  std::vector<tool_call> out;
  out.reserve(sorted.size());
  for (auto& s : sorted) {
    if (s.call.id.empty()) s.call.id = "call_" + std::to_string(s.index);
    out.push_back(std::move(s.call));
  }
  return out;
}

}  // namespace parley::openai
