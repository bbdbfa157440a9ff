#pragma once
// Safe, streaming audio decoding through FFmpeg's libraries.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "io/metadata.h"

namespace sy::io {

struct InputLimits {
  std::int64_t max_bytes = 200LL * 1024 * 1024;  // file size
  double max_duration_seconds = 30 * 60;         // real decoded length, checked while decoding
};

struct DecodeOptions {
  InputLimits limits;
  // Varispeed: 0.85 plays the song at 85 % speed with the matching pitch drop (the output
  // gets longer by 1/speed). 1 leaves it alone.
  double speed = 1.0;
  // How far into the song the caller reads, in the song's own seconds; 0: to its end. A file
  // whose header reliably declares more than limits.max_duration_seconds is refused at open
  // unless the caller stops inside the limit: decoding up to the limit first would cost as
  // much as rendering a whole long song (a 20 KB FLAC can declare two hours of silence).
  double read_until_seconds = 0;
};

// The rate a Decoder hands out audio coded at `coded_rate` in.
int decoded_rate(int coded_rate);

// Opens a local file with FFmpeg restricted to an allowlist of audio demuxers and the
// `file` protocol, picks the first audio stream, and delivers stereo planar float.
// 44.1 and 48 kHz are kept; any other rate is resampled to 48 kHz. Mono becomes two
// identical channels; more than two channels are downmixed.
// Every failure (unreadable, not audio, truncated, over a limit) throws sy::base::InputError
// with a message meant for people.
class Decoder {
 public:
  static std::unique_ptr<Decoder> open(const std::string& path, const DecodeOptions& options = {});
  virtual ~Decoder() = default;

  virtual const AudioInfo& info() const = 0;
  virtual int output_sample_rate() const = 0;
  // Best estimate of the output length in frames (from the header; 0 if unknown).
  virtual std::int64_t estimated_frames() const = 0;
  // Fills dst[0], dst[1] with up to max_frames frames; returns how many were written, 0 at
  // the end of the stream. Throws base::InputError on corrupt data or when a limit is exceeded.
  virtual std::size_t read(float* const* dst, std::size_t max_frames) = 0;
  // Frames delivered so far.
  virtual std::int64_t frames_read() const = 0;
};

// Reads only the container header and tags: what `surroundyou probe` prints.
AudioInfo probe(const std::string& path, const InputLimits& limits = {});

// Keeps FFmpeg's own log off stderr (errors reach callers as exceptions instead) and puts
// the per-allocation ceiling of io/input_safety.h on FFmpeg. Every entry point of io/
// calls it; calling it early (e.g. first thing in main) is harmless.
// SY_FFMPEG_LOG=<quiet|error|warning|info|verbose|debug> in the environment brings the
// library's log back for debugging.
void quiet_ffmpeg_log();

}  // namespace sy::io
