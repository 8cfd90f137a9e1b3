// pocketsphinx's own batch decode, the baseline of bench/asr (see pocketsphinx_recognizer.hpp).
#include <filesystem>

#include "parley/core/clock.hpp"
#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"
#include "parley/engines/pocketsphinx/sphinx_decoder.hpp"

namespace parley::pocketsphinx {

namespace fs = std::filesystem;
using detail::cmdln;
using detail::hypothesis;
using detail::parse_config;
using detail::resolve;
using detail::silence_sphinx_log;
using detail::thread_cpu_ms;

struct pocketsphinx_batch_decoder::impl {
  ps_decoder_t* ps = nullptr;
  ~impl() {
    if (ps) ps_free(ps);
  }
};

pocketsphinx_batch_decoder::pocketsphinx_batch_decoder(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
pocketsphinx_batch_decoder::~pocketsphinx_batch_decoder() = default;

result<std::unique_ptr<pocketsphinx_batch_decoder>> pocketsphinx_batch_decoder::create(const std::string& model_dir) {
  silence_sphinx_log();
  const std::string am = resolve(model_dir, "en-us");
  const std::string lm = resolve(model_dir, "en-us.lm.bin");
  const std::string dict = resolve(model_dir, "cmudict-en-us.dict");
  std::error_code ec;
  for (const auto& p : {am, lm, dict})
    if (!fs::exists(p, ec)) return make_error(errc::not_found, "pocketsphinx: model file not found: " + p);
  cmdln config;
  if (auto s = parse_config(config, {{"-hmm", am}, {"-lm", lm}, {"-dict", dict}}); !s) return s.error();
  auto p = std::make_unique<impl>();
  p->ps = ps_init(config.p);
  if (p->ps == nullptr) return make_error(errc::engine_failure, "pocketsphinx: cannot load the model in " + model_dir);
  return std::unique_ptr<pocketsphinx_batch_decoder>(new pocketsphinx_batch_decoder(std::move(p)));
}

result<batch_result> pocketsphinx_batch_decoder::decode(std::span<const std::int16_t> samples) {
  batch_result r;
  r.audio_ms = samples_to_ms(static_cast<media_time>(samples.size()));
  const double cpu0 = thread_cpu_ms();
  if (ps_start_utt(impl_->ps) < 0) return make_error(errc::engine_failure, "pocketsphinx: cannot start an utterance");
  // full_utt = TRUE: the whole clip at once, so CMN is computed over the whole utterance (batch).
  const int rc = ps_process_raw(impl_->ps, samples.data(), samples.size(), FALSE, TRUE);
  const int end_rc = ps_end_utt(impl_->ps);
  if (rc < 0 || end_rc < 0) return make_error(errc::engine_failure, "pocketsphinx: decoding failed");
  r.text = hypothesis(impl_->ps);
  r.cpu_ms = thread_cpu_ms() - cpu0;
  return r;
}

}  // namespace parley::pocketsphinx
