// The render pipeline end to end on files: real music and generated signals through the
// real decoder, engine, loudness stage, limiter and encoder.
#include "pipeline/render.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "engine/crossover.h"
#include "engine/loudness.h"
#include "engine/testing/analysis.h"
#include "io/decoder.h"
#include "io/encoder.h"
#include "pipeline/file_report.h"
#include "base/errors.h"
#include "tests/support/decode_all.h"
#include "tests/support/temp_dir.h"

namespace sy::pipeline {
namespace {

namespace fs = std::filesystem;
const char* kMusic = "/usr/share/hyperrogue/music/hr3-caves.ogg";

using testing::TempDir;

using testing::decode_all;

void write_wav(const std::string& path, const std::vector<float>& left, const std::vector<float>& right, int rate) {
  io::EncodeOptions o;
  o.format = io::OutputFormat::kFlac;  // lossless and exact in length
  o.sample_rate = rate;
  auto e = io::Encoder::open(path, o, io::Metadata{});
  const float* planes[2] = {left.data(), right.data()};
  e->write(planes, left.size());
  e->finish();
}

RenderOptions wav_options() {
  RenderOptions o;
  o.encode.format = io::OutputFormat::kWav;
  return o;
}

void expect_loudness_and_peak(const std::string& path, const char* what) {
  int rate = 0;
  testing::Stereo s = decode_all(path, &rate);
  engine::LoudnessMeter meter(rate, true);
  meter.add(engine::ConstAudioView({s.left.data(), s.right.data()}, s.left.size()));
  EXPECT_NEAR(meter.integrated_lufs(), -14.0, 0.5) << what;
  EXPECT_LE(meter.true_peak_dbtp(), -1.0) << what;
}

TEST(RenderTest, RealMusicReachesTargetLoudnessUnderTheCeiling) {
  if (!fs::exists(kMusic)) GTEST_SKIP() << "hyperrogue-music not installed";
  TempDir dir;
  RenderResult r = render_file(kMusic, dir.file("out.wav"), wav_options());
  EXPECT_GT(r.duration_seconds, 50);
  expect_loudness_and_peak(dir.file("out.wav"), "real music");
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(RenderTest, LossyOutputsLandOnTargetAsDecoded) {
  // Before the check, this song's MP3 came out at -14.5 LUFS and its Opus peaked at -0.7 dBTP.
  const char* song = "/usr/share/hyperrogue/music/hr-domina-hunting.ogg";
  if (!fs::exists(song)) GTEST_SKIP() << "hyperrogue-music not installed";
  TempDir dir;
  for (io::OutputFormat f : {io::OutputFormat::kMp3, io::OutputFormat::kM4a, io::OutputFormat::kOpus}) {
    RenderOptions o;
    o.encode.format = f;
    o.excerpt = {30, 20, false};
    const std::string out = dir.file("out" + io::format_extension(f));
    const RenderResult r = render_file(song, out, o);
    int rate = 0;
    testing::Stereo s = decode_all(out, &rate);
    engine::LoudnessMeter meter(rate, true);
    meter.add(engine::ConstAudioView({s.left.data(), s.right.data()}, s.left.size()));
    const std::string name = io::format_name(f);
    EXPECT_NEAR(meter.integrated_lufs(), -14.0, 0.3) << name;
    EXPECT_LE(meter.true_peak_dbtp(), -1.0) << name;
    // The report is what was measured on this very file.
    EXPECT_NEAR(r.report.integrated_lufs, meter.integrated_lufs(), 0.01) << name;
    EXPECT_NEAR(r.report.true_peak_dbtp, meter.true_peak_dbtp(), 0.01) << name;
    EXPECT_GT(r.report.rotation_depth_db, 6.0) << name;
    RecordProperty(name + "_lufs", std::to_string(meter.integrated_lufs()));
    RecordProperty(name + "_true_peak", std::to_string(meter.true_peak_dbtp()));
    RecordProperty(name + "_encodes", std::to_string(r.encodes));
  }
}

TEST(RenderTest, ReportIsTheDeliveredFileMeasured) {
  // The report is measured on the encoder's packets decoded while the file is written, not
  // on the file read back afterwards: it must say what reading the file back says.
  if (!fs::exists(kMusic)) GTEST_SKIP() << "hyperrogue-music not installed";
  TempDir dir;
  for (io::OutputFormat f : {io::OutputFormat::kMp3, io::OutputFormat::kOpus, io::OutputFormat::kFlac,
                             io::OutputFormat::kWav, io::OutputFormat::kM4a}) {
    RenderOptions o;
    o.encode.format = f;
    o.excerpt = {20, 8, false};
    const std::string out = dir.file("report" + io::format_extension(f));
    const RenderResult r = render_file(kMusic, out, o);
    const FileReport file = measure_file(out);
    // FFmpeg 5.1 reads up to one AAC frame of padding past an M4A's declared end.
    const double tolerance = f == io::OutputFormat::kM4a ? 0.01 : 1e-9;
    const std::string name = io::format_name(f);
    EXPECT_NEAR(r.report.integrated_lufs, file.integrated_lufs, tolerance) << name;
    EXPECT_NEAR(r.report.true_peak_dbtp, file.true_peak_dbtp, tolerance) << name;
    EXPECT_NEAR(r.report.loudness_range_lu, file.loudness_range_lu, tolerance) << name;
    EXPECT_NEAR(r.report.correlation, file.correlation, tolerance) << name;
    EXPECT_NEAR(r.report.rotation_depth_db, file.rotation_depth_db, f == io::OutputFormat::kM4a ? 0.1 : 1e-9) << name;
  }
}

TEST(RenderTest, LoudAacNeverShipsOverTheCeiling) {
  // FFmpeg's AAC lifts decoded peaks unevenly from one encode to the next. Before, the last
  // attempt was shipped, over the -1 dBTP ceiling: -0.87 dBTP for 20 s of hr-domina-hunting
  // at -8 LUFS, +0.54 dBTP for 15 s of hr-savino-palace at -6 LUFS and 64k. The best attempt
  // is kept, and when none is under the ceiling one is made quieter until it is.
  struct Case {
    const char* song;
    double lufs;
    int bitrate;
    double seconds;
  };
  for (const Case& c : {Case{"/usr/share/hyperrogue/music/hr-domina-hunting.ogg", -8, 0, 20},
                        Case{"/usr/share/hyperrogue/music/hr-savino-palace.ogg", -6, 64000, 15}}) {
    if (!fs::exists(c.song)) GTEST_SKIP() << "hyperrogue-music not installed";
    TempDir dir;
    RenderOptions o;
    o.encode.format = io::OutputFormat::kM4a;
    if (c.bitrate) o.encode.bitrate = c.bitrate;
    o.engine.loudness_lufs = c.lufs;
    o.excerpt = {0, c.seconds, true};
    const std::string out = dir.file("loud.m4a");
    const RenderResult r = render_file(c.song, out, o);
    int rate = 0;
    testing::Stereo s = decode_all(out, &rate);
    engine::LoudnessMeter meter(rate, true);
    meter.add(engine::ConstAudioView({s.left.data(), s.right.data()}, s.left.size()));
    const std::string name = fs::path(c.song).stem().string();
    EXPECT_LE(meter.true_peak_dbtp(), -1.0) << name;
    EXPECT_NEAR(r.report.true_peak_dbtp, meter.true_peak_dbtp(), 0.01) << name << ": the report is of the delivered file";
    EXPECT_NEAR(r.report.integrated_lufs, meter.integrated_lufs(), 0.01) << name;
    EXPECT_GT(r.encodes, 1) << name << ": the first encode was over the ceiling";
    EXPECT_EQ(dir.entries().size(), 1u) << name << ": no attempt is left beside the output";
    RecordProperty(name + "_lufs", std::to_string(meter.integrated_lufs()));
    RecordProperty(name + "_true_peak", std::to_string(meter.true_peak_dbtp()));
    RecordProperty(name + "_encodes", std::to_string(r.encodes));
  }
}

TEST(RenderTest, PreviewComesFromTheLoudestPartAndLastsAsAsked) {
  TempDir dir;
  ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i \"anoisesrc=color=pink:sample_rate=44100:duration=40:"
                         "amplitude=0.5:seed=3\" -af \"volume=volume='if(between(t,23,33),1,0.1)':eval=frame\" -ac 2 " +
                         dir.file("song.flac")).c_str()),
            0);
  RenderOptions o = wav_options();
  o.excerpt = {0, 8, true};
  const RenderResult r = render_file(dir.file("song.flac"), dir.file("preview.wav"), o);
  EXPECT_GE(r.excerpt_start_seconds, 22.8);
  EXPECT_LE(r.excerpt_start_seconds, 25.2);
  EXPECT_NEAR(static_cast<double>(decode_all(dir.file("preview.wav")).left.size()) / 44100, 8.0, 0.1);
  EXPECT_NEAR(r.duration_seconds, 8.0, 0.1);

