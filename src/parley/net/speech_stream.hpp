// net/speech_stream — POST /v1/audio/speech, answered while it is synthesized (internal to net/).
//
// Role: the request (audio_api.hpp) is cut into sentences (text::sentence_chunker, as a reply is),
// each synthesized in turn by the server's voice; its audio is resampled to 24 kHz and written as
// it comes: HTTP/1.1 chunked (HTTP/1.0: the connection's end ends the body), raw PCM16, a WAV
// stream or server-sent events. The response head goes out with the first audio, so a voice that
// fails before any audio still gets a proper error status; one that fails later ends the response
// without its last chunk (the client sees a cut transfer, never a short file called complete).
// Threading: runs on the connection's strand. The synthesizer's callbacks (engine threads) queue
// the audio and post a wake-up onto the strand; the queue and its timer are shared with them, so a
// callback arriving after the request ended touches nothing freed.
// Cancellation: a write that fails (the client went away) stops the synthesizer within one chunk.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "parley/audio/resampler.hpp"
#include "parley/audio/wav.hpp"
#include "parley/core/clock.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/audio_api.hpp"
#include "parley/net/server_state.hpp"
#include "parley/text/chunker.hpp"

namespace parley::net {

/// How a speech request was answered: its status (200 also when the stream was cut later) and
/// whether the connection may carry another request.
struct speech_answer {
  unsigned status = 200;
  bool keep = false;
};

namespace speech_stream_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// The synthesizer's audio on its way to the strand.
struct speech_feed : std::enable_shared_from_this<speech_feed> {
  explicit speech_feed(const strand_type& strand) : wake(strand) {}
  std::mutex mutex;
  std::deque<std::vector<std::int16_t>> chunks;  // unbounded: one request's audio (≤ 4096 characters)
  std::optional<status> done;                    // the current segment's end
  asio::steady_timer wake;                       // cancelled (on the strand) when something arrives

  void notify() {
    asio::post(wake.get_executor(), [self = shared_from_this()] { self->wake.cancel(); });
  }
};

/// Writes the response: the head before the first bytes, then each piece as a chunk.
template <class Stream>
class speech_writer {
 public:
  speech_writer(Stream& stream, const http_request& req, const speech_request& request, time_point t_start,
                duration write_timeout)
      : stream_(stream), chunked_(req.version() >= 11), t_start_(t_start), write_timeout_(write_timeout),
        head_(http::status::ok, req.version()) {
    head_.set(http::field::server, "parley");
    head_.set(http::field::cache_control, "no-store");
    head_.set(http::field::content_type, speech_content_type(request));
    if (chunked_) {
      head_.chunked(true);
      head_.keep_alive(req.keep_alive());
    } else {
      head_.keep_alive(false);  // HTTP/1.0: the body ends with the connection
    }
  }
  bool head_sent() const { return head_sent_; }
  bool keep_alive() const { return head_.keep_alive(); }

  asio::awaitable<beast::error_code> write(std::string_view bytes) {
    if (auto ec = co_await send_head()) co_return ec;
    if (bytes.empty()) co_return beast::error_code{};
    arm();
    if (chunked_) {
      const auto chunk = http::make_chunk(asio::buffer(bytes));
      auto [ec, n] = co_await asio::async_write(stream_, chunk, as_tuple_awaitable);
      disarm();
      co_return ec;
    }
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(bytes), as_tuple_awaitable);
    disarm();
    co_return ec;
  }

  asio::awaitable<beast::error_code> finish() {
    if (auto ec = co_await send_head()) co_return ec;
    if (!chunked_) co_return beast::error_code{};
    arm();
    const auto last = http::make_chunk_last();
    auto [ec, n] = co_await asio::async_write(stream_, last, as_tuple_awaitable);
    disarm();
    co_return ec;
  }

 private:
  asio::awaitable<beast::error_code> send_head() {
    if (head_sent_) co_return beast::error_code{};
    head_sent_ = true;
    // As OpenAI names it: the server's time before the response, here before the first audio.
    head_.set("openai-processing-ms", std::to_string(std::llround(to_ms(steady_clock::now() - t_start_))));
    arm();
    http::response_serializer<http::empty_body> serializer(head_);
    auto [ec, n] = co_await http::async_write_header(stream_, serializer, as_tuple_awaitable);
    disarm();
    co_return ec;
  }

  // Each write must finish within the timeout: a client that stops reading cannot hold its place
  // under max_audio_requests for ever. (No deadline runs while the voice is being waited for.)
  void arm() { beast::get_lowest_layer(stream_).expires_after(write_timeout_); }
  void disarm() { beast::get_lowest_layer(stream_).expires_never(); }

  Stream& stream_;
  bool chunked_;
  time_point t_start_;
  duration write_timeout_;
  bool head_sent_ = false;
  http::response<http::empty_body> head_;
};

