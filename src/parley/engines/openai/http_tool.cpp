#include "parley/engines/openai/http_tool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <future>
#include <nlohmann/json.hpp>

#include "parley/engines/openai/http_pool.hpp"

namespace parley::openai {

using namespace detail;  // NOLINT: asio, beast, http aliases of this adapter
using nlohmann::json;

namespace {

using reply_promise = std::promise<result<std::string>>;

bool is_type(const json& v, std::string_view type) {
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_number_integer() || (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>());
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return true;  // an unknown type name constrains nothing
}

std::optional<std::string> check_at(const json& schema, const json& value, const std::string& where) {
  if (!schema.is_object()) return std::nullopt;
  const std::string at = where.empty() ? "" : where + ": ";
  if (const auto t = schema.find("type"); t != schema.end()) {
    std::vector<std::string> types;
    if (t->is_string()) types.push_back(t->get<std::string>());
    if (t->is_array()) {
      for (const auto& x : *t) {
        if (x.is_string()) types.push_back(x.get<std::string>());
      }
    }
    if (!types.empty() && std::none_of(types.begin(), types.end(), [&](const std::string& ty) { return is_type(value, ty); })) {
      std::string names;
      for (const auto& ty : types) names += (names.empty() ? "" : " or ") + ty;
      return at + "must be " + (types.size() == 1 && (names[0] == 'a' || names[0] == 'i' || names[0] == 'o') ? "an " : "a ") + names;
    }
  }
  if (const auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
    if (std::find(e->begin(), e->end(), value) == e->end()) return at + "must be one of " + e->dump();
  }
  if (value.is_number()) {
    const double v = value.get<double>();
    if (const auto m = schema.find("minimum"); m != schema.end() && m->is_number() && v < m->get<double>()) {
      return at + "must be at least " + m->dump();
    }
    if (const auto m = schema.find("maximum"); m != schema.end() && m->is_number() && v > m->get<double>()) {
      return at + "must be at most " + m->dump();
    }
  }
  if (value.is_string()) {
    const auto n = value.get_ref<const std::string&>().size();
    if (const auto m = schema.find("minLength"); m != schema.end() && m->is_number_unsigned() && n < m->get<std::size_t>()) {
      return at + "must be at least " + m->dump() + " characters long";
    }
    if (const auto m = schema.find("maxLength"); m != schema.end() && m->is_number_unsigned() && n > m->get<std::size_t>()) {
      return at + "must be at most " + m->dump() + " characters long";
    }
  }
  if (value.is_object()) {
    const auto props = schema.find("properties");
    if (const auto r = schema.find("required"); r != schema.end() && r->is_array()) {
      for (const auto& name : *r) {
        if (name.is_string() && !value.contains(name.get<std::string>())) {
          return (where.empty() ? "" : where + ".") + name.get<std::string>() + ": is required";
        }
      }
    }
    for (const auto& [name, member] : value.items()) {
      const std::string path = where.empty() ? name : where + "." + name;
      if (props != schema.end() && props->is_object() && props->contains(name)) {
        if (auto why = check_at((*props)[name], member, path)) return why;
      } else if (const auto extra = schema.find("additionalProperties"); extra != schema.end() && *extra == false) {
        return path + ": is not a parameter of this tool";
      }
    }
  }
  if (value.is_array()) {
    if (const auto items = schema.find("items"); items != schema.end()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (auto why = check_at(*items, value[i], where + "[" + std::to_string(i) + "]")) return why;
      }
    }
  }
  return std::nullopt;
}

std::string percent_encoded(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The arguments as a query string ("?a=1&b=x"); flat scalars only.
result<std::string> query_of(const json& args) {
  std::string q;
  for (const auto& [name, v] : args.items()) {
    if (v.is_object() || v.is_array()) {
      return make_error(errc::invalid_argument, name + ": a GET tool takes flat arguments only");
    }
    const std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
    q += (q.empty() ? "?" : "&") + percent_encoded(name) + "=" + percent_encoded(text);
  }
  return q;
}

struct tool_state {
  http_tool_config config;
  json schema;
  http::verb verb = http::verb::post;
  std::unique_ptr<provider_client> client;
};

// Runs on the client's network thread. It holds no reference to the tool's state: the client's
// destructor waits for its coroutines, so the client outlives this frame (were the last reference
// dropped here, the client would join its own thread).
asio::awaitable<void> call_endpoint(provider_client& client, http::verb verb, const http_tool_config& cfg,
                                    std::string target, std::string body, std::shared_ptr<reply_promise> done) {
  auto req = client.make_post("", std::move(body), /*event_stream=*/false);
  req.method(verb);
  req.target(target);
  if (verb == http::verb::get) {
    req.erase(http::field::content_type);
    req.body().clear();
    req.prepare_payload();
  }
  fetched r = co_await client.fetch(std::move(req), cfg.timeout_ms, cfg.max_result_bytes);
  switch (r.failed) {
    case fetched::failure::none:
      break;
    case fetched::failure::connect:
      done->set_value(make_error(r.why.code, "the tool's endpoint cannot be reached: " + r.why.message));
      co_return;
    case fetched::failure::timeout:
      done->set_value(make_error(errc::timeout, "the tool did not answer within " + std::to_string(cfg.timeout_ms) + " ms"));
      co_return;
    case fetched::failure::too_long:
      done->set_value(make_error(errc::engine_failure,
                                 "the tool's reply is longer than " + std::to_string(cfg.max_result_bytes) + " bytes"));
      co_return;
    case fetched::failure::io:
      done->set_value(make_error(errc::unavailable, "the tool's endpoint failed: " + r.why.message));
      co_return;
  }
  if (r.status < 200 || r.status >= 300) {
    done->set_value(make_error(r.status >= 500 ? errc::unavailable : errc::engine_failure,
                               "the tool failed: " + http_error_text(r.status, r.body)));
    co_return;
  }
  done->set_value(r.body.empty() ? std::string("done") : std::move(r.body));
}

result<std::string> call(const std::shared_ptr<tool_state>& st, std::string_view arguments_json) {
  json args = arguments_json.empty() ? json::object() : json::parse(arguments_json, nullptr, false);
  if (args.is_discarded()) return make_error(errc::invalid_argument, "the arguments are not JSON");
  if (auto why = check_json_schema(st->schema, args)) {
    return make_error(errc::invalid_argument, "the arguments do not match the tool's parameters: " + *why);
  }
  const auto& base = st->client->where().base_path;
  std::string target = base.empty() ? "/" : base;
  std::string body;
  if (st->verb == http::verb::get) {
    auto q = query_of(args);
    if (!q) return q.error();
    target += *q;
  } else {
    body = args.dump();
  }
  auto done = std::make_shared<reply_promise>();
  auto reply = done->get_future();
  asio::co_spawn(st->client->io(), call_endpoint(*st->client, st->verb, st->config, std::move(target), std::move(body), done),
                 asio::detached);
  // The socket's own deadline ends the call; this bound only guards against a stuck thread.
  if (reply.wait_for(std::chrono::milliseconds(st->config.timeout_ms + st->client->config().connect_timeout_ms + 1000)) !=
      std::future_status::ready) {
    return make_error(errc::timeout, "the tool did not answer within " + std::to_string(st->config.timeout_ms) + " ms");
  }
  return reply.get();
}

}  // namespace

std::optional<std::string> check_json_schema(const json& schema, const json& value) { return check_at(schema, value, ""); }

result<tool> make_http_tool(http_tool_config config) {
  const bool good_name = !config.name.empty() && config.name.size() <= 64 &&
                         std::all_of(config.name.begin(), config.name.end(), [](unsigned char c) {
                           return std::isalnum(c) || c == '_' || c == '-';
                         });
  if (!good_name) {
    return make_error(errc::invalid_argument, "tool name '" + config.name + "': use 1-64 letters, digits, _ or -");
  }
  auto st = std::make_shared<tool_state>();
  st->schema = json::parse(config.parameters_schema, nullptr, false);
  if (!st->schema.is_object()) {
    return make_error(errc::invalid_argument, "tool " + config.name + ": its parameters must be a JSON Schema object");
  }
  const std::string method = config.method;
  if (method == "POST") {
    st->verb = http::verb::post;
  } else if (method == "PUT") {
    st->verb = http::verb::put;
  } else if (method == "PATCH") {
    st->verb = http::verb::patch;
  } else if (method == "GET") {
    st->verb = http::verb::get;
  } else {
    return make_error(errc::invalid_argument, "tool " + config.name + ": method must be GET, POST, PUT or PATCH, not " + method);
  }
  if (config.timeout_ms <= 0) return make_error(errc::invalid_argument, "tool " + config.name + ": timeout must be positive");
  provider_config provider;
  provider.base_url = config.url;
  provider.api_key_env.clear();  // a tool's credentials are its headers
  provider.headers = config.headers;
  provider.name = "tool:" + config.name;
  provider.connect_timeout_ms = std::min(config.timeout_ms, provider.connect_timeout_ms);
  auto client = provider_client::create(std::move(provider));
  if (!client) return make_error(client.error().code, "tool " + config.name + ": " + client.error().message);
  st->client = std::move(*client);
  tool t;
  t.name = config.name;
  t.description = config.description;
  t.parameters_schema = config.parameters_schema;
  st->config = std::move(config);
  t.run = [st](std::string_view arguments_json) { return call(st, arguments_json); };
  // The client outlives its coroutines (its destructor waits for them): a raw pointer, so the
  // last reference to the tool is never dropped on its own network thread.
  t.warm = [client = st->client.get()](std::function<void(status)> done) {
    asio::co_spawn(
        client->io(), [client]() -> asio::awaitable<status> { co_return co_await client->warm(); },
        [done = std::move(done)](std::exception_ptr e, status s) {
          if (!done) return;
          done(e ? status(make_error(errc::internal, "warm-up failed unexpectedly")) : std::move(s));
        });
  };
  return t;
}

}  // namespace parley::openai
