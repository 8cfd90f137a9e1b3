// Whole sessions with mock engines: event order, streaming vs sequential, interruption, history.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "session_test_util.hpp"
#include "parley/agent/session.hpp"
#include "parley/audio/framer.hpp"
#include "parley/engines/mock/mock_engines.hpp"

namespace parley::agent {
namespace {

using namespace std::chrono_literals;
// session_test_util.hpp: scripted audio, mock engines, make_session; io_threads, k_wait and the
// event recorder are shared with the filler tests.
using namespace testing;
using recorder = testing::session_recorder;

// ---- tests ---------------------------------------------------------------------------------

TEST(session, create_rejects_a_missing_engine) {
  io_threads io;
  auto engines = make_engines(io.executor());
  recorder rec;
  auto s = session::create(io.executor(), {engines.asr, nullptr, engines.tts}, {}, rec.callbacks());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, errc::invalid_argument);
}

TEST(session, streaming_turn_flows_in_order_and_audio_starts_before_the_llm_ends) {
  io_threads io;
  auto engines = make_engines(io.executor());
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio(k_one_question));
  s->end_input();
  ASSERT_TRUE(rec.wait_end());

  const auto started = rec.first<speech_started>();
  const auto stopped = rec.first<speech_stopped>();
  const auto final_text = rec.first<transcript_final>();
  const auto committed = rec.first<user_turn_committed>();
  const auto first_token = rec.first<token_chunk>();
  const auto last_token = rec.last<token_chunk>();
  const auto first_segment = rec.first<text_segment>();
  const auto first_audio = rec.first<output_audio_chunk>();
  const auto done = rec.first<reply_done>();
  const auto eos = rec.first<end_of_stream>();
  ASSERT_NE(first_audio, SIZE_MAX);
  EXPECT_LT(started, stopped);
  EXPECT_LT(stopped, final_text);
  EXPECT_LT(final_text, committed);
  EXPECT_LT(committed, first_token);
  EXPECT_LT(first_token, first_segment);
  EXPECT_LT(first_segment, first_audio);
  EXPECT_LT(first_audio, last_token) << "streaming: the first audio must leave while the LLM is still streaming";
  EXPECT_LT(last_token, done);
  EXPECT_LT(done, eos);
  EXPECT_EQ(eos, rec.events.size() - 1);

  ASSERT_EQ(rec.turns.size(), 1u);
  const auto& t = rec.turns[0];
  EXPECT_EQ(t.transcript, "what time is it");
  EXPECT_EQ(t.reply, mock::default_mock_reply("what time is it"));
  EXPECT_EQ(t.mode, "streaming");
  EXPECT_GE(t.n_segments, 3u);
  EXPECT_GT(t.n_output_samples, 16000);
  for (auto m : {obs::metric::endpoint_delay, obs::metric::asr_final, obs::metric::llm_ttft, obs::metric::llm_ttfs,
                 obs::metric::tts_ttfb, obs::metric::ttfa, obs::metric::overhead}) {
    ASSERT_TRUE(t.value(m)) << obs::to_string(m);
    EXPECT_GE(*t.value(m), 0.0) << obs::to_string(m);
  }
  // Envelope: sequence numbers strictly increase; every reply event carries the turn and generation.
  for (std::size_t i = 1; i < rec.events.size(); ++i) EXPECT_LT(rec.events[i - 1].env.seq, rec.events[i].env.seq);
  EXPECT_EQ(rec.at(first_audio).env.turn, t.turn);
  EXPECT_EQ(rec.at(first_audio).env.generation, t.generation);
  EXPECT_TRUE(std::get<output_audio_chunk>(rec.at(first_audio).body).first);
}

