#include "io/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "base/errors.h"

extern "C" {
#include <libavformat/avio.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

namespace sy::io {
namespace {

constexpr int kBufferSize = 64 * 1024;

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace

void InputFile::limit_cpu(double cpu_seconds) {
  cpu_deadline_ = cpu_seconds > 0 ? thread_cpu_seconds() + cpu_seconds : 0;
}

bool InputFile::past_cpu_deadline() {
  if (cpu_deadline_ > 0 && thread_cpu_seconds() > cpu_deadline_) over_cpu_limit_ = true;
  return over_cpu_limit_ && cpu_deadline_ > 0;
}

InputFile::InputFile(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw base::InputError(std::string("cannot read the file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw base::InputError("not a regular file");
  }
  size_ = st.st_size;
  shown_size_ = size_;
}

InputFile::~InputFile() {
  if (io_ != nullptr) {
    av_freep(&io_->buffer);
    avio_context_free(&io_);
  }
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::set_edits(std::vector<guard::Patch> patches, std::vector<guard::Cut> cuts) {
  patches_ = std::move(patches);
  cuts_ = std::move(cuts);
  shown_size_ = size_;
  for (const guard::Cut& c : cuts_) shown_size_ -= c.length;
}

std::int64_t InputFile::file_offset(std::int64_t shown) const {
  std::int64_t at = shown;
  for (const guard::Cut& c : cuts_) {
    if (at < c.offset) break;
    at += c.length;
  }
  return at;
}

std::size_t InputFile::read_at(std::int64_t offset, std::uint8_t* dst, std::size_t n) const {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

void InputFile::apply_patches(std::int64_t offset, std::uint8_t* buf, std::size_t n) const {
  const std::int64_t end = offset + static_cast<std::int64_t>(n);
  // Patches are a few bytes long: any that touches [offset, end) starts after offset - 8.
  auto it = std::lower_bound(patches_.begin(), patches_.end(), offset - 8,
                             [](const guard::Patch& p, std::int64_t at) { return p.offset < at; });
  for (; it != patches_.end() && it->offset < end; ++it) {
    for (std::size_t i = 0; i < it->bytes.size(); ++i) {
      const std::int64_t at = it->offset + static_cast<std::int64_t>(i);
      if (at >= offset && at < end) buf[at - offset] = static_cast<std::uint8_t>(it->bytes[i]);
    }
  }
}

int InputFile::read_packet(void* opaque, std::uint8_t* buf, int size) {
  auto* self = static_cast<InputFile*>(opaque);
  if (self->past_cpu_deadline()) return AVERROR_EXIT;
  std::size_t done = 0;
  while (done < static_cast<std::size_t>(size)) {
    // One contiguous run of the file: up to the next cut or the end.
    const std::int64_t at = self->file_offset(self->pos_);
    std::int64_t run_end = self->size_;
    for (const guard::Cut& c : self->cuts_) {
      if (c.offset > at) {
        run_end = c.offset;
        break;
      }
    }
    if (run_end <= at) break;  // past the end
    const auto want = static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(static_cast<std::size_t>(size) - done), run_end - at));
    const std::size_t got = self->read_at(at, buf + done, want);
    self->apply_patches(at, buf + done, got);
    done += got;
    self->pos_ += static_cast<std::int64_t>(got);
    if (got < want) break;
  }
  if (done == 0) return AVERROR_EOF;
  return static_cast<int>(done);
}

std::int64_t InputFile::seek(void* opaque, std::int64_t offset, int whence) {
  auto* self = static_cast<InputFile*>(opaque);
  if (self->past_cpu_deadline()) return AVERROR_EXIT;
  whence &= ~AVSEEK_FORCE;
  std::int64_t target = 0;
  switch (whence) {
    case AVSEEK_SIZE: return self->shown_size_;
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = self->pos_ + offset; break;
    case SEEK_END: target = self->shown_size_ + offset; break;
    default: return AVERROR(EINVAL);
  }
  if (target < 0) return AVERROR(EINVAL);
  self->pos_ = target;
  return target;
}

AVIOContext* InputFile::io() {
  if (io_ != nullptr) return io_;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBufferSize));
  if (buffer == nullptr) throw std::bad_alloc();
  io_ = avio_alloc_context(buffer, kBufferSize, 0, this, &InputFile::read_packet, nullptr, &InputFile::seek);
  if (io_ == nullptr) {
    av_free(buffer);
    throw std::bad_alloc();
  }
  return io_;
}

}  // namespace sy::io
