// `parley bench --target ws://HOST:PORT/ws`: the WebSocket load client (see ws_load.hpp).
#include "parley/apps/ws_load.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "parley/apps/commands.hpp"
#include "parley/apps/manifest.hpp"
#include "parley/audio/wav.hpp"
#include "parley/core/clock.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/obs/histogram.hpp"
#include "parley/obs/json.hpp"
#include "parley/obs/waterfall.hpp"

namespace parley::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using strand_type = asio::strand<asio::io_context::executor_type>;
using namespace std::chrono_literals;

constexpr media_time k_frame_samples = 320;          // 20 ms at 16 kHz
constexpr duration k_frame = std::chrono::milliseconds(20);
constexpr double k_late_ms = 20.0;                   // a send more than one frame behind schedule is late
constexpr int k_progress_every_ticks = 5;            // playout.progress every 100 ms while playing
constexpr duration k_connect_timeout = 15s;          // TCP connect, then the WebSocket handshake
constexpr duration k_created_timeout = 15s;          // session.update → session.created
constexpr duration k_finish_timeout = 15s;           // input_audio_buffer.commit → session.finished
constexpr duration k_metrics_grace = 2s;             // reply played out → its turn.metrics
constexpr duration k_poll = 100ms;                   // safety net of the event waits (they are woken)

// ---- the target, the clips ------------------------------------------------------------------------

struct target_url {
  std::string host;
  std::string port;
  std::string path;  // with any query
};

result<target_url> parse_target(const std::string& url) {
  if (url.rfind("wss://", 0) == 0) {
    return make_error(errc::invalid_argument, "--target: wss:// is not supported by the load client yet (use ws://)");
  }
  constexpr std::string_view scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) return make_error(errc::invalid_argument, "--target must look like ws://HOST:PORT/ws");
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  target_url t;
  t.path = slash == std::string::npos ? "/ws" : rest.substr(slash);
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string::npos) return make_error(errc::invalid_argument, "--target: bad IPv6 address");
    t.host = authority.substr(1, close - 1);
    t.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "80";
  } else {
    const auto colon = authority.rfind(':');
    t.host = authority.substr(0, colon);
    t.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (t.host.empty() || t.port.empty()) return make_error(errc::invalid_argument, "--target must look like ws://HOST:PORT/ws");
  return t;
}

struct clip {
  std::string name;
  std::shared_ptr<const std::vector<std::int16_t>> pcm;  // 16 kHz mono
  media_time speech_end_sample = 0;                      // the true end of speech in it
  media_time room_samples = 0;  // its background before the speech starts (the room tone), in whole frames
};

// Without a manifest: 500 ms of silence, 1.2 s of speech-like voice, 1 s of silence.
clip synthetic_clip() {
  std::vector<std::int16_t> pcm(static_cast<std::size_t>(ms_to_samples(500.0)), 0);
  const auto voice = mock::speechlike_pcm(static_cast<std::size_t>(ms_to_samples(1200.0)), k_input_rate_hz, 800);
  pcm.insert(pcm.end(), voice.begin(), voice.end());
  pcm.insert(pcm.end(), static_cast<std::size_t>(ms_to_samples(1000.0)), 0);
  const auto n = static_cast<media_time>(pcm.size());
  return {"synthetic", std::make_shared<const std::vector<std::int16_t>>(std::move(pcm)), ms_to_samples(1700.0),
          room_samples_before(500.0, n)};
}

// ---- small helpers ---------------------------------------------------------------------------------

// A field of /proc/PID/status in KiB (VmRSS, VmHWM), or nothing.
std::optional<double> proc_status_kib(int pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return std::strtod(line.c_str() + field.size() + 1, nullptr);
    }
  }
  return std::nullopt;
}

std::string format_ms(double ms) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(ms < 10 ? 1 : 0);
  out << ms;
  return out.str();
}

// Overhead is the sum of three hand-off gaps (docs/latency.md §3); recording each one separately
// says where parley's time goes under load: routing (final transcript → LLM request), chunking
// (first segment → TTS request) and sending (first synthesized audio → first audio out). A gap
// whose two stamps are not both in the turn.metrics timeline is not recorded.
void record_overhead_gaps(const nlohmann::json& event, obs::metric_set& into) {
  const auto timeline = event.find("timeline");
  if (timeline == event.end() || !timeline->is_object()) return;
  const auto stamps = timeline->find("stamps_ms");
  if (stamps == timeline->end() || !stamps->is_object()) return;
  const auto gap = [&](std::string_view name, const char* from, const char* to) {
    const auto a = stamps->find(from);
    const auto b = stamps->find(to);
    if (a != stamps->end() && b != stamps->end() && a->is_number() && b->is_number()) {
      into.record(name, b->get<double>() - a->get<double>());
    }
  };
  gap("gap_route", "t_asr_final", "t_llm_request");
  gap("gap_chunk", "t_first_segment", "t_tts_request");
  gap("gap_send", "t_tts_first_audio", "t_first_audio_out");
}

// The unlabelled samples of a Prometheus text page (name → value).
std::map<std::string, double> parse_prometheus(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.find('{') != std::string::npos) continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, line.find(' '))] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

