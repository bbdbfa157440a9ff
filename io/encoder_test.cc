#include "io/encoder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <numbers>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/decoder.h"
#include "base/errors.h"
#include "io/test_fixtures.h"

namespace sy::io {
namespace {

using testing::decode_all;
using testing::Decoded;
using testing::TempDir;

constexpr double kSeconds = 3.0;

// Left: a chirp from 200 Hz to 5 kHz (its cross-correlation has one sharp peak, so any
// misalignment shows); right: a steady 660 Hz tone.
double left_at(double t) {
  constexpr double f0 = 200, f1 = 5000;
  const double k = (f1 - f0) / kSeconds;
  return 0.5 * std::sin(2 * std::numbers::pi * (f0 * t + 0.5 * k * t * t));
}
double right_at(double t) { return 0.25 * std::sin(2 * std::numbers::pi * 660 * t); }

std::vector<float> render(double (*fn)(double), int rate, std::size_t frames) {
  std::vector<float> out(frames);
  for (std::size_t i = 0; i < frames; ++i) {
    out[i] = static_cast<float>(fn(static_cast<double>(i) / rate));
  }
  return out;
}

// Writes the test signal in uneven chunks, as the pipeline's blocks might arrive.
std::size_t write_signal(const std::string& path, const EncodeOptions& options,
                         const Metadata& metadata = {}, DecodedAudioFn listen = {}) {
  const auto frames = static_cast<std::size_t>(kSeconds * options.sample_rate);
  const auto left = render(left_at, options.sample_rate, frames);
  const auto right = render(right_at, options.sample_rate, frames);
  auto encoder = Encoder::open(path, options, metadata, std::move(listen));
  const std::size_t chunks[] = {1000, 333, 4097, 1, 1024, 5000};
  std::size_t done = 0;
  for (int i = 0; done < frames; ++i) {
    const std::size_t n = std::min(chunks[i % 6], frames - done);
    const float* src[2] = {left.data() + done, right.data() + done};
    encoder->write(src, n);
    done += n;
  }
  encoder->finish();
  return frames;
}

// Lag (in frames) at which `decoded` best matches `reference`, searched in +-max_lag
// around a window in the middle.
long best_lag(const std::vector<float>& reference, const std::vector<float>& decoded,
              long max_lag) {
  const long begin = static_cast<long>(reference.size()) / 3;
  const long len = 8192;
  long best = 0;
  double best_score = -1e300;
  for (long lag = -max_lag; lag <= max_lag; ++lag) {
    double score = 0;
    for (long i = begin; i < begin + len; ++i) {
      const long j = i + lag;
      if (j >= 0 && j < static_cast<long>(decoded.size())) {
        score += static_cast<double>(reference[static_cast<std::size_t>(i)]) *
                 static_cast<double>(decoded[static_cast<std::size_t>(j)]);
      }
    }
    if (score > best_score) {
      best_score = score;
      best = lag;
    }
  }
  return best;
}

// Signal-to-error ratio of `decoded` against `reference`, in dB, away from the edges.
double snr_db(const std::vector<float>& reference, const std::vector<float>& decoded) {
  const std::size_t n = std::min(reference.size(), decoded.size());
  const std::size_t edge = n / 20;
  double sig = 0, err = 0;
  for (std::size_t i = edge; i < n - edge; ++i) {
    const double r = reference[i], d = decoded[i];
    sig += r * r;
    err += (r - d) * (r - d);
  }
  return 10 * std::log10(sig / std::max(err, 1e-30));
}

struct RoundTrip {
  OutputFormat format;
  int rate;
  double min_snr_db;          // of the chirp channel after decoding
  long allowed_length_error;  // extra frames allowed at the end
};

class EncodesFormat : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(EncodesFormat, RoundTripKeepsLengthAlignmentAndContent) {
  const RoundTrip& c = GetParam();
  TempDir dir;
  // A temporary name with a foreign extension: the format comes from the options.
  const auto path = dir.file("song" + format_extension(c.format) + ".part-1234");
  EncodeOptions options;
  options.format = c.format;
  options.sample_rate = c.rate;
  const std::size_t written = write_signal(path, options);
  ASSERT_TRUE(std::filesystem::exists(path));

