#include "parley/apps/assistant_file.hpp"

#include <toml++/toml.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <vector>

namespace parley::app {
namespace {

namespace fs = std::filesystem;

// Where the file's values go.
struct target {
  engine_choice& engines;
  pipeline_flags& pipeline;
  fs::path dir;                 // the file's directory: relative paths are relative to it
  tool_choice* tool = nullptr;  // the [[tools]] entry being read
};

template <class C, class T>
C owner_of(T C::*);

template <auto Member>
auto& field(target& t) {
  using owner = decltype(owner_of(Member));
  if constexpr (std::is_same_v<owner, engine_choice>) {
    return t.engines.*Member;
  } else if constexpr (std::is_same_v<owner, tool_choice>) {
    return t.tool->*Member;
  } else {
    return t.pipeline.*Member;
  }
}

template <auto Member>
auto default_of() {
  using owner = decltype(owner_of(Member));
  return owner{}.*Member;
}

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string number_text(double v) {
  if (std::floor(v) == v && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream out;
  out << v;
  return out.str();
}

// Applies one value of the file to `t`; fails with a bare "must be ..." message (load_table adds
// the place).
using applier = std::function<status(const toml::node&, target&)>;

// One key of the file: its place, its type, its default and what it does, and how it is applied.
struct key_spec {
  std::string_view table, key;
  std::string_view type;  // as docs/configuration.md names it
  std::string default_toml;  // the default as TOML ("" = none: the example shows `example`, commented)
  std::string_view example;
  std::string_view help;
  bool commented = false;  // the example leaves it commented out (its default depends on the command)
  applier apply;
};

// A refusal that names the place: "FILE:LINE: <what>".
error refused(const std::string& file, const toml::source_region& where, const std::string& what) {
  return make_error(errc::invalid_argument, file + ":" + std::to_string(where.begin.line) + ": " + what);
}

std::string joined(const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "true or false";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
  }
}

status must(const std::string& what) { return make_error(errc::invalid_argument, what); }

template <auto Member>
key_spec text(std::string_view table, std::string_view key, std::string_view help, std::string_view example = {},
              std::vector<std::string_view> choices = {}) {
  applier apply = [choices](const toml::node& n, target& t) -> status {
    const auto* s = n.as_string();
    if (s == nullptr) return must("must be a string, not " + type_name(n));
    if (!choices.empty() && std::find(choices.begin(), choices.end(), s->get()) == choices.end()) {
      return must("must be one of " + joined(choices) + ", not " + toml_string(s->get()));
    }
    field<Member>(t) = s->get();
    return {};
  };
  const std::string def = default_of<Member>();
  return {table, key, choices.empty() ? "string" : "one of a set", def.empty() && !example.empty() ? "" : toml_string(def),
          example, help, false, std::move(apply)};
}

// A file path; relative to the assistant file's directory, and it must exist.
template <auto Member>
key_spec path(std::string_view table, std::string_view key, std::string_view help, std::string_view example) {
  applier apply = [](const toml::node& n, target& t) -> status {
    const auto* s = n.as_string();
    if (s == nullptr) return must("must be a file path (a string), not " + type_name(n));
    if (s->get().empty()) {
      field<Member>(t).clear();
      return {};
    }
    fs::path p(s->get());
    if (p.is_relative()) p = (t.dir / p).lexically_normal();
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return must("names " + toml_string(s->get()) + ", which is not a file (looked for " + p.string() + ")");
    field<Member>(t) = p.string();
    return {};
  };
  return {table, key, "path", "", example, help, false, std::move(apply)};
}

template <auto Member>
key_spec integer(std::string_view table, std::string_view key, std::string_view help, long long lo, long long hi) {
  applier apply = [lo, hi](const toml::node& n, target& t) -> status {
    const auto* i = n.as_integer();
    if (i == nullptr) return must("must be an integer, not " + type_name(n));
    if (i->get() < lo || i->get() > hi) {
      return must("must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", not " + std::to_string(i->get()));
    }
    field<Member>(t) = static_cast<std::remove_reference_t<decltype(field<Member>(t))>>(i->get());
    return {};
  };
  return {table, key, "integer", std::to_string(default_of<Member>()), "", help, false, std::move(apply)};
}

std::optional<double> number_of(const toml::node& n) {
  if (const auto* f = n.as_floating_point()) return f->get();
  if (const auto* i = n.as_integer()) return static_cast<double>(i->get());
  return std::nullopt;
}

// A number (an integer is one too); Member may be a double or an optional<double>.
template <auto Member>
key_spec number(std::string_view table, std::string_view key, std::string_view help, double lo, double hi,
                std::string_view example = {}) {
  applier apply = [lo, hi](const toml::node& n, target& t) -> status {
    const auto v = number_of(n);
    if (!v) return must("must be a number, not " + type_name(n));
    if (!(*v >= lo && *v <= hi)) return must("must be between " + number_text(lo) + " and " + number_text(hi) + ", not " + number_text(*v));
    field<Member>(t) = *v;
    return {};
  };
  std::string def;
  if constexpr (std::is_same_v<decltype(default_of<Member>()), double>) def = number_text(default_of<Member>());
  return {table, key, "number", def, example, help, false, std::move(apply)};
}

template <auto Member>
key_spec boolean(std::string_view table, std::string_view key, std::string_view help, bool commented = false) {
  applier apply = [](const toml::node& n, target& t) -> status {
    const auto* b = n.as_boolean();
    if (b == nullptr) return must("must be true or false, not " + type_name(n));
    field<Member>(t) = b->get();
    return {};
  };
  return {table, key, "boolean", default_of<Member>() ? "true" : "false", "", help, commented, std::move(apply)};
}

// Extra HTTP headers: a table of header name → the environment variable holding its value.
template <auto Member>
key_spec headers(std::string_view table, std::string_view key, std::string_view help, std::string_view example) {
  applier apply = [](const toml::node& n, target& t) -> status {
    const auto* tbl = n.as_table();
    if (tbl == nullptr) return must("must be a table of header = \"ENVIRONMENT_VARIABLE\", not " + type_name(n));
    auto& out = field<Member>(t);
    out.clear();
    for (const auto& [name, value] : *tbl) {
      const auto* env = value.as_string();
      if (env == nullptr || env->get().empty()) {
        return must("\"" + std::string(name.str()) + "\" must name an environment variable (a string)");
      }
      out.emplace_back(std::string(name.str()), env->get());
    }
    return {};
  };
  return {table, key, "table", "", example, help, false, std::move(apply)};
}

// A JSON Schema: a TOML table (written as JSON) or a string holding JSON; an object either way.
template <auto Member>
key_spec json_schema(std::string_view table, std::string_view key, std::string_view help, std::string_view example) {
  applier apply = [](const toml::node& n, target& t) -> status {
    std::string text;
    if (const auto* tbl = n.as_table()) {
      std::ostringstream out;
      out << toml::json_formatter{*tbl};
      text = out.str();
    } else if (const auto* str = n.as_string()) {
      text = str->get();
    } else {
      return must("must be a JSON Schema: a table, or a string holding JSON, not " + type_name(n));
    }
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (!parsed.is_object()) return must("must be a JSON Schema object");
    field<Member>(t) = parsed.dump();
    return {};
  };
  return {table, key, "table", "", example, help, true, std::move(apply)};
}

const std::vector<key_spec>& keys() {
  static const std::vector<key_spec> specs = [] {
    using e = engine_choice;
    using p = pipeline_flags;
    std::vector<key_spec> k;
    // [assistant]
    k.push_back(text<&e::assistant_name>("assistant", "name", "what the web page calls the assistant"));
    k.push_back(text<&e::greeting>("assistant", "greeting",
                                   "said when a live session starts (serve; the user may talk over it); \"\": none"));
    k.push_back(text<&e::system_prompt>("assistant", "persona", "the LLM's instructions (system prompt): who it is and how it speaks"));
    k.push_back(text<&e::fallback_reply>("assistant", "fallback_reply",
                                         "said to what neither the local responder nor an LLM can answer; \"\": one naming "
                                         "what it can do, with the FAQ's topic"));
    k.push_back(text<&e::voice>("assistant", "voice",
                                "TTS voice: a flite voice (rms, slt, awb, kal16, kal) or espeak:LANG; \"\": rms"));
    // [knowledge]
    k.push_back(path<&e::faq_path>("knowledge", "faq",
                                   "the FAQ the local responder answers from (data/README.md); unset: the bundled store example",
                                   "\"faq.json\""));
    k.push_back(boolean<&e::intents>("knowledge", "intents",
                                    "the local responder's built-in intents: time, date, timers, sums and unit conversions; "
                                    "false: only the FAQ and the conversational basics (greetings, thanks, stop, repeat) "
                                    "answer locally"));
    // [llm]
    k.push_back(text<&e::llm_url>("llm", "url",
                                  "an OpenAI-compatible server's API root; turns the local responder cannot answer go "
                                  "there (docs/providers.md); unset: none",
                                  "\"http://127.0.0.1:8080/v1\""));
    k.push_back(text<&e::llm_model>("llm", "model", "the model name as the server knows it", "\"llama-3.1-8b-instruct\""));
    k.push_back(text<&e::llm_key_env>("llm", "key_env", "environment variable holding the server's API key"));
    k.push_back(integer<&e::llm_max_tokens>("llm", "max_tokens", "the longest reply the server may write, in tokens", 1, 32768));
    k.push_back(number<&e::llm_temperature>("llm", "temperature", "sampling temperature; unset: the server's default", 0.0, 2.0,
                                            "0.7"));
    k.push_back(headers<&e::llm_headers>("llm", "headers", "extra request headers, each from an environment variable (never logged)",
                        "{ \"OpenAI-Organization\" = \"OPENAI_ORG_ID\" }"));
    k.push_back(text<&e::llm_tier>("llm", "tier",
                                   "local: the server runs on this machine (personal data may go there); cloud: it does not",
                                   {}, {"local", "cloud"}));
    k.push_back(text<&e::llm_fallback_url>("llm", "fallback_url",
                                           "a second server with the same model, used when the first fails before its "
                                           "first token; unset: none",
                                           "\"http://127.0.0.1:8081/v1\""));
    k.push_back(number<&e::hedge_ms>("llm", "hedge_ms",
                                     "with fallback_url: no first token after this long → ask the second too (0: no hedging)",
                                     0.0, 60000.0));
    k.push_back(number<&e::hedge_budget>("llm", "hedge_budget", "hedges may add at most this fraction of requests (0: no limit)",
                                         0.0, 1.0));
    k.push_back(number<&e::llm_first_token_budget_ms>(
        "llm", "first_token_budget_ms",
        "a tier whose recent p95 first token is later is avoided; a turn waiting longer plays a filler", 1.0, 600000.0));
    // [speech]
    k.push_back(text<&e::asr_url>("speech", "asr_url",
                                  "an OpenAI-compatible speech-to-text API root; each utterance goes there first (http(s): "
                                  "posted to /audio/transcriptions when the turn ends; ws(s): streamed while spoken to a "
                                  "Realtime transcription session at /realtime), the embedded recognizer is its fallback; "
                                  "unset: none",
                                  "\"https://api.openai.com/v1\""));
    k.push_back(text<&e::asr_model>("speech", "asr_model", "the recognizer's model name"));
    k.push_back(number<&e::asr_budget_ms>("speech", "asr_budget_ms",
                                          "no transcript this long after the turn ended → the embedded recognizer", 1.0,
                                          600000.0));
    k.push_back(text<&e::tts_url>("speech", "tts_url",
                                  "an OpenAI-compatible text-to-speech API root (POST /audio/speech); the embedded voice is "
                                  "its fallback; unset: none",
                                  "\"https://api.openai.com/v1\""));
    k.push_back(text<&e::tts_model>("speech", "tts_model", "the voice model's name"));
    k.push_back(text<&e::tts_voice>("speech", "tts_voice", "the voice's name"));
    k.push_back(number<&e::tts_budget_ms>("speech", "tts_budget_ms",
                                          "no audio this long after a sentence was sent → the embedded voice says it", 1.0,
                                          600000.0));
    k.push_back(text<&e::speech_key_env>("speech", "key_env", "environment variable holding the speech provider's API key"));
    // [local_model]
    k.push_back(path<&e::model_path>("local_model", "path",
                                     "a GGUF model run in-process by llama.cpp as the local LLM tier; unset: none",
                                     "\"models/qwen2.5-0.5b-instruct-q4_k_m.gguf\""));
    k.push_back(integer<&e::model_ctx>("local_model", "ctx", "context window per session, in tokens", 256, 1 << 20));
    k.push_back(integer<&e::model_threads>("local_model", "threads", "decoding threads (0: one per core)", 0, 1024));
    k.push_back(integer<&e::model_max_tokens>("local_model", "max_tokens", "the longest reply, in tokens", 1, 1 << 16));
    // [cache]
    k.push_back(text<&e::cache>("cache", "kind",
                                "response cache of LLM replies (text and audio): off, memory, or redis (memory in front of "
                                "a Redis shared by several instances)",
                                {}, {"off", "memory", "redis"}));
    k.push_back(text<&e::redis>("cache", "redis", "HOST:PORT of the shared Redis (kind = \"redis\")"));
    k.push_back(text<&e::cache_embedder>("cache", "embedder",
                                         "what compares queries for semantic hits: ngram, a GGUF embedding model file, "
                                         "or an embeddings server's API root"));
    k.push_back(text<&e::cache_embedder_model>("cache", "embedder_model", "with an embeddings server: the model name",
                                               "\"bge-small-en-v1.5\""));
    k.push_back(number<&e::cache_threshold>("cache", "threshold",
                                            "semantic hit threshold (cosine) of static replies; 0: the embedder's own "
                                            "(n-gram: 0.675)",
                                            0.0, 1.0));
    // [privacy]
    k.push_back(text<&e::privacy>("privacy", "policy",
                                  "turns holding personal data: pii_local_only keeps them on this machine; allow_cloud "
                                  "lets them reach a cloud LLM (never cached either way)",
                                  {}, {"pii_local_only", "allow_cloud"}));
    // [turn_taking]
    k.push_back(text<&p::turn_taking>("turn_taking", "preset",
                                      "content-aware endpointing: quick, conversational or patient; off: the fixed silence_ms",
                                      {}, {"off", "quick", "conversational", "patient"}));
    k.push_back(number<&p::silence_ms>("turn_taking", "silence_ms", "with preset = \"off\": the silence that ends a turn (ms)",
                                       50.0, 5000.0));
    k.push_back(boolean<&p::barge_in>("turn_taking", "barge_in",
                                      "the user's speech over a reply cuts it (default: on for serve, off for run and bench)",
                                      /*commented=*/true));
    k.push_back(number<&p::barge_in_min_ms>("turn_taking", "barge_in_min_ms", "speech must last this long before it cuts (ms)",
                                            0.0, 10000.0));
    k.push_back(number<&p::merge_window_ms>("turn_taking", "merge_window_ms",
                                            "speech resuming within this long after a turn ended continues it: the "
                                            "reply is withdrawn, the whole is answered (ms; 0: off)",
                                            0.0, 10000.0));
    k.push_back(number<&p::merge_max_heard_ms>("turn_taking", "merge_max_heard_ms",
                                               "... unless that reply was already heard for longer than this (ms)", 0.0,
                                               10000.0));
    k.push_back(number<&p::preempt_after_ms>("turn_taking", "preempt_after_ms",
                                             "after this much silence a reply to the words so far starts, held until "
                                             "the turn ends with the same words (ms; 0: off)",
                                             0.0, 10000.0));
    k.push_back(number<&p::resume_within_ms>("turn_taking", "resume_within_ms",
                                             "with barge-in: speech that cut a reply but held no words (or only "
                                             "\"uh-huh\") resumes it if known within this long (ms; 0: off)",
                                             0.0, 60000.0));
    // [latency]
    k.push_back(boolean<&e::fillers>("latency", "fillers",
                                     "play a filler phrase (\"One moment.\") when a budget runs out; breaches are noted either way"));
    k.push_back(number<&e::ttfa_budget_ms>("latency", "ttfa_budget_ms", "a turn whose TTFA is over this is noted as a breach (0: off)",
                                           0.0, 600000.0));
    k.push_back(number<&e::tool_budget_ms>("latency", "tool_budget_ms",
                                           "a tool call running longer announces itself (\"Let me check.\"); 0: off", 0.0,
                                           600000.0));
    // [audio]
    k.push_back(integer<&p::vad_aggressiveness>("audio", "vad_aggressiveness",
                                                "WebRTC VAD mode: 0 hears speech most readily .. 3 rejects non-speech most", 0, 3));
    k.push_back(integer<&p::noise_suppression>("audio", "noise_suppression",
                                               "noise suppression level for the VAD: 0 low .. 3 very high, -1 off", -1, 3));
    k.push_back(number<&p::snr_gate_db>("audio", "snr_gate_db",
                                        "a voiced 10 ms step must stand this far above the noise floor (dB; 0: off)", 0.0, 40.0));
    k.push_back(number<&p::asr_denoise_below_snr_db>(
        "audio", "asr_denoise_below_snr_db",
        "per turn, the recognizer hears the noise-suppressed audio below this input SNR (dB; 0: never)", 0.0, 100.0));
    // [[tools]]: one table per tool (load_tools)
    using tc = tool_choice;
    k.push_back(text<&tc::name>("tools", "name", "(required) the tool's name as the model calls it: letters, digits, _ or -",
                                "\"book_table\""));
    k.push_back(text<&tc::description>("tools", "description", "(required) what it does and when to call it, for the model",
                                       "\"Books a table at the restaurant.\""));
    k.push_back(json_schema<&tc::parameters>(
        "tools", "parameters",
        "JSON Schema of the arguments (type, properties, required, enum, minimum/maximum, min/maxLength, items, "
        "additionalProperties = false are checked before the call); unset: no arguments",
        "{ type = \"object\", required = [\"time\", \"party_size\"], properties = { time = { type = \"string\" }, "
        "party_size = { type = \"integer\", minimum = 1, maximum = 8 } } }"));
    k.push_back(text<&tc::url>("tools", "url", "(required) the endpoint, http(s)://host[:port]/path",
                               "\"http://127.0.0.1:9000/bookings\""));
    k.push_back(text<&tc::method>("tools", "method",
                                  "POST, PUT or PATCH send the arguments as a JSON body; GET as the query string", {},
                                  {"GET", "POST", "PUT", "PATCH"}));
    k.push_back(integer<&tc::timeout_ms>("tools", "timeout_ms",
                                         "a call that has not answered by then fails, and the model is told so", 1, 120000));
    k.push_back(headers<&tc::headers>("tools", "headers", "request headers, each from an environment variable (never logged)",
                                      "{ \"Authorization\" = \"BOOKING_API_AUTH\" }"));
    return k;
  }();
  return specs;
}

std::vector<std::string_view> table_names() {
  std::vector<std::string_view> names;
  for (const auto& k : keys()) {
    if (names.empty() || names.back() != k.table) names.push_back(k.table);
  }
  return names;
}

// The keys of one table ([assistant], or one [[tools]] entry) into `t`.
status load_table(const std::string& file, const std::string& table, const toml::table& tbl, target& t) {
  for (const auto& [key, value] : tbl) {
    const auto spec = std::find_if(keys().begin(), keys().end(),
                                   [&](const key_spec& s) { return s.table == table && s.key == key.str(); });
    if (spec == keys().end()) {
      std::vector<std::string_view> names;
      for (const auto& s : keys()) {
        if (s.table == table) names.push_back(s.key);
      }
      return refused(file, key.source(),
                     "unknown key '" + std::string(key.str()) + "' in [" + table + "] (its keys: " + joined(names) + ")");
    }
    if (auto s = spec->apply(value, t); !s) {
      return refused(file, value.source(), table + "." + std::string(key.str()) + " " + s.error().message);
    }
  }
  return {};
}

// [[tools]]: an array of tables, each a tool with a name, a description and a URL.
status load_tools(const std::string& file, const toml::source_region& where, const toml::node& node, target& t) {
  const auto* list = node.as_array();
  if (list == nullptr || !list->is_array_of_tables()) {
    return refused(file, where, "tools must be tables: [[tools]], one per tool");
  }
  t.engines.tools.clear();
  for (const auto& entry : *list) {
    tool_choice tool;
    t.tool = &tool;
    const auto s = load_table(file, "tools", *entry.as_table(), t);
    t.tool = nullptr;
    if (!s) return s;
    if (tool.name.empty() || tool.description.empty() || tool.url.empty()) {
      return refused(file, entry.source(), "a [[tools]] entry needs a name, a description and a url");
    }
    const auto same = std::find_if(t.engines.tools.begin(), t.engines.tools.end(), [&](const tool_choice& o) { return o.name == tool.name; });
    if (same != t.engines.tools.end()) {
      return refused(file, entry.source(), "a second tool named " + tool.name);
    }
    t.engines.tools.push_back(std::move(tool));
  }
  return {};
}

}  // namespace

status load_assistant_file(const std::string& file, engine_choice& engines, pipeline_flags& pipeline) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    return make_error(errc::invalid_argument, "assistant file " + file + ": no such file (`parley init " + file + "` writes one)");
  }
  toml::table root;
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    return make_error(errc::invalid_argument, file + ":" + std::to_string(e.source().begin.line) + ":" +
                                                  std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  const fs::path dir = fs::absolute(fs::path(file)).parent_path();
  target t{engines, pipeline, dir};
  const auto tables = table_names();
  for (const auto& [table_key, table_node] : root) {
    const std::string table(table_key.str());
    if (std::find(tables.begin(), tables.end(), table) == tables.end()) {
      return refused(file, table_key.source(),
                     "unknown " + (table_node.is_table() ? "table [" + table + "]" : "key '" + table + "'") +
                         " (the file's tables: " + joined(tables) + ")");
    }
    if (table == "tools") {
      if (auto s = load_tools(file, table_key.source(), table_node, t); !s) return s;
      continue;
    }
    const auto* tbl = table_node.as_table();
    if (tbl == nullptr) {
      return refused(file, table_key.source(), table + " must be a table ([" + table + "]), not " + type_name(table_node));
    }
    if (auto s = load_table(file, table, *tbl, t); !s) return s;
  }
  return {};
}

std::string example_assistant_file() {
  std::string out =
      "# A parley assistant file: `parley run|serve|bench|doctor --assistant THIS_FILE`.\n"
      "# Every key is optional and shown at its default; command-line flags override the file.\n"
      "# Relative paths are relative to this file. The key reference: docs/configuration.md.\n";
  std::string_view table;
  for (const auto& k : keys()) {
    const bool tools = k.table == "tools";  // an example tool, all commented out
    if (k.table != table) {
      table = k.table;
      out += tools ? "\n# Tools the LLM server may call: HTTP endpoints of yours. One [[tools]] table per tool.\n# [[tools]]\n"
                   : "\n[" + std::string(table) + "]\n";
    }
    out += "# " + std::string(k.help) + "\n";
    const bool set = !k.default_toml.empty() && !k.commented && !tools;
    out += (set ? "" : "# ") + std::string(k.key) + " = " + (k.default_toml.empty() ? std::string(k.example) : k.default_toml) + "\n";
  }
  return out;
}

std::string assistant_keys_markdown() {
  std::string out = "| key | type | default | what it does |\n|---|---|---|---|\n";
  for (const auto& k : keys()) {
    std::string def = k.default_toml.empty() ? "unset" : "`" + k.default_toml + "`";
    std::string help(k.help);
    for (std::size_t i = 0; (i = help.find('|', i)) != std::string::npos; i += 2) help.replace(i, 1, "\\|");
    out += "| `" + std::string(k.table) + (k.table == "tools" ? "[]." : ".") + std::string(k.key) + "` | " + std::string(k.type) + " | " + def + " | " + help + " |\n";
  }
  return out;
}

std::string assistant_file_argument(int argc, const char* const* argv) {
  constexpr std::string_view flag = "--assistant";
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == flag && i + 1 < argc) return argv[i + 1];
    if (arg.size() > flag.size() + 1 && arg.substr(0, flag.size() + 1) == "--assistant=") return std::string(arg.substr(flag.size() + 1));
  }
  return {};
}

}  // namespace parley::app
