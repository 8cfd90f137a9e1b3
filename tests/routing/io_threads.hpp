// An io_context on two background threads, so that strands matter (the routing tests').
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

namespace parley::routing::testing {

class io_threads {
 public:
  io_threads() : work_(boost::asio::make_work_guard(io_)) {
    for (auto& t : threads_) t = std::thread([this] { io_.run(); });
  }
  ~io_threads() {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread threads_[2];
};

}  // namespace parley::routing::testing
