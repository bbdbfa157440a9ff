// Excerpts of real decoded files: where they start, how long they are, where the loudest part is.
#include "pipeline/excerpt.h"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

#include "io/test_fixtures.h"
#include "tests/support/temp_dir.h"

namespace sy::pipeline {
namespace {

using testing::TempDir;

TEST(ExcerptTest, TimesReadAsSecondsOrMinutesAndSeconds) {
  EXPECT_DOUBLE_EQ(parse_time("90", "--start"), 90);
  EXPECT_DOUBLE_EQ(parse_time("12.5", "--start"), 12.5);
  EXPECT_DOUBLE_EQ(parse_time("1:30", "--start"), 90);
  EXPECT_DOUBLE_EQ(parse_time("0:05.25", "--start"), 5.25);
  EXPECT_DOUBLE_EQ(parse_time("1:02:03", "--start"), 3723);
  for (const char* bad : {"", "-3", "1:60", "a", "1:", ":30", "1:2:3:4", "1e3", "1:30s", "nan", "1.5:00"}) {
    try {
      parse_time(bad, "--end");
      ADD_FAILURE() << "'" << bad << "' was taken as a time";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--end must be seconds or m:ss"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(time_text(90), "1:30");
  EXPECT_EQ(time_text(5.25), "0:05.3");
  EXPECT_EQ(time_text(3723), "1:02:03");
}

TEST(ExcerptTest, ReaderGivesExactlyTheAskedFramesFadedAtTheCuts) {
  TempDir dir;
  // A 1 kHz tone at 0.5 for 6 s at 48 kHz (FLAC: exact in length and content).
  testing::ffmpeg("-f lavfi -i \"sine=frequency=1000:sample_rate=48000:duration=6\" -af volume=0.70710678 -ac 2 " +
                  dir.file("tone.flac"));
  const testing::Decoded whole = testing::decode_all(dir.file("tone.flac"));
  auto decoder = io::Decoder::open(dir.file("tone.flac"));
  const std::int64_t start = 48000 + 17, length = 2 * 48000;
  const std::size_t fade = 960;
  ExcerptReader reader(*decoder, start, length, fade, 1000);
  std::vector<float> left, right;
  std::vector<float> l(777), r(777);
  float* planes[2] = {l.data(), r.data()};
  while (std::size_t n = reader.read(planes, l.size())) {
    left.insert(left.end(), l.begin(), l.begin() + static_cast<std::ptrdiff_t>(n));
    right.insert(right.end(), r.begin(), r.begin() + static_cast<std::ptrdiff_t>(n));
  }
  ASSERT_EQ(static_cast<std::int64_t>(left.size()), length);
  // Untouched between the fades: the very samples of the song at start + i.
  for (std::size_t i = fade; i < left.size() - fade; i += 101)
    ASSERT_FLOAT_EQ(left[i], whole.left[static_cast<std::size_t>(start) + i]) << i;
  // The cuts start and end at silence.
  EXPECT_EQ(left.front(), 0.0f);
  EXPECT_LT(std::fabs(left.back()), 0.01f);
  EXPECT_LT(std::fabs(left[fade / 4]), 0.5f * std::fabs(whole.left[static_cast<std::size_t>(start) + fade / 4]) + 1e-6f);
}

TEST(ExcerptTest, ReaderPastTheEndGivesNothingAndToTheEndGivesTheRest) {
  TempDir dir;
  testing::ffmpeg("-f lavfi -i \"sine=frequency=500:sample_rate=44100:duration=2\" -ac 2 " + dir.file("tone.flac"));
  float l[512], r[512];
  float* planes[2] = {l, r};
  {
    auto decoder = io::Decoder::open(dir.file("tone.flac"));
    ExcerptReader past(*decoder, 3 * 44100, 44100, 100, 1024);
    EXPECT_EQ(past.read(planes, 512), 0u);
  }
  auto decoder = io::Decoder::open(dir.file("tone.flac"));
  ExcerptReader rest(*decoder, 44100, -1, 100, 1024);
  std::size_t total = 0;
  while (std::size_t n = rest.read(planes, 512)) total += n;
  EXPECT_EQ(total, 44100u);
}

TEST(ExcerptTest, LoudestPartIsFoundWhereTheSongIsLoudest) {
  TempDir dir;
  // Quiet noise for 40 s with a part 20 dB louder from 23 s to 33 s.
  testing::ffmpeg("-f lavfi -i \"anoisesrc=color=pink:sample_rate=44100:duration=40:amplitude=0.5:seed=7\" "
                  "-af \"volume=volume='if(between(t,23,33),1,0.1)':eval=frame\" -ac 2 " + dir.file("song.flac"));
  EXPECT_NEAR(find_loudest_start(dir.file("song.flac"), 10, io::InputLimits{}), 23.0, 0.25);
  // A 5 s excerpt lies inside the loud part.
  const double five = find_loudest_start(dir.file("song.flac"), 5, io::InputLimits{});
  EXPECT_GE(five, 22.8);
  EXPECT_LE(five, 28.2);
  // Longer than the song: from the start.
  EXPECT_EQ(find_loudest_start(dir.file("song.flac"), 60, io::InputLimits{}), 0.0);
}

}  // namespace
}  // namespace sy::pipeline
