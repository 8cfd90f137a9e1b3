#include "parley/audio/resampler.hpp"

#include <soxr.h>

#include <cmath>
#include <string>

#include "parley/audio/pcm.hpp"

namespace parley::audio {
namespace {

// Smallest DFT blocks soxr allows: soxr's defaults (2^10 / 2^17) hold back 35-115 ms of a
// streamed signal; 2^8 cuts that to 15-50 ms for ~1.5x the (tiny) CPU cost.
constexpr unsigned k_log2_dft_size = 8;

struct soxr_deleter {
  void operator()(soxr* s) const { soxr_delete(s); }
};

}  // namespace

struct resampler::impl {
  std::unique_ptr<soxr, soxr_deleter> soxr_;
  double ratio = 1.0;  // out / in

  /// Runs soxr until it has consumed all of `in` and has no more output ready. `in == nullptr`
  /// asks soxr to flush: that is soxr's convention, so callers never pass an empty span's
  /// (possibly null) data() here by accident.
  std::vector<std::int16_t> run(const std::int16_t* in, std::size_t n_in) {
    std::vector<std::int16_t> out(static_cast<std::size_t>(std::ceil(static_cast<double>(n_in) * ratio)) + 64);
    std::size_t n_out = 0;
    std::size_t n_consumed = 0;
    for (;;) {
      if (n_out == out.size()) out.resize(out.size() * 2);
      std::size_t n_done_in = 0;
      std::size_t n_done_out = 0;
      const soxr_error_t err = soxr_process(soxr_.get(), in ? in + n_consumed : nullptr, n_in - n_consumed,
                                            &n_done_in, out.data() + n_out, out.size() - n_out, &n_done_out);
      n_consumed += n_done_in;
      n_out += n_done_out;
      // soxr fails only on misuse (null handle, bad pointers); stop rather than spin. Otherwise,
      // output that did not fill the room it had means soxr has nothing more ready.
      if (err != nullptr || (n_consumed == n_in && n_out < out.size())) break;
    }
    out.resize(n_out);
    return out;
  }
};

resampler::resampler(int in_rate_hz, int out_rate_hz, std::unique_ptr<impl> state)
    : in_rate_hz_(in_rate_hz), out_rate_hz_(out_rate_hz), impl_(std::move(state)) {}
resampler::resampler(resampler&&) noexcept = default;
resampler& resampler::operator=(resampler&&) noexcept = default;
resampler::~resampler() = default;

result<resampler> resampler::create(int in_rate_hz, int out_rate_hz) {
  for (int rate_hz : {in_rate_hz, out_rate_hz}) {
    if (!is_valid_rate_hz(rate_hz)) {
      return make_error(errc::invalid_argument, "resampler: sample rate " + std::to_string(rate_hz) +
                                                    " Hz is outside " + std::to_string(k_min_rate_hz) + ".." +
                                                    std::to_string(k_max_rate_hz) + " Hz");
    }
  }
  if (in_rate_hz == out_rate_hz) return resampler(in_rate_hz, out_rate_hz, nullptr);

  soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  io.flags |= SOXR_NO_DITHER;
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, SOXR_LINEAR_PHASE);
  soxr_runtime_spec_t runtime = soxr_runtime_spec(1);  // never spawn threads on the data path
  runtime.log2_min_dft_size = k_log2_dft_size;
  runtime.log2_large_dft_size = k_log2_dft_size;

  soxr_error_t err = nullptr;
  soxr* handle = soxr_create(in_rate_hz, out_rate_hz, 1, &err, &io, &quality, &runtime);
  if (handle == nullptr || err != nullptr) {
    if (handle != nullptr) soxr_delete(handle);
    return make_error(errc::internal, std::string("resampler: soxr_create failed: ") + (err ? err : "unknown error"));
  }
  auto state = std::make_unique<impl>();
  state->soxr_.reset(handle);
  state->ratio = static_cast<double>(out_rate_hz) / in_rate_hz;
  return resampler(in_rate_hz, out_rate_hz, std::move(state));
}

std::vector<std::int16_t> resampler::process(std::span<const std::int16_t> samples) {
  if (in_rate_hz_ == out_rate_hz_) return {samples.begin(), samples.end()};
  if (!impl_ || samples.empty()) return {};
  return impl_->run(samples.data(), samples.size());
}

std::vector<std::int16_t> resampler::flush() {
  if (!impl_) return {};
  std::vector<std::int16_t> tail = impl_->run(nullptr, 0);
  reset();
  return tail;
}

void resampler::reset() {
  if (impl_) soxr_clear(impl_->soxr_.get());
}

result<std::vector<std::int16_t>> resample(std::span<const std::int16_t> samples, int in_rate_hz,
                                           int out_rate_hz) {
  auto rs = resampler::create(in_rate_hz, out_rate_hz);
  if (!rs) return rs.error();
  std::vector<std::int16_t> out = rs->process(samples);
  std::vector<std::int16_t> tail = rs->flush();
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

}  // namespace parley::audio
