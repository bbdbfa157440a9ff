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

std::string small_jpeg(const TempDir& dir) {
  const auto path = dir.file("small.jpg");
  ffmpeg("-f lavfi -i color=c=red:s=64x64 -frames:v 1 " + path);
  return testing::read_file(path);
}

TEST(InputSafety, SampleRateOutsideTheRangeIsRefusedAtOpen) {
  TempDir dir;
  bombs::write_file(dir.file("fast.wav"), bombs::wav(750000017, 2, 4, 2000000));
  const std::string fast = open_error(dir.file("fast.wav"));
  EXPECT_NE(fast.find("sample rate (750000017 Hz)"), std::string::npos) << fast;
  EXPECT_NE(fast.find("8 kHz to 384 kHz"), std::string::npos) << fast;
  bombs::write_file(dir.file("slow.wav"), bombs::wav(1000, 2, 4, 20000));
  EXPECT_NE(open_error(dir.file("slow.wav")).find("sample rate (1 kHz)"), std::string::npos);
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
  bombs::write_file(dir.file("wide.wav"), bombs::wav(44100, 1000, 2000, 2000000));
  const std::string msg = open_error(dir.file("wide.wav"));
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
  bombs::write_file(dir.file("packets.caf"), caf);
  const std::string msg = open_error(dir.file("packets.caf"));
  EXPECT_NE(msg.find("implausible (blocks of 1073741824 bytes)"), std::string::npos) << msg;
}

TEST(InputSafety, PictureOverTheAllocationCeilingIsRefusedWithAReason) {
  // FFmpeg cannot hold a 60 MiB FLAC picture under the ceiling and stops reading the header.
  TempDir dir;
  ffmpeg("-f lavfi -i sine=duration=1 -ac 2 " + dir.file("song.flac"));
  const std::string flac = testing::read_file(dir.file("song.flac"));
  bombs::write_file(dir.file("huge.flac"), bombs::flac_with_picture(flac, bombs::fat_jpeg(small_jpeg(dir), 60 * kMiB)));
  EXPECT_NE(open_error(dir.file("huge.flac")).find("needs more memory than allowed"), std::string::npos);
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
  EXPECT_LT(peak_rss_mib(), 200) << "the claimed size was allocated";
}

}  // namespace
}  // namespace sy::io