// As in the server: two sessions share one input lane; both hear every frame, in order, and answer.
TEST(session, sessions_sharing_an_input_lane_answer_as_without_one) {
  io_threads io;
  auto engines = make_engines(io.executor());
  auto lane = std::make_shared<bulk_lane>(io.executor());
  recorder rec_a, rec_b;
  auto a = make_session(io.executor(), engines, rec_a, pipeline_mode::streaming, lane);
  auto b = make_session(io.executor(), engines, rec_b, pipeline_mode::streaming, lane);
  const auto audio = script_audio(k_two_quick_utterances);
  for (std::size_t i = 0; i < audio.size(); i += 320) {  // interleaved, as live sessions are
    const auto frame = std::span<const std::int16_t>(audio).subspan(i, std::min<std::size_t>(320, audio.size() - i));
    a->push_audio(frame);
    b->push_audio(frame);
  }
  a->end_input();
  b->end_input();
  ASSERT_TRUE(rec_a.wait_end());
  ASSERT_TRUE(rec_b.wait_end());
  for (auto* rec : {&rec_a, &rec_b}) {
    EXPECT_EQ(rec->turns.size(), 2u);  // both utterances found: no frame lost or reordered
    EXPECT_GE(rec->indices<reply_done>().size(), 1u);
  }
  EXPECT_EQ(a->stats().n_dropped_chunks, 0u);
  EXPECT_EQ(lane->n_queued(), 0u);
}

TEST(session, sequential_mode_runs_each_stage_to_completion_first) {
  io_threads io;
  auto engines = make_engines(io.executor());
  recorder rec;
  auto s = make_session(io.executor(), engines, rec, pipeline_mode::sequential);
  push_in_frames(*s, script_audio(k_one_question));
  s->end_input();
  ASSERT_TRUE(rec.wait_end());

  const auto last_token = rec.last<token_chunk>();
  const auto first_segment = rec.first<text_segment>();
  const auto last_segment = rec.last<text_segment>();
  const auto first_audio = rec.first<output_audio_chunk>();
  ASSERT_NE(first_audio, SIZE_MAX);
  EXPECT_LT(rec.first<transcript_final>(), rec.first<token_chunk>());
  EXPECT_LT(last_token, first_segment) << "sequential: the whole reply text comes before any segment";
  EXPECT_LT(last_segment, first_audio) << "sequential: every segment comes before any audio";
  ASSERT_EQ(rec.turns.size(), 1u);
  const auto& t = rec.turns[0];
  EXPECT_EQ(t.mode, "sequential");
  // The first audio left only after every segment had been synthesized.
  EXPECT_GE(*t.at(obs::stamp::first_audio_out), *t.at(obs::stamp::tts_first_audio));
  EXPECT_EQ(t.reply, mock::default_mock_reply("what time is it"));
}

TEST(session, interrupt_silences_within_one_chunk_and_never_leaks_stale_audio) {
  io_threads io;
  engine_knobs knobs;
  knobs.llm = {"slow", mock::latency_dist::fixed(5), 40.0, 0.0};  // 25 ms per token: a long reply
  knobs.tts_rtf = 0.5;                                             // 20 ms per 40 ms chunk
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio(k_one_question));
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<output_audio_chunk>(); }));

  const generation_id speaking = rec.at(rec.first<output_audio_chunk>()).env.generation;
  const auto tokens_before = engines.llm->n_tokens_sent();
  s->interrupt("test");
  std::size_t n_events_at_interrupt = 0;
  {
    std::lock_guard lock(rec.mutex);
    n_events_at_interrupt = rec.events.size();
  }
  s->interrupt("again");  // idempotent
  s->end_input();
  ASSERT_TRUE(rec.wait_end());

  const auto interrupts = rec.indices<interrupt_event>();
  ASSERT_EQ(interrupts.size(), 1u) << "one interrupt event, however often interrupt() is called";
  EXPECT_EQ(rec.at(interrupts[0]).env.generation, speaking);
  std::size_t stale_after_call = 0;
  for (std::size_t i = n_events_at_interrupt; i < rec.events.size(); ++i) {
    const auto& e = rec.at(i);
    if (e.env.generation == speaking && std::holds_alternative<output_audio_chunk>(e.body)) ++stale_after_call;
  }
  EXPECT_LE(stale_after_call, 1u) << "output must stop within one chunk of interrupt()";
  for (std::size_t i = interrupts[0] + 1; i < rec.events.size(); ++i) {
    const auto& e = rec.at(i);
    EXPECT_FALSE(e.env.generation == speaking && class_of(e.body) == event_class::data)
        << "stale " << name_of(e.body) << " after the interrupt event";
  }
  EXPECT_EQ(rec.indices<reply_done>().size(), 0u);

  // The model stopped early, and history keeps only what was spoken, marked interrupted.
  std::this_thread::sleep_for(100ms);
  const auto full = mock::split_into_tokens(mock::default_mock_reply("what time is it")).size();
  EXPECT_LT(engines.llm->n_tokens_sent(), full);
  EXPECT_LE(engines.llm->n_tokens_sent(), tokens_before + 2);
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_TRUE(rec.turns[0].flags.interrupted);
  EXPECT_NE(rec.turns[0].reply, mock::default_mock_reply("what time is it"));
  EXPECT_EQ(s->stats().n_interrupts, 1u);
}