  // A trim past the end of the song is refused, and leaves nothing.
  o.excerpt = {50, 5, false};
  EXPECT_THROW(render_file(dir.file("song.flac"), dir.file("late.wav"), o), base::InputError);
  EXPECT_FALSE(fs::exists(dir.file("late.wav")));
}

TEST(RenderTest, FullScaleSquareWaveReachesTargetLoudnessUnderTheCeiling) {
  TempDir dir;
  const int rate = 48000;
  std::vector<float> sq(static_cast<std::size_t>(rate) * 8);
  for (std::size_t i = 0; i < sq.size(); ++i) sq[i] = (i / 60) % 2 ? 1.0f : -1.0f;  // 400 Hz, full scale
  write_wav(dir.file("square.flac"), sq, sq, rate);
  render_file(dir.file("square.flac"), dir.file("out.wav"), wav_options());
  expect_loudness_and_peak(dir.file("out.wav"), "square wave");
}

TEST(RenderTest, BassStaysCentredOnRealMusic) {
  if (!fs::exists(kMusic)) GTEST_SKIP() << "hyperrogue-music not installed";
  TempDir dir;
  RenderOptions o = wav_options();
  render_file(kMusic, dir.file("out.wav"), o);
  int rate = 0;
  testing::Stereo s = decode_all(dir.file("out.wav"), &rate);
  // Below the crossover (150 Hz in classic): keep what is under 100 Hz and compare the ears.
  engine::LinkwitzRiley4 lp_l, lp_r;
  lp_l.prepare(rate, 100.0);
  lp_r.prepare(rate, 100.0);
  std::vector<float> low_l(s.left.size()), low_r(s.left.size()), high(s.left.size());
  lp_l.process(s.left, low_l, high);
  lp_r.process(s.right, low_r, high);
  const double corr = testing::correlation(low_l, low_r);
  EXPECT_GE(corr, 0.95);
  RecordProperty("bass_correlation", std::to_string(corr));
}

