// net/session_wiring — what every transport's bridge does alike to start an agent session and to
// guard its input: the server's session options, the callbacks that post session events onto the
// bridge's strand, and the input rate limit.
//
// Role: shared by session_bridge (protocol v1 at /ws) and media_stream_bridge (telephone media
// streams), so that a session behaves the same whatever carries its audio (DESIGN §9).
// Threading: bridge_callbacks() may be called anywhere; the callbacks it returns run on the
// session's strand and only post. input_rate_limit is used on the bridge's strand.
// Ownership: the callbacks hold weak references (a bridge that is gone gets nothing; the last
// reference to the server is never dropped inside them).
// Units: sample counts on the 16 kHz input timeline.
#pragma once

#include <boost/asio/post.hpp>
#include <memory>

#include "parley/agent/session.hpp"
#include "parley/core/clock.hpp"
#include "parley/net/asio_util.hpp"
#include "parley/net/server_state.hpp"

namespace parley::net {

/// The options a new session starts from: the server's session configuration with the shared
/// router, the filler bank (fillers when enabled; the apology always) and the input lane.
agent::session_options base_session_options(server_state& server);

/// Session callbacks for `bridge` on `strand`: each event goes to bridge->on_session_event(e),
/// each completed turn is counted in the server's metrics and goes to bridge->on_turn(t).
template <class Bridge>
agent::session_callbacks bridge_callbacks(std::weak_ptr<Bridge> bridge, strand_type strand,
                                          const std::shared_ptr<server_state>& server) {
  return {.on_event =
              [bridge, strand](event e) {
                boost::asio::post(strand, [bridge, e = std::move(e)] {
                  if (auto b = bridge.lock()) b->on_session_event(e);
                });
              },
          .on_turn =
              [bridge, strand, weak_server = std::weak_ptr(server)](const obs::turn_timeline& t) {
                if (auto s = weak_server.lock()) s->metrics().count_turn(t);
                boost::asio::post(strand, [bridge, t] {
                  if (auto b = bridge.lock()) b->on_turn(t);
                });
              }};
}

/// Input audio may run ahead of real time by a 2 s burst, then at most max_input_speed × real
/// time; beyond that it is dropped (counted in n_rate_limited_chunks). A peer that floods audio
/// cannot hold the shared recognizer from other sessions.
class input_rate_limit {
 public:
  void start(time_point now) { t_start_ = now; }
  /// Whether audio arriving at `now` must be dropped, given `n_received_samples` (16 kHz) so far.
  bool exceeded(server_state& server, time_point now, media_time n_received_samples);
  /// Whether a drop at `now` should be reported to the peer (at most once a second).
  bool report_due(time_point now);

 private:
  time_point t_start_{};
  time_point t_last_report_{};
};

}  // namespace parley::net
