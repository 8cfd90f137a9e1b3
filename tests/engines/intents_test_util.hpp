// Shared by the engines/intents tests: a real io_context thread, a fixed wall-clock time, a
// responder_context maker and the responder fixture over the store FAQ.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "parley/engines/intents/local_responder.hpp"

namespace parley::intents {

using namespace std::chrono_literals;
inline constexpr auto k_wait = 10s;  // an upper bound for "it happened", never a timing assertion

inline std::string store_faq_path() { return std::string(PARLEY_SOURCE_DIR) + "/data/faq/store.json"; }

// An io_context on one background thread, like the runtime's.
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


// Tuesday, March 5, 2024, 3:05:09 PM.
inline constexpr civil_time k_now{2024, 3, 5, 15, 5, 9};

inline engine::responder_context ctx(std::uint64_t session = 1, std::function<void(std::string)> announce = {}) {
  return {session_id{session}, std::move(announce)};
}

class responder_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = local_responder::create({.faq_path = store_faq_path(), .time_of_day = &tod_});
    ASSERT_TRUE(r) << r.error().describe();
    responder_ = *r;
  }
  engine::responder_answer ask(std::string_view text, std::uint64_t session = 1) {
    return responder_->answer(text, ctx(session));
  }

  manual_time_of_day tod_{k_now};
  std::shared_ptr<local_responder> responder_;
};

}  // namespace parley::intents