// GET /metrics on the server's host (bounded to 5 s); nothing if it does not answer 200.
std::optional<std::map<std::string, double>> fetch_metrics(const tcp::endpoint& endpoint, const std::string& host,
                                                           const std::string& token) {
  asio::io_context io;
  std::optional<std::string> body;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        beast::tcp_stream stream(co_await asio::this_coro::executor);
        stream.expires_after(5s);
        auto [ec] = co_await stream.async_connect(endpoint, use_tuple);
        if (ec) co_return;
        http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
        req.set(http::field::host, host);
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
        req.keep_alive(false);
        auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
        if (wec) co_return;
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        auto [rec, rn] = co_await http::async_read(stream, buffer, res, use_tuple);
        if (rec || res.result() != http::status::ok) co_return;
        body = std::move(res.body());
      },
      asio::detached);
  io.run_for(6s);
  if (!body) return std::nullopt;
  return parse_prometheus(*body);
}

// ---- what every session reports into ------------------------------------------------------------------

struct load_stats {
  std::atomic<int> n_connected{0};      // session.created received
  std::atomic<int> n_failed{0};         // could not connect, upgrade or start
  std::atomic<int> n_dropped{0};        // the connection ended before the session was done
  std::atomic<int> n_done{0};           // sessions whose coroutines are over (any outcome)
  std::atomic<int> n_finished{0};       // session.finished received after the commit
  std::atomic<std::uint64_t> n_turns{0};           // utterances whose audio was fully sent
  std::atomic<std::uint64_t> n_answered{0};        // a reply's first audio arrived (a TTFA sample)
  std::atomic<std::uint64_t> n_completed{0};       // ... and it played to the end (or was interrupted)
  std::atomic<std::uint64_t> n_unanswered{0};      // no finished reply within --turn-timeout-s
  std::atomic<std::uint64_t> n_interrupted{0};     // the measured reply was interrupted
  std::atomic<std::uint64_t> n_extra_replies{0};   // replies to something else (a split utterance)
  std::atomic<std::uint64_t> n_cut{0};             // turns not done when --duration-s ran out
  std::atomic<std::uint64_t> n_frames_sent{0};
  std::atomic<std::uint64_t> n_late_frames{0};     // sent more than k_late_ms behind schedule
  std::atomic<std::uint64_t> n_audio_frames_in{0};
  std::atomic<std::uint64_t> n_audio_bytes_in{0};
  std::atomic<std::uint64_t> n_turn_metrics{0};
  std::atomic<std::uint64_t> n_error_events{0};
  std::atomic<std::uint64_t> n_progress_sent{0};
  obs::histogram ttfa;      // client-side, from the true end of speech
  obs::histogram send_lag;  // how late each audio frame was sent against its schedule
  obs::metric_set server;   // every metrics_ms value of turn.metrics

  std::mutex mutex;
  std::map<std::string, std::uint64_t> errors_by_code;   // error events
  std::map<std::string, std::uint64_t> failures;         // failed/dropped sessions, by reason

  void count(std::map<std::string, std::uint64_t>& m, const std::string& key) {
    std::lock_guard lock(mutex);
    ++m[key];
  }
};

struct load_run {
  const ws_load_options& options;
  std::string mode;
  target_url target;
  tcp::endpoint endpoint;
  std::string token;
  std::vector<clip> clips;
  time_point t_start{};
  std::atomic<bool> go{false};          // --idle-s: every session may start speaking
  std::atomic<std::int64_t> t_go_ns{0};
  std::atomic<int> n_alive{0};          // coroutines still running
  load_stats stats;
};

// ---- one session ----------------------------------------------------------------------------------

class load_session {
 public:
  load_session(load_run& run, int index, asio::io_context& io)
      : run_(run), index_(index), strand_(asio::make_strand(io)), ws_(strand_), tick_(strand_), wake_(strand_) {}

  void start() { spawn(main()); }

  /// From any thread: close now (the overall deadline passed).
  void stop() {
    run_.n_alive.fetch_add(1);  // this session outlives the posted work
    asio::post(strand_, [this] {
      stop_requested_ = true;
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().close(ec);
      tick_.cancel();
      wake_.cancel();
      run_.n_alive.fetch_sub(1);
    });
  }

  /// From any thread: the idle phase is over.
  void wake() {
    run_.n_alive.fetch_add(1);
    asio::post(strand_, [this] {
      wake_.cancel();
      run_.n_alive.fetch_sub(1);
    });
  }

 private:
  enum class phase { speaking, waiting, finishing };

