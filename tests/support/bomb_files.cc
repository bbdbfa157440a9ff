#include "tests/support/bomb_files.h"

#include <filesystem>
#include <stdexcept>

#include "io/test_bombs.h"
#include "tests/support/process.h"

namespace sy::testing::bomb_files {
namespace {

constexpr std::size_t kMiB = 1 << 20;
const std::string kSine = "-f lavfi -i sine=frequency=440:duration=3 -ac 2";

// Runs ffmpeg into dir/name and returns what it wrote; the file is removed again.
std::string ffmpeg_bytes(const TempDir& dir, const std::string& name, const std::string& args) {
  const std::string path = dir.file(name);
  const std::string cmd = "ffmpeg -nostdin -v error -y " + args + " " + quote(path);
  if (shell(cmd) != 0) throw std::runtime_error("fixture failed: " + cmd);
  std::string bytes = read_file(path);
  std::filesystem::remove(path);
  return bytes;
}

// Without a tag of its own, for tags built by hand in front of it.
std::string bare_mp3(const TempDir& dir) {
  return ffmpeg_bytes(dir, ".bare.mp3",
                      kSine + " -c:a libmp3lame -b:a 128k -id3v2_version 0 -write_xing 0");
}

std::string jpeg(const TempDir& dir, std::size_t total) {
  return bombs::fat_jpeg(
      ffmpeg_bytes(dir, ".small.jpg", "-f lavfi -i color=c=red:s=64x64 -frames:v 1"), total);
}

std::string write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  bombs::write_file(path, bytes);
  return path;
}

}  // namespace

std::string sample_rate(const TempDir& dir, const std::string& name, std::uint32_t rate) {
  return write(dir, name, bombs::wav(rate, 2, 4, 2000000));
}

std::string channels(const TempDir& dir, const std::string& name, std::uint16_t channels) {
  return write(dir, name,
               bombs::wav(44100, channels, static_cast<std::uint16_t>(2 * channels), 2000000));
}

std::string caf_packet_size(const TempDir& dir, const std::string& name,
                            std::uint32_t bytes_per_packet) {
  std::string caf = ffmpeg_bytes(dir, ".plain.caf", kSine + " -c:a pcm_s16le -f caf");
  const std::size_t desc = caf.find("desc");
  if (desc == std::string::npos) throw std::runtime_error("no desc chunk");
  // After the chunk header (12 bytes): rate (8), format (4), flags (4), bytes per packet.
  std::string field;
  for (int shift : {24, 16, 8, 0})
    field.push_back(static_cast<char>((bytes_per_packet >> shift) & 0xff));
  caf.replace(desc + 12 + 16, 4, field);
  return write(dir, name, caf);
}

std::string mp3_with_tag_frames(const TempDir& dir, const std::string& name, int frames) {
  std::string all;
  for (int i = 0; i < frames; ++i)
    all += bombs::id3_frame("TXXX", bombs::text_payload(std::to_string(i)));
  return write(dir, name, bombs::id3_tag(all) + bare_mp3(dir));
}

std::string flac_with_comments(const TempDir& dir, const std::string& name, int entries) {
  return write(dir, name,
               bombs::flac_with_comments(ffmpeg_bytes(dir, ".plain.flac", kSine),
                                         bombs::vorbis_comments(entries)));
}

std::string opus_with_comments(const TempDir& dir, const std::string& name, int entries) {
  return write(dir, name,
               bombs::opus_with_comments(
                   ffmpeg_bytes(dir, ".plain.opus", kSine + " -c:a libopus -map_metadata -1"),
                   bombs::vorbis_comments(entries)));
}

// A real Opus file's first page, then "OggS\x01" until `bytes`: a page header every five bytes.
std::string ogg_page_headers(const TempDir& dir, const std::string& name, std::size_t bytes) {
  const std::string opus = ffmpeg_bytes(dir, ".plain.opus", kSine + " -c:a libopus -map_metadata -1");
  std::string file = opus.substr(0, opus.find("OggS", 4));
  const std::string header("OggS\x01", 5);
  file.reserve(bytes + header.size());
  while (file.size() < bytes) file += header;
  return write(dir, name, file);
}

std::string wav_with_info(const TempDir& dir, const std::string& name, int entries) {
  return write(dir, name, bombs::wav_with_info(entries));
}

std::string rf64_with_info(const TempDir& dir, const std::string& name, int entries) {
  return write(dir, name, bombs::wav_with_info(entries, true));
}

std::string mka_with_tags(const TempDir& dir, const std::string& name, int tags, int simple_tags) {
  return write(dir, name,
               bombs::matroska_with_tags(ffmpeg_bytes(dir, ".plain.mka", kSine + " -c:a flac -map_metadata -1"),
                                         tags, simple_tags));
}

