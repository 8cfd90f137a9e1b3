// Turn-taking in the session: barge-in over a playing reply, what the listener heard, and when
// a turn whose reply is still playing completes.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "session_test_util.hpp"

namespace parley::agent {
namespace {

using namespace std::chrono_literals;
using namespace testing;
using recorder = testing::session_recorder;

// The mock voice speaks 62 ms a character at 16 kHz (mock_synthesizer), at least 250 ms a segment.
std::uint64_t mock_samples(const std::string& text) {
  return static_cast<std::uint64_t>(std::max(250.0, 62.0 * static_cast<double>(text.size())) * 16.0);
}

struct barge_in_fixture {
  io_threads io;
  std::mutex m;
  std::vector<engine::chat_request> requests;
  mock_set engines;
  recorder rec;
  std::unique_ptr<session> s;

  explicit barge_in_fixture(bool barge_in, std::string first_reply,
                            std::vector<std::string> transcripts = {"first question", "second question"}) {
    engine_knobs knobs;
    knobs.transcripts = std::move(transcripts);
    knobs.reply = [this, first_reply](const engine::chat_request& r) {
      std::lock_guard lock(m);
      requests.push_back(r);
      return requests.size() == 1 ? first_reply : std::string("Fine.");
    };
    engines = make_engines(io.executor(), knobs);
    session_options options;
    options.input_queue_chunks = 100'000;
    options.barge_in = {.enabled = barge_in, .min_speech_ms = 200, .playout_slack_ms = 0};
    auto created = session::create(io.executor(), engines.set(), options, rec.callbacks());
    EXPECT_TRUE(created);
    s = std::move(*created);
  }

  std::vector<std::string> segments() {
    std::vector<std::string> out;
    for (const auto i : rec.indices<text_segment>()) out.push_back(std::get<text_segment>(rec.at(i).body).text);
    return out;
  }
};

TEST(session_barge_in, speech_over_a_playing_reply_cuts_it_and_history_keeps_the_words_heard) {
  barge_in_fixture f(true, "The store opens at nine. On Sundays it opens at ten in the morning.");
  push_in_frames(*f.s, script_audio(k_one_question));
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.has_locked<reply_done>(); }));
  EXPECT_TRUE(f.rec.turns.empty()) << "with barge-in on, the turn completes only once its reply has played";

  const auto segs = f.segments();
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0], "The store opens at nine.");
  EXPECT_EQ(segs[1], "On Sundays it opens at ten in the morning.");
  const generation_id gen = f.rec.at(f.rec.first<reply_done>()).env.generation;
  // The listener heard the first sentence and half the second's audio: 21 of its 42 characters,
  // where "opens" ends at 19 and "at" at 22.
  f.s->on_playout(gen, mock_samples(segs[0]) + mock_samples(segs[1]) / 2);

  // The user speaks over it (400 ms: well past the 200 ms minimum), then asks again.
  push_in_frames(*f.s, script_audio({{'S', 1200.0}, {'.', 1000.0}}));
  f.s->end_input();
  ASSERT_TRUE(f.rec.wait_end());

  const auto interrupts = f.rec.indices<interrupt_event>();
  ASSERT_EQ(interrupts.size(), 1u);
  const auto cut = std::get<interrupt_event>(f.rec.at(interrupts[0]).body);
  EXPECT_EQ(cut.reason, "barge_in");
  EXPECT_EQ(f.rec.at(interrupts[0]).env.generation, gen);
  EXPECT_EQ(cut.heard_text, "The store opens at nine. On Sundays it opens");
  EXPECT_EQ(cut.n_played_samples, mock_samples(segs[0]) + mock_samples(segs[1]) / 2);
  EXPECT_TRUE(cut.t_speech_start.has_value());
  EXPECT_LT(interrupts[0], f.rec.last<user_turn_committed>()) << "cut at the barge-in, before the new turn";

  std::lock_guard lock(f.m);
  ASSERT_EQ(f.requests.size(), 2u);
  const auto& history = f.requests[1].messages;
  ASSERT_EQ(history.size(), 4u);  // system, user, assistant (as heard), user
  EXPECT_EQ(history[2].role, engine::chat_role::assistant);
  EXPECT_EQ(history[2].content, "The store opens at nine. On Sundays it opens");
  EXPECT_TRUE(history[2].interrupted);
  EXPECT_EQ(history[3].content, "second question");

  ASSERT_EQ(f.rec.turns.size(), 2u);
  EXPECT_TRUE(f.rec.turns[0].flags.interrupted);
  EXPECT_EQ(f.rec.turns[0].reply, "The store opens at nine. On Sundays it opens");
  EXPECT_TRUE(f.rec.turns[0].has_note(obs::note_name::interrupt_reason, std::string("barge_in")));
  EXPECT_EQ(f.s->stats().n_barge_ins, 1u);
}