TEST(RenderTest, ClickStaysInPlaceWithTheRoomOff) {
  TempDir dir;
  const int rate = 48000;
  std::vector<float> x(static_cast<std::size_t>(rate) * 2, 0.0f);
  const std::size_t t = 48000 + 123;
  x[t] = 0.9f;
  write_wav(dir.file("click.flac"), x, x, rate);
  RenderOptions o = wav_options();
  o.engine.reverb = 0;
  o.normalize = false;
  o.encode.format = io::OutputFormat::kFlac;
  render_file(dir.file("click.flac"), dir.file("out.flac"), o);
  int out_rate = 0;
  testing::Stereo s = decode_all(dir.file("out.flac"), &out_rate);
  ASSERT_EQ(s.left.size(), x.size());
  std::size_t peak_at = 0;
  float peak = 0;
  for (std::size_t i = 0; i < s.left.size(); ++i) {
    const float v = std::max(std::fabs(s.left[i]), std::fabs(s.right[i]));
    if (v > peak) {
      peak = v;
      peak_at = i;
    }
  }
  // The HRTF's own onset delay is a couple of milliseconds at most; nothing may come early.
  EXPECT_GE(peak_at + 48, t) << "the click came out early";
  EXPECT_LE(peak_at, t + static_cast<std::size_t>(0.003 * rate)) << "the click came out late";
}

TEST(RenderTest, MonoNinetySixKilohertzAndSurroundInputsRender) {
  TempDir dir;
  const std::string gen = "ffmpeg -v error -y -f lavfi -i \"sine=frequency=300:duration=2:sample_rate=";
  ASSERT_EQ(std::system((gen + "44100\" -ac 1 " + dir.file("mono.wav")).c_str()), 0);
  ASSERT_EQ(std::system((gen + "96000\" -ac 2 " + dir.file("hires.flac")).c_str()), 0);
  ASSERT_EQ(std::system((gen + "48000\" -af \"pan=5.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=c0|BR=c0\" " +
                         dir.file("surround.flac")).c_str()),
            0);
  for (const char* name : {"mono.wav", "hires.flac", "surround.flac"}) {
    const std::string out = dir.file(std::string("out-") + name + ".flac");
    RenderOptions o = wav_options();
    o.encode.format = io::OutputFormat::kFlac;
    RenderResult r = render_file(dir.file(name), out, o);
    int rate = 0;
    testing::Stereo s = decode_all(out, &rate);
    EXPECT_EQ(rate, std::string(name) == "mono.wav" ? 44100 : 48000) << name;
    EXPECT_NEAR(static_cast<double>(s.left.size()) / rate, 2.0, 0.001) << name;
    EXPECT_EQ(static_cast<std::int64_t>(s.left.size()), r.frames) << name;
  }
}

TEST(RenderTest, SlowedPresetStretchesTheSong) {
  TempDir dir;
  const int rate = 48000;
  std::vector<float> x(static_cast<std::size_t>(rate) * 3);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * static_cast<float>(std::sin(2 * M_PI * 1000.0 * i / rate));
  write_wav(dir.file("tone.flac"), x, x, rate);
  RenderOptions o = wav_options();
  o.engine.speed = 0.85;
  RenderResult r = render_file(dir.file("tone.flac"), dir.file("out.wav"), o);
  EXPECT_NEAR(r.duration_seconds, 3.0 / 0.85, 0.01);
}