std::string m4a_with_items(const TempDir& dir, const std::string& name, int items) {
  return write(dir, name, bombs::mp4_with_items(ffmpeg_bytes(dir, ".plain.m4a", kSine + " -c:a aac"), items));
}

std::string long_silent_flac(const TempDir& dir, const std::string& name, int seconds) {
  return write(dir, name,
               ffmpeg_bytes(dir, ".long.flac",
                            "-f lavfi -i anullsrc=r=8000:cl=mono -t " + std::to_string(seconds) +
                                " -c:a flac -frame_size 65535"));
}

std::string mp3_with_cover(const TempDir& dir, const std::string& name, std::size_t cover_bytes) {
  const std::string tag =
      bombs::id3_tag(bombs::id3_frame("TIT2", bombs::text_payload("Heavy")) +
                     bombs::id3_frame("TPE1", bombs::text_payload("Band")) +
                     bombs::id3_frame("APIC", bombs::apic_payload(jpeg(dir, cover_bytes))));
  return write(dir, name, tag + bare_mp3(dir));
}

std::string mp3_with_compressed_frames(const TempDir& dir, const std::string& name) {
  const std::string picture =
      bombs::id3_compressed_frame("APIC", bombs::apic_payload(std::string(40 * kMiB, '\0')));
  const std::string text = bombs::id3_compressed_frame(
      "TXXX", bombs::text_payload("k" + std::string(1, '\0') + std::string(10 * kMiB, 'a')));
  std::string frames = bombs::id3_frame("TIT2", bombs::text_payload("Zip"));
  for (int i = 0; i < 20; ++i) frames += picture + text;
  return write(dir, name, bombs::id3_tag(frames) + bare_mp3(dir));
}

std::string mp3_with_png_claiming(const TempDir& dir, const std::string& name, std::uint32_t width,
                                  std::uint32_t height) {
  const std::string png = bombs::png_claiming(
      ffmpeg_bytes(dir, ".small.png", "-f lavfi -i color=c=blue:s=64x64 -frames:v 1"), width,
      height);
  return write(dir, name,
               bombs::id3_tag(bombs::id3_frame("APIC", bombs::apic_payload(png, "", "image/png"))) +
                   bare_mp3(dir));
}

std::string m4a_with_cover(const TempDir& dir, const std::string& name, std::size_t cover_bytes) {
  const std::string cover = write(dir, ".cover.jpg", jpeg(dir, cover_bytes));
  const std::string path = dir.file(name);
  const std::string cmd = "ffmpeg -nostdin -v error -y " + kSine + " -i " + quote(cover) +
                          " -map 0 -map 1 -c:a aac -c:v copy -disposition:v attached_pic " +
                          quote(path);
  const int rc = shell(cmd);
  std::filesystem::remove(cover);
  if (rc != 0) throw std::runtime_error("fixture failed: " + cmd);
  return path;
}

std::string flac_with_cover(const TempDir& dir, const std::string& name, std::size_t cover_bytes) {
  return write(
      dir, name,
      bombs::flac_with_picture(ffmpeg_bytes(dir, ".plain.flac", kSine), jpeg(dir, cover_bytes)));
}

std::string opus_with_cover(const TempDir& dir, const std::string& name, std::size_t cover_bytes) {
  const std::string meta =
      write(dir, ".meta.txt", bombs::ogg_picture_metadata(jpeg(dir, cover_bytes)));
  const std::string path = dir.file(name);
  const std::string cmd = "ffmpeg -nostdin -v error -y " + kSine + " -i " + quote(meta) +
                          " -map_metadata 1 -map 0:a -c:a libopus " + quote(path);
  const int rc = shell(cmd);
  std::filesystem::remove(meta);
  if (rc != 0) throw std::runtime_error("fixture failed: " + cmd);
  return path;
}

namespace {

// The Bomb::write of one of the functions above, with its arguments after the file's name.
template <class Write, class... Args>
std::function<std::string(const TempDir&, const std::string&)> writes(Write write, Args... args) {
  return [=](const TempDir& dir, const std::string& file) { return write(dir, file, args...); };
}

}  // namespace

