// A video in, a video out: the real binary renders a clip made here with ffmpeg, and ffprobe
// shows the picture's packets byte for byte as they were, the sound 8D, tags and chapters kept.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/stereo_levels.h"
#include "tests/support/temp_dir.h"

namespace sy::testing {
namespace {

const std::string kBinary = SY_BINARY;

std::string output_of(const std::string& command) {
  const CommandResult r = run({"/bin/sh", "-c", command});
  EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.err;
  return r.out;
}

// A 6-s clip: a test picture, centred pink noise (every frequency, so the ear cues show in
// the levels), a title and two chapters.
std::string make_clip(const TempDir& dir, const std::string& name, const std::string& codecs) {
  const std::string meta = dir.file("chapters.txt");
  std::ofstream(meta) << ";FFMETADATA1\ntitle=Clip\nartist=Tester\n"
                         "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=3000\ntitle=One\n"
                         "[CHAPTER]\nTIMEBASE=1/1000\nSTART=3000\nEND=6000\ntitle=Two\n";
  const std::string out = dir.file(name);
  const std::string cmd =
      "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=25:duration=6 "
      "-f lavfi -i anoisesrc=color=pink:amplitude=0.3:seed=3:sample_rate=48000:duration=6 -i " + quote(meta) +
      " -map 0:v -map 1:a -map_metadata 2 -map_chapters 2 -ac 2 " + codecs + " " + quote(out);
  EXPECT_EQ(shell(cmd), 0) << cmd;
  return out;
}

// One MD5 per packet of the first video stream, in file order.
std::vector<std::string> video_packet_hashes(const std::string& path) {
  std::istringstream lines(output_of("ffprobe -v error -select_streams v:0 -show_packets -show_data_hash md5 "
                                     "-show_entries packet=data_hash -of csv=p=0 " + quote(path)));
  std::vector<std::string> hashes;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) hashes.push_back(line);
  return hashes;
}

nlohmann::json probe(const std::string& path) {
  return nlohmann::json::parse(output_of("ffprobe -v error -show_format -show_streams -show_chapters -of json " + quote(path)));
}

struct Case {
  const char* input;
  const char* input_codecs;
  const char* output;
  const char* audio_codec;  // in the output
};

class VideoRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(VideoRoundTrip, PictureCopiedUntouchedSound8DTagsAndChaptersKept) {
  const Case& c = GetParam();
  TempDir dir;
  const std::string in = make_clip(dir, c.input, c.input_codecs);
  const std::string out = dir.file(c.output);
  // Two turns in the 6 s, so the sound passes both ears.
  const CommandResult r = run({kBinary, "render", in, "-o", out, "--period", "3", "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const auto before = video_packet_hashes(in);
  const auto after = video_packet_hashes(out);
  ASSERT_GT(before.size(), 100u) << "25 frames a second for 6 s";
  EXPECT_EQ(after, before) << "every packet of the picture, byte for byte, in order";

  const nlohmann::json info = probe(out);
  int video = 0, audio = 0;
  for (const auto& st : info["streams"]) {
    if (st["codec_type"] == "video") {
      ++video;
      EXPECT_EQ(st["width"], 160);
    }
    if (st["codec_type"] == "audio") {
      ++audio;
      EXPECT_EQ(st["codec_name"], c.audio_codec);
      EXPECT_EQ(st["channels"], 2);
    }
  }
  EXPECT_EQ(video, 1);
  EXPECT_EQ(audio, 1);
  EXPECT_NEAR(std::stod(info["format"]["duration"].get<std::string>()), 6.0, 0.15);
  ASSERT_EQ(info["chapters"].size(), 2u) << info.dump();
  EXPECT_EQ(info["chapters"][1]["tags"]["title"], "Two");
  const auto tags = info["format"]["tags"];
  const std::string title = tags.contains("title") ? tags["title"].get<std::string>() : tags.value("TITLE", "");
  EXPECT_EQ(title, "Clip (8D)");

  EXPECT_LT(level_difference_spread(decode_stereo(dir, in, 48000), 48000), 1.0) << "the sound is centred";
  EXPECT_GT(level_difference_spread(decode_stereo(dir, out, 48000), 48000), 6.0) << "and circles the head after";
}

INSTANTIATE_TEST_SUITE_P(
    Containers, VideoRoundTrip,
    ::testing::Values(Case{"in.mp4", "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac", "out.mp4", "aac"},
                      Case{"in.mov", "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac", "out.mov", "aac"},
                      Case{"in.mp4", "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac", "out.mkv", "opus"},
                      Case{"in.webm", "-c:v libvpx -deadline realtime -b:v 200k -c:a libopus", "out.webm", "opus"}),
    [](const auto& test) { return std::string(test.param.output).substr(4) + "_from_" + std::string(test.param.input).substr(3); });

// With --out-dir and no --format a video stays a video in its own container, a song stays
// MP3; --format keep keeps every input's container.
TEST(Video, AVideoKeepsItsContainerByDefaultAndWithFormatKeep) {
  TempDir dir;
  const std::string clip = make_clip(dir, "clip.mkv", "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a libopus");
  ASSERT_EQ(shell("ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=3 -ac 2 -c:a aac " + quote(dir.file("song.m4a"))), 0);
  const std::string out = dir.file("out");
  CommandResult r = run({kBinary, "render", clip, dir.file("song.m4a"), "--out-dir", out, "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(video_packet_hashes(out + "/clip (8D).mkv"), video_packet_hashes(clip));
  EXPECT_TRUE(std::filesystem::exists(out + "/song (8D).mp3")) << "a song is still MP3 by default";

  const std::string kept = dir.file("kept");
  r = run({kBinary, "render", clip, dir.file("song.m4a"), "--out-dir", kept, "--format", "keep", "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(video_packet_hashes(kept + "/clip (8D).mkv"), video_packet_hashes(clip));
  EXPECT_TRUE(std::filesystem::exists(kept + "/song (8D).m4a"));

  r = run({kBinary, "render", clip, "-o", dir.file("x.mkv"), "--format", "keep", "--progress", "none"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(Video, APictureTheContainerCannotHoldIsRefusedAndNothingIsLeft) {
  TempDir dir;
  // WebM takes VP8, VP9 and AV1 pictures only.
  const std::string in = make_clip(dir, "in.mp4", "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac");
  const auto before = dir.entries();
  const CommandResult r = run({kBinary, "render", in, "-o", dir.file("out.webm"), "--progress", "none"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("h264"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("choose mkv or mp4 or mov"), std::string::npos) << "names formats that take it: " << r.err;
  EXPECT_EQ(dir.entries(), before) << "no partial output, no audio part left";
}

// An MKV's PNG picture cannot be copied into MKV again (FFmpeg's Matroska muxer refuses it):
// the way out named is the formats that take it, not the one the user already chose.
TEST(Video, ARefusedPictureNamesTheFormatsThatTakeIt) {
  TempDir dir;
  const std::string in = make_clip(dir, "in.mkv", "-c:v png -c:a flac");
  const CommandResult r = run({kBinary, "render", in, "-o", dir.file("out.mkv"), "--progress", "none"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("png picture cannot go into mkv"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("choose mp4 or mov"), std::string::npos) << r.err;
  const CommandResult mp4 = run({kBinary, "render", in, "-o", dir.file("out.mp4"), "--progress", "none"});
  EXPECT_EQ(mp4.exit_code, 0) << "the format the sentence names takes it: " << mp4.err;
}

}  // namespace
}  // namespace sy::testing
