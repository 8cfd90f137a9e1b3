// parley.hpp — libparley's public API in one include.
//
// The pieces an application uses to run voice sessions (see docs/api.md for a walkthrough):
//   agent::session            one conversation: push audio in, get events and turn timelines out
//   engine::engine_set        the recognizer, chat model and synthesizer a session runs with
//   engine::recognizer / chat_model / synthesizer   the interfaces to implement for a new engine
//   obs::turn_timeline        per-turn latency stamps and metrics; obs::metric_set histograms
//   audio::read_audio_file    any audio file as 16 kHz mono PCM16
//   mock::*                   scripted engines with provider-like latency, for tests and demos
#pragma once

#include "parley/agent/session.hpp"
#include "parley/audio/wav.hpp"
#include "parley/core/events.hpp"
#include "parley/engine/engine_set.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/obs/histogram.hpp"
#include "parley/obs/json.hpp"
#include "parley/obs/timeline.hpp"
#include "parley/obs/trace.hpp"
