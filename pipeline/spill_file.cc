#include "pipeline/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "base/errors.h"

namespace sy::pipeline {
namespace {

constexpr std::size_t kBufferFrames = 32768;  // 256 KiB per write or read call


}  // namespace

SpillFile::SpillFile(const std::string& directory)
    : directory_(directory.empty() ? std::string(".") : directory), buffer_(2 * kBufferFrames) {
#ifdef O_TMPFILE
  fd_ = ::open(directory_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
  if (fd_ < 0) {
    // File systems without O_TMPFILE: a named file that is unlinked straight away.
    std::string path = directory_ + "/.surroundyou-spill-XXXXXX";
    fd_ = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd_ >= 0) ::unlink(path.c_str());
  }
  if (fd_ < 0) {
    base::throw_errno(errno, "cannot create a temporary file in " + directory_);
  }
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

void SpillFile::write(engine::ConstAudioView audio) {
  if (reading_) throw std::logic_error("SpillFile::write after rewind");
  const std::size_t frames = audio.num_frames();
  std::size_t done = 0;
  while (done < frames) {
    const std::size_t n = std::min(kBufferFrames - buffered_, frames - done);
    float* dst = buffer_.data() + 2 * buffered_;
    const float* l = audio.channel(0) + done;
    const float* r = audio.channel(1) + done;
    for (std::size_t i = 0; i < n; ++i) {
      dst[2 * i] = l[i];
      dst[2 * i + 1] = r[i];
    }
    buffered_ += n;
    done += n;
    frames_ += static_cast<std::int64_t>(n);
    if (buffered_ == kBufferFrames) flush();
  }
}

void SpillFile::flush() {
  const auto* p = reinterpret_cast<const char*>(buffer_.data());
  std::size_t left = buffered_ * 2 * sizeof(float);
  while (left > 0) {
    const ssize_t w = ::write(fd_, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = w < 0 ? errno : ENOSPC;
      // A full disk is StorageFull: the render is retried later, never blamed on the file.
      base::throw_errno(err, "cannot write the temporary audio in " + directory_ + " (" +
                                 std::to_string(frames_ * 2 * static_cast<std::int64_t>(sizeof(float)) >> 20) +
                                 " MB so far)");
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  buffered_ = 0;
}

void SpillFile::seek(std::int64_t frame) {
  if (!reading_) flush();
  reading_ = true;
  buffered_ = 0;
  read_pos_ = 0;
  file_pos_ = std::clamp<std::int64_t>(frame, 0, frames_) * 2 * static_cast<std::int64_t>(sizeof(float));
}

std::size_t SpillFile::read(float* const* planes, std::size_t max_frames) {
  if (!reading_) throw std::logic_error("SpillFile::read before rewind");
  std::size_t done = 0;
  while (done < max_frames) {
    if (read_pos_ == buffered_) {
      const std::int64_t total_bytes = frames_ * 2 * static_cast<std::int64_t>(sizeof(float));
      const auto want = static_cast<std::size_t>(
          std::min<std::int64_t>(total_bytes - file_pos_, static_cast<std::int64_t>(buffer_.size() * sizeof(float))));
      if (want == 0) break;
      auto* p = reinterpret_cast<char*>(buffer_.data());
      std::size_t got = 0;
      while (got < want) {
        const ssize_t r = ::pread(fd_, p + got, want - got, static_cast<off_t>(file_pos_ + static_cast<std::int64_t>(got)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) base::throw_errno(r < 0 ? errno : EIO, "cannot read the temporary audio back");
        got += static_cast<std::size_t>(r);
      }
      file_pos_ += static_cast<std::int64_t>(want);
      buffered_ = want / (2 * sizeof(float));
      read_pos_ = 0;
    }
    const std::size_t n = std::min(buffered_ - read_pos_, max_frames - done);
    const float* src = buffer_.data() + 2 * read_pos_;
    float* l = planes[0] + done;
    float* r = planes[1] + done;
    for (std::size_t i = 0; i < n; ++i) {
      l[i] = src[2 * i];
      r[i] = src[2 * i + 1];
    }
    read_pos_ += n;
    done += n;
  }
  return done;
}

}  // namespace sy::pipeline
