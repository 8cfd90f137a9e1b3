// Preemptive replies (issue 17, part 2), on scripted timelines: in the silence after the speech,
// before the turn has ended, the reply to the partial transcript starts and is held; the final
// transcript releases it (the same words) or throws it away (other words, or the speech goes on).
// The test waits for the scripted partial before it pushes the silence, so the session has the
// words when the silence comes; endpointing and the preemption point run on media time.
#include <gtest/gtest.h>

#include <mutex>

#include "session_test_util.hpp"

namespace parley::agent {
namespace {

using namespace testing;

// Routes every turn to the model, as a cloud tier would; declines preemptive requests when told
// to (as turn_router does for an intent, or a model that may call tools).
class model_router final : public reply_router {
 public:
  model_router(std::shared_ptr<engine::chat_model> model, bool decline_preemptive)
      : model_(std::move(model)), decline_(decline_preemptive) {}
  void route(route_request request, std::function<void(routed_reply)> done) override {
    {
      std::lock_guard lock(m_);
      (request.preemptive ? n_preemptive_ : n_committed_)++;
    }
    routed_reply r;
    if (request.preemptive && decline_) return done(r);
    r.route = "cloud_llm";
    r.model = model_;
    done(std::move(r));
  }
  void remember(std::string, std::string, std::shared_ptr<const reply_audio>) override {}
  int n_preemptive() {
    std::lock_guard lock(m_);
    return n_preemptive_;
  }

 private:
  std::shared_ptr<engine::chat_model> model_;
  bool decline_;
  std::mutex m_;
  int n_preemptive_ = 0, n_committed_ = 0;
};

struct fixture {
  io_threads io;
  std::mutex m;
  std::vector<engine::chat_request> requests;  // what the model was asked, in order
  mock_set engines;
  std::shared_ptr<scripted_asr> asr;
  std::shared_ptr<model_router> router;
  session_recorder rec;
  std::unique_ptr<session> s;

  fixture(const std::string& partial, const std::string& final_text, bool decline = false, double preempt_after_ms = 150.0) {
    engine_knobs knobs;
    knobs.llm = mock::llm_profile{"test", mock::latency_dist::fixed(100), 400.0, 0.0};  // 100 ms to the first token
    knobs.reply = [this](const engine::chat_request& r) {
      {
        std::lock_guard lock(m);
        requests.push_back(r);
      }
      { std::lock_guard wake(rec.mutex); }  // a play() waiting for the request checks again now
      rec.cv.notify_all();
      return std::string("Paris is the capital of France.");
    };
    engines = make_engines(io.executor(), knobs);
    asr = std::make_shared<scripted_asr>(partial, final_text, 800.0);
    router = std::make_shared<model_router>(engines.llm, decline);
    session_options options;
    options.input_queue_chunks = 100'000;
    options.turn_end = turn_end_config::preset(turn_taking::conversational);  // default silence 350 ms
    options.turn_end->preempt_after_ms = preempt_after_ms;
    options.router = router;
    auto created = session::create(io.executor(), {asr, engines.llm, engines.tts}, options, rec.callbacks());
    EXPECT_TRUE(created) << (created ? "" : created.error().describe());
    s = std::move(*created);
  }

  // The speech, and once its partial was heard, the rest of the script; then the end of input.
  // With `wait_for_request`, the rest comes once the model was asked (so every wall-clock stamp of
  // the preemption precedes the endpoint's, however fast the audio is pushed).
  void play(std::initializer_list<std::pair<char, double>> rest,
            std::initializer_list<std::pair<char, double>> after_request = {}) {
    push_in_frames(*s, script_audio({{'.', 500.0}, {'S', 1200.0}}));
    ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<transcript_partial>(); })) << "no partial";
    push_in_frames(*s, script_audio(rest));
    if (after_request.size() > 0) {
      ASSERT_TRUE(rec.wait_for([&] {
        std::lock_guard lock(m);
        return !requests.empty();
      })) << "the model was not asked";
      push_in_frames(*s, script_audio(after_request));
    }
    s->end_input();
    ASSERT_TRUE(rec.wait_end()) << "the session never ended";
    s->close();
  }

  std::vector<generation_id> generations_with_audio() {
    std::vector<generation_id> out;
    for (const auto i : rec.indices<output_audio_chunk>()) {
      const auto g = rec.at(i).env.generation;
      if (out.empty() || out.back() != g) out.push_back(g);
    }
    return out;
  }
};

