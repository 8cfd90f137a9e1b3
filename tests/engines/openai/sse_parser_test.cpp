// Table and property tests of the pure stream decoding: SSE framing, chat chunks, UTF-8 carry,
// tool-call assembly.
#include "parley/engines/openai/sse_parser.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace parley::openai {
namespace {

std::vector<sse_event> parse_all(const std::vector<std::string_view>& chunks, bool finish = true) {
  sse_parser p;
  std::vector<sse_event> out;
  for (auto c : chunks) EXPECT_TRUE(p.feed(c, out).has_value());
  if (finish) {
    EXPECT_TRUE(p.finish(out).has_value());
  }
  return out;
}

struct sse_case {
  const char* name;
  std::string input;
  std::vector<std::string> data;   // expected data of each event
  std::vector<std::string> types;  // expected event types ("" default)
};

TEST(sse_parser, table) {
  const std::vector<sse_case> cases = {
      {"lf", "data: a\n\n", {"a"}, {""}},
      {"crlf", "data: a\r\n\r\n", {"a"}, {""}},
      {"cr", "data: a\r\r", {"a"}, {""}},
      {"multi data lines joined", "data: a\ndata: b\n\n", {"a\nb"}, {""}},
      {"no space after colon", "data:a\n\n", {"a"}, {""}},
      {"only one space stripped", "data:  a\n\n", {" a"}, {""}},
      {"comment ignored", ": ping\n\ndata: x\n\n", {"x"}, {""}},
      {"unknown fields ignored", "id: 7\nretry: 10\nfoo: bar\ndata: x\n\n", {"x"}, {""}},
      {"event type", "event: error\ndata: boom\n\n", {"boom"}, {"error"}},
      {"empty event not dispatched", "event: x\n\n\n\ndata: y\n\n", {"y"}, {""}},
      {"field without colon", "data\n\n", {""}, {""}},
      {"bom skipped", "\xEF\xBB\xBF" "data: a\n\n", {"a"}, {""}},
      {"two events", "data: 1\n\ndata: 2\n\n", {"1", "2"}, {"", ""}},
      {"done marker", "data: [DONE]\n\n", {"[DONE]"}, {""}},
      {"unterminated last event flushed by finish", "data: a\n\ndata: b", {"a", "b"}, {"", ""}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto events = parse_all({c.input});
    ASSERT_EQ(events.size(), c.data.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].data, c.data[i]);
      EXPECT_EQ(events[i].type, c.types[i]);
    }
  }
}

TEST(sse_parser, done_marker) {
  auto events = parse_all({"data: [DONE]\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].is_done());
}

TEST(sse_parser, line_too_long_is_a_clear_error_that_sticks) {
  sse_parser p(sse_limits{.max_line_bytes = 16, .max_event_bytes = 1024});
  std::vector<sse_event> out;
  EXPECT_TRUE(p.feed("data: 0123456789", out).has_value());
  auto s = p.feed("abcdef", out);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, errc::invalid_argument);
  EXPECT_NE(s.error().message.find("line longer"), std::string::npos);
  EXPECT_FALSE(p.feed("\n\n", out).has_value());
  EXPECT_TRUE(out.empty());
}

TEST(sse_parser, event_too_large_is_an_error) {
  sse_parser p(sse_limits{.max_line_bytes = 64, .max_event_bytes = 20});
  std::vector<sse_event> out;
  auto s = p.feed("data: 0123456789\ndata: 0123456789\n\n", out);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("event larger"), std::string::npos);
}

// A recorded stream in the shape llama-server/OpenAI send, with multi-byte text (é, 👋, 日本).
const std::string recorded =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\r\n\r\n"
    ": keep-alive\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Caf\xC3\xA9 \"}}]}\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\xF0\x9F\x91\x8B \xE6\x97\xA5\xE6\x9C\xAC\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\r"
    "data: [DONE]\n\n";

std::string decode_text(const std::vector<sse_event>& events, std::string* finish = nullptr, bool* done = nullptr) {
  std::string text;
  for (const auto& e : events) {
    if (e.is_done()) {
      if (done) *done = true;
      continue;
    }
    auto d = decode_chat_chunk(e.data);
    EXPECT_TRUE(d.has_value());
    if (!d) continue;
    text += d->content;
    if (finish && !d->finish_reason.empty()) *finish = d->finish_reason;
  }
  return text;
}

TEST(sse_parser, every_single_split_point_gives_the_same_result) {
  const auto whole = parse_all({recorded});
  ASSERT_EQ(whole.size(), 5u);
  std::string finish;
  bool done = false;
  EXPECT_EQ(decode_text(whole, &finish, &done), "Caf\xC3\xA9 \xF0\x9F\x91\x8B \xE6\x97\xA5\xE6\x9C\xAC");
  EXPECT_EQ(finish, "stop");
  EXPECT_TRUE(done);
  for (std::size_t cut = 0; cut <= recorded.size(); ++cut) {
    SCOPED_TRACE(cut);
    const std::string_view r(recorded);
    const auto events = parse_all({r.substr(0, cut), r.substr(cut)});
    ASSERT_EQ(events.size(), whole.size());
    for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].data, whole[i].data);
  }
}

