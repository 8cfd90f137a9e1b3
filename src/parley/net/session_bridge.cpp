// net/session_bridge — implementation. See session_bridge.hpp; docs/protocol.md for the wire.
#include "parley/net/session_bridge.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <string>
#include <type_traits>
#include <variant>

#include "parley/agent/session.hpp"
#include "parley/core/log.hpp"
#include "parley/net/server_state.hpp"
#include "parley/net/session_wiring.hpp"
#include "parley/obs/json.hpp"

namespace parley::net {

namespace asio = boost::asio;

namespace {
const std::string& event_id_of(const client_event& ev) {
  return std::visit([](const auto& m) -> const std::string& { return m.event_id; }, ev);
}
}  // namespace

session_bridge::session_bridge(std::shared_ptr<server_state> server, wire_link& link, strand_type strand)
    : server_(std::move(server)),
      link_(link),
      strand_(std::move(strand)),
      drain_timer_(strand_) {}

session_bridge::~session_bridge() = default;

void session_bridge::speak_realtime() {
  const auto& cfg = server_->config();
  realtime_config defaults;
  defaults.semantic_vad = cfg.session.turn_end.has_value();
  defaults.silence_duration_ms = cfg.session.endpointing.silence_ms;
  defaults.interrupt_response = cfg.barge_in.enabled;
  realtime_.emplace(std::move(defaults));
}

void session_bridge::on_open(std::weak_ptr<session_bridge> self) {
  self_ = std::move(self);
  t_connected_ = steady_clock::now();
  rate_limit_.start(t_connected_);
  t_text_turn_refill_ = t_connected_;
  if (realtime_) {  // announced at once; the agent session starts at the first input
    session_created m;
    m.limits = {server_->config().max_message_bytes, k_max_text_bytes, server_->config().idle_timeout_s};
    send(m);
  }
}

void session_bridge::on_closed() {
  drain_timer_.cancel();
  if (session_) {
    server_->metrics().count_session(session_->stats());
    server_->retire(std::move(session_));
  }
}

void session_bridge::send(const server_event& e, std::optional<time_point> t_speech_start) {
  if (!realtime_) {
    link_.send({encode(e), false, 0, t_speech_start});
    return;
  }
  for (auto& text : realtime_->encode(e)) {
    link_.send({std::move(text), false, 0, t_speech_start});
    t_speech_start.reset();  // measured when the first of them leaves
  }
}

void session_bridge::send_error(wire_error err) {
  server_->metrics().count_error(err.code);
  send(error_message{std::move(err)});
}

// ---- client messages ---------------------------------------------------------------------------
void session_bridge::on_text(std::string_view payload) {
  auto decoded = realtime_ ? realtime_->decode(payload) : decode_client_text(payload);
  if (auto* err = std::get_if<wire_error>(&decoded)) {
    send_error(std::move(*err));
    return;
  }
  on_client_event(std::get<client_event>(decoded));
}

void session_bridge::on_client_event(client_event& ev) {
  if (auto* update = std::get_if<session_update>(&ev)) {
    if (realtime_) {
      on_realtime_update(*update);
    } else if (session_) {
      send_error({wire_errc::session_already_started, "session.update may come only once, first", update->event_id});
    } else {
      start_session(*update);
    }
    return;
  }
  if (!realtime_ && !session_) {
    send_error({wire_errc::session_not_started, "send session.update first", ""});
    return;
  }
  if (draining_) {
    const bool audio = std::holds_alternative<audio_append>(ev);  // said once, not for every 20 ms of audio
    if (!audio || !shutting_down_reported_) send_error({wire_errc::shutting_down, "the server is shutting down", ""});
    shutting_down_reported_ = shutting_down_reported_ || audio;
    return;
  }
  if (realtime_ && realtime_->config().transcription && !std::holds_alternative<audio_append>(ev) &&
      !std::holds_alternative<input_commit>(ev) && !std::holds_alternative<input_clear>(ev)) {
    send_error({wire_errc::unsupported_event,
                "a transcription session takes audio (input_audio_buffer.append) and answers nothing", event_id_of(ev)});
    return;
  }
  if (!ensure_session()) return;
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, input_commit>) {
          if (!realtime_) {
            commit_input();
          } else if (realtime_->config().manual_turns) {
            commit_manual_turn(m.event_id);
          } else {
            send_error({wire_errc::unsupported_event,
                        "parley ends turns by its own turn detection (server_vad or semantic_vad); "
                        "input_audio_buffer.commit is not needed",
                        m.event_id});
          }
        } else if constexpr (std::is_same_v<T, input_clear>) {
          if (!realtime_->config().manual_turns) {
            send_error({wire_errc::unsupported_event,
                        "appended audio is already being recognized: input_audio_buffer.clear needs "
                        "'turn_detection' null (a transcription session)",
                        m.event_id});
            return;
          }
          session_->clear_turn();
          n_input_at_commit_ = n_input_samples_;
          link_.send({realtime_->encode_cleared(), false, 0, std::nullopt});
        } else if constexpr (std::is_same_v<T, text_input>) {
          if (!text_turn_allowed(steady_clock::now(), m.event_id)) return;
          if (!realtime_) {
            session_->submit_text(std::move(m.text));
            return;
          }
          for (auto& text : realtime_->encode_text_item(m.text)) link_.send({std::move(text), false, 0, std::nullopt});
          pending_texts_.push_back(std::move(m.text));  // answered at response.create
        } else if constexpr (std::is_same_v<T, response_request>) {
          if (pending_texts_.empty()) {
            send_error({wire_errc::unsupported_event,
                        "response.create answers the user messages created since the last one, and there are "
                        "none: parley answers spoken turns by itself",
                        m.event_id});
            return;
          }
          std::string joined;
          for (auto& t : pending_texts_) joined += (joined.empty() ? "" : "\n") + t;
          pending_texts_.clear();
          session_->submit_text(std::move(joined));
        } else if constexpr (std::is_same_v<T, audio_append>) {
          accept_audio(std::move(m.pcm));
        } else if constexpr (std::is_same_v<T, item_truncate>) {
          if (m.generation > announced_generation_) {
            send_error({wire_errc::unknown_generation, "'item_id' names no response of this session", m.event_id});
            return;
          }
          const auto played = static_cast<std::uint64_t>(m.audio_end_ms * audio_rate_hz_ / 1000.0);
          on_playout({m.generation, played, m.event_id});
          send(item_truncated{m.generation, m.audio_end_ms});
        } else if constexpr (std::is_same_v<T, playout_report>) {
          on_playout(m);
        } else if constexpr (std::is_same_v<T, response_cancel>) {
          session_->interrupt("client");  // the session cuts the reply generating or playing, if any
        }
      },
      ev);
}