TEST(session_preempt, the_same_final_words_release_the_reply_started_in_the_silence) {
  fixture f("what is the capital of france", "what is the capital of france");
  f.play({{'.', 250.0}}, {{'.', 1250.0}});  // preempted 150 ms into the silence, the endpoint at 350
  EXPECT_EQ(f.router->n_preemptive(), 1);
  const auto stats = f.s->stats();
  EXPECT_EQ(stats.n_preempted, 1u);
  EXPECT_EQ(stats.n_preempt_hits, 1u);
  EXPECT_EQ(stats.n_preempt_discarded, 0u);
  {
    std::lock_guard lock(f.m);
    ASSERT_EQ(f.requests.size(), 1u) << "the model is asked once, before the turn ended";
    ASSERT_EQ(f.requests[0].messages.size(), 2u);
    EXPECT_EQ(f.requests[0].messages[1].content, "what is the capital of france");
  }
  // Nothing of the reply left before the turn was committed.
  const auto committed = f.rec.first<user_turn_committed>();
  ASSERT_NE(committed, SIZE_MAX);
  EXPECT_LT(committed, f.rec.first<token_chunk>());
  EXPECT_LT(committed, f.rec.first<output_audio_chunk>());
  EXPECT_LT(f.rec.first<speech_stopped>(), f.rec.first<output_audio_chunk>());
  ASSERT_EQ(f.rec.turns.size(), 1u);
  const auto& t = f.rec.turns[0];
  EXPECT_EQ(t.route, "cloud_llm");
  EXPECT_EQ(t.transcript, "what is the capital of france");
  ASSERT_TRUE(t.note_number(obs::note_name::preempted_ms).has_value());
  EXPECT_GE(*t.note_number(obs::note_name::preempted_ms), 0.0);
  EXPECT_TRUE(t.has(obs::stamp::speech_end) && t.has(obs::stamp::asr_final) && t.has(obs::stamp::llm_request));
  EXPECT_LT(*t.at(obs::stamp::llm_request), *t.at(obs::stamp::turn_end)) << "asked before the endpoint";
  EXPECT_GE(*t.at(obs::stamp::first_audio_out), *t.at(obs::stamp::asr_final)) << "heard only after";
  EXPECT_TRUE(t.value(obs::metric::overhead).has_value());
  EXPECT_GE(*t.value(obs::metric::overhead), 0.0);
}

TEST(session_preempt, other_final_words_discard_it_and_the_turn_is_answered_as_usual) {
  fixture f("what is the capital", "what is the capital of france");
  f.play({{'.', 1500.0}});
  const auto stats = f.s->stats();
  EXPECT_EQ(stats.n_preempted, 1u);
  EXPECT_EQ(stats.n_preempt_hits, 0u);
  EXPECT_EQ(stats.n_preempt_discarded, 1u);
  std::lock_guard lock(f.m);
  ASSERT_EQ(f.requests.size(), 2u);
  EXPECT_EQ(f.requests[1].messages.back().content, "what is the capital of france");
  ASSERT_EQ(f.rec.turns.size(), 1u);
  EXPECT_FALSE(f.rec.turns[0].note_number(obs::note_name::preempted_ms).has_value());
  EXPECT_EQ(f.generations_with_audio().size(), 1u) << "only the committed turn's reply was heard";
}

TEST(session_preempt, speech_going_on_after_the_pause_discards_it) {
  // 250 ms of silence (a preemption at 150 ms, no endpoint at 350 ms), then more speech.
  fixture f("what is the capital", "what is the capital of france");
  f.play({{'.', 250.0}}, {{'S', 600.0}, {'.', 1500.0}});
  const auto stats = f.s->stats();
  EXPECT_EQ(stats.n_preempted, 1u);
  EXPECT_EQ(stats.n_preempt_discarded, 1u) << "and not started again on the partial heard before the speech went on";
  EXPECT_EQ(stats.n_preempt_hits, 0u);
  EXPECT_EQ(f.rec.committed_texts(), std::vector<std::string>{"what is the capital of france"});
  EXPECT_EQ(f.generations_with_audio().size(), 1u);
}

TEST(session_preempt, a_declined_route_starts_nothing_and_the_turn_routes_at_its_end) {
  fixture f("what time is it", "what time is it", /*decline=*/true);
  f.play({{'.', 1500.0}});
  EXPECT_EQ(f.router->n_preemptive(), 1);
  EXPECT_EQ(f.s->stats().n_preempted, 0u);
  std::lock_guard lock(f.m);
  EXPECT_EQ(f.requests.size(), 1u);
  ASSERT_EQ(f.rec.turns.size(), 1u);
  EXPECT_EQ(f.rec.turns[0].route, "cloud_llm");
}

TEST(session_preempt, off_with_a_zero_delay) {
  fixture f("what is the capital of france", "what is the capital of france", false, 0.0);
  f.play({{'.', 1500.0}});
  EXPECT_EQ(f.router->n_preemptive(), 0);
  EXPECT_EQ(f.s->stats().n_preempted, 0u);
}

}  // namespace
}  // namespace parley::agent