  void spawn(awaitable<void> task) {
    run_.n_alive.fetch_add(1);
    asio::co_spawn(strand_, std::move(task), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          fail(std::string("exception: ") + x.what());
        }
      }
      run_.n_alive.fetch_sub(1);
    });
  }

  bool over() const { return stop_requested_ || closed_; }

  void fail(const std::string& reason) {
    if (counted_failure_) return;
    counted_failure_ = true;
    if (!created_) {
      run_.stats.n_failed.fetch_add(1);
    } else {
      run_.stats.n_dropped.fetch_add(1);
    }
    run_.stats.count(run_.stats.failures, reason);
  }

  // Waits (woken by the reader, or polled) until `ready()` or `deadline`; false on timeout or end.
  template <class Pred>
  awaitable<bool> wait_for(Pred ready, time_point deadline) {
    for (;;) {
      if (ready()) co_return true;
      if (stop_requested_ || steady_clock::now() >= deadline) co_return false;
      wake_.expires_at(std::min(deadline, steady_clock::now() + k_poll));
      co_await wake_.async_wait(use_tuple);
    }
  }

  awaitable<bool> write_text(const std::string& text) {
    ws_.text(true);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(text), use_tuple);
    if (ec && !over()) fail("write: " + ec.message());
    co_return !ec;
  }

  awaitable<void> main();
  awaitable<void> reader();
  void on_text(std::string_view payload);
  void on_audio(std::span<const std::uint8_t> payload);
  void begin_turn();
  // 20 ms of "silence" between turns: the room tone of the clip last spoken, looped (an open
  // microphone in that room), or digital zeros (--no-room-tone, or a clip with no background).
  std::span<const std::int16_t> silence_frame() {
    std::span<const std::int16_t> room;
    if (run_.options.room_tone && clip_)
      room = std::span(*clip_->pcm).first(static_cast<std::size_t>(clip_->room_samples));
    return next_room_tone_frame(room, room_pos_);
  }
  void end_turn();
  void advance_playout(time_point now);
  bool turn_complete(time_point now);

  load_run& run_;
  const int index_;
  strand_type strand_;
  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer tick_;  // paces the writer
  asio::steady_timer wake_;  // event waits; the reader cancels it

  bool stop_requested_ = false;
  bool closed_ = false;          // the reader saw the connection end
  bool closing_ = false;         // we are closing it
  bool created_ = false;
  bool finished_ = false;
  bool counted_failure_ = false;

  // The turn in progress.
  int turn_ = 0;                  // turns done
  phase phase_ = phase::speaking;
  const clip* clip_ = nullptr;
  media_time pos_ = 0;            // samples of the clip sent
  media_time room_pos_ = 0;       // where the looped room tone is
  std::optional<time_point> t_true_end_;
  time_point t_clip_end_{};
  std::uint64_t target_gen_ = 0;  // the reply to this utterance
  bool target_first_audio_ = false;
  bool target_done_ = false;
  bool target_interrupted_ = false;
  bool target_metrics_ = false;
  std::optional<time_point> t_played_out_;

  // Playback of reply audio (one clearable buffer, as the web client's).
  std::uint64_t announced_rate_gen_ = 0;
  int announced_rate_hz_ = 16000;
  std::uint64_t playing_gen_ = 0;
  int play_rate_hz_ = 16000;
  std::uint64_t received_ = 0;     // samples of playing_gen_ received
  double played_ = 0.0;            // samples of it played
  std::uint64_t reported_ = 0;     // played_samples last reported
  bool audio_done_ = false;        // response.audio.done for playing_gen_
  time_point t_play_last_{};
  std::uint64_t interrupted_upto_ = 0;
};

void load_session::begin_turn() {
  const auto& clips = run_.clips;
  clip_ = &clips[(static_cast<std::size_t>(index_) * static_cast<std::size_t>(run_.options.turns) +
                  static_cast<std::size_t>(turn_)) % clips.size()];
  phase_ = phase::speaking;
  pos_ = 0;
  t_true_end_.reset();
  target_gen_ = 0;
  target_first_audio_ = target_done_ = target_interrupted_ = target_metrics_ = false;
  t_played_out_.reset();
}

void load_session::end_turn() {
  ++turn_;
  if (turn_ < run_.options.turns) {
    begin_turn();
  } else {
    phase_ = phase::finishing;
  }
}

void load_session::advance_playout(time_point now) {
  if (playing_gen_ != 0 && played_ < static_cast<double>(received_)) {
    const double can_play = to_ms(now - t_play_last_) * play_rate_hz_ / 1000.0;
    played_ = std::min(static_cast<double>(received_), played_ + can_play);
  }
  t_play_last_ = now;
}

bool load_session::turn_complete(time_point now) {
  if (target_gen_ == 0) return false;
  if (target_interrupted_) return true;
  const bool played_out = playing_gen_ == target_gen_ && audio_done_ && played_ >= static_cast<double>(received_);
  if (!target_done_ || !played_out) return false;
  if (!t_played_out_) t_played_out_ = now;
  return target_metrics_ || now - *t_played_out_ >= k_metrics_grace;
}