// Realtime: session.update before the first input is applied (session.updated); once the session
// runs, parley does not reconfigure it, as v1 does not.
void session_bridge::on_realtime_update(const session_update& u) {
  if (session_) {
    send_error({wire_errc::session_already_started,
                "parley applies session.update only before the conversation starts (the first audio or message)",
                u.event_id});
    return;
  }
  realtime_->apply_staged();
  session_created m;
  m.updated = true;
  send(m);
}

// turn_detection null: the audio appended since the last commit is a turn; as at OpenAI, a commit
// of less than 100 ms of it is refused.
void session_bridge::commit_manual_turn(const std::string& event_id) {
  const double appended_ms = samples_to_ms(n_input_samples_ - n_input_at_commit_);
  if (appended_ms < 100.0) {
    send_error({wire_errc::invalid_message,
                "input_audio_buffer.commit needs at least 100 ms of audio appended since the last commit or clear (" +
                    std::to_string(std::lround(appended_ms)) + " ms were)",
                event_id});
    return;
  }
  session_->commit_turn();
  n_input_at_commit_ = n_input_samples_;
}

bool session_bridge::ensure_session() {
  if (!session_ && realtime_) start_session(realtime_->as_session_update());
  return session_ != nullptr;
}

void session_bridge::commit_input() {
  if (input_ended_) return;
  if (input_resampler_) {
    auto tail = input_resampler_->flush();
    if (!tail.empty()) push_input(std::move(tail));
  }
  input_ended_ = true;
  session_->end_input();
  send(input_committed{});
}

