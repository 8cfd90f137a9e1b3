// A provider that fails never leaves the person in silence (issue 21, failure semantics): every
// failed reply — the LLM refused, unauthorised or cut mid-stream, the synthesizer failing, the
// recognizer failing — ends with the spoken apology, keeps what was already said, reports the
// error, and is flagged `failed` with the first error as its `failure` note. No timing asserted.
#include <algorithm>

#include "../engines/openai/fake_server.hpp"
#include "parley/engines/openai/openai_chat_model.hpp"
#include "parley/text/utf8.hpp"
#include "session_test_util.hpp"

namespace parley::agent {
namespace {

using namespace testing;
using openai::testing::fake_conn;
using openai::testing::fake_request;
using openai::testing::fake_server;

// The apology's audio holds this one value throughout: a chunk is the apology's iff all of it is
// (the mock voice never holds one value for a whole chunk).
constexpr std::int16_t k_apology_value = 777;
const std::string k_apology = "Sorry, something went wrong.";

std::shared_ptr<const filler_bank> bank_with_apology() {
  auto bank = *test_bank();
  bank.apology = constant_clip(k_apology, 4, 100.0);
  std::fill(bank.apology.pcm.begin(), bank.apology.pcm.end(), k_apology_value);
  return std::make_shared<const filler_bank>(std::move(bank));
}

std::shared_ptr<engine::chat_model> openai_llm(const fake_server& server, int max_retries = 0) {
  openai::chat_config c;
  c.provider.base_url = server.base_url();
  c.model = "test-model";
  c.max_retries = max_retries;
  return *openai::openai_chat_model::create(c);
}

// A synthesizer that fails every request.
class failing_tts final : public engine::synthesizer {
 public:
  std::string name() const override { return "failing"; }
  engine::synthesizer_caps caps() const override { return {}; }
  void synthesize(std::string, engine::synthesizer_events events, std::stop_token) override {
    events.on_done(make_error(errc::engine_failure, "tts: the voice server is down"));
  }
};

// A recognizer whose every utterance fails at finalisation (the mock's audio handling otherwise).
class failing_asr final : public engine::recognizer {
 public:
  explicit failing_asr(std::shared_ptr<engine::recognizer> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return "failing"; }
  engine::recognizer_caps caps() const override { return inner_->caps(); }
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override {
    auto on_final = std::move(events.on_final);
    events.on_final = [on_final](result<engine::recognized>) {
      on_final(make_error(errc::engine_failure, "asr: decoder crashed"));
    };
    return inner_->open(std::move(events));
  }

 private:
  std::shared_ptr<engine::recognizer> inner_;
};

// A recognizer that cannot open a stream at all (its server down, its model unloadable).
class unopenable_asr final : public engine::recognizer {
 public:
  explicit unopenable_asr(std::shared_ptr<engine::recognizer> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return "unopenable"; }
  engine::recognizer_caps caps() const override { return inner_->caps(); }
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events) override {
    return make_error(errc::unavailable, "asr: the recognizer is unavailable");
  }

