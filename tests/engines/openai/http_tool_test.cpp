// engines/openai/http_tool: a tool that is an HTTP endpoint (a scripted server on 127.0.0.1):
// arguments checked before any call, the reply handed back, every failure an error and no wait
// past the timeout.
#include "parley/engines/openai/http_tool.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_server.hpp"

namespace parley::openai {
namespace {

using testing::fake_conn;
using testing::fake_request;
using testing::fake_server;
using nlohmann::json;

constexpr auto k_booking_schema = R"({"type":"object","additionalProperties":false,
  "required":["time","party_size"],
  "properties":{"time":{"type":"string","minLength":4},"party_size":{"type":"integer","minimum":1,"maximum":8},
                "name":{"type":"string"}}})";

http_tool_config booking(const fake_server& server, std::string path = "/bookings") {
  return {.name = "book_table", .description = "Books a table", .parameters_schema = k_booking_schema,
          .url = server.base_url().substr(0, server.base_url().rfind("/v1")) + path};
}

TEST(http_tool, a_call_posts_the_arguments_and_returns_the_reply) {
  fake_server server([](fake_conn& conn, const fake_request&, int) { conn.respond(200, R"({"booked":true,"ref":"L-12"})"); });
  auto cfg = booking(server);
  cfg.headers = {{"X-Api-Key", "secret"}};
  auto t = make_http_tool(cfg);
  ASSERT_TRUE(t) << t.error().describe();
  const auto r = t->run(R"({"time":"19:30","party_size":4})");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(*r, R"({"booked":true,"ref":"L-12"})");
  ASSERT_EQ(server.n_requests(), 1);
  const auto req = server.requests()[0];
  EXPECT_EQ(req.target, "/bookings");
  EXPECT_EQ(req.json(), json::parse(R"({"time":"19:30","party_size":4})"));
  EXPECT_EQ(req.headers.at("x-api-key"), "secret");
  EXPECT_TRUE(req.authorization.empty()) << "no LLM key ever goes to a tool";
}

TEST(http_tool, arguments_that_break_the_schema_are_refused_without_a_call) {
  fake_server server([](fake_conn& conn, const fake_request&, int) { conn.respond(200, "{}"); });
  auto t = make_http_tool(booking(server));
  ASSERT_TRUE(t);
  const std::pair<const char*, const char*> cases[] = {
      {R"({"time":"19:30"})", "party_size: is required"},
      {R"({"time":"19:30","party_size":"four"})", "party_size: must be an integer"},
      {R"({"time":"19:30","party_size":12})", "party_size: must be at most 8"},
      {R"({"time":"7","party_size":2})", "time: must be at least 4 characters long"},
      {R"({"time":"19:30","party_size":2,"table":"window"})", "table: is not a parameter of this tool"},
      {R"({"time":)", "the arguments are not JSON"},
  };
  for (const auto& [args, why] : cases) {
    const auto r = t->run(args);
    ASSERT_FALSE(r) << args;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << args << " → " << r.error().message;
  }
  EXPECT_EQ(server.n_requests(), 0);
}

TEST(http_tool, get_sends_the_arguments_as_the_query) {
  fake_server server([](fake_conn& conn, const fake_request&, int) { conn.respond(200, R"({"status":"shipped"})"); });
  auto cfg = booking(server, "/orders");
  cfg.method = "GET";
  cfg.parameters_schema = R"({"type":"object","properties":{"order":{"type":"string"}}})";
  auto t = make_http_tool(cfg);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->run(R"({"order":"A 17/b"})"));
  ASSERT_EQ(server.n_requests(), 1);
  EXPECT_EQ(server.requests()[0].target, "/orders?order=A%2017%2Fb");
}

TEST(http_tool, a_failing_slow_or_absent_endpoint_is_an_error_within_the_timeout) {
  fake_server failing([](fake_conn& conn, const fake_request&, int) { conn.respond(500, R"({"error":{"message":"db down"}})"); });
  auto t = make_http_tool(booking(failing));
  ASSERT_TRUE(t);
  auto r = t->run(R"({"time":"19:30","party_size":2})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("the tool failed: HTTP 500"), std::string::npos) << r.error().message;

  fake_server slow([](fake_conn& conn, const fake_request&, int) {
    conn.sleep_ms(3000);
    conn.respond(200, "{}");
  });
  auto cfg = booking(slow);
  cfg.timeout_ms = 200;
  auto s = make_http_tool(cfg);
  ASSERT_TRUE(s);
  r = s->run(R"({"time":"19:30","party_size":2})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::timeout);
  EXPECT_NE(r.error().message.find("did not answer within 200 ms"), std::string::npos) << r.error().message;

  http_tool_config absent{.name = "book_table", .url = "http://127.0.0.1:1/bookings", .timeout_ms = 500};
  auto a = make_http_tool(absent);
  ASSERT_TRUE(a);
  r = a->run("{}");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot be reached"), std::string::npos) << r.error().message;
}

TEST(http_tool, a_bad_declaration_is_refused) {
  EXPECT_FALSE(make_http_tool({.name = "book table", .url = "http://127.0.0.1:9/x"}));
  EXPECT_FALSE(make_http_tool({.name = "b", .parameters_schema = "[1]", .url = "http://127.0.0.1:9/x"}));
  EXPECT_FALSE(make_http_tool({.name = "b", .url = "ftp://127.0.0.1/x"}));
  EXPECT_FALSE(make_http_tool({.name = "b", .url = "http://127.0.0.1:9/x", .method = "DELETE"}));
}

}  // namespace
}  // namespace parley::openai
