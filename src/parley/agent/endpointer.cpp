#include "parley/agent/endpointer.hpp"

#include <algorithm>

namespace parley::agent {

endpointer::endpointer(endpointer_config config) : config_(config) {}

endpoint_decision endpointer::on_frame(media_time t_start, media_time n_samples, bool voiced) {
  const media_time t_end = t_start + n_samples;
  switch (state_) {
    case state::silence:
      if (voiced) {
        state_ = state::onset;
        t_onset_ = t_start;
        t_last_voiced_ = t_end;
        n_voiced_ = n_samples;
      }
      break;
    case state::onset:
      if (voiced) {
        t_last_voiced_ = t_end;
        n_voiced_ += n_samples;
      } else if (samples_to_ms(t_end - t_last_voiced_) > config_.onset_gap_ms) {
        state_ = state::silence;  // a click or a breath, not speech
        break;
      }
      if (samples_to_ms(n_voiced_) >= config_.min_speech_ms) {
        state_ = state::speech;
        return {endpoint_decision::kind::speech_started, t_onset_, 0};
      }
      break;
    case state::speech:
      if (voiced) {
        t_last_voiced_ = t_end;
        n_voiced_ += n_samples;
      } else if (samples_to_ms(t_end - speech_end()) >= silence_ms_) {
        return end_turn();
      }
      break;
  }
  return {};
}

endpoint_decision endpointer::on_end_of_input(media_time /*t_end*/) {
  if (state_ == state::speech) return end_turn();
  state_ = state::silence;
  return {};
}

media_time endpointer::speech_end() const {
  return std::max(t_onset_, t_last_voiced_ - ms_to_samples(config_.vad_hangover_ms));
}

endpoint_decision endpointer::end_turn() {
  state_ = state::silence;
  const endpoint_decision d{endpoint_decision::kind::turn_ended, t_onset_, speech_end()};
  n_voiced_ = 0;
  silence_ms_ = config_.silence_ms;
  return d;
}

}  // namespace parley::agent
