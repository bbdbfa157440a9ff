#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sy::io {

struct CoverArt {
  std::vector<std::uint8_t> data;  // the encoded picture (JPEG or PNG) as stored in the input
  std::string mime;                // "image/jpeg" or "image/png"
  bool empty() const { return data.empty(); }
};

// Tags are kept under FFmpeg's generic keys: title, artist, album, album_artist,
// date, track, genre (and any other text tags the input had).
struct Metadata {
  std::map<std::string, std::string> tags;
  CoverArt cover;
};

// What `surroundyou probe` prints.
struct AudioInfo {
  std::string path;
  std::string container;       // demuxer name, e.g. "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;           // e.g. "mp3", "vorbis", "aac"
  int sample_rate = 0;         // of the stream as stored
  int channels = 0;            // of the stream as stored
  std::string channel_layout;  // e.g. "stereo", "5.1"
  double duration_seconds = 0; // the container's claim (may be wrong; decoding checks)
  std::int64_t bit_rate = 0;   // bits per second, 0 when unknown
  std::int64_t file_size = 0;  // bytes
  Metadata metadata;
  // What was left out of an otherwise good file (an oversized cover, ...), for people.
  std::vector<std::string> warnings;
};

}  // namespace sy::io
