// One WebSocket session of the load client: the paced writer and the reader (see load_session.hpp).
#include "bench/load/load_session.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <nlohmann/json.hpp>

#include "bench/load/room_tone.hpp"
#include "parley/net/base64.hpp"
#include "parley/net/media_stream.hpp"
#include "parley/net/protocol.hpp"

namespace parley::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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

}  // namespace

load_session::load_session(load_run& run, int index, asio::io_context& io)
    : run_(run),
      index_(index),
      strand_(asio::make_strand(io)),
      ws_(strand_),
      tick_(strand_),
      wake_(strand_),
      media_stream_(run.target.media_stream()),
      stream_sid_("MZload" + std::to_string(index)),
      realtime_(run.target.realtime()) {
  if (realtime_) {
    if (auto rs = audio::resampler::create(k_input_rate_hz, 24000)) to_24k_.emplace(std::move(*rs));
  }
}

void load_session::stop() {
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

void load_session::wake() {
  run_.n_alive.fetch_add(1);
  asio::post(strand_, [this] {
    wake_.cancel();
    run_.n_alive.fetch_sub(1);
  });
}

void load_session::spawn(awaitable<void> task) {
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

void load_session::fail(const std::string& reason) {
  if (counted_failure_) return;
  counted_failure_ = true;
  if (!created_) {
    run_.stats.n_failed.fetch_add(1);
  } else {
    run_.stats.n_dropped.fetch_add(1);
  }
  run_.stats.count(run_.stats.failures, reason);
}

template <class Pred>
load_session::awaitable<bool> load_session::wait_for(Pred ready, time_point deadline) {
  for (;;) {
    if (ready()) co_return true;
    if (stop_requested_ || steady_clock::now() >= deadline) co_return false;
    wake_.expires_at(std::min(deadline, steady_clock::now() + k_poll));
    co_await wake_.async_wait(use_tuple);
  }
}

load_session::awaitable<bool> load_session::write_text(const std::string& text) {
  ws_.text(true);
  auto [ec, n] = co_await ws_.async_write(asio::buffer(text), use_tuple);
  if (ec && !over()) fail("write: " + ec.message());
  co_return !ec;
}

std::span<const std::int16_t> load_session::silence_frame() {
  std::span<const std::int16_t> room;
  if (run_.options.room_tone && clip_)
    room = std::span(*clip_->pcm).first(static_cast<std::size_t>(clip_->room_samples));
  return next_room_tone_frame(room, room_pos_);
}

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
  if (media_stream_) {
    if (!target_first_audio_) return false;
    if (target_interrupted_) return true;
    return played_ >= static_cast<double>(received_) && pending_marks_.empty() && now - t_last_media_ >= k_media_quiet;
  }
  if (target_gen_ == 0) return false;
  if (target_interrupted_) return true;
  const bool played_out = playing_gen_ == target_gen_ && audio_done_ && played_ >= static_cast<double>(received_);
  if (!target_done_ || !played_out) return false;
  if (!t_played_out_) t_played_out_ = now;
  return target_metrics_ || now - *t_played_out_ >= k_metrics_grace;
}

load_session::awaitable<void> load_session::main() {
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

  if (media_stream_) {  // a phone call: the session starts with `start`, nothing comes back for it
    if (!co_await write_text(R"({"event":"connected","protocol":"Call","version":"1.0.0"})")) co_return;
    if (!co_await write_text(net::encode_ms_start(stream_sid_, {}))) co_return;
    created_ = true;
    stats.n_connected.fetch_add(1);
    spawn(reader());
  } else if (realtime_) {  // announced on connect: session.created with the defaults (24 kHz PCM16)
    spawn(reader());
    if (!co_await wait_for([this] { return created_ || closed_; }, steady_clock::now() + k_created_timeout)) {
      if (!stop_requested_) fail("no session.created");
      co_return;
    }
    if (!created_) co_return;
  } else {
    nlohmann::json update = {{"type", "session.update"}, {"session", {{"input_sample_rate_hz", k_input_rate_hz}}}};
    if (!run_.mode.empty()) update["session"]["mode"] = run_.mode;
    if (!co_await write_text(update.dump())) co_return;
    spawn(reader());
    if (!co_await wait_for([this] { return created_ || closed_; }, steady_clock::now() + k_created_timeout)) {
      if (!stop_requested_) fail("no session.created");
      co_return;
    }
    if (!created_) co_return;  // closed: counted by the reader
  }

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
    std::span<const std::uint8_t> frame_mulaw;  // media streams: the same 20 ms at 8 kHz
    if (phase_ == phase::speaking) {
      const auto& pcm = *clip_->pcm;
      const media_time first = pos_;
      const media_time n = std::min<media_time>(k_frame_samples, static_cast<media_time>(pcm.size()) - pos_);
      frame = std::span(pcm.data() + first, static_cast<std::size_t>(n));
      if (media_stream_ && clip_->mulaw) {
        const auto& mulaw = *clip_->mulaw;
        const auto from = std::min(mulaw.size(), static_cast<std::size_t>(first / 2));
        const auto to = std::min(mulaw.size(), static_cast<std::size_t>((first + n) / 2));
        frame_mulaw = std::span(mulaw.data() + from, to - from);
      }
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
      if (media_stream_) {
        const bool speaking = phase_ == phase::speaking || !frame_mulaw.empty();
        if (!co_await write_text(caller_media(frame_mulaw, speaking ? std::span<const std::int16_t>() : frame))) break;
      } else if (realtime_) {
        if (!co_await write_text(realtime_append(frame))) break;
      } else {
        ws_.binary(true);
        auto [ec, n] = co_await ws_.async_write(asio::buffer(frame.data(), frame.size_bytes()), use_tuple);
        if (ec) {
          if (!over()) fail("write: " + ec.message());
          break;
        }
      }
    }
    if (media_stream_) {  // a phone plays and echoes each mark once the audio before it has played
      bool ok = true;
      while (ok && !pending_marks_.empty() && static_cast<double>(pending_marks_.front().first) <= played_) {
        stats.n_progress_sent.fetch_add(1, std::memory_order_relaxed);
        const std::string mark = std::move(pending_marks_.front().second);
        pending_marks_.pop_front();
        ok = co_await write_text(mark);
      }
      if (!ok) break;
      continue;
    }
    if (realtime_) continue;  // no playout reports: the server estimates playout
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

  if (!over() && phase_ == phase::finishing && realtime_) {
    finished_ = true;  // the conversation ends when the client closes
    stats.n_finished.fetch_add(1);
  } else if (!over() && phase_ == phase::finishing && media_stream_) {
    finished_ = true;  // the call ends here: the server closes the stream after `stop`
    if (co_await write_text(net::encode_ms_stop(stream_sid_)) &&
        co_await wait_for([this] { return closed_; }, steady_clock::now() + k_finish_timeout)) {
      stats.n_finished.fetch_add(1);
    }
  } else if (!over() && phase_ == phase::finishing) {
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

load_session::awaitable<void> load_session::reader() {
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
    if (ws_.got_text() && media_stream_) {
      on_media_stream_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    } else if (ws_.got_text()) {
      const auto j = nlohmann::json::parse(static_cast<const char*>(data.data()),
                                           static_cast<const char*>(data.data()) + data.size(), nullptr,
                                           /*allow_exceptions=*/false);
      if (!j.is_object()) {
        count_error(j);
      } else if (realtime_) {
        on_realtime_event(j);
      } else {
        on_event(j);
      }
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
  const std::uint64_t gen = static_cast<std::uint64_t>(payload[0]) | static_cast<std::uint64_t>(payload[1]) << 8 |
                            static_cast<std::uint64_t>(payload[2]) << 16 | static_cast<std::uint64_t>(payload[3]) << 24;
  receive_audio(gen, (payload.size() - 8) / 2, announced_rate_gen_ == gen ? announced_rate_hz_ : 16000,
                steady_clock::now());
}

void load_session::receive_audio(std::uint64_t gen, std::uint64_t n_samples, int rate_hz, time_point now) {
  auto& stats = run_.stats;
  if (gen <= interrupted_upto_) return;  // a frame of a cleared reply
  if (gen != playing_gen_) {             // a new reply: the buffer plays it from now
    playing_gen_ = gen;
    play_rate_hz_ = rate_hz;
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

// A reply was cut (barge-in): its audio is dropped from the buffer and from now on.
void load_session::cut_reply(std::uint64_t gen) {
  interrupted_upto_ = std::max(interrupted_upto_, gen);
  if (gen == playing_gen_) received_ = static_cast<std::uint64_t>(played_);  // clear the buffer
  if (gen == target_gen_ && target_gen_ != 0 && !target_interrupted_) {
    target_interrupted_ = true;
    run_.stats.n_interrupted.fetch_add(1);
  }
}

// An `error` event (its code), or a message that is not a JSON object.
void load_session::count_error(const nlohmann::json& j) {
  auto& stats = run_.stats;
  std::string code = "client: unreadable server message";
  if (j.is_object()) {
    code = "unknown";
    if (j.contains("error") && j["error"].is_object()) code = j["error"].value("code", "unknown");
  }
  stats.count(stats.errors_by_code, code);
  stats.n_error_events.fetch_add(1);
}

void load_session::on_event(const nlohmann::json& j) {
  auto& stats = run_.stats;
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
    cut_reply(gen_of());
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
    count_error(j);
  }
}

std::string load_session::realtime_append(std::span<const std::int16_t> frame_16k) {
  std::string bytes;
  if (to_24k_) {
    net::put_pcm16(bytes, to_24k_->process(frame_16k));
  } else {
    net::put_pcm16(bytes, frame_16k);
  }
  return R"({"type":"input_audio_buffer.append","audio":")" + net::base64_encode(bytes) + "\"}";
}

// The Realtime protocol's events: replies are responses "resp_<generation>" (docs/protocol.md).
void load_session::on_realtime_event(const nlohmann::json& j) {
  auto& stats = run_.stats;
  const std::string type = j.value("type", "");
  const auto gen_of = [](const nlohmann::json& id) -> std::uint64_t {
    if (!id.is_string()) return 0;
    const auto& s = id.get_ref<const std::string&>();
    return s.starts_with("resp_") ? std::strtoull(s.c_str() + 5, nullptr, 10) : 0;
  };
  const auto now = steady_clock::now();
  if (type == "response.output_audio.delta") {
    const auto audio = net::base64_decode(j.value("delta", ""));
    if (!audio) return;
    stats.n_audio_frames_in.fetch_add(1, std::memory_order_relaxed);
    stats.n_audio_bytes_in.fetch_add(audio->size(), std::memory_order_relaxed);
    receive_audio(gen_of(j.value("response_id", nlohmann::json())), audio->size() / 2, 24000, now);
  } else if (type == "response.created" && j.contains("response") && j["response"].is_object()) {
    const auto gen = gen_of(j["response"].value("id", nlohmann::json()));
    if (target_gen_ == 0 && turn_ < run_.options.turns && t_true_end_) {
      target_gen_ = gen;  // the first reply begun after the true end of speech answers it
    } else {
      stats.n_extra_replies.fetch_add(1);
    }
  } else if (type == "response.output_audio.done") {
    if (gen_of(j.value("response_id", nlohmann::json())) == playing_gen_) audio_done_ = true;
  } else if (type == "response.done" && j.contains("response") && j["response"].is_object()) {
    const auto& r = j["response"];
    const auto gen = gen_of(r.value("id", nlohmann::json()));
    const bool cancelled = r.value("status", "") == "cancelled";
    if (!cancelled && gen == target_gen_ && target_gen_ != 0) target_done_ = target_metrics_ = true;
    if (!cancelled && gen == playing_gen_) audio_done_ = true;  // a reply without audio has no audio.done
    if (cancelled) cut_reply(gen);
  } else if (type == "conversation.item.truncated") {  // a reply cut while it played
    const std::string item = j.value("item_id", "");
    cut_reply(item.starts_with("item_r") ? std::strtoull(item.c_str() + 6, nullptr, 10) : 0);
  } else if (type == "session.created") {
    if (!created_) stats.n_connected.fetch_add(1);
    created_ = true;
    wake_.cancel();
  } else if (type == "error") {
    count_error(j);
  }
}

std::string load_session::caller_media(std::span<const std::uint8_t> mulaw, std::span<const std::int16_t> silence_16k) {
  if (!silence_16k.empty()) {  // room tone: the mean of each pair of samples is enough of a low-pass for it
    std::vector<std::int16_t> pcm_8k(silence_16k.size() / 2);
    for (std::size_t i = 0; i < pcm_8k.size(); ++i) {
      pcm_8k[i] = static_cast<std::int16_t>((silence_16k[2 * i] + silence_16k[2 * i + 1]) / 2);
    }
    return net::encode_ms_caller_media(stream_sid_, net::mulaw_encode(pcm_8k), ++n_media_sent_);
  }
  return net::encode_ms_caller_media(stream_sid_, mulaw, ++n_media_sent_);
}

// A phone call's messages: reply audio played in real time at 8 kHz, marks to echo once played,
// `clear` (barge-in) empties the buffer and returns every pending mark at once, as a provider does.
void load_session::on_media_stream_text(std::string_view payload) {
  auto& stats = run_.stats;
  const auto decoded = net::decode_media_stream(payload);
  const auto* event = std::get_if<net::ms_event>(&decoded);
  if (!event) {
    stats.count(stats.errors_by_code, "client: unreadable server message");
    stats.n_error_events.fetch_add(1);
    return;
  }
  const auto now = steady_clock::now();
  if (const auto* media = std::get_if<net::ms_media>(event)) {
    stats.n_audio_frames_in.fetch_add(1, std::memory_order_relaxed);
    stats.n_audio_bytes_in.fetch_add(media->payload.size(), std::memory_order_relaxed);
    if (playing_gen_ == 0) {  // one buffer for the whole call, as a phone line has
      playing_gen_ = 1;
      play_rate_hz_ = net::k_telephone_rate_hz;
      t_play_last_ = now;
    }
    if (played_ >= static_cast<double>(received_)) t_play_last_ = now;  // buffer was dry: playing resumes now
    received_ += media->payload.size();
    t_last_media_ = now;
    if (!target_first_audio_ && t_true_end_ && turn_ < run_.options.turns) {
      target_first_audio_ = true;
      stats.ttfa.record(to_ms(now - *t_true_end_));
      stats.n_answered.fetch_add(1);
    }
  } else if (std::holds_alternative<net::ms_mark>(*event)) {
    pending_marks_.emplace_back(received_, std::string(payload));
  } else if (std::holds_alternative<net::ms_clear>(*event)) {
    received_ = static_cast<std::uint64_t>(played_);
    for (auto& mark : pending_marks_) mark.first = 0;  // returned at once
    if (target_first_audio_ && !target_interrupted_) {
      target_interrupted_ = true;
      stats.n_interrupted.fetch_add(1);
    }
  }
}

}  // namespace parley::load
