#pragma once
// FFmpeg holds every embedded picture and tag frame it reads in memory whole, whatever size
// the file declares. ID3v2 tags are read wherever one may sit (the start of any file, WAV
// and AIFF chunks, DSF metadata, between ADTS frames), compressed ID3 frames inflated to the
// size their header declares: a 50 MB cover is read whole, and twenty zlib frames of 40 KB
// become 800 MB. An MP4 'covr' atom is read whole too. This scan finds the parts FFmpeg must
// not read — pictures over the cover limit and tag frames past a total budget — so that the
// input shows FFmpeg a renamed ID or atom type there, which it skips with a seek. A FLAC
// picture over 16 MiB only exists with a truncated block length that FFmpeg reads past on
// purpose; such a block is cut out of what FFmpeg sees.
// Hand-written because it has to run before FFmpeg's readers and mirror their walk (FFmpeg
// 5.1's libavformat/id3v2.c, mov.c and flac_picture.c); no tag library exposes frames
// without reading them.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sy::io::guard {

// Show `bytes` in place of the file's own at `offset`.
struct Patch {
  std::int64_t offset = 0;
  std::string bytes;
};

// Leave out `length` bytes at `offset`.
struct Cut {
  std::int64_t offset = 0;
  std::int64_t length = 0;
};

struct Limits {
  std::int64_t max_picture_bytes = 0;
  // What all ID3 frames FFmpeg would read may take, across every tag in the file (text
  // frames count twice: Latin-1 becomes UTF-8).
  std::int64_t max_tag_bytes = 0;
  // Tag entries (ID3 frame headers walked, Vorbis comments in FLAC and Ogg, RIFF INFO items)
  // before the file is refused: FFmpeg files each in a dictionary it searches linearly, so a
  // few tens of thousands is a CPU bomb.
  std::int64_t max_tag_entries = 0;
};

struct Findings {
  std::vector<Patch> patches;  // sorted by offset
  std::vector<Cut> cuts;       // sorted by offset, not overlapping
  int hidden_pictures = 0;
  std::int64_t largest_hidden_picture = 0;
  int hidden_tag_frames = 0;  // ID3 frames past the tag budget
};

// Reads up to `n` bytes at `offset` into `dst`; returns how many (fewer at the end).
using ReadAt = std::function<std::size_t(std::int64_t offset, std::uint8_t* dst, std::size_t n)>;

// Looks at every ID3v2 header and 'covr' atom in the `size` bytes `read` gives, at the
// metadata blocks of a FLAC file, the comment packets of an Ogg file and the INFO lists of a
// RIFF (WAV, AVI) file. Offsets are the file's own. Throws base::InputError when these hold
// more tag entries than limits.max_tag_entries together.
Findings scan(const ReadAt& read, std::int64_t size, const Limits& limits);

}  // namespace sy::io::guard
