#include "parley/apps/runtime.hpp"

#include <algorithm>

namespace parley::app {

runtime::runtime(unsigned n_threads) : work_(boost::asio::make_work_guard(io_)) {
  const unsigned n = n_threads ? n_threads : std::max(1u, std::thread::hardware_concurrency());
  threads_.reserve(n);
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
}

runtime::~runtime() { stop(); }

void runtime::stop() {
  work_.reset();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace parley::app
