#include "io/decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/errors.h"
#include "io/test_fixtures.h"
#include "tests/support/process.h"

namespace sy::io {
namespace {

using testing::decode_all;
using testing::decode_made;
using testing::Decoded;
using testing::ffmpeg;
using testing::ffmpeg_file;
using testing::fit_tone;
using testing::TempDir;

// 2 s: left 0.5 * 440 Hz, right 0.25 * 660 Hz.
const std::string kTwoTones =
    "-f lavfi -i \"aevalsrc='0.5*sin(2*PI*440*t)|0.25*sin(2*PI*660*t)':s=44100:d=2\" ";

// Runs `fn`, expects base::InputError, returns its message.
template <typename Fn>
std::string input_error(Fn&& fn) {
  try {
    fn();
  } catch (const base::InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected base::InputError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected base::InputError, nothing was thrown";
  return {};
}

void expect_human_message(const std::string& msg) {
  EXPECT_FALSE(msg.empty());
  EXPECT_EQ(msg.find("AVERROR"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('@'), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(Decoder, FloatWavIsDeliveredUnchanged) {
  const Decoded d = decode_made("tones.wav", kTwoTones + "-c:a pcm_f32le");
  EXPECT_EQ(d.sample_rate, 44100);
  ASSERT_EQ(d.frames(), 88200u);
  for (std::size_t i = 0; i < d.frames(); i += 97) {
    const double t = static_cast<double>(i) / 44100;
    EXPECT_NEAR(d.left[i], 0.5 * std::sin(2 * M_PI * 440 * t), 1e-5) << i;
    EXPECT_NEAR(d.right[i], 0.25 * std::sin(2 * M_PI * 660 * t), 1e-5) << i;
  }
}

TEST(Decoder, ChunkSizeDoesNotChangeTheStream) {
  TempDir dir;
  const auto mp3 = ffmpeg_file(dir, "tones.mp3", kTwoTones + "-c:a libmp3lame -b:a 128k");
  const Decoded a = decode_all(mp3, {}, 1);
  const Decoded b = decode_all(mp3, {}, 4096);
  const Decoded c = decode_all(mp3, {}, 777);
  ASSERT_EQ(a.frames(), b.frames());
  ASSERT_EQ(a.frames(), c.frames());
  EXPECT_EQ(a.left, b.left);
  EXPECT_EQ(a.right, c.right);
}

struct FormatCase {
  const char* name;
  const char* args;  // codec and container options for the fixture
  int expected_rate;
};

class DecodesFormat : public ::testing::TestWithParam<FormatCase> {};

TEST_P(DecodesFormat, ToneSurvivesWithItsLength) {
  const FormatCase& c = GetParam();
  const Decoded d = decode_made(std::string("tones.") + c.name, kTwoTones + c.args);
  EXPECT_EQ(d.sample_rate, c.expected_rate);
  EXPECT_NEAR(static_cast<double>(d.frames()) / d.sample_rate, 2.0, 0.03);
  const std::size_t edge = static_cast<std::size_t>(d.sample_rate) / 10;
  const auto left = fit_tone(d.left, 440, d.sample_rate, edge, d.frames() - edge);
  const auto right = fit_tone(d.right, 660, d.sample_rate, edge, d.frames() - edge);
  EXPECT_NEAR(left.amplitude, 0.5, 0.03);
  EXPECT_NEAR(right.amplitude, 0.25, 0.02);
  EXPECT_GT(left.snr_db, 25);
  EXPECT_GT(right.snr_db, 25);
  EXPECT_GT(d.info.file_size, 0);
  EXPECT_EQ(d.info.channels, 2);
}

INSTANTIATE_TEST_SUITE_P(
    AllInputs, DecodesFormat,
    ::testing::Values(FormatCase{"wav", "-c:a pcm_s16le", 44100},
                      FormatCase{"mp3", "-c:a libmp3lame -b:a 192k", 44100},
                      FormatCase{"flac", "-c:a flac", 44100},
                      FormatCase{"ogg", "-c:a libvorbis -q:a 5", 44100},
                      FormatCase{"opus", "-c:a libopus -b:a 128k", 48000},
                      FormatCase{"m4a", "-c:a aac -b:a 192k", 44100},
                      FormatCase{"aiff", "-c:a pcm_s16be", 44100},
                      FormatCase{"mp4",
                                 "-f lavfi -i testsrc=s=64x48:r=10:d=2 -c:v mpeg4 "
                                 "-c:a aac -b:a 192k -shortest",
                                 44100},
                      FormatCase{"mkv",
                                 "-f lavfi -i testsrc=s=64x48:r=10:d=2 -c:v mpeg4 "
                                 "-c:a flac -shortest",
                                 44100},
                      FormatCase{"webm",
                                 "-f lavfi -i testsrc=s=64x48:r=10:d=2 -c:v libvpx "
                                 "-deadline realtime -c:a libopus -shortest",
                                 48000}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Decoder, HighRateIsResampledTo48k) {
  const Decoded d = decode_made("hi.flac",
                                "-f lavfi -i \"aevalsrc='0.5*sin(2*PI*1000*t)|0.5*sin(2*PI*1000*t)':s=96000:d=2\"");
  EXPECT_EQ(d.info.sample_rate, 96000);
  EXPECT_EQ(d.sample_rate, 48000);
  EXPECT_NEAR(static_cast<double>(d.frames()), 96000.0, 2);
  const auto fit = fit_tone(d.left, 1000, 48000, 4800, d.frames() - 4800);
  EXPECT_NEAR(fit.amplitude, 0.5, 0.005);
  EXPECT_GT(fit.snr_db, 60);
}

TEST(Decoder, MonoBecomesTwoIdenticalFullLevelChannels) {
  const Decoded d = decode_made("mono.wav",
                                "-f lavfi -i \"aevalsrc='0.5*sin(2*PI*440*t)':s=48000:d=1\" -c:a pcm_f32le");
  EXPECT_EQ(d.info.channels, 1);
  ASSERT_EQ(d.frames(), 48000u);
  EXPECT_EQ(d.left, d.right);
  EXPECT_NEAR(fit_tone(d.left, 440, 48000).amplitude, 0.5, 1e-4);
}

TEST(Decoder, SurroundIsDownmixedWithoutLfeAndWithoutClipping) {
  TempDir dir;
  const auto path = dir.file("surround.flac");
  // FL 440, FR 660, FC 1000, LFE 50, BL 440 (in phase with FL), BR 660, all near full scale.
  ffmpeg(
      "-f lavfi -i \"aevalsrc='0.9*sin(2*PI*440*t)|0.9*sin(2*PI*660*t)|0.9*sin(2*PI*1000*t)|"
      "0.9*sin(2*PI*50*t)|0.9*sin(2*PI*440*t)|0.9*sin(2*PI*660*t)':c=5.1:s=48000:d=1\" " +
      path);
  const Decoded d = decode_all(path);
  EXPECT_EQ(d.info.channels, 6);
  EXPECT_EQ(d.info.channel_layout, "5.1");
  ASSERT_EQ(d.frames(), 48000u);
  EXPECT_LE(testing::peak(d.left), 1.0);
  EXPECT_LE(testing::peak(d.right), 1.0);
  const double front = fit_tone(d.left, 440, 48000).amplitude;
  const double centre_l = fit_tone(d.left, 1000, 48000).amplitude;
  const double centre_r = fit_tone(d.right, 1000, 48000).amplitude;
  EXPECT_GT(front, 0.3);
  EXPECT_NEAR(centre_l, centre_r, 1e-3);
  // Front + surround in phase: 1 + 0.707 relative to the centre's 0.707.
  EXPECT_NEAR(centre_l / front, M_SQRT1_2 / (1 + M_SQRT1_2), 0.01);
  EXPECT_LT(fit_tone(d.left, 660, 48000).amplitude, 0.01);  // right stays right
  EXPECT_LT(fit_tone(d.left, 50, 48000).amplitude, 0.01);   // LFE left out
  EXPECT_LT(fit_tone(d.right, 50, 48000).amplitude, 0.01);
}

TEST(Decoder, WorstCaseSurroundDoesNotClip) {
  const Decoded d = decode_made("loud.wav",
                                "-f lavfi -i \"aevalsrc='0.99*sin(2*PI*440*t)':c=5.1:s=48000:d=1\" -c:a pcm_f32le");
  EXPECT_LE(testing::peak(d.left), 1.0);
  EXPECT_GT(testing::peak(d.left), 0.5);
}

TEST(Decoder, VarispeedStretchesLengthAndLowersPitch) {
  TempDir dir;
  const auto wav = ffmpeg_file(dir, "tone.wav",
                               "-f lavfi -i \"aevalsrc='0.5*sin(2*PI*1000*t)|0.5*sin(2*PI*1000*t)':s=44100:d=2\"");
  DecodeOptions opt;
  opt.speed = 0.85;
  const Decoded d = decode_all(wav, opt);
  EXPECT_EQ(d.sample_rate, 44100);
  EXPECT_NEAR(static_cast<double>(d.frames()), 88200 / 0.85, 10);
  const auto slowed = fit_tone(d.left, 850, 44100, 4410, d.frames() - 4410);
  EXPECT_NEAR(slowed.amplitude, 0.5, 0.01);
  EXPECT_GT(slowed.snr_db, 40);
}

// A memory figure of /proc/self/status ("VmRSS", "VmHWM") in MiB.
double own_memory_mib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  return -1;
}

TEST(Decoder, LongFramesAreResampledInSlices) {
  // FLAC frames of 65,535 samples at 8 kHz, played at quarter speed: each frame becomes 1.6
  // million frames at 48 kHz (25 MB with its copy in the FIFO) if resampled whole. A file
  // may choose frames of millions of samples; what the decoder holds must not follow.
  TempDir dir;
  const auto flac = ffmpeg_file(dir, "long-frames.flac",
                                "-f lavfi -i \"aevalsrc='0.5*sin(2*PI*1000*t)':s=8000:d=40\" -c:a flac "
                                "-frame_size 65535 -strict experimental");
  DecodeOptions opt;
  opt.speed = 0.25;
  auto decoder = Decoder::open(flac, opt);
  ASSERT_EQ(decoder->output_sample_rate(), 48000);
  std::vector<float> left(4096), right(4096), tail;
  float* planes[2] = {left.data(), right.data()};
  std::int64_t frames = 0;
  std::ofstream("/proc/self/clear_refs") << "5";  // the peak starts again from here
  const double before = own_memory_mib("VmRSS");
  for (std::size_t n; (n = decoder->read(planes, 4096)) > 0;) {
    if (frames >= 48000 * 100 && tail.size() < 48000) tail.insert(tail.end(), left.begin(), left.begin() + n);
    frames += static_cast<std::int64_t>(n);
  }
  const double grown = own_memory_mib("VmHWM") - before;
  RecordProperty("decode_peak_growth_mib", std::to_string(grown));
  // In slices it grows ~5 MiB (a slice's output at 24 times the input rate, in the scratch,
  // the FIFO and the resampler); one frame resampled whole took 74 MiB.
  if (testing::memory_bounds_apply()) {
    EXPECT_LT(grown, 12) << "the decoder held a whole frame's resampled output";
  }
  EXPECT_NEAR(static_cast<double>(frames), 40.0 / 0.25 * 48000, 48000 * 0.01);
  const auto tone = fit_tone(tail, 250, 48000, 0, tail.size());
  EXPECT_NEAR(tone.amplitude, 0.5, 0.01) << "the slices join without a seam";
  EXPECT_GT(tone.snr_db, 40);
}

TEST(Probe, ReadsTagsCoverAndFacts) {
  TempDir dir;
  const auto cover = ffmpeg_file(dir, "cover.png", "-f lavfi -i color=red:s=32x32 -frames:v 1");
  const auto mp3 = ffmpeg_file(dir, "tagged.mp3", kTwoTones + "-i " + cover +
                               " -map 0:a -map 1:v -c:a libmp3lame -b:a 192k -c:v copy -disposition:v attached_pic "
                               "-id3v2_version 3 -metadata title=Song -metadata artist=\"The Band\" "
                               "-metadata album=Record -metadata album_artist=Various -metadata date=2021 "
                               "-metadata track=3/12 -metadata genre=Pop");
  const AudioInfo info = probe(mp3);
  EXPECT_EQ(info.container, "mp3");
  EXPECT_EQ(info.codec, "mp3");
  EXPECT_EQ(info.sample_rate, 44100);
  EXPECT_EQ(info.channels, 2);
  EXPECT_EQ(info.channel_layout, "stereo");
  EXPECT_NEAR(info.duration_seconds, 2.0, 0.1);
  EXPECT_EQ(info.bit_rate, 192000);
  EXPECT_EQ(info.file_size, static_cast<std::int64_t>(std::filesystem::file_size(mp3)));
  const auto& tags = info.metadata.tags;
  EXPECT_EQ(tags.at("title"), "Song");
  EXPECT_EQ(tags.at("artist"), "The Band");
  EXPECT_EQ(tags.at("album"), "Record");
  EXPECT_EQ(tags.at("album_artist"), "Various");
  EXPECT_EQ(tags.at("date"), "2021");
  EXPECT_EQ(tags.at("track"), "3/12");
  EXPECT_EQ(tags.at("genre"), "Pop");
  EXPECT_EQ(info.metadata.cover.mime, "image/png");
  EXPECT_EQ(info.metadata.cover.data, [&] {
    const auto bytes = testing::read_bytes(cover);
    return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
  }());
}

TEST(Probe, ReadsVorbisCommentsOfOgg) {
  TempDir dir;
  const auto ogg = ffmpeg_file(dir, "tagged.ogg",
                               kTwoTones + "-c:a libvorbis -metadata title=Ogg -metadata artist=Someone");
  const AudioInfo info = probe(ogg);
  EXPECT_EQ(info.codec, "vorbis");
  EXPECT_EQ(info.metadata.tags.at("title"), "Ogg");
  EXPECT_EQ(info.metadata.tags.at("artist"), "Someone");
}

// ---- hostile and broken input ----

TEST(BadInput, MissingFile) {
  const auto msg = input_error([] { probe("/nonexistent/song.mp3"); });
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
}

TEST(BadInput, EmptyFile) {
  TempDir dir;
  testing::write_text(dir.file("empty.mp3"), "");
  const auto msg = input_error([&] { Decoder::open(dir.file("empty.mp3")); });
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

TEST(BadInput, Directory) {
  TempDir dir;
  expect_human_message(input_error([&] { Decoder::open(dir.path()); }));
}

TEST(BadInput, TextRenamedMp3) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "This is a shopping list, not a song. Eggs, milk.\n";
  testing::write_text(dir.file("list.mp3"), text);
  const auto msg = input_error([&] { decode_all(dir.file("list.mp3")); });
  expect_human_message(msg);
  EXPECT_NE(msg.find("not"), std::string::npos) << msg;
}

TEST(BadInput, PictureRenamedMp3) {
  TempDir dir;
  const auto png = ffmpeg_file(dir, "pic.png", "-f lavfi -i color=blue:s=64x64 -frames:v 1");
  std::filesystem::rename(png, dir.file("pic.mp3"));
  const auto msg = input_error([&] { decode_all(dir.file("pic.mp3")); });
  EXPECT_NE(msg.find("picture"), std::string::npos) << msg;
}

TEST(BadInput, VideoWithoutAudio) {
  TempDir dir;
  const auto mp4 = ffmpeg_file(dir, "silent.mp4", "-f lavfi -i testsrc=s=64x48:r=10:d=1 -c:v mpeg4");
  const auto msg = input_error([&] { Decoder::open(mp4); });
  EXPECT_NE(msg.find("no audio"), std::string::npos) << msg;
}

TEST(BadInput, HlsPlaylistIsRefused) {
  TempDir dir;
  const auto wav = ffmpeg_file(dir, "a.wav", kTwoTones);
  testing::write_text(dir.file("list.m3u8"),
                      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n" + wav +
                          "\n#EXT-X-ENDLIST\n");
  const auto msg = input_error([&] { Decoder::open(dir.file("list.m3u8")); });
  expect_human_message(msg);
  EXPECT_NE(msg.find("unsupported"), std::string::npos) << msg;
}

TEST(BadInput, ConcatScriptIsRefused) {
  TempDir dir;
  const auto wav = ffmpeg_file(dir, "a.wav", kTwoTones);
  testing::write_text(dir.file("list.mp3"), "ffconcat version 1.0\nfile '" + wav + "'\n");
  const auto msg = input_error([&] { Decoder::open(dir.file("list.mp3")); });
  expect_human_message(msg);
}

TEST(BadInput, TruncatedMp3) {
  TempDir dir;
  const auto mp3 = ffmpeg_file(dir, "cut.mp3", "-f lavfi -i sine=f=440:d=10 -ac 2 -c:a libmp3lame -b:a 192k");
  testing::truncate_file(mp3, 0.5);
  const auto msg = input_error([&] { decode_all(mp3); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(Decoder, Mp3MissingOnlyItsLastBytesStillDecodes) {
  TempDir dir;
  const auto mp3 = ffmpeg_file(dir, "almost.mp3",
                               "-f lavfi -i sine=f=440:d=10 -ac 2 -c:a libmp3lame -b:a 192k");
  std::filesystem::resize_file(mp3, std::filesystem::file_size(mp3) - 300);
  const Decoded d = decode_all(mp3);
  EXPECT_NEAR(static_cast<double>(d.frames()) / d.sample_rate, 10.0, 0.1);
}

TEST(BadInput, TruncatedFlac) {
  TempDir dir;
  const auto flac = ffmpeg_file(dir, "cut.flac", "-f lavfi -i sine=f=440:d=10 -ac 2 -c:a flac");
  testing::truncate_file(flac, 0.5);
  expect_human_message(input_error([&] { decode_all(flac); }));
}

TEST(BadInput, BrokenHyperrogueOggs) {
  const std::string dir = "/usr/share/hyperrogue/music/";
  for (const char* name :
       {"hr-savino-caribbean.ogg", "hr-savino-ivory.ogg", "hr-savino-ocean.ogg"}) {
    if (!std::filesystem::exists(dir + name)) GTEST_SKIP() << "hyperrogue-music is not installed";
    expect_human_message(input_error([&] { decode_all(dir + name); }));
  }
}

TEST(BadInput, OverSizeLimit) {
  TempDir dir;
  const auto wav = ffmpeg_file(dir, "a.wav", kTwoTones);
  DecodeOptions opt;
  opt.limits.max_bytes = 1000;
  const auto msg = input_error([&] { Decoder::open(wav, opt); });
  EXPECT_NE(msg.find("limit"), std::string::npos) << msg;
}

TEST(BadInput, OverDurationLimitWhileDecoding) {
  TempDir dir;
  const auto wav = ffmpeg_file(dir, "a.wav", kTwoTones);
  DecodeOptions opt;
  opt.limits.max_duration_seconds = 1.5;
  const auto msg = input_error([&] { decode_all(wav, opt); });
  EXPECT_NE(msg.find("longer"), std::string::npos) << msg;
}

// A header that claims ten hours in front of one second of data: the real length counts.
TEST(BadInput, WavHeaderClaimingTenHoursHoldsOneSecond) {
  TempDir dir;
  const int rate = 44100;
  const std::uint32_t claimed = 10u * 3600u * rate * 2u;  // mono 16-bit
  std::vector<char> bytes;
  auto put = [&](const std::string& s) { bytes.insert(bytes.end(), s.begin(), s.end()); };
  auto le = [&](std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put("RIFF");
  le(claimed + 36, 4);
  put("WAVEfmt ");
  le(16, 4);
  le(1, 2);  // PCM
  le(1, 2);  // mono
  le(rate, 4);
  le(rate * 2, 4);  // byte rate
  le(2, 2);         // block align
  le(16, 2);        // bits
  put("data");
  le(claimed, 4);
  for (int i = 0; i < rate; ++i) {
    const auto v =
        static_cast<std::int16_t>(std::lround(16000 * std::sin(2 * M_PI * 440 * i / rate)));
    le(static_cast<std::uint16_t>(v), 2);
  }
  const auto wav = dir.file("liar.wav");
  testing::write_bytes(wav, bytes);

  auto decoder = Decoder::open(wav);
  EXPECT_LE(decoder->estimated_frames(), static_cast<std::int64_t>(30 * 60 * rate));
  const Decoded d = decode_all(wav);
  EXPECT_EQ(d.frames(), static_cast<std::size_t>(rate));
  EXPECT_NEAR(fit_tone(d.left, 440, rate).amplitude, 16000.0 / 32768, 1e-3);
}

// Two hours of silence in 20 KB of FLAC: refused at open, before decoding a minute of it;
// read only to a point inside the limit (an excerpt), it decodes.
TEST(BadInput, FlacDeclaringMoreThanTheLimitIsRefusedAtOpen) {
  TempDir dir;
  const auto flac = ffmpeg_file(dir, "long.flac", "-f lavfi -i anullsrc=r=8000:cl=mono -t 7200 -c:a flac -frame_size 65535");
  DecodeOptions opt;  // the 30 min default
  const auto msg = input_error([&] { Decoder::open(flac, opt); });
  EXPECT_EQ(msg, "the audio is longer than the 30 min limit: the file declares 120 min");

  opt.read_until_seconds = 45 * 60;
  EXPECT_EQ(input_error([&] { Decoder::open(flac, opt); }),
            "the excerpt ends at 45:00, past the 30 min limit");

  opt.read_until_seconds = 20;
  auto decoder = Decoder::open(flac, opt);
  std::vector<float> left(48000), right(48000);
  float* planes[2] = {left.data(), right.data()};
  std::int64_t frames = 0;
  while (frames < 20 * 48000) frames += static_cast<std::int64_t>(decoder->read(planes, left.size()));
  EXPECT_EQ(frames, 20 * 48000);
}

// A VBR MP3 without a Xing header has no length of its own: FFmpeg guesses 41 s from the
// first (silent, so thin) frame's bit rate. A guess is never grounds to refuse: the 10 s decode.
TEST(Decoder, VbrMp3WithoutXingIsNotRefusedOnABitRateGuess) {
  TempDir dir;
  const auto mp3 = ffmpeg_file(dir, "vbr.mp3",
                               "-f lavfi -i anullsrc=r=44100:cl=stereo:d=2 -f lavfi -i anoisesrc=d=8:a=0.5 "
                               "-filter_complex '[0][1]concat=n=2:v=0:a=1' -ac 2 -c:a libmp3lame -q:a 0 -write_xing 0");
  DecodeOptions opt;
  opt.limits.max_duration_seconds = 30;
  auto decoder = Decoder::open(mp3, opt);
  ASSERT_GT(decoder->info().duration_seconds, 30) << "the fixture no longer tempts the check";
  const Decoded d = decode_all(mp3, opt);
  EXPECT_NEAR(static_cast<double>(d.frames()) / d.sample_rate, 10.0, 0.1);
}

TEST(BadInput, NonsenseSpeedIsAUsageError) {
  TempDir dir;
  const auto wav = ffmpeg_file(dir, "a.wav", kTwoTones);
  DecodeOptions opt;
  opt.speed = 0;
  EXPECT_THROW(Decoder::open(wav, opt), base::UsageError);
}

}  // namespace
}  // namespace sy::io
