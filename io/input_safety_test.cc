// Resource bombs through the real decoder: each is refused (or its oversized part left out)
// when the file is opened, before anything is sized from the lie.
#include "io/input_safety.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/errors.h"
#include "io/decoder.h"
#include "io/encoder.h"
#include "io/test_bombs.h"
#include "io/test_fixtures.h"
#include "tests/support/process.h"

namespace sy::io {
namespace {

namespace bombs = testing::bombs;
using testing::ffmpeg;
using testing::TempDir;

constexpr std::size_t kMiB = 1 << 20;

// Each test runs in a process of its own (gtest_discover_tests), so this is the test's peak.
double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

std::string open_error(const std::string& path) {
  try {
    Decoder::open(path);
  } catch (const base::InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected base::InputError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected base::InputError for " << path;
  return {};
}

// A 3 s tagged MP3 made by the ffmpeg tool, as bytes.
std::string song_mp3(const TempDir& dir) {
  const auto path = dir.file("song.mp3");
  ffmpeg("-f lavfi -i sine=frequency=440:duration=3 -ac 2 -c:a libmp3lame -b:a 128k -write_xing 0 "
         "-id3v2_version 0 " + path);
  return testing::read_file(path);
}

// The refusal of `bytes` written as dir/name and opened.
std::string open_error(const TempDir& dir, const std::string& name, const std::string& bytes) {
  bombs::write_file(dir.file(name), bytes);
  return open_error(dir.file(name));
}

std::string small_jpeg(const TempDir& dir) {
  const auto path = dir.file("small.jpg");
  ffmpeg("-f lavfi -i color=c=red:s=64x64 -frames:v 1 " + path);
  return testing::read_file(path);
}

TEST(InputSafety, SampleRateOutsideTheRangeIsRefusedAtOpen) {
  TempDir dir;
  const std::string fast = open_error(dir, "fast.wav", bombs::wav(750000017, 2, 4, 2000000));
  EXPECT_NE(fast.find("sample rate (750000017 Hz)"), std::string::npos) << fast;
  EXPECT_NE(fast.find("8 kHz to 384 kHz"), std::string::npos) << fast;
  EXPECT_NE(open_error(dir, "slow.wav", bombs::wav(1000, 2, 4, 20000)).find("sample rate (1 kHz)"),
            std::string::npos);
}

TEST(InputSafety, TheHighestStudioRateStillDecodes) {
  TempDir dir;
  ffmpeg("-f lavfi -i sine=frequency=1000:sample_rate=384000:duration=0.5 -ac 2 " + dir.file("dxd.wav"));
  const auto decoded = testing::decode_all(dir.file("dxd.wav"));
  EXPECT_EQ(decoded.sample_rate, 48000);
  EXPECT_NEAR(static_cast<double>(decoded.frames()), 24000, 10);
}

TEST(InputSafety, TooManyChannelsAreRefusedAtOpen) {
  TempDir dir;
  const std::string msg = open_error(dir, "wide.wav", bombs::wav(44100, 1000, 2000, 2000000));
  EXPECT_NE(msg.find("1000 channels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at most 64"), std::string::npos) << msg;
}

TEST(InputSafety, AbsurdPacketSizeInTheHeaderIsRefused) {
  // CAF stores bytes per packet as 32 bits; FFmpeg takes it as the block size.
  TempDir dir;
  ffmpeg("-f lavfi -i sine=duration=1 -ac 2 -c:a pcm_s16le -f caf " + dir.file("ok.caf"));
  std::string caf = testing::read_file(dir.file("ok.caf"));
  const std::size_t desc = caf.find("desc");
  ASSERT_NE(desc, std::string::npos);
  caf.replace(desc + 12 + 16, 4, std::string("\x40\x00\x00\x00", 4));  // bytes per packet: 1 GiB
  const std::string msg = open_error(dir, "packets.caf", caf);
  EXPECT_NE(msg.find("implausible (blocks of 1073741824 bytes)"), std::string::npos) << msg;
}

TEST(InputSafety, CoverOverTheLimitIsLeftOutAndTheTagsKept) {
  TempDir dir;
  const std::string cover = bombs::fat_jpeg(small_jpeg(dir), 20 * kMiB);
  const std::string tag = bombs::id3_tag(bombs::id3_frame("TIT2", bombs::text_payload("Big Cover")) +
                                         bombs::id3_frame("APIC", bombs::apic_payload(cover)));
  bombs::write_file(dir.file("cover.mp3"), tag + song_mp3(dir));
  const AudioInfo info = probe(dir.file("cover.mp3"));
  EXPECT_TRUE(info.metadata.cover.empty());
  EXPECT_EQ(info.metadata.tags.at("title"), "Big Cover");
  ASSERT_EQ(info.warnings.size(), 1u);
  EXPECT_NE(info.warnings[0].find("cover art (20.0 MiB) is over the 16 MiB limit"), std::string::npos)
      << info.warnings[0];
}

TEST(InputSafety, CoverJustUnderTheLimitIsKept) {
  TempDir dir;
  const std::string cover = bombs::fat_jpeg(small_jpeg(dir), 15 * kMiB);
  bombs::write_file(dir.file("cover.mp3"),
                    bombs::id3_tag(bombs::id3_frame("APIC", bombs::apic_payload(cover))) + song_mp3(dir));
  const AudioInfo info = probe(dir.file("cover.mp3"));
  EXPECT_TRUE(info.warnings.empty());
  EXPECT_EQ(info.metadata.cover.data.size(), cover.size());
}

TEST(InputSafety, CompressedId3FramesCannotInflatePastTheTagBudget) {
  TempDir dir;
  // The same frames again and again: FFmpeg reads each copy (it keeps every APIC as a stream).
  const std::string picture = bombs::id3_compressed_frame("APIC", bombs::apic_payload(std::string(40 * kMiB, '\0')));
  const std::string text = bombs::id3_compressed_frame("TXXX", bombs::text_payload("k" + std::string(1, '\0') + std::string(10 * kMiB, 'a')));
  std::string frames = bombs::id3_frame("TIT2", bombs::text_payload("Zip"));
  for (int i = 0; i < 20; ++i) frames += picture + text;
  const std::string file = bombs::id3_tag(frames) + song_mp3(dir);
  ASSERT_LT(file.size(), 2 * kMiB) << "the point is a small file";
  bombs::write_file(dir.file("zip.mp3"), file);
  const AudioInfo info = probe(dir.file("zip.mp3"));
  EXPECT_EQ(info.metadata.tags.at("title"), "Zip");
  EXPECT_TRUE(info.metadata.cover.empty());
  EXPECT_TRUE(any_contains(info.warnings, "cover art (40.0 MiB)"));
  EXPECT_TRUE(any_contains(info.warnings, "tag entries past the 40 MiB"));
  // 20 x 40 MiB of pictures and 20 x 10 MiB of text are declared; at most the budget is read.
  if (testing::memory_bounds_apply()) {
    EXPECT_LT(peak_rss_mib(), 200);
  }
}

TEST(InputSafety, ThousandsOfTagFramesAreRefused) {
  TempDir dir;
  std::string frames;
  for (int i = 0; i <= safety::kMaxTagEntries; ++i) frames += bombs::id3_frame("TXXX", bombs::text_payload(std::to_string(i)));
  const std::string msg = open_error(dir, "many.mp3", bombs::id3_tag(frames) + song_mp3(dir));
  EXPECT_NE(msg.find("tags are implausible"), std::string::npos) << msg;
}

TEST(InputSafety, FlacPictureOverTheLimitIsNeverRead) {
  // Over 16 MiB a FLAC picture block can only exist with a truncated length, which FFmpeg
  // reads past on purpose; 60 MiB is more than FFmpeg may allocate, so the file opens only
  // because the block is cut out of what FFmpeg sees.
  TempDir dir;
  ffmpeg("-f lavfi -i sine=duration=1 -ac 2 -metadata title=Flac " + dir.file("song.flac"));
  const std::string flac = testing::read_file(dir.file("song.flac"));
  bombs::write_file(dir.file("big.flac"), bombs::flac_with_picture(flac, bombs::fat_jpeg(small_jpeg(dir), 60 * kMiB)));
  const AudioInfo big = probe(dir.file("big.flac"));
  EXPECT_TRUE(big.metadata.cover.empty());
  EXPECT_EQ(big.metadata.tags.at("title"), "Flac");
  ASSERT_EQ(big.warnings.size(), 1u);
  EXPECT_NE(big.warnings[0].find("cover art (60.0 MiB)"), std::string::npos) << big.warnings[0];
  EXPECT_NEAR(testing::decode_all(dir.file("big.flac")).frames(), 44100, 10);
}

TEST(InputSafety, PictureOverTheAllocationCeilingIsRefusedWithAReason) {
  // An Ogg comment packet holding a 60 MiB picture is more than FFmpeg may allocate.
  TempDir dir;
  bombs::write_file(dir.file("meta.txt"), bombs::ogg_picture_metadata(bombs::fat_jpeg(small_jpeg(dir), 60 * kMiB)));
  ffmpeg("-f lavfi -i sine=duration=1 -ac 2 -i " + dir.file("meta.txt") + " -map_metadata 1 -map 0:a -c:a libopus " +
         dir.file("huge.opus"));
  EXPECT_NE(open_error(dir.file("huge.opus")).find("needs more memory than allowed"), std::string::npos);
}

TEST(InputSafety, CoverClaimingGigapixelsIsNeitherDecodedNorWritten) {
  // 16000 x 16000 RGB would be 768 MB; the decoder is told the most pixels it may allocate.
  TempDir dir;
  ffmpeg("-f lavfi -i color=c=blue:s=64x64 -frames:v 1 " + dir.file("small.png"));
  const std::string png = bombs::png_claiming(testing::read_file(dir.file("small.png")), 16000, 16000);
  bombs::write_file(dir.file("cover.mp3"),
                    bombs::id3_tag(bombs::id3_frame("APIC", bombs::apic_payload(png, "", "image/png"))) +
                        song_mp3(dir));
  const AudioInfo info = probe(dir.file("cover.mp3"));
  ASSERT_FALSE(info.metadata.cover.empty()) << "small enough in bytes to be carried";
  const auto out = dir.file("out.m4a");
  EncodeOptions eo;
  eo.format = OutputFormat::kM4a;
  eo.sample_rate = 44100;
  auto encoder = Encoder::open(out, eo, info.metadata);
  std::vector<float> silence(4096, 0.0f);
  const float* planes[2] = {silence.data(), silence.data()};
  encoder->write(planes, silence.size());
  encoder->finish();
  encoder.reset();
  EXPECT_TRUE(probe(out).metadata.cover.empty()) << "an undecodable picture is left out";
  if (testing::memory_bounds_apply()) {
    EXPECT_LT(peak_rss_mib(), 200) << "the claimed size was allocated";
  }
}

}  // namespace
}  // namespace sy::io
