// An uploaded file, decoded as a render decodes it: io's public entry point on a path, with
// the format allowlist and the limits `serve` gives its workers. The bytes sit in a memfd
// opened through /proc/self/fd/N, so FFmpeg reads them through its `file` protocol exactly
// as it reads an upload on disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/errors.h"
#include "fuzz/check.h"
#include "io/decoder.h"
#include "service/config.h"

namespace {

struct MemFile {
  int fd = -1;
  std::string path;
};

const MemFile& mem_file() {
  static const MemFile file = [] {
    MemFile f;
    f.fd = ::memfd_create("sy-fuzz-upload", MFD_CLOEXEC);
    if (f.fd < 0) std::abort();
    f.path = "/proc/self/fd/" + std::to_string(f.fd);
    return f;
  }();
  return file;
}

void write_all(int fd, const std::uint8_t* data, std::size_t size) {
  if (::ftruncate(fd, 0) != 0) std::abort();
  std::size_t done = 0;
  while (done < size) {
    const auto n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sy::io::quiet_ffmpeg_log();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const MemFile& file = mem_file();
  write_all(file.fd, data, size);

  // What `serve` hands its workers (cli/serve_command.cc) with the default configuration.
  const sy::service::Config config;
  sy::io::DecodeOptions options;
  options.limits.max_bytes = config.max_upload_bytes;
  options.limits.max_duration_seconds = config.max_duration_seconds;

  try {
    const auto decoder = sy::io::Decoder::open(file.path, options);
    const int rate = decoder->output_sample_rate();
    SY_FUZZ_CHECK(rate == 44100 || rate == 48000, "the decoder delivers a rate the engine does not take");
    std::vector<float> left(4096), right(4096);
    float* planes[2] = {left.data(), right.data()};
    std::int64_t frames = 0;
    while (const std::size_t n = decoder->read(planes, left.size())) {
      SY_FUZZ_CHECK(n <= left.size(), "read() wrote past the frames it was given");
      frames += static_cast<std::int64_t>(n);
    }
    SY_FUZZ_CHECK(frames == decoder->frames_read(), "frames_read() disagrees with what read() gave");
    SY_FUZZ_CHECK(static_cast<double>(frames) <= (options.limits.max_duration_seconds + 1) * rate,
                  "decoded past the duration limit");
  } catch (const sy::base::InputError&) {
    // The refusal a user sees (exit 3, job failed with this sentence).
  }
  return 0;
}