awaitable<void> load_session::main() {
  auto& stats = run_.stats;
  const auto& o = run_.options;
  // Connections are spread evenly over the ramp.
  const auto offset = from_ms(o.sessions > 1 ? o.ramp_ms * index_ / o.sessions : 0.0);
  tick_.expires_at(run_.t_start + offset);
  co_await tick_.async_wait(use_tuple);
  if (stop_requested_) co_return;

  auto& tcp_layer = beast::get_lowest_layer(ws_);
  tcp_layer.expires_after(k_connect_timeout);
  if (auto [ec] = co_await tcp_layer.async_connect(run_.endpoint, use_tuple); ec) {
    fail("connect: " + ec.message());
    co_return;
  }
  tcp_layer.expires_never();
  beast::error_code nodelay_ec;
  tcp_layer.socket().set_option(tcp::no_delay(true), nodelay_ec);
  websocket::stream_base::timeout timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
  timeouts.handshake_timeout = k_connect_timeout;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([token = run_.token](websocket::request_type& req) {
    req.set(http::field::user_agent, "parley-bench");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  }));
  websocket::response_type upgrade;
  const std::string host = run_.target.host + ":" + run_.target.port;
  if (auto [ec] = co_await ws_.async_handshake(upgrade, host, run_.target.path, use_tuple); ec) {
    fail(upgrade.result_int() != 0 && upgrade.result() != http::status::switching_protocols
             ? "upgrade refused: HTTP " + std::to_string(upgrade.result_int())
             : "handshake: " + ec.message());
    co_return;
  }

  nlohmann::json update = {{"type", "session.update"}, {"session", {{"input_sample_rate_hz", k_input_rate_hz}}}};
  if (!run_.mode.empty()) update["session"]["mode"] = run_.mode;
  if (!co_await write_text(update.dump())) co_return;
  spawn(reader());
  if (!co_await wait_for([this] { return created_ || closed_; }, steady_clock::now() + k_created_timeout)) {
    if (!stop_requested_) fail("no session.created");
    co_return;
  }
  if (!created_) co_return;  // closed: counted by the reader

  // --idle-s: connected and silent until every session is (the memory measurement), then the
  // sessions start speaking as staggered as they connected.
  time_point t_next = steady_clock::now();
  if (o.idle_s > 0) {
    co_await wait_for([this] { return run_.go.load() || closed_; }, time_point::max());
    if (over()) co_return;
    t_next = time_point(duration(run_.t_go_ns.load())) + offset;
  }

  if (o.turns > 0) {
    begin_turn();
  } else {
    phase_ = phase::finishing;
  }
  int tick = 0;
  while (phase_ != phase::finishing) {
    tick_.expires_at(t_next);
    co_await tick_.async_wait(use_tuple);
    if (over()) break;
    const auto now = steady_clock::now();
    const double lag_ms = to_ms(now - t_next);
    t_next += k_frame;
    advance_playout(now);

    std::span<const std::int16_t> frame;
    if (phase_ == phase::speaking) {
      const auto& pcm = *clip_->pcm;
      const media_time first = pos_;
      const media_time n = std::min<media_time>(k_frame_samples, static_cast<media_time>(pcm.size()) - pos_);
      frame = std::span(pcm.data() + first, static_cast<std::size_t>(n));
      pos_ += n;
      const media_time frame_end = first + n;
      if (clip_->speech_end_sample >= first && clip_->speech_end_sample < frame_end) {
        // When a live microphone would have captured the true last sample of speech.
        t_true_end_ = now - from_ms(samples_to_ms(frame_end - clip_->speech_end_sample));
      }
      if (pos_ >= static_cast<media_time>(pcm.size())) {
        phase_ = phase::waiting;
        t_clip_end_ = now;
        stats.n_turns.fetch_add(1);
        if (!t_true_end_) t_true_end_ = now;  // speech_end past the clip: it ended with the clip
      }
    } else if (phase_ == phase::waiting) {
      if (turn_complete(now)) {
        stats.n_completed.fetch_add(1);
        end_turn();
      } else if (now - t_clip_end_ >= from_ms(o.turn_timeout_s * 1000.0)) {
        stats.n_unanswered.fetch_add(1);
        end_turn();
      }
      if (phase_ != phase::speaking && o.stream_silence) frame = silence_frame();
    }

    if (!frame.empty()) {
      stats.send_lag.record(lag_ms);
      stats.n_frames_sent.fetch_add(1, std::memory_order_relaxed);
      if (lag_ms > k_late_ms) stats.n_late_frames.fetch_add(1, std::memory_order_relaxed);
      ws_.binary(true);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(frame.data(), frame.size_bytes()), use_tuple);
      if (ec) {
        if (!over()) fail("write: " + ec.message());
        break;
      }
    }
    // Playout reports: every 100 ms while playing, and once when the buffer ran dry.
    const auto played = static_cast<std::uint64_t>(played_);
    if (playing_gen_ != 0 && played != reported_ &&
        (++tick % k_progress_every_ticks == 0 || played >= received_)) {
      reported_ = played;
      stats.n_progress_sent.fetch_add(1, std::memory_order_relaxed);
      const std::string report = "{\"type\":\"playout.progress\",\"generation\":" + std::to_string(playing_gen_) +
                                 ",\"played_samples\":" + std::to_string(played) + "}";
      if (!co_await write_text(report)) break;
    }
  }

  if (!over() && phase_ == phase::finishing) {
    if (co_await write_text(R"({"type":"input_audio_buffer.commit"})")) {
      if (co_await wait_for([this] { return finished_ || closed_; }, steady_clock::now() + k_finish_timeout) &&
          finished_) {
        stats.n_finished.fetch_add(1);
      }
    }
  }
  if (stop_requested_) stats.n_cut.fetch_add(static_cast<std::uint64_t>(std::max(0, o.turns - turn_)));
  if (!closed_ && !stop_requested_) {
    closing_ = true;
    tcp_layer.expires_after(5s);
    auto [ec] = co_await ws_.async_close(websocket::close_code::normal, use_tuple);
    if (ec) {
      beast::error_code ignored;
      tcp_layer.socket().close(ignored);
    }
  }
}

awaitable<void> load_session::reader() {
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws_.async_read(buffer, use_tuple);
    if (ec) {
      closed_ = true;
      if (!closing_ && !stop_requested_ && !(finished_ && turn_ >= run_.options.turns)) {
        const auto reason = ws_.reason();
        fail(reason.code != websocket::close_code::none
                 ? "closed by the server (" + std::to_string(static_cast<int>(reason.code)) + ")"
                 : "connection lost: " + ec.message());
      }
      wake_.cancel();
      tick_.cancel();
      co_return;
    }
    const auto data = buffer.cdata();
    if (ws_.got_text()) {
      on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    } else {
      on_audio(std::span(static_cast<const std::uint8_t*>(data.data()), data.size()));
    }
    buffer.consume(buffer.size());
  }
}