void session_bridge::on_binary(std::span<const std::uint8_t> payload) {
  if (realtime_) {
    send_error({wire_errc::invalid_message, "the Realtime protocol carries audio in input_audio_buffer.append", ""});
    return;
  }
  if (!session_) {
    send_error({wire_errc::session_not_started, "audio before session.update", ""});
    return;
  }
  if (draining_) {  // input is over; the turn in flight is finishing
    if (!shutting_down_reported_) send_error({wire_errc::shutting_down, "the server is shutting down", ""});
    shutting_down_reported_ = true;
    return;
  }
  auto decoded = opus_ ? opus_->decode(payload) : decode_client_audio(payload);
  if (auto* err = std::get_if<wire_error>(&decoded)) {
    send_error(std::move(*err));
    return;
  }
  accept_audio(std::move(std::get<std::vector<std::int16_t>>(decoded)));
}

// Audio at the session's input rate: rate-limited, resampled to 16 kHz, pushed.
void session_bridge::accept_audio(std::vector<std::int16_t> pcm) {
  if (input_ended_) {
    send_error({wire_errc::input_ended, "audio after input_audio_buffer.commit", ""});
    return;
  }
  if (pcm.empty()) return;
  const auto now = steady_clock::now();
  if (rate_limit_.exceeded(*server_, now, n_input_samples_)) {
    if (rate_limit_.report_due(now)) {
      send_error({wire_errc::rate_limited, "audio arrives faster than the allowed multiple of real time; dropped", ""});
    }
    return;
  }
  if (input_resampler_) {
    auto out = input_resampler_->process(pcm);
    if (!out.empty()) push_input(std::move(out));
  } else {
    push_input(std::move(pcm));
  }
}

// Typed turns: a burst of k_text_turn_burst, then max_text_turns_per_minute (a token bucket).
// Each turn beyond it is dropped with an error: a client that floods typed turns gets errors
// instead of a queue of replies that would hold the shared engines from other sessions.
bool session_bridge::text_turn_allowed(time_point now, const std::string& event_id) {
  const double per_s = server_->config().max_text_turns_per_minute / 60.0;
  if (per_s <= 0) return true;
  text_turn_tokens_ = std::min(k_text_turn_burst, text_turn_tokens_ + to_ms(now - t_text_turn_refill_) / 1000.0 * per_s);
  t_text_turn_refill_ = now;
  if (text_turn_tokens_ >= 1.0) {
    text_turn_tokens_ -= 1.0;
    return true;
  }
  send_error({wire_errc::rate_limited,
              "typed turns arrive faster than " + std::to_string(server_->config().max_text_turns_per_minute) +
                  " a minute; this one was dropped",
              event_id});
  return false;
}

void session_bridge::push_input(std::vector<std::int16_t> pcm_16k) {
  n_input_samples_ += static_cast<media_time>(pcm_16k.size());
  session_->push_audio(std::move(pcm_16k));
}

