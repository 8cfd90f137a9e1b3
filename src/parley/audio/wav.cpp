#include "parley/audio/wav.hpp"

#include <fcntl.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

#include "parley/audio/pcm.hpp"
#include "parley/audio/resampler.hpp"

namespace parley::audio {
namespace {

// libsndfile's own ceiling (SF_MAX_CHANNELS); a header claiming more is absurd.
constexpr int k_max_channels = 1024;
// Frames read per libsndfile call, shrunk for wide files so one block stays ~256 KiB of floats.
constexpr sf_count_t k_block_samples = 65536;

/// An owned POSIX file descriptor. libsndfile gets the descriptor, never the path, so the checks
/// below (exists, regular, non-empty) and the decode see the same file.
class unique_fd {
 public:
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~unique_fd() { close(); }
  int get() const { return fd_; }
  /// 0 on success, else an errno value.
  int close() { return fd_ >= 0 && ::close(std::exchange(fd_, -1)) != 0 ? errno : 0; }

 private:
  int fd_ = -1;
};

struct sndfile_closer {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using sndfile_ptr = std::unique_ptr<SNDFILE, sndfile_closer>;

std::string errno_text(int err) { return std::generic_category().message(err); }

error file_error(errc code, std::string_view kind, const std::string& path, std::string_view what) {
  std::string message(kind);
  message += " '";
  message += path;
  message += "' ";
  message += what;
  return make_error(code, std::move(message));
}

error audio_error(errc code, const std::string& path, std::string_view what) {
  return file_error(code, "audio file", path, what);
}
error wav_error(errc code, const std::string& path, std::string_view what) {
  return file_error(code, "WAV file", path, what);
}

std::string bad_rate_text(int rate_hz) {
  return "has an unsupported sample rate of " + std::to_string(rate_hz) + " Hz (supported: " +
         std::to_string(k_min_rate_hz) + ".." + std::to_string(k_max_rate_hz) + " Hz)";
}

/// libsndfile's text for the last failed sf_open (with the OS reason for system errors), as
/// "(libsndfile: ...)". It lives in a library-global slot, so under concurrent failing opens the
/// text may belong to another file; the errc we return is decided before and is always right.
std::string last_open_failure() {
  std::string text = std::string("(libsndfile: ") + sf_strerror(nullptr) + ")";
  std::replace(text.begin(), text.end(), '\n', ' ');  // keep messages one line
  return text;
}

/// Opens `path` for reading and rejects what is not a non-empty regular file.
result<unique_fd> open_input(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is rejected below anyway.
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return audio_error(errc::not_found, path, "does not exist");
    return audio_error(errc::io_error, path, "cannot be opened: " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return audio_error(errc::io_error, path, "cannot be examined: " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) return audio_error(errc::io_error, path, "is a directory");
  if (!S_ISREG(st.st_mode)) return audio_error(errc::io_error, path, "is not a regular file");
  if (st.st_size == 0) return audio_error(errc::empty_input, path, "is empty (0 bytes)");
  return fd;
}

}  // namespace

double pcm_clip::duration_ms() const {
  return rate_hz > 0 ? samples_to_ms(static_cast<media_time>(samples.size()), rate_hz) : 0.0;
}

namespace {

/// An in-memory file for libsndfile's virtual I/O (decode_audio).
struct memory_file {
  std::string_view bytes;
  sf_count_t position = 0;
};

sf_count_t memory_length(void* user) { return static_cast<sf_count_t>(static_cast<memory_file*>(user)->bytes.size()); }
sf_count_t memory_seek(sf_count_t offset, int whence, void* user) {
  auto& m = *static_cast<memory_file*>(user);
  const auto size = static_cast<sf_count_t>(m.bytes.size());
  sf_count_t base = 0;
  if (whence == SEEK_CUR) base = m.position;
  if (whence == SEEK_END) base = size;
  m.position = std::clamp<sf_count_t>(base + offset, 0, size);
  return m.position;
}
sf_count_t memory_read(void* out, sf_count_t count, void* user) {
  auto& m = *static_cast<memory_file*>(user);
  const auto n = std::clamp<sf_count_t>(count, 0, static_cast<sf_count_t>(m.bytes.size()) - m.position);
  std::memcpy(out, m.bytes.data() + m.position, static_cast<std::size_t>(n));
  m.position += n;
  return n;
}
sf_count_t memory_write(const void*, sf_count_t, void*) { return 0; }  // read-only
sf_count_t memory_tell(void* user) { return static_cast<memory_file*>(user)->position; }

error bad_target_rate(const std::string& name, int target_rate_hz) {
  return audio_error(errc::invalid_argument, name,
                     "cannot be read: target rate " + std::to_string(target_rate_hz) + " Hz is outside " +
                         std::to_string(k_min_rate_hz) + ".." + std::to_string(k_max_rate_hz) + " Hz");
}

/// Decodes an opened file (`info` as sf_open filled it): down-mix, resample, check.
result<pcm_clip> decode(SNDFILE* file, const SF_INFO& info, const std::string& name, int target_rate_hz) {
  if (info.channels < 1 || info.channels > k_max_channels) {
    return audio_error(errc::unsupported_format, name,
                       "has an absurd channel count of " + std::to_string(info.channels) + " (supported: 1.." +
                           std::to_string(k_max_channels) + ")");
  }
  if (!is_valid_rate_hz(info.samplerate)) return audio_error(errc::unsupported_format, name, bad_rate_text(info.samplerate));

  auto rs = resampler::create(info.samplerate, target_rate_hz);
  if (!rs) return audio_error(errc::internal, name, "cannot be resampled: " + rs.error().message);

  pcm_clip clip;
  clip.rate_hz = target_rate_hz;
  clip.source_rate_hz = info.samplerate;
  clip.source_channels = info.channels;
  // The header's frame count is only a hint (it may lie); never allocate more than an hour for it.
  const double ratio = static_cast<double>(target_rate_hz) / info.samplerate;
  const auto hinted_frames = std::clamp<sf_count_t>(info.frames, 0, static_cast<sf_count_t>(info.samplerate) * 3600);
  clip.samples.reserve(static_cast<std::size_t>(static_cast<double>(hinted_frames) * ratio) + 1);

  const sf_count_t block_frames = std::max<sf_count_t>(1, k_block_samples / info.channels);
  std::vector<float> block(static_cast<std::size_t>(block_frames * info.channels));
  sf_count_t n_frames_read = 0;
  for (;;) {
    const sf_count_t n = sf_readf_float(file, block.data(), block_frames);
    if (n <= 0) break;
    n_frames_read += n;
    const auto interleaved = std::span<const float>(block).first(static_cast<std::size_t>(n * info.channels));
    const std::vector<std::int16_t> mono = to_int16(downmix_to_mono(interleaved, info.channels));
    const std::vector<std::int16_t> out = rs->process(mono);
    clip.samples.insert(clip.samples.end(), out.begin(), out.end());
  }
  const std::vector<std::int16_t> tail = rs->flush();
  clip.samples.insert(clip.samples.end(), tail.begin(), tail.end());

  if (n_frames_read == 0 || clip.samples.empty()) return audio_error(errc::empty_input, name, "holds no audio samples");
  return clip;
}

}  // namespace

result<pcm_clip> read_audio_file(const std::string& path, int target_rate_hz) {
  if (!is_valid_rate_hz(target_rate_hz)) return bad_target_rate(path, target_rate_hz);
  auto fd = open_input(path);
  if (!fd) return fd.error();

  SF_INFO info{};
  sndfile_ptr file(sf_open_fd(fd->get(), SFM_READ, &info, SF_FALSE));
  if (!file) {
    const bool system_failure = sf_error(nullptr) == SF_ERR_SYSTEM;
    return audio_error(system_failure ? errc::io_error : errc::unsupported_format, path,
                       (system_failure ? "cannot be read " : "is not audio parley can read ") +
                           last_open_failure());
  }
  return decode(file.get(), info, path, target_rate_hz);
}

result<pcm_clip> decode_audio(std::string_view bytes, const std::string& name, int target_rate_hz) {
  if (!is_valid_rate_hz(target_rate_hz)) return bad_target_rate(name, target_rate_hz);
  if (bytes.empty()) return audio_error(errc::empty_input, name, "is empty (0 bytes)");
  memory_file memory{bytes};
  SF_VIRTUAL_IO io{memory_length, memory_seek, memory_read, memory_write, memory_tell};
  SF_INFO info{};
  sndfile_ptr file(sf_open_virtual(&io, SFM_READ, &info, &memory));
  if (!file) return audio_error(errc::unsupported_format, name, "is not audio parley can read " + last_open_failure());
  return decode(file.get(), info, name, target_rate_hz);
}

std::string wav_header(int rate_hz, std::optional<std::size_t> n_samples) {
  std::string h;
  h.reserve(44);
  const auto u32 = [&h](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
  };
  const auto u16 = [&h](std::uint16_t v) {
    h.push_back(static_cast<char>(v & 0xFFu));
    h.push_back(static_cast<char>(v >> 8));
  };
  const auto rate = static_cast<std::uint32_t>(rate_hz);
  constexpr std::uint32_t unknown = 0xFFFFFFFFu;
  const std::uint64_t data_bytes = n_samples ? *n_samples * 2 : unknown;
  const bool fits = data_bytes <= unknown - 36;
  h += "RIFF";
  u32(n_samples && fits ? static_cast<std::uint32_t>(36 + data_bytes) : unknown);
  h += "WAVEfmt ";
  u32(16);        // fmt chunk size
  u16(1);         // PCM
  u16(1);         // mono
  u32(rate);
  u32(rate * 2);  // bytes per second
  u16(2);         // block align
  u16(16);        // bits per sample
  h += "data";
  u32(n_samples && fits ? static_cast<std::uint32_t>(data_bytes) : unknown);
  return h;
}

std::string pcm16le_bytes(std::span<const std::int16_t> samples) {
  std::string out(samples.size() * 2, '\0');
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto v = static_cast<std::uint16_t>(samples[i]);
    out[2 * i] = static_cast<char>(v & 0xFFu);
    out[2 * i + 1] = static_cast<char>(v >> 8);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

struct wav_writer::impl {
  unique_fd fd;
  sndfile_ptr file;
};

wav_writer::wav_writer(std::string path, int rate_hz, std::unique_ptr<impl> state)
    : path_(std::move(path)), rate_hz_(rate_hz), impl_(std::move(state)) {}
wav_writer::wav_writer(wav_writer&&) noexcept = default;
wav_writer& wav_writer::operator=(wav_writer&& other) noexcept {
  if (this != &other) {
    (void)close();
    path_ = std::move(other.path_);
    rate_hz_ = other.rate_hz_;
    n_samples_written_ = other.n_samples_written_;
    impl_ = std::move(other.impl_);
  }
  return *this;
}
wav_writer::~wav_writer() { (void)close(); }

result<wav_writer> wav_writer::open(const std::string& path, int rate_hz) {
  if (!is_valid_rate_hz(rate_hz)) return wav_error(errc::invalid_argument, path, "cannot be written: " + bad_rate_text(rate_hz));
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return wav_error(errc::io_error, path, "cannot be created: " + errno_text(errno));

  SF_INFO info{};
  info.samplerate = rate_hz;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  sndfile_ptr file(sf_open_fd(fd.get(), SFM_WRITE, &info, SF_FALSE));
  if (!file) return wav_error(errc::io_error, path, "cannot be created " + last_open_failure());
  // Rewrite the header after every write: the file stays a valid WAV even if close() never runs.
  sf_command(file.get(), SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);

  auto state = std::make_unique<impl>(impl{std::move(fd), std::move(file)});
  return wav_writer(path, rate_hz, std::move(state));
}

bool wav_writer::is_open() const { return impl_ != nullptr; }

status wav_writer::append(std::span<const std::int16_t> samples) {
  if (!impl_) return wav_error(errc::io_error, path_, "cannot be appended to: the writer is closed");
  if (samples.empty()) return {};
  const auto n = static_cast<sf_count_t>(samples.size());
  const sf_count_t n_written = sf_write_short(impl_->file.get(), samples.data(), n);
  if (n_written > 0) n_samples_written_ += n_written;
  if (n_written != n) return wav_error(errc::io_error, path_, std::string("write failed: ") + sf_strerror(impl_->file.get()));
  return {};
}

status wav_writer::close() {
  if (!impl_) return {};
  const std::unique_ptr<impl> state = std::move(impl_);
  const int sf_err = sf_close(state->file.release());
  const int close_errno = state->fd.close();
  if (sf_err != 0) return wav_error(errc::io_error, path_, std::string("could not be finished: ") + sf_error_number(sf_err));
  if (close_errno != 0) return wav_error(errc::io_error, path_, "could not be finished: " + errno_text(close_errno));
  return {};
}

status write_wav(const std::string& path, std::span<const std::int16_t> samples, int rate_hz) {
  auto writer = wav_writer::open(path, rate_hz);
  if (!writer) return writer.error();
  if (auto s = writer->append(samples); !s) return s;
  return writer->close();
}

}  // namespace parley::audio