 private:
  std::shared_ptr<engine::recognizer> inner_;
};

struct outcome {
  obs::turn_timeline turn;
  std::string tokens;                 // every token_chunk, in order
  std::size_t n_errors = 0;           // error_events
  std::size_t n_apology_samples = 0;  // output samples of the apology clip (whole chunks of it)
  std::size_t n_other_samples = 0;    // every other output sample
  bool apology_last = false;          // no other audio after the apology's
};

struct setup {
  std::shared_ptr<engine::recognizer> asr;
  std::shared_ptr<engine::chat_model> llm;
  std::shared_ptr<engine::synthesizer> tts;
  std::shared_ptr<const filler_bank> bank = bank_with_apology();
  pipeline_mode mode = pipeline_mode::streaming;
  std::size_t max_reply_chars = 4000;
};

// One turn: typed (`question`), or spoken when `question` is empty.
outcome run(io_threads& io, setup s, const std::string& question) {
  auto mocks = make_engines(io.executor());
  session_recorder rec;
  session_options options;
  options.mode = s.mode;
  options.filler_bank = s.bank;
  options.max_reply_chars = s.max_reply_chars;
  options.input_queue_chunks = 100'000;
  auto session = session::create(io.executor(), {s.asr ? s.asr : mocks.asr, s.llm ? s.llm : mocks.llm, s.tts ? s.tts : mocks.tts},
                                 options, rec.callbacks());
  EXPECT_TRUE(session) << (session ? "" : session.error().describe());
  if (!session) return {};
  if (question.empty()) {
    push_in_frames(**session, script_audio(k_one_question));
  } else {
    (*session)->submit_text(question);
  }
  (*session)->end_input();
  EXPECT_TRUE(rec.wait_end()) << "the turn never ended";
  (*session)->close();
  outcome out;
  std::lock_guard lock(rec.mutex);
  EXPECT_EQ(rec.turns.size(), 1u);
  if (!rec.turns.empty()) out.turn = rec.turns.front();
  for (const auto& e : rec.events) {
    if (const auto* t = std::get_if<token_chunk>(&e.body)) out.tokens += t->text;
    if (std::holds_alternative<error_event>(e.body)) ++out.n_errors;
    if (const auto* a = std::get_if<output_audio_chunk>(&e.body)) {
      const bool apology = !a->samples.empty() && std::all_of(a->samples.begin(), a->samples.end(),
                                                               [](std::int16_t v) { return v == k_apology_value; });
      (apology ? out.n_apology_samples : out.n_other_samples) += a->samples.size();
      out.apology_last = apology;
    }
  }
  return out;
}

const std::string* failure_of(const obs::turn_timeline& t) { return t.note_text(obs::note_name::failure); }

void expect_apology(const outcome& r, std::string_view what) {
  EXPECT_TRUE(r.turn.flags.failed);
  ASSERT_NE(failure_of(r.turn), nullptr);
  EXPECT_EQ(failure_of(r.turn)->rfind(std::string(what) + ": ", 0), 0u) << *failure_of(r.turn);
  EXPECT_TRUE(r.turn.has_note(obs::note_name::apology, std::string("clip")));
  EXPECT_GE(r.n_errors, 1u) << "the error is reported";
  EXPECT_EQ(r.n_apology_samples, bank_with_apology()->apology.pcm.size()) << "the whole apology is heard, once";
  EXPECT_TRUE(r.apology_last) << "the apology ends the reply";
}

TEST(reply_failure, an_llm_refusing_connections_ends_in_the_apology_not_silence) {
  io_threads io;
  fake_server server([](fake_conn&, const fake_request&, int) {});
  auto llm = openai_llm(server);
  server.stop();  // nothing listens there any more: connection refused
  const auto r = run(io, {.llm = llm}, "tell me a story");
  expect_apology(r, "llm");
  EXPECT_EQ(r.tokens, k_apology);
  EXPECT_EQ(r.turn.reply, k_apology) << "history and trace hold what was heard";
  EXPECT_EQ(r.n_other_samples, 0u);
}

TEST(reply_failure, an_unauthorised_llm_ends_in_the_apology) {
  io_threads io;
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.respond(401, R"({"error":{"message":"invalid api key"}})");
  });
  const auto r = run(io, {.llm = openai_llm(server)}, "tell me a story");
  server.stop();
  expect_apology(r, "llm");
  EXPECT_EQ(r.tokens, k_apology);
}

TEST(reply_failure, a_stream_reset_midway_keeps_what_was_said_then_apologises) {
  io_threads io;
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.token("The store opens at nine. ");
    conn.token("On Sundays it");
    conn.reset();
  });
  const auto r = run(io, {.llm = openai_llm(server)}, "when do you open");
  server.stop();
  expect_apology(r, "llm");
  EXPECT_EQ(r.tokens, "The store opens at nine. On Sundays it " + k_apology) << "nothing repeated, nothing lost";
  EXPECT_GT(r.n_other_samples, 0u) << "what was said before the reset is heard";
}

TEST(reply_failure, a_malformed_stream_ends_in_the_apology) {
  io_threads io;
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.event("{this is not json");
    conn.finish();
  });
  const auto r = run(io, {.llm = openai_llm(server)}, "tell me a story");
  server.stop();
  expect_apology(r, "llm");
}

TEST(reply_failure, a_rate_limited_llm_is_asked_again_after_retry_after_and_answers) {
  io_threads io;
  std::atomic<int> n_requests{0};
  fake_server server([&](fake_conn& conn, const fake_request&, int) {
    if (n_requests.fetch_add(1) == 0) {
      conn.respond(429, R"({"error":{"message":"rate limited"}})", "Retry-After: 1\r\n");
      return;
    }
    conn.sse_headers();
    conn.token("Once upon a time.");
    conn.finish();
  });
  const auto r = run(io, {.llm = openai_llm(server, 1)}, "tell me a story");
  server.stop();
  EXPECT_EQ(n_requests.load(), 2);
  EXPECT_FALSE(r.turn.flags.failed);
  EXPECT_EQ(r.tokens, "Once upon a time.");
  EXPECT_EQ(r.n_apology_samples, 0u);
  EXPECT_GT(r.n_other_samples, 0u);
}

TEST(reply_failure, an_llm_rate_limited_past_its_retries_ends_in_the_apology) {
  io_threads io;
  std::atomic<int> n_requests{0};
  fake_server server([&](fake_conn& conn, const fake_request&, int) {
    ++n_requests;
    conn.respond(429, R"({"error":{"message":"rate limited"}})", "Retry-After: 0\r\n");
  });
  const auto r = run(io, {.llm = openai_llm(server, 1)}, "tell me a story");
  server.stop();
  EXPECT_EQ(n_requests.load(), 2) << "asked once more, then given up";
  expect_apology(r, "llm");
  EXPECT_EQ(r.tokens, k_apology);
}