void session_bridge::start_session(const session_update& u) {
  const auto& cfg = server_->config();
  agent::session_options options = base_session_options(*server_);
  if (u.mode) {
    auto mode = agent::parse_pipeline_mode(*u.mode);
    if (!mode) {
      send_error({wire_errc::invalid_mode, mode.error().message, u.event_id});
      return;
    }
    options.mode = *mode;
  }
  options.caller_context = u.context;
  options.transcribe_only = u.transcription_only;
  options.manual_turns = u.manual_turns;
  if (u.instructions) {
    options.system_prompt = *u.instructions;
    options.private_replies = true;  // answers under the client's instructions are this session's alone
  }
  if (u.turn_detection && u.turn_detection->semantic) {
    if (!options.turn_end) options.turn_end = agent::turn_end_config::preset(agent::turn_taking::conversational);
  } else if (u.turn_detection) {
    options.turn_end.reset();
    if (u.turn_detection->silence_ms) options.endpointing.silence_ms = *u.turn_detection->silence_ms;
  }
  agent::barge_in_config& barge = options.barge_in;
  if (u.barge_in.enabled) barge.enabled = *u.barge_in.enabled;
  if (u.barge_in.min_speech_ms) barge.min_speech_ms = *u.barge_in.min_speech_ms;

  input_rate_hz_ = u.input_sample_rate_hz;
  if (u.input_audio_format == audio_format::opus) {
    auto decoder = opus_input::create();
    if (!decoder) {
      send_error({wire_errc::server_error, decoder.error().message, u.event_id});
      return;
    }
    opus_.emplace(std::move(*decoder));
  } else if (input_rate_hz_ != k_input_rate_hz) {
    auto rs = audio::resampler::create(input_rate_hz_, k_input_rate_hz);
    if (!rs) {
      send_error({wire_errc::unsupported_sample_rate, rs.error().message, u.event_id});
      return;
    }
    input_resampler_.emplace(std::move(*rs));
  }
  output_rate_hz_ = u.output_sample_rate_hz;
  opus_output_requested_ = u.output_audio_format == audio_format::opus;

  auto created = agent::session::create(server_->executor(), server_->engines(), options,
                                         bridge_callbacks(self_, strand_, server_));
  if (!created) {
    send_error({wire_errc::server_error, "the session could not start: " + created.error().message, u.event_id});
    return;
  }
  session_ = std::move(*created);
  session_id_ = session_->id().value;
  PARLEY_LOG(info, "net: session " << session_id_ << " started (" << input_rate_hz_ << " Hz "
                                   << (realtime_ ? to_string(realtime_->config().input_format) : to_string(u.input_audio_format))
                                   << " in, " << agent::to_string(options.mode)
                                   << (realtime_ ? ", Realtime protocol sess_" + std::to_string(realtime_->config().session) + ")" : ")"));
  if (realtime_) {  // session.created went out on connect
    if (!options.greeting.empty() && !options.transcribe_only) session_->announce(options.greeting);
    return;
  }
  session_created m;
  m.session = session_id_;
  m.input_sample_rate_hz = input_rate_hz_;
  m.output_sample_rate_hz = output_rate_hz_;
  m.input_audio_format = u.input_audio_format;
  m.output_audio_format = u.output_audio_format;
  m.mode = std::string(agent::to_string(options.mode));
  m.barge_in = barge.enabled;
  m.barge_in_min_speech_ms = barge.min_speech_ms;
  m.limits = {cfg.max_message_bytes, k_max_text_bytes, cfg.idle_timeout_s};
  send(m);
  if (!options.greeting.empty()) session_->announce(options.greeting);  // the user may talk over it
}

