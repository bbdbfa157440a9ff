#pragma once
// One hostile file for each resource bomb of issue 10, written into a test's folder: the CLI
// suite renders them with `surroundyou render`, the service suite uploads them to `serve`.
// Real audio from FFmpeg where a valid stream is needed, headers and tags forged byte by byte
// (io/test_bombs) where the attack is.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace sy::testing::bomb_files {

// 2 MB of 16-bit WAV whose header claims `rate` samples a second.
std::string sample_rate(const TempDir& dir, const std::string& name, std::uint32_t rate);
// 2 MB of WAV whose header claims `channels` channels.
std::string channels(const TempDir& dir, const std::string& name, std::uint16_t channels);
// A 3 s PCM CAF whose description claims `bytes_per_packet`.
std::string caf_packet_size(const TempDir& dir, const std::string& name,
                            std::uint32_t bytes_per_packet);
// A 3 s MP3 behind an ID3v2.4 tag with `frames` tiny TXXX frames.
std::string mp3_with_tag_frames(const TempDir& dir, const std::string& name, int frames);
// A 3 s FLAC, Opus and WAV whose tags hold `entries` items with different names.
std::string flac_with_comments(const TempDir& dir, const std::string& name, int entries);
std::string opus_with_comments(const TempDir& dir, const std::string& name, int entries);
std::string wav_with_info(const TempDir& dir, const std::string& name, int entries);
// A 3 s FLAC in Matroska with `tags` Tag elements of `simple_tags` SimpleTags each.
std::string mka_with_tags(const TempDir& dir, const std::string& name, int tags, int simple_tags);
// A 3 s AAC in MP4 with `items` free-form ('----') tag items.
std::string m4a_with_items(const TempDir& dir, const std::string& name, int items);
// `seconds` of 8 kHz mono silence in FLAC frames of 65,535 samples: 20 KB for two hours.
std::string long_silent_flac(const TempDir& dir, const std::string& name, int seconds);
// A 3 s MP3 titled "Heavy" by "Band" with a JPEG cover of `cover_bytes`.
std::string mp3_with_cover(const TempDir& dir, const std::string& name, std::size_t cover_bytes);
// A 3 s MP3 titled "Zip" whose compressed ID3 frames are under 1 MB on disk and declare 20
// pictures of 40 MiB and 20 texts of 10 MiB once inflated.
std::string mp3_with_compressed_frames(const TempDir& dir, const std::string& name);
// A 3 s MP3 whose cover is a 64x64 PNG with a header claiming `width` x `height`.
std::string mp3_with_png_claiming(const TempDir& dir, const std::string& name, std::uint32_t width,
                                  std::uint32_t height);
// 3 s of AAC in MP4 with a JPEG cover ('covr') of `cover_bytes`.
std::string m4a_with_cover(const TempDir& dir, const std::string& name, std::size_t cover_bytes);
// A 3 s FLAC with a PICTURE block of `cover_bytes`; over 16 MiB with the truncated 24-bit
// block length old muxers wrote.
std::string flac_with_cover(const TempDir& dir, const std::string& name, std::size_t cover_bytes);
// A 3 s Opus file whose comment header carries a JPEG of `cover_bytes` (base64, as Ogg does).
std::string opus_with_cover(const TempDir& dir, const std::string& name, std::size_t cover_bytes);

// A bomb as both suites meet it: the CLI renders it, the service renders an upload of it.
struct Bomb {
  std::string test;  // names the test case: "SampleRateOfAGigahertz"
  std::string file;  // its name in the test's folder: "rate.wav"
  std::function<std::string(const TempDir&, const std::string& file)> write;  // returns the path
  // Refused: the reason the user is told. Rendered: the warning that names the cover.
  std::string says;
  std::map<std::string, std::string> tags = {};  // the rendered file's tags that must survive
};
// Each refused on its header or tags, before anything is sized from the lie.
const std::vector<Bomb>& refused();
// Each rendered without its oversized cover, with a warning.
const std::vector<Bomb>& covers_left_out();

}  // namespace sy::testing::bomb_files
