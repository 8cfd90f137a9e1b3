#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>

#include "parley/cache/phrase_cache.hpp"
#include "parley/engines/mock/mock_engines.hpp"

namespace parley::cache {
namespace {

using namespace std::chrono_literals;

class io_thread {
 public:
  io_thread() : work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~io_thread() {
    work_.reset();
    thread_.join();
  }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

struct collected {
  std::vector<std::int16_t> pcm;
  std::size_t n_chunks = 0;
  std::promise<status> done;
};

engine::synthesizer_events collect(collected& c) {
  return {.on_audio = [&c](std::span<const std::int16_t> pcm) {
            c.pcm.insert(c.pcm.end(), pcm.begin(), pcm.end());
            ++c.n_chunks;
          },
          .on_done = [&c](status s) { c.done.set_value(std::move(s)); }};
}

TEST(phrase_cache, speaks_cached_phrases_from_memory_and_the_rest_through_the_engine) {
  io_thread io;
  auto inner = std::make_shared<mock::mock_synthesizer>(mock::synthesizer_config{.executor = io.executor()});
  phrase_cache_synthesizer tts(inner, io.executor());
  ASSERT_TRUE(tts.prewarm({"One moment.", "Sorry, I didn't catch that."}));
  EXPECT_EQ(tts.size(), 2u);
  EXPECT_TRUE(tts.contains("  One   moment. "));  // whitespace does not matter
  const auto engine_chunks_before = inner->n_chunks_sent();

  collected hit;
  tts.synthesize("One moment.", collect(hit), {});
  ASSERT_EQ(hit.done.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(inner->n_chunks_sent(), engine_chunks_before) << "a cached phrase costs no synthesis";
  EXPECT_EQ(hit.pcm.size(), static_cast<std::size_t>(inner->audio_ms_for("One moment.") * 16));
  EXPECT_GT(hit.n_chunks, 1u);
  EXPECT_EQ(tts.n_hits(), 1u);

  collected miss;
  tts.synthesize("Something new.", collect(miss), {});
  ASSERT_EQ(miss.done.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_GT(inner->n_chunks_sent(), engine_chunks_before);
  EXPECT_EQ(tts.n_hits(), 1u);
}

TEST(phrase_cache, a_cached_phrase_can_be_cancelled) {
  io_thread io;
  auto inner = std::make_shared<mock::mock_synthesizer>(mock::synthesizer_config{.executor = io.executor()});
  phrase_cache_synthesizer tts(inner, io.executor());
  ASSERT_TRUE(tts.prewarm({"One moment."}));
  std::stop_source stop;
  stop.request_stop();
  collected c;
  tts.synthesize("One moment.", collect(c), stop.get_token());
  auto f = c.done.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get().error().code, errc::cancelled);
  EXPECT_TRUE(c.pcm.empty());
}

}  // namespace
}  // namespace parley::cache
