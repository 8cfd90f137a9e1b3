#include "parley/engines/llama/backend.hpp"

#include <llama.h>
#include <ggml-backend.h>

#include <mutex>
#include <string_view>

#include "parley/core/log.hpp"

namespace parley::llama::detail {
namespace {

thread_local const std::atomic<bool>* t_decode_stop_flag = nullptr;

void forward_log(ggml_log_level level, const char* text, void* /*user*/) {
  std::string_view message(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.remove_suffix(1);
  if (message.empty()) return;
  const bool stopped_on_purpose = t_decode_stop_flag != nullptr && t_decode_stop_flag->load(std::memory_order_acquire);
  if (level == GGML_LOG_LEVEL_ERROR && !stopped_on_purpose) {
    PARLEY_LOG(warn, "llama.cpp: " << message);
  } else {
    PARLEY_LOG(trace, "llama.cpp: " << message);
  }
}

}  // namespace

void set_decode_stop_flag(const std::atomic<bool>* flag) { t_decode_stop_flag = flag; }

void init_backend_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(forward_log, nullptr);
#ifdef PARLEY_LLAMA_BACKEND_DIR
    ggml_backend_load_all_from_path(PARLEY_LLAMA_BACKEND_DIR);
#else
    ggml_backend_load_all();
#endif
    llama_backend_init();
  });
}

result<llama_model*> load_model(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return make_error(errc::not_found, "no model file at " + path.string());
  init_backend_once();
  auto params = llama_model_default_params();
  params.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(path.c_str(), params);
  if (model == nullptr) {
    return make_error(errc::engine_failure,
                      "llama.cpp could not load " + path.string() + " (not a GGUF model it supports?)");
  }
  return model;
}

}  // namespace parley::llama::detail
