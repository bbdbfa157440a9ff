#pragma once
// The untrusted file as FFmpeg sees it: a read-only AVIOContext over the local file that
// shows a few renamed tag frame IDs and atom types and leaves out oversized FLAC picture
// blocks (io/tag_guard.h), so FFmpeg never reads what is behind them into memory.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/tag_guard.h"

struct AVIOContext;

namespace sy::io {

class InputFile {
 public:
  // Opens `path` for reading; throws base::InputError when it cannot be read.
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::int64_t size() const { return size_; }
  // pread() of the raw file, for scanning before FFmpeg sees it.
  std::size_t read_at(std::int64_t offset, std::uint8_t* dst, std::size_t n) const;
  // What FFmpeg is shown instead of the file's own bytes (offsets are the file's; sorted as
  // guard::Findings keeps them). Call before io().
  void set_edits(std::vector<guard::Patch> patches, std::vector<guard::Cut> cuts);
  // Makes every read and seek FFmpeg asks for fail once the calling thread has spent
  // `cpu_seconds` of CPU time from now (0: no limit again), and remembers that it happened.
  // FFmpeg's header readers file each tag in a list they search linearly and read as they go
  // (MP4 atoms, CAF info, APE, ASF), so a few hundred thousand tags cost minutes between two
  // reads of this file; this ends any such reader within about the limit, whatever the format.
  void limit_cpu(double cpu_seconds);
  bool over_cpu_limit() const { return over_cpu_limit_; }
  // For AVFormatContext::pb (with AVFMT_FLAG_CUSTOM_IO); owned by this object, which must
  // outlive the format context.
  AVIOContext* io();

 private:
  static int read_packet(void* opaque, std::uint8_t* buf, int size);
  static std::int64_t seek(void* opaque, std::int64_t offset, int whence);
  void apply_patches(std::int64_t offset, std::uint8_t* buf, std::size_t n) const;
  // Where the byte FFmpeg knows as `shown` is in the file (never inside a cut).
  std::int64_t file_offset(std::int64_t shown) const;

  int fd_ = -1;
  std::int64_t size_ = 0;        // of the file
  std::int64_t shown_size_ = 0;  // without the cuts
  std::int64_t pos_ = 0;         // in what FFmpeg is shown
  std::vector<guard::Patch> patches_;
  std::vector<guard::Cut> cuts_;
  AVIOContext* io_ = nullptr;
  double cpu_deadline_ = 0;  // of the thread's CPU clock, in seconds; 0: none
  bool over_cpu_limit_ = false;
  // Whether the limit has run out (checked once per buffer FFmpeg fills, so it costs nothing).
  bool past_cpu_deadline();
};

}  // namespace sy::io