TEST(session_barge_in, a_reply_played_out_in_full_is_remembered_whole_and_its_turn_completes) {
  barge_in_fixture f(true, "The store opens at nine.");
  push_in_frames(*f.s, script_audio(k_one_question));
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.has_locked<reply_done>(); }));
  const generation_id gen = f.rec.at(f.rec.first<reply_done>()).env.generation;
  f.s->on_playout(gen, mock_samples("The store opens at nine."));
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.turns.size() == 1; })) << "played out: the turn completes";
  EXPECT_FALSE(f.rec.turns[0].flags.interrupted);

  push_in_frames(*f.s, script_audio({{'S', 1200.0}, {'.', 1000.0}}));
  f.s->end_input();
  ASSERT_TRUE(f.rec.wait_end());
  EXPECT_TRUE(f.rec.indices<interrupt_event>().empty());
  std::lock_guard lock(f.m);
  ASSERT_EQ(f.requests.size(), 2u);
  EXPECT_EQ(f.requests[1].messages[2].content, "The store opens at nine.");
  EXPECT_FALSE(f.requests[1].messages[2].interrupted);
}

TEST(session_barge_in, a_cough_over_the_reply_does_not_cut_it) {
  // The cough is recognised as nothing: no new turn interrupts the reply either.
  barge_in_fixture f(true, "The store opens at nine. On Sundays it opens at ten in the morning.",
                     {"first question", ""});
  push_in_frames(*f.s, script_audio(k_one_question));
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.has_locked<reply_done>(); }));
  push_in_frames(*f.s, script_audio({{'S', 80.0}, {'.', 1000.0}}));  // shorter than min_speech_ms, VAD overhang included
  f.s->end_input();
  ASSERT_TRUE(f.rec.wait_end());
  EXPECT_TRUE(f.rec.indices<interrupt_event>().empty());
  EXPECT_EQ(f.s->stats().n_barge_ins, 0u);
}

TEST(session_barge_in, without_playout_reports_playback_is_estimated_and_the_turn_completes_by_itself) {
  barge_in_fixture f(true, "Yes.");
  push_in_frames(*f.s, script_audio(k_one_question));
  f.s->end_input();
  ASSERT_TRUE(f.rec.wait_end()) << "the 250 ms reply plays out by the real-time estimate";
  ASSERT_EQ(f.rec.turns.size(), 1u);
  EXPECT_FALSE(f.rec.turns[0].flags.interrupted);
}

TEST(session_barge_in, off_by_default_speech_over_a_reply_does_not_cut_it) {
  barge_in_fixture f(false, "The store opens at nine. On Sundays it opens at ten in the morning.");
  push_in_frames(*f.s, script_audio(k_one_question));
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.turns.size() == 1; })) << "completes when generated";
  push_in_frames(*f.s, script_audio({{'S', 1200.0}, {'.', 1000.0}}));
  f.s->end_input();
  ASSERT_TRUE(f.rec.wait_end());
  EXPECT_TRUE(f.rec.indices<interrupt_event>().empty());
  std::lock_guard lock(f.m);
  ASSERT_EQ(f.requests.size(), 2u);
  EXPECT_EQ(f.requests[1].messages[2].content, "The store opens at nine. On Sundays it opens at ten in the morning.");
}

}  // namespace
}  // namespace parley::agent