TEST(session, interrupted_reply_is_remembered_as_heard) {
  io_threads io;
  engine_knobs knobs;
  knobs.llm = {"slow", mock::latency_dist::fixed(5), 40.0, 0.0};
  knobs.transcripts = {"first question", "second question"};
  std::mutex m;
  std::vector<engine::chat_request> requests;
  knobs.reply = [&](const engine::chat_request& r) {
    std::lock_guard lock(m);
    requests.push_back(r);
    return mock::default_mock_reply(r.last_user_text());
  };
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio(k_one_question));
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<output_audio_chunk>(); }));
  s->interrupt();
  s->submit_text("second question");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());

  std::lock_guard lock(m);
  ASSERT_EQ(requests.size(), 2u);
  const auto& history = requests[1].messages;
  ASSERT_EQ(history.size(), 4u);  // system, user, assistant (interrupted), user
  EXPECT_EQ(history[0].role, engine::chat_role::system);
  EXPECT_EQ(history[1].content, "first question");
  EXPECT_EQ(history[2].role, engine::chat_role::assistant);
  EXPECT_TRUE(history[2].interrupted);
  EXPECT_EQ(history[3].content, "second question");
}

TEST(session, a_new_turn_interrupts_the_reply_in_progress) {
  io_threads io;
  engine_knobs knobs;
  knobs.llm = {"slow", mock::latency_dist::fixed(5), 20.0, 0.0};  // 50 ms per token: still talking
  knobs.transcripts = {"first", "second"};
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio(k_two_quick_utterances));
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  ASSERT_EQ(rec.turns.size(), 2u);
  EXPECT_TRUE(rec.turns[0].flags.interrupted);
  EXPECT_FALSE(rec.turns[1].flags.interrupted);
  EXPECT_EQ(rec.turns[1].transcript, "second");
  const auto interrupts = rec.indices<interrupt_event>();
  ASSERT_EQ(interrupts.size(), 1u);
  EXPECT_EQ(std::get<interrupt_event>(rec.at(interrupts[0]).body).reason, "new_turn");
}

// A recognizer may finish a later utterance first (finalisation runs off the session's strand):
// turns are still committed in the order they were spoken.
TEST(session, transcripts_arriving_out_of_order_are_committed_in_spoken_order) {
  io_threads io;
  engine_knobs knobs;
  knobs.transcripts = {"first", "second"};
  knobs.finalize_ms = {300.0, 0.0};  // the second transcript arrives long before the first
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio(k_two_quick_utterances));
  s->end_input();
  ASSERT_TRUE(rec.wait_end());

  ASSERT_EQ(rec.turns.size(), 2u);
  EXPECT_EQ(rec.turns[0].transcript, "first");
  EXPECT_EQ(rec.turns[1].transcript, "second");
  EXPECT_TRUE(rec.turns[0].flags.interrupted);
  EXPECT_FALSE(rec.turns[1].flags.interrupted);
  const auto committed = rec.committed_texts();
  EXPECT_EQ(committed, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(rec.indices<reply_done>().size(), 1u);
}