void load_session::on_audio(std::span<const std::uint8_t> payload) {
  auto& stats = run_.stats;
  stats.n_audio_frames_in.fetch_add(1, std::memory_order_relaxed);
  stats.n_audio_bytes_in.fetch_add(payload.size(), std::memory_order_relaxed);
  if (payload.size() < 8) return;
  const auto now = steady_clock::now();
  const std::uint64_t gen = static_cast<std::uint64_t>(payload[0]) | static_cast<std::uint64_t>(payload[1]) << 8 |
                            static_cast<std::uint64_t>(payload[2]) << 16 | static_cast<std::uint64_t>(payload[3]) << 24;
  const std::uint64_t n_samples = (payload.size() - 8) / 2;
  if (gen <= interrupted_upto_) return;  // a frame of a cleared reply
  if (gen != playing_gen_) {             // a new reply: the buffer plays it from now
    playing_gen_ = gen;
    play_rate_hz_ = announced_rate_gen_ == gen ? announced_rate_hz_ : 16000;
    received_ = 0;
    played_ = 0.0;
    reported_ = 0;
    audio_done_ = false;
    t_play_last_ = now;
  }
  if (played_ >= static_cast<double>(received_)) t_play_last_ = now;  // buffer was dry: playing resumes now
  received_ += n_samples;
  if (target_gen_ != 0 && gen == target_gen_ && !target_first_audio_ && t_true_end_) {
    target_first_audio_ = true;
    stats.ttfa.record(to_ms(now - *t_true_end_));
    stats.n_answered.fetch_add(1);
  }
}

void load_session::on_text(std::string_view payload) {
  auto& stats = run_.stats;
  const auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    stats.count(stats.errors_by_code, "client: unreadable server message");
    stats.n_error_events.fetch_add(1);
    return;
  }
  const std::string type = j.value("type", "");
  const auto gen_of = [&j] { return j.contains("generation") && j["generation"].is_number_unsigned() ? j["generation"].get<std::uint64_t>() : 0; };
  if (type == "response.audio.start") {
    announced_rate_gen_ = gen_of();
    announced_rate_hz_ = j.value("sample_rate_hz", 16000);
    if (announced_rate_hz_ <= 0) announced_rate_hz_ = 16000;
  } else if (type == "response.created") {
    const auto gen = gen_of();
    if (target_gen_ == 0 && turn_ < run_.options.turns && t_true_end_) {
      target_gen_ = gen;  // the first reply begun after the true end of speech answers it
    } else {
      stats.n_extra_replies.fetch_add(1);
    }
  } else if (type == "response.audio.done") {
    if (gen_of() == playing_gen_) audio_done_ = true;
  } else if (type == "response.done") {
    if (gen_of() == target_gen_ && target_gen_ != 0) target_done_ = true;
  } else if (type == "response.interrupted") {
    const auto gen = gen_of();
    interrupted_upto_ = std::max(interrupted_upto_, gen);
    if (gen == playing_gen_) received_ = static_cast<std::uint64_t>(played_);  // clear the buffer
    if (gen == target_gen_ && target_gen_ != 0 && !target_interrupted_) {
      target_interrupted_ = true;
      stats.n_interrupted.fetch_add(1);
    }
  } else if (type == "turn.metrics") {
    stats.n_turn_metrics.fetch_add(1);
    if (j.contains("timeline") && j["timeline"].contains("metrics_ms") && j["timeline"]["metrics_ms"].is_object()) {
      for (const auto& [name, value] : j["timeline"]["metrics_ms"].items()) {
        if (value.is_number()) stats.server.record(name, value.get<double>());
      }
    }
    record_overhead_gaps(j, stats.server);
    if (gen_of() == target_gen_ && target_gen_ != 0) target_metrics_ = true;
  } else if (type == "session.created") {
    if (!created_) stats.n_connected.fetch_add(1);
    created_ = true;
    wake_.cancel();
  } else if (type == "session.finished") {
    finished_ = true;
    wake_.cancel();
  } else if (type == "error") {
    std::string code = "unknown";
    if (j.contains("error") && j["error"].is_object()) code = j["error"].value("code", "unknown");
    stats.count(stats.errors_by_code, code);
    stats.n_error_events.fetch_add(1);
  }
}

// ---- reporting ------------------------------------------------------------------------------------

void print_progress(const load_run& run, double elapsed_s, bool tty, bool final_line) {
  const auto& s = run.stats;
  const auto ttfa = s.ttfa.summary();
  std::ostringstream line;
  line << "load " << static_cast<int>(elapsed_s) << " s · " << s.n_connected.load() << "/" << run.options.sessions
       << " connected";
  if (s.n_failed.load() || s.n_dropped.load()) line << " (" << s.n_failed.load() << " failed, " << s.n_dropped.load() << " dropped)";
  line << " · turns " << s.n_answered.load() << "/"
       << static_cast<std::uint64_t>(run.options.sessions) * static_cast<std::uint64_t>(run.options.turns)
       << " answered";
  if (ttfa.n) line << " · ttfa p50 " << format_ms(ttfa.p50) << " p99 " << format_ms(ttfa.p99) << " ms";
  line << " · late frames " << s.n_late_frames.load() << " · errors " << s.n_error_events.load();
  if (tty) {
    std::cerr << "\r" << line.str() << "\033[K" << (final_line ? "\n" : "") << std::flush;
  } else {
    std::cerr << line.str() << "\n";
  }
}

}  // namespace

media_time room_samples_before(double speech_start_ms, media_time n_samples) {
  const media_time before = std::min(ms_to_samples(std::max(0.0, speech_start_ms - 50.0)), n_samples);
  return before / k_frame_samples * k_frame_samples;
}