// ---- session events ----------------------------------------------------------------------------
void session_bridge::on_session_event(const event& e) {
  if (link_.closed()) return;
  const std::uint64_t turn = e.env.turn.value;
  const std::uint64_t gen = e.env.generation.value;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, speech_started>) {
          send(speech_started_message{turn, samples_to_ms(e.env.t_media)});
        } else if constexpr (std::is_same_v<T, speech_stopped>) {
          send(speech_stopped_message{turn, samples_to_ms(body.t_speech_end)});
        } else if constexpr (std::is_same_v<T, transcript_partial>) {
          send(transcription_delta{turn, body.text, body.stability});
        } else if constexpr (std::is_same_v<T, transcript_final>) {
          send(transcription_completed{turn, body.text, body.confidence});
        } else if constexpr (std::is_same_v<T, user_turn_committed>) {
          send(item_created{turn, body.text});
        } else if constexpr (std::is_same_v<T, token_chunk>) {
          if (gen <= interrupted_upto_) return;
          open_response(turn, gen);
          send(text_delta{gen, body.text});
        } else if constexpr (std::is_same_v<T, text_segment>) {
          if (gen > interrupted_upto_) open_response(turn, gen);
        } else if constexpr (std::is_same_v<T, output_audio_chunk>) {
          on_output_audio(e, body);
        } else if constexpr (std::is_same_v<T, reply_done>) {
          if (gen <= interrupted_upto_) return;
          open_response(turn, gen);
          if (gen == audio_generation_) finish_reply_audio(gen);
          send(response_done{turn, gen, body.text});
        } else if constexpr (std::is_same_v<T, tool_call_event>) {
          if (gen <= interrupted_upto_) return;
          open_response(turn, gen);
          send(tool_call_message{turn, gen, body.call_id, body.name, body.arguments, body.output});
        } else if constexpr (std::is_same_v<T, interrupt_event>) {
          interrupt_generation(gen, body);
        } else if constexpr (std::is_same_v<T, end_of_stream>) {
          finished_ = true;
          send(session_finished{});
          if (draining_) link_.close(k_close_going_away, "server shutting down", false);
        } else if constexpr (std::is_same_v<T, error_event>) {
          send_error({wire_errc::engine_error, body.err.describe(), ""});
        }
      },
      e.body);
}

void session_bridge::open_response(std::uint64_t turn, std::uint64_t generation) {
  if (generation <= announced_generation_) return;
  announced_generation_ = generation;
  send(response_created{turn, generation});
}