// Typing while a spoken turn waits for its transcript: the typed turn comes after the spoken one.
TEST(session, a_typed_turn_waits_for_the_transcript_of_the_spoken_turn_before_it) {
  io_threads io;
  engine_knobs knobs;
  knobs.transcripts = {"spoken"};
  knobs.finalize_ms = {300.0};  // the spoken turn's transcript is still pending when the text comes
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio(k_one_question));
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<speech_stopped>(); }));
  s->submit_text("typed");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());

  ASSERT_EQ(rec.turns.size(), 2u);
  EXPECT_EQ(rec.turns[0].transcript, "spoken");
  EXPECT_EQ(rec.turns[1].transcript, "typed");
  EXPECT_TRUE(rec.turns[0].flags.interrupted);
  const auto committed = rec.committed_texts();
  EXPECT_EQ(committed, (std::vector<std::string>{"spoken", "typed"}));
  EXPECT_EQ(rec.indices<transcript_final>().size(), 1u);  // typed text is not a transcript
  EXPECT_EQ(rec.indices<reply_done>().size(), 1u);
}

TEST(session, two_turns_are_both_answered_with_history) {
  io_threads io;
  engine_knobs knobs;
  knobs.transcripts = {"hello", "what time is it"};
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio({{'.', 300}, {'S', 700}, {'.', 800}}));
  ASSERT_TRUE(rec.wait_for([&] { return rec.turns.size() == 1; }));  // the first reply finishes first
  push_in_frames(*s, script_audio({{'S', 700}, {'.', 800}}));
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  ASSERT_EQ(rec.turns.size(), 2u);
  EXPECT_EQ(rec.turns[0].transcript, "hello");
  EXPECT_EQ(rec.turns[1].transcript, "what time is it");
  EXPECT_FALSE(rec.turns[0].flags.interrupted);
  EXPECT_EQ(rec.indices<reply_done>().size(), 2u);
  EXPECT_NE(rec.turns[0].turn, rec.turns[1].turn);
}

TEST(session, an_empty_transcript_gets_no_reply) {
  io_threads io;
  engine_knobs knobs;
  knobs.transcripts = {""};
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio(k_one_question));
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_EQ(rec.turns[0].route, "none");
  EXPECT_TRUE(rec.indices<output_audio_chunk>().empty());
  EXPECT_EQ(engines.llm->n_requests(), 0u);
}

TEST(session, silence_only_input_has_no_turn) {
  io_threads io;
  auto engines = make_engines(io.executor());
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  push_in_frames(*s, script_audio({{'.', 2000}}));
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_TRUE(rec.turns.empty());
  EXPECT_TRUE(rec.indices<speech_started>().empty());
}

TEST(session, input_ring_drops_the_oldest_when_the_pipeline_stalls) {
  boost::asio::io_context stalled;  // never run: nothing drains the ring
  auto engines = make_engines(stalled.get_executor());
  recorder rec;
  session_options options;
  options.input_queue_chunks = 10;
  auto s = session::create(stalled.get_executor(), engines.set(), options, rec.callbacks());
  ASSERT_TRUE(s);
  const std::vector<std::int16_t> frame(320);
  for (int i = 0; i < 25; ++i) (*s)->push_audio(frame);  // never blocks
  EXPECT_EQ((*s)->stats().n_input_chunks, 25u);
  EXPECT_EQ((*s)->stats().n_dropped_chunks, 15u);
  auto work = boost::asio::make_work_guard(stalled);
  std::thread runner([&] { stalled.run(); });  // close() needs the strand to run
  (*s)->close();
  work.reset();
  runner.join();
}

