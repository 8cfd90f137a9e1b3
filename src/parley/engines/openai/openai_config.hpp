// engines/openai/openai_config — configuration of an OpenAI-compatible provider, and tools.
//
// Role: plain settings for `openai_chat_model` and `openai_embedder` (see docs/providers.md for
// llama-server, vLLM, Ollama, Groq and OpenAI). The API key is a secret: it is sent only in the
// Authorization header and never appears in describe(), logs or error messages.
// Threading: value types. A `tool::run` may be called from a tool worker thread (never the
// network thread) and must be safe to call from any thread.
// Units: durations in milliseconds (`_ms`), sizes in bytes.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::openai {

/// A function the model may call. `parameters_schema` is a JSON Schema text for the arguments
/// (an object schema), sent as-is; `run` gets the model's arguments as a JSON text and returns
/// the result text handed back to the model (usually JSON). A returned error is reported to the
/// model as the tool's result ("error: ..."), not to the caller.
struct tool {
  std::string name;
  std::string description;
  std::string parameters_schema = R"({"type":"object","properties":{}})";
  std::function<result<std::string>(std::string_view arguments_json)> run;
  /// Opens (and TLS-handshakes) a connection to the tool's endpoint ahead of the first call and
  /// reports whether it could (the start-up check, `parley doctor`); `done` runs on the tool's
  /// network thread. Empty: the tool has nothing to open.
  std::function<void(std::function<void(status)> done)> warm;
};

/// Where and how to reach one provider (shared by the chat model and the embedder).
struct provider_config {
  /// API root including the version path, e.g. "https://api.openai.com/v1" or
  /// "http://127.0.0.1:8080/v1"; requests go to base_url + "/chat/completions" etc.
  std::string base_url = "http://127.0.0.1:8080/v1";
  /// The key itself; when empty it is read from the environment variable `api_key_env` at
  /// construction. No key at all is fine for local servers (no Authorization header is sent).
  std::string api_key;
  std::string api_key_env = "OPENAI_API_KEY";
  /// Extra request headers (e.g. {"OpenAI-Organization", "..."}); never logged.
  std::vector<std::pair<std::string, std::string>> headers;
  /// A name for logs and metrics; "" means "openai@<host>".
  std::string name;

  int connect_timeout_ms = 3000;   // DNS + TCP connect + TLS handshake
  /// Idle keep-alive connections kept per provider (more may be open while many requests run
  /// at once; those are closed when done instead of pooled).
  std::size_t pool_size = 4;

  /// TLS: verify the server certificate against the system CAs (and `ca_file` if set). Turning
  /// verification off is for tests only.
  bool tls_verify = true;
  std::string ca_file;  // extra PEM CA bundle (e.g. a private CA or a test's self-signed cert)

  /// The key actually used: api_key, else getenv(api_key_env), else "".
  std::string resolve_api_key() const;
  /// A one-line, secret-free description ("openai@api.groq.com https, key set").
  std::string describe() const;
};

struct chat_config {
  provider_config provider;
  std::string model;                 // as the provider names it, e.g. "gpt-4o-mini"
  std::optional<int> max_tokens;     // request default; chat_request::max_tokens overrides
  std::optional<double> temperature; // request default; chat_request::temperature overrides

  int first_token_timeout_ms = 10000;  // request sent -> first token (or tool-call fragment)
  int inter_token_timeout_ms = 5000;   // longest gap between tokens once streaming
  /// Retries of one request, only before its first token: 429 (waits Retry-After, capped by
  /// max_retry_after_ms), 5xx, connection refused/reset (backoff_ms, doubling). Never after text
  /// has streamed. A pooled connection the server had closed is replaced without counting.
  int max_retries = 2;
  int backoff_ms = 100;
  int max_retry_after_ms = 10000;

  std::vector<tool> tools;
  /// Request/tool rounds per stream() call; when the model still wants tools after this many,
  /// the stream ends with an engine_failure.
  int max_tool_rounds = 4;
};

struct embedder_config {
  provider_config provider;
  std::string model;           // e.g. "text-embedding-3-small", "nomic-embed-text"
  std::size_t dims = 0;        // expected dimensions; 0 = learn from the first reply
  int request_timeout_ms = 5000;  // connect excluded (see provider.connect_timeout_ms)
};

}  // namespace parley::openai