void session_bridge::on_turn(const obs::turn_timeline& t) {
  if (link_.closed()) return;
  send(turn_metrics{t.turn.value, t.generation.value,
                    obs::to_json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
}

void session_bridge::on_output_audio(const event& e, const output_audio_chunk& chunk) {
  const std::uint64_t gen = e.env.generation.value;
  if (gen <= interrupted_upto_ || chunk.samples.empty()) return;
  if (gen != audio_generation_) start_reply_audio(e.env.turn.value, gen, chunk.rate_hz);
  std::vector<std::int16_t> resampled;
  std::span<const std::int16_t> pcm = chunk.samples;
  if (output_resampler_) {
    resampled = output_resampler_->process(chunk.samples);
    pcm = resampled;
  }
  emit_audio(gen, pcm, false);
}

// The first audio of a reply: its rate (the session's output rate; an Opus rate for Opus), its
// resampler and encoder, and response.audio.start.
void session_bridge::start_reply_audio(std::uint64_t turn, std::uint64_t generation, int chunk_rate_hz) {
  open_response(turn, generation);
  audio_generation_ = generation;
  audio_offset_samples_ = 0;
  output_resampler_.reset();
  opus_out_.reset();
  audio_rate_hz_ = chunk_rate_hz;
  session_audio_rate_hz_ = chunk_rate_hz;
  int rate_hz = output_rate_hz_.value_or(chunk_rate_hz);
  if (opus_output_requested_ && !is_opus_rate(rate_hz)) rate_hz = 48000;  // Opus runs at its own rates only
  if (rate_hz != chunk_rate_hz) {
    if (auto rs = audio::resampler::create(chunk_rate_hz, rate_hz)) {
      output_resampler_.emplace(std::move(*rs));
      audio_rate_hz_ = rate_hz;
    }
  }
  if (opus_output_requested_) {
    // Fails only when no resampler could be made (a rate Opus does not run at): say so, send PCM.
    if (auto encoder = opus_output::create(audio_rate_hz_)) {
      opus_out_.emplace(std::move(*encoder));
    } else {
      send_error({wire_errc::server_error, "Opus output unavailable for this reply: " + encoder.error().message, ""});
    }
  }
  send(audio_start{generation, audio_rate_hz_, opus_out_ ? audio_format::opus : audio_format::pcm16});
}

// The reply's audio is complete: the resampler's tail, the padded last Opus frame, response.audio.done.
void session_bridge::finish_reply_audio(std::uint64_t generation) {
  std::vector<std::int16_t> tail;
  if (output_resampler_) tail = output_resampler_->flush();
  emit_audio(generation, tail, true);
  send(audio_done{generation, audio_offset_samples_});
}

// Queues reply audio of `generation` as binary frames: PCM16 as it comes, or Opus packets of 20 ms
// (`last`: the reply's audio is complete, so the partial frame is padded and sent).
void session_bridge::emit_audio(std::uint64_t generation, std::span<const std::int16_t> pcm, bool last) {
  if (opus_out_) {
    auto packets = opus_out_->push(pcm);
    if (last) {
      for (auto& p : opus_out_->flush()) packets.push_back(std::move(p));
    }
    for (const auto& p : packets) {
      if (p.bytes.empty()) continue;
      link_.send({encode_opus_frame(generation, audio_offset_samples_, p.bytes), true, generation, std::nullopt});
      audio_offset_samples_ += p.n_samples;
    }
    return;
  }
  if (pcm.empty()) return;
  if (realtime_) {
    link_.send({realtime_->encode_audio(generation, pcm), false, generation, std::nullopt});
  } else {
    link_.send({encode_audio_frame(generation, audio_offset_samples_, pcm), true, generation, std::nullopt});
  }
  audio_offset_samples_ += pcm.size();
}

// ---- turn-taking: the session decides, the bridge carries -------------------------------------

// playout.progress: the session learns what the client played (converted from the rate the client
// was sent to the session's own); a generation that was never sent is an error.
void session_bridge::on_playout(const playout_report& report) {
  if (report.generation == 0 || report.generation > announced_generation_) {
    send_error({wire_errc::unknown_generation, "playout.progress for a generation that was never sent", report.event_id});
    return;
  }
  if (report.generation != audio_generation_ || audio_rate_hz_ <= 0) return;
  const auto played = static_cast<std::uint64_t>(static_cast<double>(report.played_samples) *
                                                 session_audio_rate_hz_ / audio_rate_hz_);
  session_->on_playout(generation_id{report.generation}, played);
}

// The session cut a reply (barge-in, a new turn, the client's response.cancel): its queued audio
// is dropped, none leaves from now on (idempotent), and the client gets response.interrupted with
// what it was sent and, by the session's account, played.
void session_bridge::interrupt_generation(std::uint64_t generation, const interrupt_event& cut) {
  if (generation == 0 || generation <= interrupted_upto_) return;
  const bool sent_any = generation == audio_generation_;
  const std::uint64_t sent = sent_any ? audio_offset_samples_ : 0;
  const std::uint64_t played =
      sent_any && cut.rate_hz > 0
          ? std::min(sent, static_cast<std::uint64_t>(static_cast<double>(cut.n_played_samples) * audio_rate_hz_ /
                                                      cut.rate_hz))
          : 0;
  interrupted_upto_ = generation;
  link_.fence(generation);
  server_->metrics().count_interrupt(cut.reason);
  if (cut.reason == "barge_in") server_->metrics().n_barge_ins.fetch_add(1, std::memory_order_relaxed);
  send(response_interrupted{generation, cut.reason, sent, played}, cut.t_speech_start);
}

// ---- shutdown ----------------------------------------------------------------------------------
void session_bridge::drain() {
  if (draining_ || link_.closed()) return;
  draining_ = true;
  if (!session_ || finished_) {  // nothing in flight: close now
    link_.close(k_close_going_away, "server shutting down", false);
    return;
  }
  if (!input_ended_) {
    input_ended_ = true;
    session_->end_input();  // the turn in progress ends now; end_of_stream follows its reply
  }
  drain_timer_.expires_after(seconds_f(server_->config().drain_timeout_s));
  drain_timer_.async_wait([weak = self_](boost::system::error_code ec) {
    if (ec) return;
    if (auto b = weak.lock()) b->link_.close(k_close_going_away, "server shutting down", true);
  });
}

}  // namespace parley::net