TEST(session, text_input_is_answered_without_asr) {
  io_threads io;
  auto engines = make_engines(io.executor());
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  s->submit_text("tell me a joke");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_EQ(rec.turns[0].transcript, "tell me a joke");
  EXPECT_FALSE(rec.indices<output_audio_chunk>().empty());
  EXPECT_EQ(engines.asr->n_utterances(), 0u);
}

TEST(session, manual_turns_are_what_was_pushed_between_commits) {
  io_threads io;
  engine_knobs knobs;
  knobs.transcripts = {"first", "dropped", "second", "never committed"};
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  session_options options;
  options.manual_turns = true;
  options.input_queue_chunks = 100'000;
  auto s = session::create(io.executor(), engines.set(), options, rec.callbacks());
  ASSERT_TRUE(s) << s.error().describe();
  // A 900 ms pause would end a turn by silence; here only the commit does.
  push_in_frames(**s, script_audio({{'.', 200}, {'S', 700}, {'.', 900}, {'S', 700}, {'.', 200}}));
  (*s)->commit_turn();
  ASSERT_TRUE(rec.wait_for([&] { return rec.turns.size() == 1; }));
  push_in_frames(**s, script_audio({{'S', 500}}));
  (*s)->clear_turn();  // dropped: no turn, no transcript
  (*s)->commit_turn();  // nothing pushed since: no-op
  // Pushed at once, before the strand has applied the clear: still the next turn, not the cleared one.
  push_in_frames(**s, script_audio({{'S', 600}, {'.', 100}}));
  (*s)->commit_turn();
  ASSERT_TRUE(rec.wait_for([&] { return rec.turns.size() == 2; }));
  push_in_frames(**s, script_audio({{'S', 300}}));
  (*s)->end_input();  // not committed: dropped
  ASSERT_TRUE(rec.wait_end());
  EXPECT_EQ(rec.committed_texts(), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(rec.indices<speech_stopped>().size(), 2u);
  ASSERT_EQ(rec.turns.size(), 2u);
  EXPECT_EQ(rec.indices<reply_done>().size(), 2u) << "committed turns are answered as any other";
}

TEST(session, announcements_are_spoken_after_the_reply_in_progress) {
  io_threads io;
  engine_knobs knobs;
  knobs.llm = {"slow", mock::latency_dist::fixed(5), 100.0, 0.0};
  std::mutex m;
  std::function<void(std::string)> announce;  // what a responder (timers) gets with each request
  knobs.reply = [&](const engine::chat_request& r) {
    std::lock_guard lock(m);
    announce = r.context.announce;
    EXPECT_TRUE(r.context.session);
    return std::string("Timer set for one second.");
  };
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  s->submit_text("set a timer");
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<token_chunk>(); }));
  {
    std::lock_guard lock(m);
    ASSERT_TRUE(announce);
    announce("Your timer is done.");  // fires while the first reply is still streaming
  }
  ASSERT_TRUE(rec.wait_for([&] { return rec.turns.size() == 2; }));
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_EQ(rec.turns[0].route, "llm");
  EXPECT_FALSE(rec.turns[0].flags.interrupted) << "an announcement never cuts a reply";
  EXPECT_EQ(rec.turns[1].route, "announce");
  EXPECT_EQ(rec.turns[1].reply, "Your timer is done.");
  const auto done = rec.indices<reply_done>();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(std::get<reply_done>(rec.at(done[1]).body).text, "Your timer is done.");
  EXPECT_GT(rec.turns[1].n_output_samples, 0);
}

TEST(session, close_stops_callbacks_even_mid_reply) {
  io_threads io;
  engine_knobs knobs;
  knobs.llm = {"slow", mock::latency_dist::fixed(5), 40.0, 0.0};
  auto engines = make_engines(io.executor(), knobs);
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  s->submit_text("go on");
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<token_chunk>(); }));
  s->close();
  std::size_t n;
  {
    std::lock_guard lock(rec.mutex);
    n = rec.events.size();
  }
  std::this_thread::sleep_for(200ms);
  std::lock_guard lock(rec.mutex);
  EXPECT_EQ(rec.events.size(), n);
}


