// engines/llama/backend — process-wide llama.cpp set-up shared by the chat model and the embedder.
//
// Role: once per process, routes llama.cpp's log to parley's (errors as warnings, the rest at
// trace level), loads the CPU backend that suits this processor (the prebuilt libraries ship one
// per instruction set and pick at run time) and initialises llama.cpp.
// Threading: init_backend_once() may be called from any thread, any number of times.
#pragma once

namespace parley::llama::detail {

void init_backend_once();

}  // namespace parley::llama::detail
