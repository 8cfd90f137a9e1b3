// engines/openai/http_tool — a tool the LLM may call (OpenAI function calling) that is an HTTP
// endpoint of the application: "look up my order", "book a table".
//
// Role: make_http_tool() turns a declaration (name, description, JSON Schema of the arguments,
// URL, method, timeout, headers) into an openai::tool whose run() checks the model's arguments
// against the schema, calls the endpoint and returns its reply for the model to speak from.
// Arguments that are not JSON or break the schema are refused without calling the endpoint; an
// endpoint that fails (non-2xx, refused, no reply within the timeout) is an error. Either way the
// chat model hands the model "error: <why>" as the tool's result, so the reply can say so
// honestly; nothing ever waits longer than the timeout.
// The request: POST/PUT/PATCH send the arguments as the JSON body; GET sends them as the query
// string (flat scalars only). The reply body (up to max_result_bytes) goes to the model as it is.
// Threading: run() blocks (the chat model runs tools on its tool thread); each tool owns one
// keep-alive HTTP client with its own network thread. Thread-safe.
// Schema: the subset check_json_schema() implements (below); other keywords are ignored.
//
//   auto book = make_http_tool({.name = "book_table", .description = "Books a table",
//                               .parameters_schema = R"({"type":"object","required":["time"],...})",
//                               .url = "http://127.0.0.1:9000/bookings"});
//   chat_config.tools.push_back(*book);
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engines/openai/openai_config.hpp"

namespace parley::openai {

struct http_tool_config {
  std::string name;         // [a-zA-Z0-9_-], as the model calls it
  std::string description;  // what it does and when to call it, for the model
  std::string parameters_schema = R"({"type":"object","properties":{}})";  // JSON Schema (an object)
  std::string url;                 // http(s)://host[:port]/path, no query
  std::string method = "POST";     // POST, PUT, PATCH (JSON body) or GET (query string)
  int timeout_ms = 3000;           // connect + request + reply
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every call (values, never logged)
  std::size_t max_result_bytes = 16 * 1024;                  // a longer reply is an error
};

/// The tool, its client started (no connection yet). invalid_argument for a bad name, URL,
/// method, timeout or a schema that is not a JSON object.
result<tool> make_http_tool(http_tool_config config);

/// Checks `value` against `schema`: type (string, number, integer, boolean, object, array, null,
/// or a list of them), properties, required, additionalProperties: false, enum, items, minimum,
/// maximum, minLength, maxLength. Returns why it does not match ("party_size: must be an
/// integer"), or nullopt when it does.
std::optional<std::string> check_json_schema(const nlohmann::json& schema, const nlohmann::json& value);

}  // namespace parley::openai
