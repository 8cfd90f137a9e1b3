// Fault tests of issue 4 for budgets and fillers, end to end through the OpenAI-compatible client
// against a scripted fake server (tests/engines/openai/fake_server.hpp): a slow first token plays
// the filler, which the reply cuts at a word boundary; a long tool call announces itself. Nothing
// is repeated to the user and nothing hangs (bounded waits); no absolute timing is asserted.
#include "../engines/openai/fake_server.hpp"
#include "filler_test_util.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/engines/openai/openai_chat_model.hpp"

namespace parley::agent {
namespace {

using namespace testing;
using openai::testing::fake_conn;
using openai::testing::fake_request;
using openai::testing::fake_server;

openai::chat_config config_for(const fake_server& server) {
  openai::chat_config c;
  c.provider.base_url = server.base_url();
  c.model = "test-model";
  c.first_token_timeout_ms = 10000;
  c.inter_token_timeout_ms = 10000;
  return c;
}

struct run_result {
  obs::turn_timeline turn;
  audio_order audio;
  std::string tokens;  // every token_chunk, in order
};

run_result run_turn(std::shared_ptr<engine::chat_model> llm, latency_budgets budgets, std::string question) {
  io_threads io;
  recorder rec;
  session_options options;
  options.budgets = budgets;
  options.filler_bank = test_bank();
  auto s = session::create(io.executor(),
                           {std::make_shared<mock::mock_recognizer>(mock::recognizer_config{.executor = io.executor()}),
                            std::move(llm),
                            std::make_shared<mock::mock_synthesizer>(mock::synthesizer_config{.executor = io.executor()})},
                           options, rec.callbacks());
  EXPECT_TRUE(s);
  if (!s) return {};
  (*s)->submit_text(std::move(question));
  (*s)->end_input();
  EXPECT_TRUE(rec.wait_end()) << "the turn never ended";
  (*s)->close();
  run_result out;
  out.audio = split_audio(rec);
  std::lock_guard lock(rec.mutex);
  if (!rec.turns.empty()) out.turn = rec.turns.front();
  for (const auto& e : rec.events) {
    if (const auto* t = std::get_if<token_chunk>(&e.body)) out.tokens += t->text;
  }
  return out;
}

TEST(filler_faults, slow_first_token_plays_the_filler_then_the_reply_cuts_it) {
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.sleep_ms(600);  // the provider thinks: over the 100 ms budget
    conn.token("It is noon. ");
    conn.token("Anything else?");
    conn.finish();
  });
  auto llm = *openai::openai_chat_model::create(config_for(server));
  const auto r = run_turn(llm, {.llm_ttft_ms = 100}, "what time is it");
  const auto& t = r.turn;
  EXPECT_TRUE(t.flags.filler);
  EXPECT_TRUE(t.has_note(obs::note_name::budget_breach, std::string("llm_ttft")));
  EXPECT_EQ(note_strings(t, obs::note_name::filler_cut), std::vector<std::string>{"reply"});
  ASSERT_FALSE(r.audio.filler.empty());
  ASSERT_FALSE(r.audio.reply.empty());
  EXPECT_LT(r.audio.filler.back(), r.audio.reply.front()) << "filler and reply never overlap";
  EXPECT_EQ(r.tokens, "It is noon. Anything else?") << "nothing repeated";
  EXPECT_EQ(t.reply, "It is noon. Anything else?");
  server.stop();
}

TEST(filler_faults, a_long_tool_call_through_the_client_announces_itself) {
  fake_server server([](fake_conn& conn, const fake_request&, int i) {
    conn.sse_headers();
    if (i == 0) {
      conn.event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"order_status","arguments":"{}"}}]}}]})");
      conn.finish("tool_calls");
      return;
    }
    conn.token("Your order ships today.");
    conn.finish();
  });
  auto cfg = config_for(server);
  openai::tool t;
  t.name = "order_status";
  t.description = "Where an order is";
  t.run = [](std::string_view) -> result<std::string> {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a slow back end
    return std::string(R"({"status":"shipping"})");
  };
  cfg.tools.push_back(t);
  auto llm = *openai::openai_chat_model::create(cfg);
  const auto r = run_turn(llm, {.llm_ttft_ms = 0, .tool_call_ms = 100}, "where is my order");
  const auto& tl = r.turn;
  EXPECT_TRUE(tl.flags.filler);
  EXPECT_EQ(note_strings(tl, obs::note_name::tool_call), std::vector<std::string>{"order_status"});
  EXPECT_EQ(note_strings(tl, obs::note_name::budget_breach), std::vector<std::string>{"tool_call"});
  EXPECT_EQ(note_strings(tl, obs::note_name::filler), std::vector<std::string>{"Let me check that for you."});
  ASSERT_FALSE(r.audio.filler.empty());
  ASSERT_FALSE(r.audio.reply.empty());
  EXPECT_LT(r.audio.filler.back(), r.audio.reply.front());
  EXPECT_EQ(tl.reply, "Your order ships today.");
  server.stop();
}

}  // namespace
}  // namespace parley::agent