TEST(sse_parser, random_chunkings_give_the_same_result) {
  const auto whole = parse_all({recorded});
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string_view> chunks;
    std::string_view rest(recorded);
    while (!rest.empty()) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 7)(rng);
      chunks.push_back(rest.substr(0, n));
      rest.remove_prefix(std::min(n, rest.size()));
    }
    const auto events = parse_all(chunks);
    ASSERT_EQ(events.size(), whole.size());
    for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].data, whole[i].data);
  }
}

TEST(utf8_carry, never_emits_a_split_character_and_loses_nothing) {
  const std::string text = "a\xC3\xA9\xF0\x9F\x91\x8B\xE6\x97\xA5z";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    for (std::size_t cut2 = cut; cut2 <= text.size(); ++cut2) {
      utf8_carry carry;
      std::string out;
      for (auto piece : {text.substr(0, cut), text.substr(cut, cut2 - cut), text.substr(cut2)}) {
        const std::string got = carry.push(piece);
        // Each emitted piece is whole: it never ends inside a sequence.
        if (!got.empty()) {
          const auto last = static_cast<unsigned char>(got.back());
          if (last >= 0x80) {
            // the last byte must finish a sequence: pushing nothing more leaves nothing pending
            EXPECT_TRUE(carry.pending().empty() || (static_cast<unsigned char>(carry.pending()[0]) & 0xC0) == 0xC0);
          }
        }
        out += got;
      }
      EXPECT_EQ(out, text);
      EXPECT_TRUE(carry.pending().empty());
    }
  }
  utf8_carry carry;
  EXPECT_EQ(carry.push("ab\xE6\x97"), "ab");
  EXPECT_EQ(carry.pending(), "\xE6\x97");
  EXPECT_EQ(carry.push("\xA5"), "\xE6\x97\xA5");
}

TEST(decode_chat_chunk, bytes_that_are_not_utf8_become_replacement_characters) {
  // Found: one invalid byte made the JSON parser refuse the chunk, and the reply ended there.
  const auto d = decode_chat_chunk("{\"choices\":[{\"delta\":{\"content\":\"wor\xffld \xe2\x82\"}}]}");
  ASSERT_TRUE(d.has_value()) << d.error().describe();
  EXPECT_EQ(d->content, "wor\uFFFDld \uFFFD");
}

TEST(decode_chat_chunk, table) {
  auto d = decode_chat_chunk(R"({"choices":[{"delta":{"content":"hi"}}]})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->content, "hi");
  EXPECT_TRUE(d->finish_reason.empty());

  d = decode_chat_chunk(R"({"choices":[{"delta":{"content":null},"finish_reason":"length"}]})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->content, "");
  EXPECT_EQ(d->finish_reason, "length");

  d = decode_chat_chunk(R"({"choices":[],"usage":{"total_tokens":3}})");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->content.empty());

  d = decode_chat_chunk(R"({"error":{"message":"model overloaded","type":"server_error"}})");
  ASSERT_TRUE(d.has_value());
  ASSERT_TRUE(d->error.has_value());
  EXPECT_EQ(*d->error, "model overloaded");

  d = decode_chat_chunk(R"({"choices":[{"delta":{"content":"\u00e9\ud83d\udc4b"}}]})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->content, "\xC3\xA9\xF0\x9F\x91\x8B");

  for (const char* bad : {"{not json", "[1,2]", "\"text\"", ""}) {
    SCOPED_TRACE(bad);
    auto r = decode_chat_chunk(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::engine_failure);
  }
}

TEST(decode_chat_chunk, tool_call_fragments) {
  auto d = decode_chat_chunk(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_time","arguments":""}}]}}]})");
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->tool_calls.size(), 1u);
  EXPECT_EQ(d->tool_calls[0].index, 0);
  EXPECT_EQ(d->tool_calls[0].id, "call_1");
  EXPECT_EQ(d->tool_calls[0].name, "get_time");

  // Ollama-style: arguments as an object, no index.
  d = decode_chat_chunk(R"({"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","arguments":{"x":1}}}]}}]})");
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->tool_calls.size(), 1u);
  EXPECT_EQ(d->tool_calls[0].index, 0);
  EXPECT_EQ(d->tool_calls[0].arguments, R"({"x":1})");
}

TEST(tool_call_accumulator, assembles_fragments_by_index) {
  tool_call_accumulator acc;
  acc.add({1, "call_b", "second", ""});
  acc.add({0, "call_a", "first", "{\"ci"});
  acc.add({0, "", "", "ty\":\"Par"});
  acc.add({1, "", "", "{}"});
  acc.add({0, "", "", "is\"}"});
  acc.add({2, "", "third", "{}"});
  const auto calls = acc.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].id, "call_a");
  EXPECT_EQ(calls[0].name, "first");
  EXPECT_EQ(calls[0].arguments_json, R"({"city":"Paris"})");
  EXPECT_EQ(calls[1].id, "call_b");
  EXPECT_EQ(calls[1].arguments_json, "{}");
  EXPECT_EQ(calls[2].id, "call_2");
}

}  // namespace
}  // namespace parley::openai