const std::vector<Bomb>& refused() {
  static const std::vector<Bomb> list = {
      // Before: the resampler built a ~2 GiB filter and spun ~20 s before failing.
      {"SampleRateOfAGigahertz", "rate.wav", writes(sample_rate, 750000017),
       "the audio's sample rate (750000017 Hz) is outside the 8 kHz to 384 kHz a recording can have"},
      {"SampleRateOfAHundredHertz", "slow.wav", writes(sample_rate, 100),
       "sample rate (100 Hz)"},
      {"AThousandChannels", "wide.wav", writes(channels, 1000),
       "the audio claims 1000 channels; at most 64 are accepted"},
      {"AGigabytePacketSize", "packets.caf", writes(caf_packet_size, 1u << 30),
       "the audio stream's header is implausible (blocks of 1073741824 bytes)"},
      // Each text frame goes into a dictionary FFmpeg searches linearly: quadratic time.
      {"SeventyThousandTagFrames", "many.mp3", writes(mp3_with_tag_frames, 70000),
       "the file's tags are implausible"},
      // Under the old cap of 65,536 frames: 20,000 took 9 s to open (three opens a render), and
      // 60,000 over a minute. Every tag format FFmpeg files that way counts alike.
      {"TwentyThousandTagFrames", "twenty.mp3", writes(mp3_with_tag_frames, 20000),
       "the file's tags are implausible (over 4096 entries)"},
      {"FlacWithTwentyThousandComments", "comments.flac", writes(flac_with_comments, 20000),
       "the file's tags are implausible (over 4096 entries)"},
      {"OpusWithTwentyThousandComments", "comments.opus", writes(opus_with_comments, 20000),
       "the file's tags are implausible (over 4096 entries)"},
      {"WavWithTwentyThousandInfoEntries", "info.wav", writes(wav_with_info, 20000),
       "the file's tags are implausible (over 4096 entries)"},
      // RF64 keeps the data's size in its ds64 chunk; FFmpeg reads the list after the data.
      {"Rf64WithTwentyThousandInfoEntriesAfterTheData", "info64.wav", writes(rf64_with_info, 20000),
       "the file's tags are implausible (over 4096 entries)"},
      // Before: FFmpeg and the tag walk judged each header as a page and searched on from it;
      // the walk read 65 KB for each: 81 s (42 s of CPU) for these 20 MB on every open.
      {"OggPageHeadersEveryFiveBytes", "pages.opus", writes(ogg_page_headers, 20 * kMiB),
       "the file is damaged (over 64 broken Ogg pages in a row)"},
      // Before: 20,000 Tag elements held each open over four minutes (1,000: 0.5 s an open).
      {"MatroskaWithTwentyThousandTagElements", "tags.mka", writes(mka_with_tags, 20000, 1),
       "the file's tags are implausible (over 256 Matroska Tag elements)"},
      {"MatroskaWithTwentyThousandSimpleTags", "simple.mka", writes(mka_with_tags, 1, 20000),
       "the file's tags are implausible (over 4096 entries)"},
      // No walk of ours counts MP4 items: opening stops after 2 s of CPU, whatever the
      // container. Before: over 100 s (200,000 items, 15 MB).
      {"M4aWithTwoHundredThousandItems", "items.m4a", writes(m4a_with_items, 200000),
       "the file's header is implausible (reading it took over 2 s"},
      // Before: decoded up to the 30 min limit first, as a render (12-24 s of CPU for 20 KB).
      {"FlacDeclaringTwoHours", "long.flac", writes(long_silent_flac, 7200),
       "the audio is longer than the 30 min limit: the file declares 120 min"},
      // An Ogg comment packet cannot be skipped without rewriting pages: over what FFmpeg may
      // allocate at once, the file is refused.
      {"OggCoverTooBigToHold", "huge.opus", writes(opus_with_cover, 60 * kMiB),
       "the file needs more memory than allowed"},
  };
  return list;
}

const std::vector<Bomb>& covers_left_out() {
  static const std::vector<Bomb> list = {
      // Before: 298 MiB peak RSS, the picture copied four times on its way to the output.
      {"Mp3With53MbCover", "cover.mp3", writes(mp3_with_cover, 53000000),
       "the cover art (50.5 MiB) is over the 16 MiB limit and was left out",
       {{"title", "Heavy (8D)"}, {"artist", "Band"}}},
      {"M4aWith53MbCover", "cover.m4a", writes(m4a_with_cover, 53000000),
       "the cover art (50.5 MiB) is over the 16 MiB limit"},
      {"FlacWith20MbCover", "cover.flac", writes(flac_with_cover, 20 * kMiB),
       "the cover art (20.0 MiB) is over the 16 MiB limit"},
      // Over 16 MiB a FLAC picture only exists with a truncated block length that FFmpeg reads
      // past; such a block is cut out of what FFmpeg sees. Before: 363 MiB peak RSS.
      {"FlacWith60MbCover", "huge.flac", writes(flac_with_cover, 60 * kMiB),
       "the cover art (60.0 MiB) is over the 16 MiB limit"},
      {"OggWith17MbCover", "cover.opus", writes(opus_with_cover, 17 * kMiB),
       "the cover art (17.0 MiB) is over the 16 MiB limit"},
      // 20 zlib frames of 40 KB that each declare a 40 MiB picture, and 20 declaring 10 MiB of
      // text: under 1 MB on disk. Before: 1.7 GiB peak RSS.
      {"CompressedId3Frames", "zip.mp3", writes(mp3_with_compressed_frames),
       "the cover art (40.0 MiB) is over the 16 MiB limit", {{"title", "Zip (8D)"}}},
  };
  return list;
}

}  // namespace sy::testing::bomb_files