TEST(reply_failure, invalid_utf8_in_the_stream_is_replaced_and_the_reply_goes_on) {
  io_threads io;
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    conn.token("Hello ");
    // Raw bytes a JSON encoder would refuse: an invalid lead byte and a truncated sequence.
    conn.event("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"wor\xffld \xe2\x82\"}}]}");
    conn.token(" and goodbye.");
    conn.finish();
  });
  const auto r = run(io, {.llm = openai_llm(server)}, "tell me a story");
  server.stop();
  EXPECT_FALSE(r.turn.flags.failed) << (failure_of(r.turn) ? *failure_of(r.turn) : "");
  EXPECT_EQ(r.n_apology_samples, 0u);
  EXPECT_GT(r.n_other_samples, 0u);
  EXPECT_NE(r.tokens.find("Hello "), std::string::npos) << r.tokens;
  EXPECT_NE(r.tokens.find(" and goodbye."), std::string::npos) << r.tokens;
  EXPECT_TRUE(parley::text::is_valid_utf8(r.tokens)) << "nothing invalid reaches the chunker and the voice";
}

TEST(reply_failure, a_failing_synthesizer_still_plays_the_pre_synthesized_apology) {
  for (const auto mode : {pipeline_mode::streaming, pipeline_mode::sequential}) {
    SCOPED_TRACE(to_string(mode));
    io_threads io;
    const auto r = run(io, {.tts = std::make_shared<failing_tts>(), .mode = mode}, "tell me a story");
    expect_apology(r, "tts");
    EXPECT_EQ(r.n_other_samples, 0u) << "the voice produced nothing; the apology is all that plays";
  }
}

// One spoken question through a `Failing` recognizer wrapped around the mock one: the apology answers it.
template <class Failing>
void expect_recognizer_apology() {
  io_threads io;
  auto mocks = make_engines(io.executor());
  const auto r = run(io, {.asr = std::make_shared<Failing>(mocks.asr)}, "");
  expect_apology(r, "asr");
  EXPECT_EQ(r.turn.route, "apology");
  EXPECT_EQ(r.tokens, k_apology);
}

TEST(reply_failure, a_failing_recognizer_is_answered_with_the_apology) { expect_recognizer_apology<failing_asr>(); }

TEST(reply_failure, a_recognizer_that_cannot_open_a_stream_is_answered_with_the_apology) {
  // Found: the turn was dropped when the stream could not be opened, and the person heard nothing.
  expect_recognizer_apology<unopenable_asr>();
}

TEST(reply_failure, without_a_phrase_bank_the_voice_speaks_the_apology) {
  io_threads io;
  fake_server server([](fake_conn& conn, const fake_request&, int) { conn.respond(503, "busy"); });
  const auto r = run(io, {.llm = openai_llm(server), .bank = nullptr}, "tell me a story");
  server.stop();
  EXPECT_TRUE(r.turn.flags.failed);
  EXPECT_TRUE(r.turn.has_note(obs::note_name::apology, std::string("synthesized")));
  EXPECT_EQ(r.tokens, filler_phrases{}.apology);
  EXPECT_GT(r.n_other_samples, 0u) << "the synthesizer spoke it";
}

// A server that never stops writing: the reply stops the stream at the length cap and speaks what
// was written; that is no failure, and nothing hangs.
TEST(reply_failure, an_endless_stream_is_stopped_at_the_length_cap) {
  io_threads io;
  fake_server server([](fake_conn& conn, const fake_request&, int) {
    conn.sse_headers();
    for (int i = 0; i < 5000 && conn.sleep_ms(2); ++i) conn.token("la la. ");  // ~10 s at most
  });
  const auto r = run(io, {.llm = openai_llm(server), .max_reply_chars = 200}, "sing");
  server.stop();
  EXPECT_FALSE(r.turn.flags.failed);
  const auto capped = r.turn.note_number(obs::note_name::reply_capped);
  ASSERT_TRUE(capped);
  EXPECT_GE(*capped, 200.0);
  EXPECT_LT(*capped, 200.0 + 8.0) << "stopped at the token that reached the cap";
  EXPECT_EQ(r.tokens.size(), static_cast<std::size_t>(*capped)) << "no token after the cap";
  EXPECT_GT(r.n_other_samples, 0u) << "what was written is spoken";
}

TEST(reply_failure, a_reply_that_succeeds_is_not_flagged) {
  io_threads io;
  const auto r = run(io, {}, "what time is it");
  EXPECT_FALSE(r.turn.flags.failed);
  EXPECT_EQ(failure_of(r.turn), nullptr);
  EXPECT_EQ(r.n_apology_samples, 0u);
  EXPECT_EQ(r.n_errors, 0u);
}

}  // namespace
}  // namespace parley::agent
