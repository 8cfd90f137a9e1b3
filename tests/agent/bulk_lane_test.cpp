// The bulk lane: jobs run in order, all of them, and give way to critical handlers waiting.
#include "parley/agent/bulk_lane.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <thread>
#include <vector>

namespace parley::agent {
namespace {

namespace asio = boost::asio;

TEST(bulk_lane, runs_every_job_in_order) {
  asio::io_context io;
  auto lane = std::make_shared<bulk_lane>(io.get_executor());
  std::vector<int> ran;
  for (int i = 0; i < 200; ++i) lane->submit([&ran, i] { ran.push_back(i); });
  EXPECT_EQ(lane->n_queued(), 200u);
  io.run();
  ASSERT_EQ(ran.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ran[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(lane->n_queued(), 0u);
  EXPECT_EQ(lane->n_yields(), 0u);  // nothing critical was waiting
}

// One thread, so the order is exact: the pump was queued first, yet the critical handler posted
// after it runs once the pump has run what it owes (one job: a backlog of 7 owes no share).
TEST(bulk_lane, a_waiting_critical_handler_overtakes_the_backlog) {
  asio::io_context io;
  auto lane = std::make_shared<bulk_lane>(io.get_executor());
  std::vector<std::string> ran;
  for (int i = 0; i < 7; ++i) lane->submit([&ran, i] { ran.push_back("b" + std::to_string(i)); });
  asio::post(io, [&ran, mark = lane->mark_critical()]() mutable {
    mark.release();
    ran.push_back("critical");
  });
  io.run();
  const std::vector<std::string> want = {"b0", "critical", "b1", "b2", "b3", "b4", "b5", "b6"};
  EXPECT_EQ(ran, want);
  EXPECT_EQ(lane->n_yields(), 1u);
}

TEST(bulk_lane, without_critical_work_a_turn_runs_a_bounded_batch) {
  asio::io_context io;
  auto lane = std::make_shared<bulk_lane>(io.get_executor());
  const std::size_t n = bulk_lane::k_max_jobs_per_turn + 10;
  std::vector<std::string> ran;
  for (std::size_t i = 0; i < n; ++i) lane->submit([&ran, i] { ran.push_back("b" + std::to_string(i)); });
  asio::post(io, [&ran] { ran.push_back("other"); });  // ordinary work queued behind the pump
  io.run();
  ASSERT_EQ(ran.size(), n + 1);
  EXPECT_EQ(ran[bulk_lane::k_max_jobs_per_turn], "other");  // the pump re-posted itself after a batch
  EXPECT_EQ(lane->n_yields(), 0u);
}

// A long backlog under constant critical traffic still drains: each turn runs an eighth of it.
TEST(bulk_lane, keeps_up_under_a_stream_of_critical_work) {
  asio::io_context io;
  auto lane = std::make_shared<bulk_lane>(io.get_executor());
  int n_bulk = 0;
  for (int i = 0; i < 800; ++i) lane->submit([&n_bulk] { ++n_bulk; });
  // A critical handler that re-posts itself (with a fresh mark) until the lane is empty: critical
  // work is waiting at every one of the pump's turns.
  int n_critical = 0;
  std::function<void()> critical = [&] {
    ++n_critical;
    if (lane->n_queued() > 0) {
      asio::post(io, [&critical, mark = lane->mark_critical()]() mutable {
        mark.release();
        critical();
      });
    }
  };
  asio::post(io, [&critical, mark = lane->mark_critical()]() mutable {
    mark.release();
    critical();
  });
  io.run();
  EXPECT_EQ(n_bulk, 800);
  // Without the backlog share it would take 800 turns, one job each; with it, far fewer.
  EXPECT_LT(n_critical, 100);
  EXPECT_GT(lane->n_yields(), 0u);
}

TEST(bulk_lane, an_unrun_critical_mark_releases_its_count) {
  asio::io_context io;
  auto lane = std::make_shared<bulk_lane>(io.get_executor());
  {
    auto mark = lane->mark_critical();  // destroyed without release(): as a handler never run
  }
  std::vector<int> ran;
  for (int i = 0; i < 4; ++i) lane->submit([&ran, i] { ran.push_back(i); });
  io.run();
  EXPECT_EQ(ran.size(), 4u);
  EXPECT_EQ(lane->n_yields(), 0u);  // nothing critical was waiting any more
}

TEST(bulk_lane, jobs_from_many_threads_all_run_once) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&io] { io.run(); });
  auto lane = std::make_shared<bulk_lane>(io.get_executor());
  std::atomic<int> n_ran{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        lane->submit([&n_ran] { n_ran.fetch_add(1); });
        if (i % 50 == 0) asio::post(io, [mark = lane->mark_critical()]() mutable { mark.release(); });
      }
    });
  }
  for (auto& t : producers) t.join();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (n_ran.load() < 2000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  work.reset();
  for (auto& t : runners) t.join();
  EXPECT_EQ(n_ran.load(), 2000);
}

}  // namespace
}  // namespace parley::agent