  const Decoded d = decode_all(path);
  // Opus always runs at 48 kHz; everything else keeps the rate it was given.
  const int out_rate = c.format == OutputFormat::kOpus ? 48000 : c.rate;
  EXPECT_EQ(d.sample_rate, out_rate);
  const auto expected_frames =
      static_cast<long>(std::lround(static_cast<double>(written) * out_rate / c.rate));
  EXPECT_GE(static_cast<long>(d.frames()), expected_frames);
  EXPECT_LE(static_cast<long>(d.frames()), expected_frames + c.allowed_length_error);

  const auto ref_left = render(left_at, out_rate, d.frames());
  const auto ref_right = render(right_at, out_rate, d.frames());
  EXPECT_EQ(best_lag(ref_left, d.left, 3000), 0) << "decoded audio is shifted";
  EXPECT_GT(snr_db(ref_left, d.left), c.min_snr_db);
  EXPECT_GT(snr_db(ref_right, d.right), c.min_snr_db);
}

// What the encoder's listener hears while the file is written is what a reader of the
// finished file decodes, sample for sample: the render's report of the delivered file
// rests on it.
TEST_P(EncodesFormat, ListenerHearsWhatTheFileDecodesTo) {
  const RoundTrip& c = GetParam();
  TempDir dir;
  const auto path = dir.file("song" + format_extension(c.format));
  EncodeOptions options;
  options.format = c.format;
  options.sample_rate = c.rate;
  Decoded heard;
  write_signal(path, options, {}, [&](int rate, const float* const* planes, std::size_t frames) {
    heard.sample_rate = rate;
    heard.left.insert(heard.left.end(), planes[0], planes[0] + frames);
    heard.right.insert(heard.right.end(), planes[1], planes[1] + frames);
  });
  Decoded file = decode_all(path);
  EXPECT_EQ(heard.sample_rate, file.sample_rate);
  // FFmpeg 5.1's mov demuxer leaves up to one AAC frame of padding at the end that the
  // edit list drops (see above); the listener hears the length the container declares.
  ASSERT_GE(file.frames(), heard.frames());
  ASSERT_LE(file.frames(), heard.frames() + static_cast<std::size_t>(c.format == OutputFormat::kM4a ? 1024 : 0));
  file.left.resize(heard.frames());
  file.right.resize(heard.frames());
  EXPECT_EQ(heard.left, file.left);
  EXPECT_EQ(heard.right, file.right);
}

INSTANTIATE_TEST_SUITE_P(
    AllFormats, EncodesFormat,
    ::testing::Values(
        RoundTrip{OutputFormat::kWav, 44100, 80, 0}, RoundTrip{OutputFormat::kFlac, 48000, 120, 0},
        RoundTrip{OutputFormat::kMp3, 44100, 20, 0}, RoundTrip{OutputFormat::kMp3, 48000, 20, 0},
        // The edit list holds the exact length, but FFmpeg 5.1's mov demuxer
        // only trims the start: up to one AAC frame of padding remains.
        RoundTrip{OutputFormat::kM4a, 44100, 20, 1024},
        RoundTrip{OutputFormat::kOpus, 48000, 15, 0}, RoundTrip{OutputFormat::kOpus, 44100, 15, 2}),
    [](const auto& param_info) {
      return format_name(param_info.param.format) + std::to_string(param_info.param.rate);
    });

TEST(Encoder, WavIsSampleExact16Bit) {
  TempDir dir;
  EncodeOptions options;
  options.format = OutputFormat::kWav;
  options.sample_rate = 44100;
  const auto path = dir.file("exact.wav");
  const std::size_t frames = write_signal(path, options);
  const AudioInfo info = probe(path);
  EXPECT_EQ(info.codec, "pcm_s16le");
  const Decoded d = decode_all(path);
  ASSERT_EQ(d.frames(), frames);
  const auto ref = render(left_at, 44100, frames);
  double worst = 0;
  for (std::size_t i = 0; i < frames; ++i) {
    worst =
        std::max(worst, std::fabs(static_cast<double>(d.left[i]) - static_cast<double>(ref[i])));
  }
  EXPECT_LE(worst, 1.0 / 32768);  // rounding to 16 bits, nothing more
}

TEST(Encoder, FlacKeeps24Bits) {
  TempDir dir;
  EncodeOptions options;
  options.format = OutputFormat::kFlac;
  const auto path = dir.file("exact.flac");
  const std::size_t frames = write_signal(path, options);
  const Decoded d = decode_all(path);
  ASSERT_EQ(d.frames(), frames);
  const auto ref = render(right_at, options.sample_rate, frames);
  double worst = 0;
  for (std::size_t i = 0; i < frames; ++i) {
    worst =
        std::max(worst, std::fabs(static_cast<double>(d.right[i]) - static_cast<double>(ref[i])));
  }
  EXPECT_LE(worst, 1.0 / (1 << 23));
}

TEST(Encoder, Mp3BitrateAndVbr) {
  TempDir dir;
  EncodeOptions cbr;
  cbr.sample_rate = 44100;
  write_signal(dir.file("cbr.mp3"), cbr);
  EXPECT_EQ(probe(dir.file("cbr.mp3")).bit_rate, 192000);

  EncodeOptions vbr = cbr;
  vbr.vbr_quality = 9;  // smallest
  const std::size_t frames = write_signal(dir.file("vbr.mp3"), vbr);
  EXPECT_LT(std::filesystem::file_size(dir.file("vbr.mp3")),
            std::filesystem::file_size(dir.file("cbr.mp3")) * 3 / 4);
  EXPECT_EQ(decode_all(dir.file("vbr.mp3")).frames(), frames);
}

// The render's MP3 pilot asks LAME for its fast algorithm: the setting must reach LAME (a
// different bitstream at the same bit rate) and the file stay whole.
TEST(Encoder, Mp3QualityReachesLame) {
  TempDir dir;
  EncodeOptions normal;
  normal.sample_rate = 44100;
  write_signal(dir.file("normal.mp3"), normal);
  EncodeOptions fast = normal;
  fast.mp3_quality = 7;
  const std::size_t frames = write_signal(dir.file("fast.mp3"), fast);
  EXPECT_EQ(probe(dir.file("fast.mp3")).bit_rate, 192000);
  EXPECT_EQ(decode_all(dir.file("fast.mp3")).frames(), frames);
  std::ifstream a(dir.file("normal.mp3"), std::ios::binary), b(dir.file("fast.mp3"), std::ios::binary);
  const std::string normal_bytes((std::istreambuf_iterator<char>(a)), {});
  const std::string fast_bytes((std::istreambuf_iterator<char>(b)), {});
  EXPECT_NE(normal_bytes, fast_bytes) << "LAME was not asked for another algorithm";
}

Metadata song_metadata(const TempDir& dir) {
  const auto png = dir.file("cover.png");
  testing::ffmpeg("-f lavfi -i color=green:s=48x48 -frames:v 1 " + png);
  const auto bytes = testing::read_bytes(png);
  Metadata m;
  m.tags = {{"title", "Song (8D)"}, {"artist", "Ünïcode Artist"},
            {"album", "Record"},    {"album_artist", "Various"},
            {"date", "2021"},       {"track", "3/12"},
            {"genre", "Pop"},       {"replaygain_track_gain", "-6.00 dB"}};
  m.cover.mime = "image/png";
  m.cover.data.assign(bytes.begin(), bytes.end());
  return m;
}

class KeepsTags : public ::testing::TestWithParam<OutputFormat> {};

TEST_P(KeepsTags, TagsAndCoverSurvive) {
  TempDir dir;
  const Metadata in = song_metadata(dir);
  EncodeOptions options;
  options.format = GetParam();
  options.sample_rate = 44100;
  const auto path = dir.file("tagged.part");
  write_signal(path, options, in);
  const AudioInfo info = probe(path);
  const auto& tags = info.metadata.tags;
  for (const char* key : {"title", "artist", "album", "album_artist", "date", "track", "genre"}) {
    ASSERT_TRUE(tags.count(key)) << key;
    EXPECT_EQ(tags.at(key), in.tags.at(key)) << key;
  }
  EXPECT_EQ(tags.count("replaygain_track_gain"), 0u) << "stale loudness tag was copied";
  EXPECT_EQ(info.metadata.cover.mime, "image/png");
  EXPECT_EQ(info.metadata.cover.data, in.cover.data);
}

INSTANTIATE_TEST_SUITE_P(AllTaggedFormats, KeepsTags,
                         ::testing::Values(OutputFormat::kMp3, OutputFormat::kM4a,
                                           OutputFormat::kFlac, OutputFormat::kOpus),
                         [](const auto& param_info) { return format_name(param_info.param); });

TEST(Encoder, JpegCoverSurvivesInEveryTaggedFormat) {
  TempDir dir;
  const auto jpg = dir.file("cover.jpg");
  testing::ffmpeg("-f lavfi -i color=orange:s=40x30 -frames:v 1 " + jpg);
  const auto bytes = testing::read_bytes(jpg);
  Metadata in;
  in.tags["title"] = "With a photo";
  in.cover.mime = "image/jpeg";
  in.cover.data.assign(bytes.begin(), bytes.end());
  for (OutputFormat f :
       {OutputFormat::kMp3, OutputFormat::kM4a, OutputFormat::kFlac, OutputFormat::kOpus}) {
    EncodeOptions options;
    options.format = f;
    const auto path = dir.file("photo" + format_extension(f));
    write_signal(path, options, in);
    const AudioInfo info = probe(path);
    EXPECT_EQ(info.metadata.cover.mime, "image/jpeg") << format_name(f);
    EXPECT_EQ(info.metadata.cover.data, in.cover.data) << format_name(f);
  }
}

TEST(Encoder, UndecodableCoverIsLeftOutAndTheSongStillWritten) {
  TempDir dir;
  Metadata in;
  in.cover.mime = "image/png";
  in.cover.data = {1, 2, 3, 4, 5};
  EncodeOptions options;
  const auto path = dir.file("badcover.mp3");
  const std::size_t frames = write_signal(path, options, in);
  EXPECT_TRUE(probe(path).metadata.cover.empty());
  EXPECT_EQ(decode_all(path).frames(), frames);
}

TEST(Encoder, WavKeepsTitleAndArtist) {
  TempDir dir;
  EncodeOptions options;
  options.format = OutputFormat::kWav;
  const auto path = dir.file("tagged.wav");
  write_signal(path, options, song_metadata(dir));
  const AudioInfo info = probe(path);
  EXPECT_EQ(info.metadata.tags.at("title"), "Song (8D)");
  EXPECT_EQ(info.metadata.tags.at("artist"), "Ünïcode Artist");
}

TEST(Encoder, Mp3AtAnUnsupportedRateIsResampled) {
  TempDir dir;
  EncodeOptions options;
  options.sample_rate = 96000;  // MP3 stops at 48 kHz
  const auto path = dir.file("hi.mp3");
  const std::size_t frames = write_signal(path, options);
  const Decoded d = decode_all(path);
  EXPECT_EQ(d.sample_rate, 48000);
  EXPECT_NEAR(static_cast<double>(d.frames()), static_cast<double>(frames) / 2, 2);
  const auto ref = render(right_at, 48000, d.frames());
  EXPECT_GT(snr_db(ref, d.right), 20);
}

// A listener's failure (the render's check of the delivered file) ends the encode at the next
// packet rather than after the rest of the song: write() throws it once the tap's queue (at
// most a few hundred MP3 packets) holds nothing more to hand over.
TEST(EncoderListener, FailureStopsTheEncodeAtOnce) {
  TempDir dir;
  EncodeOptions options;  // MP3, 48 kHz: 1152 frames a packet
  constexpr std::size_t kChunk = 4800, kSongFrames = 60 * 48000, kFailAfter = 48000;
  const auto left = render(left_at, options.sample_rate, kChunk);
  const auto right = render(right_at, options.sample_rate, kChunk);
  std::size_t heard = 0;
  auto encoder = Encoder::open(dir.file("x.mp3"), options, {}, [&](int, const float* const*, std::size_t frames) {
    heard += frames;
    if (heard > kFailAfter) throw std::runtime_error("listener gave up");
  });
  std::size_t written = 0;
  try {
    for (; written < kSongFrames; written += kChunk) {
      const float* src[2] = {left.data(), right.data()};
      encoder->write(src, kChunk);
    }
    FAIL() << "the whole song was encoded after the listener failed";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "listener gave up");
  }
  // What the listener heard, plus the tap's queue (256 packets), a packet in the encoder's
  // look-ahead and one chunk: under 8 s of the 60.
  EXPECT_LT(written, kFailAfter + 258 * 1152 + kChunk);
  EXPECT_THROW(encoder->finish(), std::runtime_error);
}

// finish() reports a failure the tap's thread met after the last write().
TEST(EncoderListener, FinishRethrowsTheThreadsError) {
  TempDir dir;
  EncodeOptions options;
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false, thrown = false;
  auto encoder = Encoder::open(dir.file("x.mp3"), options, {}, [&](int, const float* const*, std::size_t) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return release; });
    thrown = true;
    changed.notify_all();
    throw std::runtime_error("listener gave up");
  });
  // One second: 42 packets, fewer than the tap queues, so no write() waits or sees the failure.
  const auto left = render(left_at, options.sample_rate, 48000);
  const auto right = render(right_at, options.sample_rate, 48000);
  const float* src[2] = {left.data(), right.data()};
  ASSERT_NO_THROW(encoder->write(src, left.size()));
  {
    std::unique_lock lock(mutex);
    release = true;
    changed.notify_all();
    changed.wait(lock, [&] { return thrown; });
  }
  try {
    encoder->finish();
    FAIL() << "finish() hid the listener's error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "listener gave up");
  }
}

