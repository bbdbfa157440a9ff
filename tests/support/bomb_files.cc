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

}  // namespace sy::testing::bomb_files
