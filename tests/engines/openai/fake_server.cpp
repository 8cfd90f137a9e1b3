#include "fake_server.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <chrono>

namespace parley::openai::testing {

namespace http = boost::beast::http;

fake_server::fake_server(script s, asio::ssl::context* tls)
    : script_(std::move(s)), tls_(tls), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { accept_loop(); });
}

void fake_server::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(conn_threads_);
  }
  for (auto& t : threads) t.join();
}

void fake_server::accept_loop() {
  for (int index = 0;; ++index) {
    boost::system::error_code ec;
    tcp::socket sock(io_);
    acceptor_.accept(sock, ec);
    std::lock_guard lock(mutex_);
    if (ec || stopping_) return;
    n_accepts_.fetch_add(1);
    fds_.insert(sock.native_handle());
    conn_threads_.emplace_back([this, s = std::move(sock), index]() mutable { serve(std::move(s), index); });
  }
}

template <class Stream>
void fake_server::serve_stream(Stream& stream, fake_conn& conn, int index) {
  boost::beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    boost::system::error_code ec;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    fake_request r;
    r.target = std::string(req.target());
    r.body = req.body();
    r.authorization = std::string(req[http::field::authorization]);
    r.accept = std::string(req[http::field::accept]);
    r.connection_index = index;
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      r.headers[name] = std::string(f.value());
    }
    int request_index = 0;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(r);
      request_index = n_requests_.fetch_add(1);
    }
    script_(conn, r, request_index);
    if (conn.closed_ || conn.write_failed_) return;
  }
}

void fake_server::serve(tcp::socket sock, int index) {
  const int fd = sock.native_handle();
  fake_conn conn;
  conn.server_ = this;
  if (tls_ != nullptr) {
    asio::ssl::stream<tcp::socket> stream(std::move(sock), *tls_);
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::server, ec);
    conn.tls_ = &stream;
    if (!ec) serve_stream(stream, conn, index);
    finish(stream.next_layer(), fd, conn.reset_);
  } else {
    conn.plain_ = &sock;
    serve_stream(sock, conn, index);
    finish(sock, fd, conn.reset_);
  }
}

void fake_server::finish(tcp::socket& sock, int fd, bool reset) {
  std::lock_guard lock(mutex_);
  fds_.erase(fd);
  boost::system::error_code ec;
  if (reset) sock.set_option(asio::socket_base::linger(true, 0), ec);
  sock.close(ec);
}

void fake_conn::send(std::string_view raw) {
  if (write_failed_) return;
  boost::system::error_code ec;
  if (tls_ != nullptr) {
    asio::write(*tls_, asio::buffer(raw.data(), raw.size()), ec);
  } else {
    asio::write(*plain_, asio::buffer(raw.data(), raw.size()), ec);
  }
  if (ec) write_failed_ = true;
}

bool fake_conn::sleep_ms(int ms) {
  std::unique_lock lock(server_->mutex_);
  return !server_->cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return server_->stopping_; });
}

}  // namespace parley::openai::testing
