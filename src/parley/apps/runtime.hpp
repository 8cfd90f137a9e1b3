// apps/runtime — the process's io_context and its threads (DESIGN §5: one thread per core).
//
// Threading: start() runs `n_threads` threads on the io_context until stop() (or destruction).
// Sessions and mock engines post their work here.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <vector>

namespace parley::app {

class runtime {
 public:
  /// n_threads = 0: one per hardware core.
  explicit runtime(unsigned n_threads = 0);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  boost::asio::any_io_executor executor() { return io_.get_executor(); }
  unsigned n_threads() const { return static_cast<unsigned>(threads_.size()); }
  /// Lets queued work finish, then joins the threads.
  void stop();

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace parley::app