TEST(session, timelines_hold_transcripts_with_personal_data_redacted) {
  io_threads io;
  auto engines = make_engines(io.executor());
  recorder rec;
  auto s = make_session(io.executor(), engines, rec);
  s->submit_text("my email is jane.doe@example.com");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  ASSERT_EQ(rec.turns.size(), 1u);
  EXPECT_EQ(rec.turns[0].transcript.find("jane.doe"), std::string::npos) << rec.turns[0].transcript;
  EXPECT_NE(rec.turns[0].transcript.find("[email]"), std::string::npos) << rec.turns[0].transcript;
  // The session's own events carry what was said: the client needs it.
  const auto i = rec.first<user_turn_committed>();
  ASSERT_NE(i, SIZE_MAX);
  EXPECT_EQ(std::get<user_turn_committed>(rec.at(i).body).text, "my email is jane.doe@example.com");
}

// ---- what the recognizer hears -------------------------------------------------------------------

// Wraps the mock recognizer and records, per opened utterance, the channel it named and the
// loudest sample it was fed (raw noisy audio keeps its noise; the cleaned copy is much quieter
// outside speech, and the first 300 ms of pre-roll are mostly noise).
class listening_recognizer final : public engine::recognizer {
 public:
  explicit listening_recognizer(std::shared_ptr<mock::mock_recognizer> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return "listening"; }
  engine::recognizer_caps caps() const override { return inner_->caps(); }
  result<std::unique_ptr<engine::recognizer_stream>> open(engine::recognizer_events events) override {
    {
      std::lock_guard lock(mutex_);
      channels_.push_back(events.channel);
      first_fed_.emplace_back();
    }
    auto stream = inner_->open(std::move(events));
    if (!stream) return stream;
    return std::unique_ptr<engine::recognizer_stream>(std::make_unique<stream_tap>(*this, first_fed_.size() - 1, std::move(*stream)));
  }
  std::vector<std::uint64_t> channels() {
    std::lock_guard lock(mutex_);
    return channels_;
  }
  /// The first 100 ms the utterance was fed (the pre-roll's oldest part: before the speech).
  std::vector<std::int16_t> first_fed(std::size_t utterance) {
    std::lock_guard lock(mutex_);
    return first_fed_.at(utterance);
  }

 private:
  struct stream_tap final : engine::recognizer_stream {
    stream_tap(listening_recognizer& r, std::size_t i, std::unique_ptr<engine::recognizer_stream> s)
        : owner(r), index(i), inner(std::move(s)) {}
    void feed(std::span<const std::int16_t> samples) override {
      {
        std::lock_guard lock(owner.mutex_);
        auto& kept = owner.first_fed_[index];
        const auto room = std::min<std::size_t>(samples.size(), 1600 - std::min<std::size_t>(kept.size(), 1600));
        kept.insert(kept.end(), samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(room));
      }
      inner->feed(samples);
    }
    void finish() override { inner->finish(); }
    void cancel() override { inner->cancel(); }
    listening_recognizer& owner;
    std::size_t index;
    std::unique_ptr<engine::recognizer_stream> inner;
  };
  std::shared_ptr<mock::mock_recognizer> inner_;
  std::mutex mutex_;
  std::vector<std::uint64_t> channels_;
  std::vector<std::vector<std::int16_t>> first_fed_;
};

double rms_of(const std::vector<std::int16_t>& x) {
  double e = 0;
  for (auto v : x) e += static_cast<double>(v) * v;
  return x.empty() ? 0.0 : std::sqrt(e / static_cast<double>(x.size()));
}