TEST(RenderTest, CoverArtAndTagsSurviveIntoEveryTaggedFormat) {
  TempDir dir;
  ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i color=c=red:s=64x64 -frames:v 1 " + dir.file("cover.png"))
                            .c_str()),
            0);
  ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i \"sine=frequency=500:duration=2\" -i " + dir.file("cover.png") +
                         " -map 0 -map 1 -c:a libmp3lame -c:v png -disposition:v attached_pic -metadata title=Tune "
                         "-metadata artist=Someone -metadata album=Disc " +
                         dir.file("in.mp3"))
                            .c_str()),
            0);
  for (io::OutputFormat f : {io::OutputFormat::kMp3, io::OutputFormat::kM4a, io::OutputFormat::kFlac}) {
    RenderOptions o;
    o.encode.format = f;
    const std::string out = dir.file("out" + io::format_extension(f));
    render_file(dir.file("in.mp3"), out, o);
    io::AudioInfo info = io::probe(out);
    EXPECT_EQ(info.metadata.tags["title"], "Tune (8D)") << io::format_name(f);
    EXPECT_EQ(info.metadata.tags["artist"], "Someone") << io::format_name(f);
    EXPECT_EQ(info.metadata.tags["album"], "Disc") << io::format_name(f);
    EXPECT_FALSE(info.metadata.cover.empty()) << io::format_name(f) << " lost the cover art";
  }
}

TEST(RenderTest, CancelLeavesNothing) {
  if (!fs::exists(kMusic)) GTEST_SKIP() << "hyperrogue-music not installed";
  TempDir dir;
  std::atomic<bool> cancel{false};
  int calls = 0;
  EXPECT_THROW(render_file(kMusic, dir.file("out.mp3"), RenderOptions{},
                           [&](const Progress& p) {
                             if (p.fraction > 0.1 && ++calls > 0) cancel = true;
                           },
                           &cancel),
               base::Cancelled);
  EXPECT_EQ(dir.entries().size(), 0u);
}

TEST(RenderTest, ProgressOnlyMovesForwardThroughEveryPass) {
  // A full-scale square wave needs the limiter check, so all three passes report.
  TempDir dir;
  const int rate = 44100;
  std::vector<float> sq(static_cast<std::size_t>(rate * 6));
  for (std::size_t i = 0; i < sq.size(); ++i) sq[i] = (i / 50) % 2 == 0 ? 1.0f : -1.0f;
  write_wav(dir.file("square.flac"), sq, sq, rate);
  std::vector<double> fractions;
  std::vector<Stage> stages;
  render_file(dir.file("square.flac"), dir.file("out.wav"), wav_options(), [&](const Progress& p) {
    fractions.push_back(p.fraction);
    stages.push_back(p.stage);
  });
  ASSERT_GE(fractions.size(), 4u);
  for (std::size_t i = 1; i < fractions.size(); ++i)
    EXPECT_GE(fractions[i], fractions[i - 1]) << "progress went back at report " << i;
  EXPECT_EQ(stages.back(), Stage::kDone);
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
}

TEST(RenderTest, TruncatedInputIsAnInputErrorAndLeavesNothing) {
  TempDir dir;
  // A FLAC whose header declares 10 s, cut in the middle of its data: the decoder (on its
  // own thread) finds out at the end of the analysis pass.
  const int rate = 44100;
  std::vector<float> tone(static_cast<std::size_t>(rate * 10));
  for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = 0.5f * static_cast<float>(std::sin(0.05 * static_cast<double>(i)));
  write_wav(dir.file("full.flac"), tone, tone, rate);
  std::ifstream in(dir.file("full.flac"), std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(bytes.size() / 2);
  std::ofstream(dir.file("cut.flac"), std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  fs::remove(dir.file("full.flac"));
  try {
    render_file(dir.file("cut.flac"), dir.file("out.mp3"), RenderOptions{});
    ADD_FAILURE() << "a truncated file rendered";
  } catch (const base::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dir.entries().size(), 1u) << "only the input may remain";
}

TEST(RenderTest, CancelDuringEncodingLeavesNothing) {
  if (!fs::exists(kMusic)) GTEST_SKIP() << "hyperrogue-music not installed";
  TempDir dir;
  std::atomic<bool> cancel{false};
  EXPECT_THROW(render_file(kMusic, dir.file("out.mp3"), RenderOptions{},
                           [&](const Progress& p) {
                             if (p.stage == Stage::kRendering && p.fraction > 0.5) cancel = true;
                           },
                           &cancel),
               base::Cancelled);
  EXPECT_EQ(dir.entries().size(), 0u);
}

}  // namespace
}  // namespace sy::pipeline