std::span<const std::int16_t> next_room_tone_frame(std::span<const std::int16_t> room, media_time& pos) {
  static const std::array<std::int16_t, k_frame_samples> zeros{};
  const auto whole = static_cast<media_time>(room.size()) / k_frame_samples * k_frame_samples;
  if (whole == 0) return zeros;
  if (pos < 0 || pos + k_frame_samples > whole) pos = 0;
  const auto frame = room.subspan(static_cast<std::size_t>(pos), static_cast<std::size_t>(k_frame_samples));
  pos += k_frame_samples;
  return frame;
}

void add_ws_load_flags(CLI::App& bench, ws_load_options& o) {
  bench.add_option("--target", o.target,
                   "drive a running server instead: ws://HOST:PORT/ws (parley serve); concurrent WebSocket sessions "
                   "with paced audio (the --manifest files, or a synthetic question), TTFA measured client-side");
  bench.add_option("--sessions", o.sessions, "with --target: concurrent sessions")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  bench.add_option("--ramp-ms", o.ramp_ms, "with --target: connect the sessions evenly over this long")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench.add_option("--turns", o.turns, "with --target: spoken turns per session (0: connect, commit, close)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  bench.add_option("--token", o.token, "with --target: bearer token (default: $PARLEY_TOKEN)");
  bench.add_option("--duration-s", o.duration_s,
                   "with --target: hard bound on the whole run; sessions still running are closed and their turns "
                   "counted as cut")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench.add_option("--idle-s", o.idle_s,
                   "with --target: once every session is connected, stay idle this long before speaking (with "
                   "--server-pid: the memory per idle session is measured then)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench.add_option("--turn-timeout-s", o.turn_timeout_s,
                   "with --target: a turn whose reply has not played out this long after its audio ended is unanswered")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench.add_flag("--stream-silence,!--no-stream-silence", o.stream_silence,
                 "with --target: keep streaming silence between turns, as an open microphone does (default on)");
  bench.add_flag("--room-tone,!--no-room-tone", o.room_tone,
                 "with --target: that silence is the room tone of the clip last spoken (its audio before the "
                 "speech, looped: the noise of its condition), not digital zeros (default on)");
  bench.add_option("--server-pid", o.server_pid,
                   "with --target on this machine: the server's pid, to report its memory (RSS) per idle session")
      ->check(CLI::PositiveNumber);
  bench.add_option("--threads", o.threads, "with --target: client I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
}

int ws_load_command(const ws_load_options& options, const bench_options& bench) {
  auto target = parse_target(options.target);
  if (!target) return print_error(target.error().message), exit_usage;
  std::string mode = bench.pipeline.mode;
  if (mode != "streaming" && mode != "sequential") {
    return print_error("--mode with --target: streaming or sequential (asked of the server per session)"), exit_usage;
  }
  if (options.sessions < 1 || options.turns < 0 || options.threads < 1) {
    return print_error("--sessions and --threads must be at least 1, --turns at least 0"), exit_usage;
  }

  load_run run{.options = options, .mode = mode, .target = *target};
  run.token = options.token;
  if (run.token.empty()) {
    if (const char* env = std::getenv("PARLEY_TOKEN")) run.token = env;
  }

  // The audio: the manifest's files (each with its true end of speech), or a synthetic question.
  std::string audio_description;
  if (!bench.manifest.empty()) {
    auto entries = read_manifest(bench.manifest);
    if (!entries) return print_error(entries.error().message), exit_bad_input;
    if (bench.limit > 0 && static_cast<std::size_t>(bench.limit) < entries->size()) entries->resize(bench.limit);
    std::map<std::string, std::shared_ptr<const std::vector<std::int16_t>>> loaded;
    for (const auto& e : *entries) {
      auto& pcm = loaded[e.file.string()];
      if (!pcm) {
        auto audio = audio::read_audio_file(e.file.string());
        if (!audio) return print_error(audio.error().message), exit_bad_input;
        pcm = std::make_shared<const std::vector<std::int16_t>>(std::move(audio->samples));
      }
      run.clips.push_back({e.id, pcm, ms_to_samples(e.speech_end_ms),
                           room_samples_before(e.speech_start_ms, static_cast<media_time>(pcm->size()))});
    }
    audio_description = std::to_string(run.clips.size()) + " corpus files (" + bench.manifest + ")";
  } else {
    run.clips.push_back(synthetic_clip());
    audio_description = "a synthetic question (0.5 s silence, 1.2 s voice, 1 s silence)";
  }

  {
    asio::io_context resolver_io;
    tcp::resolver resolver(resolver_io);
    beast::error_code ec;
    const auto results = resolver.resolve(run.target.host, run.target.port, ec);
    if (ec || results.empty()) {
      return print_error("cannot resolve '" + run.target.host + ":" + run.target.port + "': " + ec.message()), exit_usage;
    }
    run.endpoint = *results.begin();
  }

  std::cout << "machine: " << machine_description() << "\n"
            << "target:  " << options.target << " · " << options.sessions << " sessions × " << options.turns
            << " turn(s) · ramp " << options.ramp_ms << " ms · " << mode << " · " << options.threads
            << " client threads · bound " << options.duration_s << " s\n"
            << "audio:   " << audio_description << ", 20 ms PCM16 frames at real-time pace"
            << (options.stream_silence ? (options.room_tone ? ", room tone between turns" : ", digital silence between turns")
                                       : "") << "\n"
            << std::flush;

  const auto metrics_before = fetch_metrics(run.endpoint, run.target.host, run.token);
  std::optional<double> rss_before, rss_idle;
  if (options.server_pid) {
    rss_before = proc_status_kib(options.server_pid, "VmRSS");
    if (!rss_before) std::cerr << "parley: warning: cannot read /proc/" << options.server_pid << "/status\n";
  }

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::unique_ptr<load_session>> sessions;
  sessions.reserve(static_cast<std::size_t>(options.sessions));
  for (int i = 0; i < options.sessions; ++i) sessions.push_back(std::make_unique<load_session>(run, i, io));
  run.t_start = steady_clock::now() + 50ms;
  for (auto& s : sessions) s->start();
  std::vector<std::thread> threads;
  for (int i = 0; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });

  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = steady_clock::now();
  const auto deadline = t0 + from_ms(options.duration_s * 1000.0);
  const auto connect_deadline = run.t_start + from_ms(options.ramp_ms) + k_connect_timeout + k_created_timeout;
  std::optional<time_point> t_all_connected;
  auto t_next_progress = t0;
  bool stopped = false;
  while (run.n_alive.load() > 0) {
    const auto now = steady_clock::now();
    if (now >= deadline) {
      stopped = true;
      for (auto& s : sessions) s->stop();
      break;
    }
    if (options.idle_s > 0 && !run.go.load()) {
      const int n_settled = run.stats.n_connected.load() + run.stats.n_failed.load() + run.stats.n_dropped.load();
      if (!t_all_connected && (n_settled >= options.sessions || now >= connect_deadline)) t_all_connected = now;
      if (t_all_connected && now >= *t_all_connected + from_ms(options.idle_s * 1000.0)) {
        if (options.server_pid) rss_idle = proc_status_kib(options.server_pid, "VmRSS");
        if (bench.progress) {
          if (tty) std::cerr << "\n";
          std::cerr << "idle: " << run.stats.n_connected.load() << " sessions connected and idle for " << options.idle_s
                    << " s" << (rss_idle ? " · server RSS " + format_ms(*rss_idle / 1024.0) + " MiB" : "")
                    << "; speaking now\n";
        }
        run.t_go_ns.store(steady_clock::now().time_since_epoch().count());
        run.go.store(true);
        for (auto& s : sessions) s->wake();
      }
    }
    if (bench.progress && now >= t_next_progress) {
      print_progress(run, to_ms(now - t0) / 1000.0, tty, false);
      t_next_progress = now + (tty ? 1s : 5s);
    }
    std::this_thread::sleep_for(50ms);
  }
  // Every coroutine ends promptly once its socket is closed; bounded anyway.
  const auto t_wait_end = steady_clock::now() + 10s;
  while (run.n_alive.load() > 0 && steady_clock::now() < t_wait_end) std::this_thread::sleep_for(20ms);
  const bool all_ended = run.n_alive.load() == 0;
  if (all_ended) {
    sessions.clear();  // on this thread, while the io threads still run (nothing refers to them)
  }
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();
  if (!all_ended) {
    std::cerr << "parley: warning: " << run.n_alive.load() << " session tasks did not end in time\n";
    for (auto& s : sessions) (void)s.release();  // their pending handlers may still refer to them
  }
  const double elapsed_s = to_ms(steady_clock::now() - t0) / 1000.0;
  if (bench.progress) print_progress(run, elapsed_s, tty, true);

  // The server's own counters, once every connection of this run is closed on its side.
  std::optional<std::map<std::string, double>> metrics_after;
  const auto t_metrics_end = steady_clock::now() + 5s;
  for (;;) {
    metrics_after = fetch_metrics(run.endpoint, run.target.host, run.token);
    const double open_before = metrics_before ? metrics_before->count("parley_ws_sessions") ? metrics_before->at("parley_ws_sessions") : 0 : 0;
    if (!metrics_after || !metrics_after->count("parley_ws_sessions") ||
        metrics_after->at("parley_ws_sessions") <= open_before || steady_clock::now() >= t_metrics_end) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  std::optional<double> rss_end, rss_peak;
  if (options.server_pid) {
    rss_end = proc_status_kib(options.server_pid, "VmRSS");
    rss_peak = proc_status_kib(options.server_pid, "VmHWM");
  }

  // ---- the report ----
  const auto& s = run.stats;
  nlohmann::json report;
  report["machine"] = machine_description();
  report["target"] = options.target;
  report["config"] = {{"sessions", options.sessions}, {"turns", options.turns},         {"ramp_ms", options.ramp_ms},
                      {"mode", mode},                 {"threads", options.threads},     {"duration_s", options.duration_s},
                      {"idle_s", options.idle_s},     {"stream_silence", options.stream_silence}, {"room_tone", options.room_tone},
                      {"audio", audio_description},   {"elapsed_s", elapsed_s}};
  report["client"] = {{"ttfa", obs::to_json(s.ttfa.summary())}, {"send_lag", obs::to_json(s.send_lag.summary())}};
  report["server"] = obs::to_json(s.server);
  const std::uint64_t n_expected = static_cast<std::uint64_t>(options.sessions) * static_cast<std::uint64_t>(options.turns);
  report["counts"] = {{"sessions_connected", s.n_connected.load()},  {"sessions_failed", s.n_failed.load()},
                      {"sessions_dropped", s.n_dropped.load()},      {"sessions_finished", s.n_finished.load()},
                      {"turns_expected", n_expected},                {"turns_spoken", s.n_turns.load()},
                      {"turns_answered", s.n_answered.load()},       {"turns_completed", s.n_completed.load()},
                      {"turns_unanswered", s.n_unanswered.load()},   {"turns_interrupted", s.n_interrupted.load()},
                      {"turns_cut", s.n_cut.load()},                 {"extra_replies", s.n_extra_replies.load()},
                      {"frames_sent", s.n_frames_sent.load()},       {"late_frames", s.n_late_frames.load()},
                      {"audio_frames_received", s.n_audio_frames_in.load()},
                      {"playout_reports_sent", s.n_progress_sent.load()},
                      {"turn_metrics", s.n_turn_metrics.load()},     {"error_events", s.n_error_events.load()}};
  report["errors"] = nlohmann::json::object();
  report["failures"] = nlohmann::json::object();
  for (const auto& [code, n] : s.errors_by_code) report["errors"][code] = n;
  for (const auto& [reason, n] : s.failures) report["failures"][reason] = n;

  // Server counters: deltas over this run.
  std::uint64_t server_dropped_input = 0;
  std::string server_line = "unavailable (/metrics did not answer)";
  if (metrics_before && metrics_after) {
    auto delta = [&](const char* name) {
      const double b = metrics_before->count(name) ? metrics_before->at(name) : 0.0;
      const double a = metrics_after->count(name) ? metrics_after->at(name) : 0.0;
      return static_cast<std::uint64_t>(std::max(0.0, a - b));
    };
    const auto dropped = delta("parley_input_chunks_dropped_total");
    const auto limited = delta("parley_input_rate_limited_chunks_total");
    const auto slow = delta("parley_ws_slow_client_drops_total");
    const auto stale = delta("parley_ws_stale_frames_dropped_total");
    const auto turns = delta("parley_turns_total");
    server_dropped_input = dropped + limited;
    report["server_counters"] = {{"input_chunks_dropped", dropped}, {"input_rate_limited_chunks", limited},
                                 {"slow_client_drops", slow},       {"stale_frames_dropped", stale},
                                 {"turns", turns}};
    server_line = std::to_string(dropped) + " input chunks dropped · " + std::to_string(limited) + " rate-limited · " +
                  std::to_string(slow) + " slow-client drops · " + std::to_string(stale) + " stale frames · " +
                  std::to_string(turns) + " turns";
  }
  std::string memory_line;
  if (rss_before) {
    report["memory"]["server_rss_before_kib"] = *rss_before;
    memory_line = "server RSS " + format_ms(*rss_before / 1024.0) + " MiB before";
    if (rss_idle && s.n_connected.load() > 0) {
      const double per_session = (*rss_idle - *rss_before) / s.n_connected.load();
      report["memory"]["server_rss_idle_kib"] = *rss_idle;
      report["memory"]["per_idle_session_kib"] = per_session;
      memory_line += " · " + format_ms(*rss_idle / 1024.0) + " MiB with " + std::to_string(s.n_connected.load()) +
                     " idle sessions = " + format_ms(per_session) + " KiB per idle session";
    }
    if (rss_end) report["memory"]["server_rss_end_kib"] = *rss_end;
    if (rss_peak) report["memory"]["server_rss_peak_kib"] = *rss_peak;
    if (rss_end) memory_line += " · " + format_ms(*rss_end / 1024.0) + " MiB after";
    if (rss_peak) memory_line += " (peak " + format_ms(*rss_peak / 1024.0) + " MiB)";
  }

  const auto lag = s.send_lag.summary();
  std::cout << "\nsessions: " << s.n_connected.load() << " connected · " << s.n_failed.load() << " failed · "
            << s.n_dropped.load() << " dropped · " << s.n_finished.load() << " finished cleanly\n"
            << "turns:    " << n_expected << " planned · " << s.n_turns.load() << " spoken · " << s.n_answered.load()
            << " answered · " << s.n_completed.load() << " played out · " << s.n_unanswered.load() << " unanswered · "
            << s.n_interrupted.load() << " interrupted · " << s.n_cut.load() << " cut by --duration-s · "
            << s.n_extra_replies.load() << " extra replies\n"
            << "audio:    " << s.n_frames_sent.load() << " frames sent · " << s.n_late_frames.load() << " late (> "
            << k_late_ms << " ms behind schedule; worst " << format_ms(lag.max) << " ms) · "
            << s.n_audio_frames_in.load() << " reply frames received\n"
            << "server:   " << server_line << "\n"
            << "errors:   " << s.n_error_events.load() << " error events";
  for (const auto& [code, n] : s.errors_by_code) std::cout << " · " << code << " " << n;
  for (const auto& [reason, n] : s.failures) std::cout << "\n          session " << reason << ": " << n;
  std::cout << "\n";
  if (!memory_line.empty()) std::cout << "memory:   " << memory_line << "\n";
  obs::metric_set client;
  client.at("ttfa").merge(s.ttfa);
  client.at("send_lag").merge(s.send_lag);
  std::cout << "\nclient-side (ms; ttfa from the true end of speech to the first reply audio received)\n"
            << obs::render_summary_table(client) << "\nserver-side, from " << s.n_turn_metrics.load()
            << " turn.metrics events (ms)\n"
            << obs::render_summary_table(s.server);
  if (!bench.json.empty()) {
    std::ofstream out(bench.json);
    out << report.dump(2) << "\n";
    if (!out) return print_error("cannot write report '" + bench.json + "'"), exit_failure;
    std::cout << "report: " << bench.json << "\n";
  }
  const bool ok = !stopped && s.n_failed.load() == 0 && s.n_dropped.load() == 0 && s.n_error_events.load() == 0 &&
                  s.n_unanswered.load() == 0 && s.n_answered.load() == n_expected && server_dropped_input == 0;
  return ok ? exit_ok : exit_failure;
}

}  // namespace parley::app