// One question in steady white noise `snr_db` below the speech (none: the clean script).
std::vector<std::int16_t> question_in_noise(std::optional<double> snr_db) {
  auto pcm = script_audio({std::pair{'.', 1500.0}, std::pair{'S', 1200.0}, std::pair{'.', 1000.0}});
  if (!snr_db) return pcm;
  const auto speech = mock::speechlike_pcm(19200, k_input_rate_hz, 800);
  const double noise_rms = rms_of(speech) / std::pow(10.0, *snr_db / 20.0);
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, noise_rms);
  for (auto& v : pcm) v = static_cast<std::int16_t>(std::clamp(v + noise(rng), -32768.0, 32767.0));
  return pcm;
}

TEST(session_asr_input, clean_input_is_heard_as_it_came_and_noisy_input_cleaned) {
  for (const std::optional<double> snr : {std::optional<double>{}, std::optional<double>{10.0}}) {
    SCOPED_TRACE(snr ? "10 dB SNR" : "clean");
    io_threads io;
    auto engines = make_engines(io.executor());
    auto listening = std::make_shared<listening_recognizer>(engines.asr);
    recorder rec;
    session_options options;
    options.input_queue_chunks = 100'000;
    auto s = session::create(io.executor(), {listening, engines.llm, engines.tts}, options, rec.callbacks());
    ASSERT_TRUE(s);
    const auto input = question_in_noise(snr);
    push_in_frames(**s, input);
    (*s)->end_input();
    ASSERT_TRUE(rec.wait_end());
    ASSERT_EQ(listening->channels().size(), 1u) << "one utterance";
    ASSERT_EQ(rec.turns.size(), 1u);
    const bool cleaned = listening->channels()[0] % 2 == 1;
    const auto fed = listening->first_fed(0);
    if (!snr) {
      EXPECT_FALSE(cleaned) << "clean input: the recognizer hears it as it came";
      EXPECT_FALSE(rec.turns[0].has_note(obs::note_name::asr_cleaned));
    } else {
      EXPECT_TRUE(cleaned) << "10 dB SNR: the recognizer hears the cleaned audio";
      EXPECT_TRUE(rec.turns[0].has_note(obs::note_name::asr_cleaned));
      // The pre-roll's noise reached the recognizer suppressed (the raw noise is far louder).
      const std::vector<std::int16_t> raw_noise(input.begin(), input.begin() + 1600);
      EXPECT_LT(rms_of(fed), rms_of(raw_noise) / 3.0);
    }
    (*s)->close();
  }
}

TEST(session_asr_input, zero_threshold_keeps_raw_audio_and_the_flag_forces_cleaned) {
  for (const bool force : {false, true}) {
    io_threads io;
    auto engines = make_engines(io.executor());
    auto listening = std::make_shared<listening_recognizer>(engines.asr);
    recorder rec;
    session_options options;
    options.input_queue_chunks = 100'000;
    options.recognizer_denoised_below_snr_db = 0.0;
    options.recognizer_hears_denoised = force;
    auto s = session::create(io.executor(), {listening, engines.llm, engines.tts}, options, rec.callbacks());
    ASSERT_TRUE(s);
    const auto input = question_in_noise(10.0);
    push_in_frames(**s, input);
    (*s)->end_input();
    ASSERT_TRUE(rec.wait_end());
    ASSERT_EQ(listening->channels().size(), 1u);
    EXPECT_EQ(listening->channels()[0] % 2 == 1, force);
    if (!force) {
      // The raw pre-roll reached the recognizer in order: its first 100 ms are one stretch of the
      // input, starting on a frame boundary (the pre-roll ring returns its frames oldest first).
      const auto fed = listening->first_fed(0);
      ASSERT_EQ(fed.size(), 1600u);
      bool found = false;
      for (std::size_t at = 0; at + fed.size() <= input.size() && !found; at += audio::k_frame_samples) {
        found = std::equal(fed.begin(), fed.end(), input.begin() + static_cast<std::ptrdiff_t>(at));
      }
      EXPECT_TRUE(found) << "the pre-roll is not a contiguous stretch of the input";
    }
    (*s)->close();
  }
}

}  // namespace
}  // namespace parley::agent
