// The realtime server end to end, HTTP: health, readiness and /metrics, static files, and the
// checks before the WebSocket upgrade (bearer token, Origin allowlist, HS256 JWT).
#include <gtest/gtest.h>

#include <jwt.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "server_fixture.hpp"

namespace parley::net {
namespace {

using namespace test;

TEST(server, bearer_token_is_checked_before_the_upgrade) {
  server_config config;
  config.bearer_token = "s3cret";
  test_server ts(config);
  ws_client none, wrong, header, query;
  EXPECT_EQ(none.connect(ts.port()), 401);
  EXPECT_EQ(wrong.connect(ts.port(), {.target = "/ws", .token = "guess", .origin = ""}), 401);
  EXPECT_EQ(header.connect(ts.port(), {.target = "/ws", .token = "s3cret", .origin = ""}), 0);
  EXPECT_EQ(query.connect(ts.port(), {.target = "/ws?access_token=s3cret", .token = "", .origin = ""}), 0);
  for (auto* c : {&header, &query}) {  // a round trip: the server has counted the session by then
    c->start();
    EXPECT_TRUE(c->read_until("session.created"));
  }
  EXPECT_EQ(ts.srv->stats().n_rejected_upgrades, 2u);
  EXPECT_EQ(ts.srv->stats().n_sessions_total, 2u);
}

TEST(server, origin_outside_the_allowlist_is_forbidden) {
  server_config config;
  config.allowed_origins = {"http://localhost:8080", "self"};
  test_server ts(config);
  ws_client bad, good, self, no_origin;
  EXPECT_EQ(bad.connect(ts.port(), {.target = "/ws", .token = "", .origin = "http://evil.example"}), 403);
  EXPECT_EQ(good.connect(ts.port(), {.target = "/ws", .token = "", .origin = "http://localhost:8080"}), 0);
  // The client's handshake sends Host: 127.0.0.1, so a page of this server has that origin.
  EXPECT_EQ(self.connect(ts.port(), {.target = "/ws", .token = "", .origin = "http://127.0.0.1"}), 0);
  ws_client other_port;
  EXPECT_EQ(other_port.connect(ts.port(), {.target = "/ws", .token = "", .origin = "http://127.0.0.1:9"}), 403);
  EXPECT_EQ(no_origin.connect(ts.port()), 0) << "non-browser clients send no Origin";
}

TEST(server, health_readiness_and_metrics_endpoints) {
  test_server ts({}, {}, /*with_engines=*/false);
  EXPECT_EQ(http_get(ts.port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(ts.port(), "/readyz").status, 503) << "no engines yet";
  ws_client early;
  EXPECT_EQ(early.connect(ts.port()), 503);
  ts.srv->set_engines(make_engines(ts.io.executor()));
  EXPECT_EQ(http_get(ts.port(), "/readyz").status, 200);

  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  c.send_json({{"type", "conversation.item.create"}, {"text", "hi"}});
  ASSERT_TRUE(c.play_out_reply());
  ASSERT_TRUE(c.read_until("turn.metrics"));

  const auto metrics = http_get(ts.port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.content_type.find("text/plain; version=0.0.4"), std::string::npos);
  for (const char* needle :
       {"# TYPE parley_ready gauge\nparley_ready 1\n", "# TYPE parley_ws_sessions gauge\nparley_ws_sessions 1\n",
        "# TYPE parley_turns_total counter\nparley_turns_total 1\n", "# TYPE parley_turn_ttfa_milliseconds summary\n",
        "parley_turn_llm_ttft_milliseconds{quantile=\"0.99\"} ", "parley_turn_llm_ttft_milliseconds_count 1\n",
        "# TYPE parley_protocol_errors_total counter\n", "# TYPE parley_turns_by_route_total counter\nparley_turns_by_route_total{route=\"", "parley_barge_in_time_to_interrupt_milliseconds_count 0\n",
        "# TYPE parley_input_lane_yields_total counter\n", "# TYPE parley_input_lane_queued gauge\n"}) {
    EXPECT_NE(metrics.body.find(needle), std::string::npos) << needle;
  }
  const auto index = http_get(ts.port(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("/ws"), std::string::npos);
  EXPECT_EQ(http_get(ts.port(), "/../etc/passwd").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/nothing.js").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/ws").status, 426);

  // What the web page offers to ask before a session starts: none until the app sets them.
  auto assistant = http_get(ts.port(), "/v1/assistant");
  EXPECT_EQ(assistant.status, 200);
  EXPECT_NE(assistant.content_type.find("application/json"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(assistant.body)["suggestions"], nlohmann::json::array());
  ts.srv->set_suggestions({"What time is it?", "What is your return policy?"});
  assistant = http_get(ts.port(), "/v1/assistant");
  EXPECT_EQ(nlohmann::json::parse(assistant.body)["suggestions"][1], "What is your return policy?");
}

// A router that only reports cache counters (no turn runs in the test that uses it).
class counting_router final : public agent::reply_router {
 public:
  void route(agent::route_request, std::function<void(agent::routed_reply)>) override {}
  void remember(std::string, std::string, std::shared_ptr<const agent::reply_audio>) override {}
  std::optional<cache::response_cache_stats> cache_stats() const override {
    cache::response_cache_stats s;
    s.n_lookups = 7;
    s.n_exact_hits = 2;
    s.n_shared_errors = 3;
    s.n_shared_skipped = 11;
    s.n_shared_data_lost = 1;
    return s;
  }
};

TEST(server, metrics_page_counts_the_response_cache_and_shared_tier_outages) {
  // Found: a Redis outage showed nowhere on /metrics.
  test_server ts({}, {}, /*with_engines=*/false);
  ts.srv->set_engines(make_engines(ts.io.executor()), std::make_shared<counting_router>());
  const auto page = http_get(ts.port(), "/metrics").body;
  for (const char* sample : {"parley_cache_lookups_total 7\n", "parley_cache_hits_total{kind=\"exact\"} 2\n",
                             "parley_cache_hits_total{kind=\"semantic\"} 0\n", "parley_cache_shared_errors_total 3\n",
                             "parley_cache_shared_skipped_total 11\n", "parley_cache_shared_data_lost_total 1\n"}) {
    EXPECT_NE(page.find(sample), std::string::npos) << sample;
  }
}

// Every family that docs/protocol.md ("Metrics") lists, with its HELP, TYPE and label sets, on
// the /metrics page of a server that has run a turn, an interrupted reply and a protocol error.
TEST(server, metrics_page_serves_every_documented_family_with_its_labels) {
  engine_knobs knobs;
  knobs.tts_rtf = 0.5;  // the second reply is still being synthesized when it is cancelled
  test_server ts({}, knobs);
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start();
  ASSERT_TRUE(c.read_until("session.created"));
  c.send_text("{not json");
  ASSERT_TRUE(c.read_until("error"));
  c.send_json({{"type", "conversation.item.create"}, {"text", "hi"}});
  ASSERT_TRUE(c.play_out_reply());
  ASSERT_TRUE(c.read_until("turn.metrics"));
  c.send_json({{"type", "conversation.item.create"}, {"text", "a long answer please"}});
  ASSERT_TRUE(c.read_until("response.audio.start"));
  c.send_json({{"type", "response.cancel"}});
  ASSERT_TRUE(c.read_until("response.interrupted"));

  const auto page = http_get(ts.port(), "/metrics");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const auto has = [&](const std::string& needle) { return page.body.find(needle) != std::string::npos; };
  const std::pair<const char*, const char*> families[] = {
      {"parley_ready", "gauge"},
      {"parley_http_requests_total", "counter"},
      {"parley_ws_sessions", "gauge"},
      {"parley_ws_sessions_total", "counter"},
      {"parley_ws_rejected_upgrades_total", "counter"},
      {"parley_http_connections", "gauge"},
      {"parley_connections_refused_total", "counter"},
      {"parley_accept_errors_total", "counter"},
      {"parley_ws_messages_total", "counter"},
      {"parley_ws_bytes_total", "counter"},
      {"parley_protocol_errors_total", "counter"},
      {"parley_tls_handshake_failures_total", "counter"},
      {"parley_auth_failures_total", "counter"},
      {"parley_ws_oversized_messages_total", "counter"},
      {"parley_ws_slow_client_drops_total", "counter"},
      {"parley_ws_stale_frames_dropped_total", "counter"},
      {"parley_input_rate_limited_chunks_total", "counter"},
      {"parley_input_chunks_dropped_total", "counter"},
      {"parley_input_lane_yields_total", "counter"},
      {"parley_input_lane_queued", "gauge"},
      {"parley_turns_total", "counter"},
      {"parley_cache_lookups_total", "counter"},
      {"parley_cache_hits_total", "counter"},
      {"parley_cache_shared_errors_total", "counter"},
      {"parley_cache_shared_skipped_total", "counter"},
      {"parley_cache_shared_data_lost_total", "counter"},
      {"parley_barge_ins_total", "counter"},
      {"parley_interrupts_total", "counter"},
      {"parley_turns_merged_total", "counter"},
      {"parley_replies_resumed_total", "counter"},
      {"parley_preemptive_replies_total", "counter"},
      {"parley_preemptive_wasted_tokens_total", "counter"},
      {"parley_turns_by_route_total", "counter"},
      {"parley_barge_in_time_to_interrupt_milliseconds", "summary"},
      {"parley_asr_confidence", "summary"},
      {"parley_turn_endpoint_delay_milliseconds", "summary"},
      {"parley_turn_asr_final_milliseconds", "summary"},
      {"parley_turn_llm_ttft_milliseconds", "summary"},
      {"parley_turn_llm_ttfs_milliseconds", "summary"},
      {"parley_turn_tts_ttfb_milliseconds", "summary"},
      {"parley_turn_ttfa_milliseconds", "summary"},
      {"parley_turn_overhead_milliseconds", "summary"},
  };
  for (const auto& [name, type] : families) {
    EXPECT_TRUE(has(std::string("# HELP ") + name + " ")) << name;
    EXPECT_TRUE(has(std::string("\n# TYPE ") + name + " " + type + "\n")) << name;
  }
  for (const char* sample : {
           "parley_ready 1\n",
           "parley_ws_sessions 1\n",
           "parley_ws_sessions_total 1\n",
           "parley_turns_total ",
           "parley_ws_messages_total{direction=\"in\",kind=\"text\"} ",
           "parley_ws_messages_total{direction=\"in\",kind=\"binary\"} 0\n",
           "parley_ws_messages_total{direction=\"out\",kind=\"text\"} ",
           "parley_ws_messages_total{direction=\"out\",kind=\"binary\"} ",
           "parley_ws_bytes_total{direction=\"in\"} ",
           "parley_ws_bytes_total{direction=\"out\"} ",
           "parley_protocol_errors_total{code=\"invalid_json\"} 1\n",
           "parley_protocol_errors_total{code=\"rate_limited\"} 0\n",
           "parley_interrupts_total{reason=\"client\"} 1\n",
           "parley_turns_by_route_total{route=\"",
           "parley_turn_ttfa_milliseconds{quantile=\"0.5\"} ",
           "parley_turn_ttfa_milliseconds{quantile=\"0.99\"} ",
           "parley_turn_ttfa_milliseconds_sum ",
           "parley_turn_llm_ttft_milliseconds_count ",
           "parley_barge_in_time_to_interrupt_milliseconds_count 0\n",
       }) {
    EXPECT_TRUE(has(sample)) << sample << "\n" << page.body;
  }
  c.close();
}

TEST(server, serves_static_files_from_the_web_root) {
  const auto root = std::filesystem::temp_directory_path() / ("parley_web_" + std::to_string(::getpid()));
  std::filesystem::create_directories(root);
  std::ofstream(root / "index.html") << "<html>hello parley</html>";
  std::ofstream(root / "app.js") << "console.log(1);";
  // The web client's layout: ES modules and AudioWorklet processors in subdirectories.
  std::filesystem::create_directories(root / "js");
  std::filesystem::create_directories(root / "worklets");
  std::ofstream(root / "js" / "main.js") << "export const x = 1;";
  std::ofstream(root / "worklets" / "playout.js") << "registerProcessor('p', class {});";
  std::ofstream(root / "style.css") << "body {}";
  std::ofstream(root / "js" / ".secret") << "no";
  server_config config;
  config.web_root = root.string();
  test_server ts(config);
  const auto index = http_get(ts.port(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>hello parley</html>");
  EXPECT_NE(index.content_type.find("text/html"), std::string::npos);
  const auto js = http_get(ts.port(), "/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.content_type.find("javascript"), std::string::npos);
  // Module scripts and worklets load only with a JavaScript content type.
  const auto module = http_get(ts.port(), "/js/main.js?v=2");
  EXPECT_EQ(module.status, 200);
  EXPECT_EQ(module.body, "export const x = 1;");
  EXPECT_NE(module.content_type.find("text/javascript"), std::string::npos);
  const auto worklet = http_get(ts.port(), "/worklets/playout.js");
  EXPECT_EQ(worklet.status, 200);
  EXPECT_NE(worklet.content_type.find("text/javascript"), std::string::npos);
  EXPECT_NE(http_get(ts.port(), "/style.css").content_type.find("text/css"), std::string::npos);
  EXPECT_EQ(http_get(ts.port(), "/.hidden").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/js/.secret").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/js").status, 404) << "a directory is not a file";
  EXPECT_EQ(http_get(ts.port(), "/js/").status, 404);
  EXPECT_EQ(http_get(ts.port(), "/js/../app.js").status, 404) << "no '..', even inside the root";
  EXPECT_EQ(http_get(ts.port(), "/js/%2e%2e/app.js").status, 404) << "not decoded: no such file";
  EXPECT_EQ(http_get(ts.port(), "//etc/passwd").status, 404) << "not an absolute path";
  std::filesystem::remove_all(root);
}

// ---- JWT -----------------------------------------------------------------------------------------

constexpr std::string_view k_jwt_secret = "server-test-secret-0123456789";

std::string jwt_token(std::optional<std::int64_t> exp_from_now, std::string aud = "parley",
                      jwt_alg_t alg = JWT_ALG_HS256, std::string_view secret = k_jwt_secret) {
  jwt_t* j = nullptr;
  jwt_new(&j);
  if (exp_from_now) jwt_add_grant_int(j, "exp", static_cast<long>(std::time(nullptr) + *exp_from_now));
  if (!aud.empty()) jwt_add_grant(j, "aud", aud.c_str());
  if (alg == JWT_ALG_NONE) {
    jwt_set_alg(j, alg, nullptr, 0);
  } else {
    jwt_set_alg(j, alg, reinterpret_cast<const unsigned char*>(secret.data()), static_cast<int>(secret.size()));
  }
  char* s = jwt_encode_str(j);
  std::string out = s ? s : "";
  std::free(s);  // NOLINT(cppcoreguidelines-no-malloc)
  jwt_free(j);
  return out;
}

TEST(server_jwt, the_upgrade_needs_a_valid_hs256_token_and_401_says_why) {
  server_config config;
  config.jwt_secret = std::string(k_jwt_secret);
  config.jwt_audience = "parley";
  config.bearer_token = "static-token";
  test_server ts(config);

  ws_client header, query, static_token;
  EXPECT_EQ(header.connect(ts.port(), {.target = "/ws", .token = jwt_token(600), .origin = ""}), 0);
  EXPECT_EQ(query.connect(ts.port(), {.target = "/ws?access_token=" + jwt_token(600), .token = "", .origin = ""}), 0);
  EXPECT_EQ(static_token.connect(ts.port(), {.target = "/ws", .token = "static-token", .origin = ""}), 0);
  header.start();
  EXPECT_TRUE(header.read_until("session.created"));

  struct refusal {
    std::string name, token, reason;
  };
  const std::vector<refusal> refusals = {
      {"none", "", "missing token"},
      {"expired", jwt_token(-120), "token expired"},
      {"wrong secret", jwt_token(600, "parley", JWT_ALG_HS256, "not-the-secret-0123456789"), "invalid token signature"},
      {"alg none", jwt_token(600, "parley", JWT_ALG_NONE), "token algorithm not allowed (HS256 only)"},
      {"alg HS512", jwt_token(600, "parley", JWT_ALG_HS512), "token algorithm not allowed (HS256 only)"},
      {"missing exp", jwt_token(std::nullopt), "token has no expiry (exp)"},
      {"wrong audience", jwt_token(600, "someone-else"), "token audience (aud) does not match"},
      {"malformed", "not.a-jwt", "malformed token"},
  };
  for (const auto& r : refusals) {
    ws_client c;
    EXPECT_EQ(c.connect(ts.port(), {.target = "/ws", .token = r.token, .origin = ""}), 401) << r.name;
    EXPECT_EQ(c.refusal_body, r.reason + "\n") << r.name;
  }
  EXPECT_GE(ts.srv->stats().n_rejected_upgrades, refusals.size());
  header.close();
}

}  // namespace
}  // namespace parley::net
