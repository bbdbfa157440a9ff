#pragma once
// The rendered mix between the analysis pass and the final pass. The 8D engine runs once;
// the final pass only applies gain and the limiter and feeds the encoder. Stereo float
// frames go to an unnamed temporary file (O_TMPFILE, or a file unlinked at once where the
// file system lacks it), so the data is gone when the file is closed or the process dies
// (on NFS the fallback leaves a `.nfs*` file until the server cleans it). It takes about
// 21 MB per minute at 44.1 kHz in the output's folder: disk, or memory where that folder is
// a tmpfs. The process's own memory stays flat whatever the song's length.
// Hand-written: a few dozen lines of POSIX I/O, no library needed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/audio_view.h"

namespace sy::pipeline {

class SpillFile {
 public:
  // Creates the file in `directory`. Throws std::runtime_error when it cannot.
  explicit SpillFile(const std::string& directory);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Appends two channels' frames (buffered). Throws std::runtime_error on a write error
  // (disk full).
  void write(engine::ConstAudioView audio);
  // Flushes what is buffered and goes back to the first frame for reading.
  void rewind() { seek(0); }
  // Flushes what is buffered and goes to `frame` (clamped to the frames written) for reading.
  void seek(std::int64_t frame);
  // Fills planes with up to max_frames frames; 0 at the end. Call rewind() or seek() first. (The
  // decoder's read(), so a pass reads the spill like a file.)
  std::size_t read(float* const* planes, std::size_t max_frames);

  std::int64_t frames() const { return frames_; }

 private:
  void flush();

  std::string directory_;
  int fd_ = -1;
  std::vector<float> buffer_;   // interleaved L/R
  std::size_t buffered_ = 0;    // frames in buffer_ (writing) or left to hand out (reading)
  std::size_t read_pos_ = 0;    // next frame of buffer_ to hand out
  std::int64_t frames_ = 0;     // frames written in all
  std::int64_t file_pos_ = 0;   // byte offset of the next read
  bool reading_ = false;
};

}  // namespace sy::pipeline