// A render cancelled mid-song destroys its encoder without finish(): the tap's thread stops
// after the listener's current call, drops what is queued, and never calls it again.
TEST(EncoderListener, DestroyedMidEncodeWithASlowListenerStops) {
  TempDir dir;
  EncodeOptions options;
  std::atomic<std::size_t> calls{0};
  auto encoder = Encoder::open(dir.file("x.mp3"), options, {}, [&](int, const float* const*, std::size_t) {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  // Five seconds: about 208 packets queued, ten seconds of listening at 50 ms a packet.
  const auto left = render(left_at, options.sample_rate, 5 * 48000);
  const auto right = render(right_at, options.sample_rate, 5 * 48000);
  const float* src[2] = {left.data(), right.data()};
  encoder->write(src, left.size());
  encoder.reset();
  const std::size_t at_destruction = calls.load();
  EXPECT_LT(at_destruction, 100u) << "the destructor listened to the queued packets";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(calls.load(), at_destruction);
}

TEST(Encoder, NonsenseBitrateIsAUsageError) {
  TempDir dir;
  EncodeOptions options;
  options.bitrate = 0;
  EXPECT_THROW(Encoder::open(dir.file("x.mp3"), options, {}), base::UsageError);
}

TEST(Encoder, UnwritablePathThrows) {
  EncodeOptions options;
  EXPECT_THROW(Encoder::open("/nonexistent-dir/out.mp3", options, {}), std::runtime_error);
}

TEST(Formats, NamesExtensionsAndPaths) {
  EXPECT_EQ(parse_format("mp3"), OutputFormat::kMp3);
  EXPECT_EQ(parse_format("FLAC"), OutputFormat::kFlac);
  EXPECT_EQ(parse_format("aac"), OutputFormat::kM4a);
  EXPECT_THROW(parse_format("xyz"), base::UsageError);
  EXPECT_EQ(parse_format("mp4"), OutputFormat::kMp4) << "a video container, no longer a name for m4a";
  EXPECT_EQ(parse_format("matroska"), OutputFormat::kMkv);
  // "ogg" means Vorbis to people and players; we write none, so it is refused, not Opus.
  for (const char* vorbis : {"ogg", "OGG", "vorbis"}) {
    try {
      parse_format(vorbis);
      ADD_FAILURE() << vorbis << " was taken";
    } catch (const base::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("mp3, m4a, opus, flac, wav"), std::string::npos) << e.what();
    }
  }
  OutputFormat from_ogg_name{};
  EXPECT_FALSE(format_from_path("song.ogg", &from_ogg_name));
  for (OutputFormat f : {OutputFormat::kMp3, OutputFormat::kM4a, OutputFormat::kOpus,
                         OutputFormat::kFlac, OutputFormat::kWav, OutputFormat::kMp4,
                         OutputFormat::kMov, OutputFormat::kMkv, OutputFormat::kWebm}) {
    EXPECT_EQ(parse_format(format_name(f)), f);
    OutputFormat from_path{};
    ASSERT_TRUE(format_from_path("/music/a.b/song" + format_extension(f), &from_path));
    EXPECT_EQ(from_path, f);
  }
  OutputFormat f{};
  EXPECT_FALSE(format_from_path("/music/a.b/song", &f));
  EXPECT_FALSE(format_from_path("song.txt", &f));
  EXPECT_TRUE(format_from_path("SONG.MP3", &f));
  EXPECT_EQ(f, OutputFormat::kMp3);
}

}  // namespace
}  // namespace sy::io