template <class Stream>
asio::awaitable<speech_answer> write_response(Stream& stream, http_response res, duration write_timeout) {
  beast::get_lowest_layer(stream).expires_after(write_timeout);
  const bool keep = res.keep_alive();
  const auto status = static_cast<unsigned>(res.result());
  auto [ec, n] = co_await http::async_write(stream, res, as_tuple_awaitable);
  co_return speech_answer{.status = status, .keep = !ec && keep};
}

}  // namespace speech_stream_detail

/// Answers one POST /v1/audio/speech on `stream`.
template <class Stream>
boost::asio::awaitable<speech_answer> stream_speech(std::shared_ptr<server_state> server, Stream& stream, const http_request& req) {
  using namespace speech_stream_detail;
  const time_point t_start = steady_clock::now();
  const auto write_timeout = seconds_f(server->config().http_timeout_s);  // each write's deadline
  auto request = parse_speech_request(req.body());
  if (!request) {
    auto res = openai_error(req, http::status::bad_request, request.error().message, error_param(request.error().message));
    co_return co_await write_response(stream, std::move(res), write_timeout);
  }
  const auto tts = server->engines().tts;
  if (!tts) {
    auto res = openai_error(req, http::status::service_unavailable, "no voice is loaded");
    co_return co_await write_response(stream, std::move(res), write_timeout);
  }
  text::sentence_chunker chunker;
  auto segments = chunker.push(request->input);
  for (auto& s : chunker.flush()) segments.push_back(std::move(s));
  if (segments.empty()) {
    auto res = openai_error(req, http::status::bad_request, "input: holds nothing to speak (no letters or digits)", "input");
    co_return co_await write_response(stream, std::move(res), write_timeout);
  }
  auto rs = audio::resampler::create(tts->caps().sample_rate_hz, k_speech_rate_hz);
  if (!rs) {
    auto res = openai_error(req, http::status::internal_server_error, rs.error().message);
    co_return co_await write_response(stream, std::move(res), write_timeout);
  }

  auto feed = std::make_shared<speech_feed>(strand_of(stream.get_executor()));
  speech_writer<Stream> out(stream, req, *request, t_start, write_timeout);
  // A WAV stream's header leads its first audio (inside the first event, for sse).
  bool wav_header_due = request->format == speech_format::wav;
  std::stop_source stop;
  for (const auto& segment : segments) {
    {
      std::lock_guard lock(feed->mutex);
      feed->done.reset();
    }
    tts->synthesize(segment,
                    {.on_audio =
                         [feed](std::span<const std::int16_t> pcm) {
                           {
                             std::lock_guard lock(feed->mutex);
                             feed->chunks.emplace_back(pcm.begin(), pcm.end());
                           }
                           feed->notify();
                         },
                     .on_done =
                         [feed](status s) {
                           {
                             std::lock_guard lock(feed->mutex);
                             feed->done = std::move(s);
                           }
                           feed->notify();
                         }},
                    stop.get_token());
    for (;;) {
      std::deque<std::vector<std::int16_t>> ready;
      std::optional<status> done;
      {
        std::lock_guard lock(feed->mutex);
        ready.swap(feed->chunks);
        done = feed->done;
      }
      for (const auto& chunk : ready) {
        std::string bytes;
        if (wav_header_due) {
          bytes = audio::wav_header(k_speech_rate_hz);
          wav_header_due = false;
        }
        bytes += audio::pcm16le_bytes(rs->process(chunk));
        if (request->sse) bytes = speech_sse_delta(bytes);
        // (Named, not a temporary in the co_await: GCC 12 may destroy such a temporary twice.)
        if (auto ec = co_await out.write(bytes)) {
          stop.request_stop();  // the client is gone: the voice stops within a chunk
          PARLEY_LOG(debug, "net: /v1/audio/speech: the client went away: " << ec.message());
          co_return speech_answer{.status = 200, .keep = false};
        }
      }
      if (done && ready.empty()) {
        if (!*done) {
          PARLEY_LOG(warn, "net: /v1/audio/speech: the voice failed: " << done->error().describe());
          if (!out.head_sent()) {
            auto res = openai_error(req, http::status::internal_server_error, "the voice failed: " + done->error().message);
            co_return co_await write_response(stream, std::move(res), write_timeout);
          }
          co_return speech_answer{.status = 200, .keep = false};  // the body stays incomplete: the client sees the transfer cut
        }
        break;
      }
      if (!ready.empty()) continue;
      feed->wake.expires_at(asio::steady_timer::time_point::max());
      co_await feed->wake.async_wait(as_tuple_awaitable);
    }
  }
  std::string tail;
  if (wav_header_due) tail = audio::wav_header(k_speech_rate_hz);  // a voice that gave no audio at all
  tail += audio::pcm16le_bytes(rs->flush());
  if (request->sse) {
    tail = (tail.empty() ? std::string() : speech_sse_delta(tail)) + speech_sse_done(*request);
  }
  if (auto ec = co_await out.write(tail)) co_return speech_answer{.status = 200, .keep = false};
  if (auto ec = co_await out.finish()) co_return speech_answer{.status = 200, .keep = false};
  co_return speech_answer{.status = 200, .keep = out.keep_alive() && !server->stopping()};
}

}  // namespace parley::net
