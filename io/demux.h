#pragma once
// Opening untrusted files: size limit, format allowlist, local files only.
#include <memory>
#include <string>
#include <vector>

#include "io/decoder.h"
#include "io/ffmpeg_util.h"
#include "io/input_file.h"
#include "io/metadata.h"

namespace sy::io::demux {

struct Input {
  std::unique_ptr<InputFile> file;  // what the context reads; outlives it (declared first)
  ffmpeg::InputContextPtr context;
  int audio_stream = -1;  // first audio stream
  std::int64_t file_size = 0;
  std::vector<std::string> warnings;  // parts of the file FFmpeg was kept from reading
};

// Checks the file (exists, regular, not empty, within limits.max_bytes), recognises its
// format, refuses anything outside the allowlist of audio/video containers (playlists,
// concat scripts, images, ... are refused before FFmpeg interprets them), keeps FFmpeg from
// reading oversized pictures and tag frames (io/tag_guard.h), refuses stream parameters
// outside the bounds of io/input_safety.h (before the stream info is read and again after),
// reads the stream info and finds the first audio stream. Throws base::InputError with a
// human message; what was left out of a file that is otherwise fine is in `warnings`.
Input open(const std::string& path, const InputLimits& limits);

// The demuxer names we accept, comma-separated as FFmpeg's format_whitelist wants them.
const char* allowed_formats();

// Header facts, tags and cover art of an opened input.
AudioInfo describe(const Input& input, const std::string& path);

}  // namespace sy::io::demux
