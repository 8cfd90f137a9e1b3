// engines/llama/backend — process-wide llama.cpp set-up shared by the chat model and the embedder.
//
// Role: once per process, routes llama.cpp's log to parley's (errors as warnings, the rest at
// trace level; those of a decode stopped on purpose at trace too), loads the CPU backend that suits this processor (the prebuilt libraries ship one
// per instruction set and pick at run time) and initialises llama.cpp.
// load_model() loads a GGUF file for CPU inference, after init_backend_once().
// Threading: both may be called from any thread, any number of times.
#pragma once

#include <atomic>
#include <filesystem>

#include "parley/core/error.hpp"

struct llama_model;

namespace parley::llama::detail {

void init_backend_once();

/// The stop flag of the decode running on this thread (nullptr: none). While it is set, the errors
/// llama.cpp logs about an aborted decode ("graph_compute ... failed with error 1", "failed to
/// decode, ret = 2") are what a cancelled reply looks like, not failures: they are logged at
/// trace level, not as warnings.
void set_decode_stop_flag(const std::atomic<bool>* flag);

/// The model in `path` (free it with llama_model_free): not_found when there is no such file,
/// engine_failure when llama.cpp cannot load it.
result<llama_model*> load_model(const std::filesystem::path& path);

}  // namespace parley::llama::detail
