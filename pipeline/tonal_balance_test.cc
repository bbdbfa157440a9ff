// What reaches the file keeps the song's tonal balance (issue 15): the delivered file's
// power per third octave over the input's, averaged over whole revolutions and levelled on
// 200 Hz-2 kHz, from 63 Hz to 16 kHz, for centred pink noise and for real stereo music,
// with the room off, at one level and following a reverb curve.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/filter_cache.h"
#include "engine/presets.h"
#include "engine/testing/analysis.h"
#include "io/decoder.h"
#include "io/encoder.h"
#include "pipeline/render.h"
#include "tests/support/decode_all.h"
#include "tests/support/temp_dir.h"

namespace sy::pipeline {
namespace {

namespace fs = std::filesystem;
const char* kMusic = "/usr/share/hyperrogue/music/hr3-caves.ogg";
constexpr double kLowestHz = 62.5;  // the nominal 63 Hz band; 16 kHz is 8 octaves up
constexpr double kHighestHz = 16000.0;
// Issue 15 asks for +-1 dB everywhere, and every case meets it: centred pink noise within
// 0.69 dB in every room, the song within 0.96 dB (room off and with the reverb curve: 125
// Hz, where its side content below the bass crossover is centred by design) and 0.82 dB
// with the room at one level (6.9 dB before issue 15; the song's bands between 200 Hz and
// 2 kHz move by up to +-0.8 dB with the room's fine-grained late response under its few
// strong notes, see docs/ENGINE.md).
constexpr double kLimitDb = 1.0;
// Centred pink noise has no notes for the room's fine structure to pick out, so it shows the
// design itself, and is held closer: within 0.69 dB in every room (0.93 dB with the room on
// before the room's first reflections got opposite signs and the crossover's hand-over was
// filled).
constexpr double kPinkLimitDb = 0.75;

using testing::decode_all;

// Power per third octave of both channels together, summed over one-second stretches, in
// W (not dB), added to `power`.
void add_band_power(const testing::Stereo& s, int rate, std::vector<double>& power) {
  const auto stretch = static_cast<std::size_t>(rate);
  for (std::size_t begin = 0; begin + stretch <= s.left.size(); begin += stretch) {
    const auto l = testing::band_levels_db(s.left, begin, stretch, rate, kLowestHz, kHighestHz);
    const auto r = testing::band_levels_db(s.right, begin, stretch, rate, kLowestHz, kHighestHz);
    power.resize(l.size(), 0.0);
    for (std::size_t b = 0; b < l.size(); ++b) power[b] += std::pow(10.0, l[b] / 10) + std::pow(10.0, r[b] / 10);
  }
}

void write_flac(const std::string& path, const testing::Stereo& s, int rate) {
  io::EncodeOptions e;
  e.format = io::OutputFormat::kFlac;
  e.sample_rate = rate;
  auto encoder = io::Encoder::open(path, e, io::Metadata{});
  const float* planes[2] = {s.left.data(), s.right.data()};
  encoder->write(planes, s.left.size());
  encoder->finish();
}

struct Balance {
  std::vector<double> centre_hz, gain_db;  // output over input, levelled on 200 Hz-2 kHz
  double worst_db = 0;                     // largest deviation from 0 over all bands
};

// The song is rendered kStarts times, each preceded by 1/kStarts of a revolution more of
// silence, so every moment of it is heard from kStarts directions evenly around the circle,
// and the delivered files' band powers are summed against the input's. Issue 15 defines the
// balance averaged over revolutions; a single render of a one-minute song mostly measures
// where the source happened to be when its cymbals played (a song whose phrases last one
// 8-second revolution puts them on the same side every time). Four starts a quarter turn
// apart still left that sampling at a few tenths of a dB in the top bands: the side gain's
// 8 kHz band read +1.00 dB room on from four starts and +0.58 dB from eight (the shipped
// code's +0.73 and +0.45), see docs/ENGINE.md.
constexpr int kStarts = 8;

Balance measure_balance(const testing::Stereo& song, int rate, const engine::EngineSettings& settings,
                        engine::BinauralFilterCache& filters, const testing::TempDir& dir) {
  std::vector<double> in, out;
  for (int start = 0; start < kStarts; ++start) {
    const auto lead = static_cast<std::size_t>(start * settings.period_seconds / kStarts * rate);
    testing::Stereo input;
    input.left.assign(lead, 0.0f);
    input.right.assign(lead, 0.0f);
    input.left.insert(input.left.end(), song.left.begin(), song.left.end());
    input.right.insert(input.right.end(), song.right.begin(), song.right.end());
    const std::string in_path = dir.file("in" + std::to_string(start) + ".flac");
    const std::string out_path = dir.file("out" + std::to_string(start) + ".flac");
    write_flac(in_path, input, rate);
    RenderOptions o;
    o.engine = settings;
    o.encode.format = io::OutputFormat::kFlac;
    o.filter_cache = &filters;
    render_file(in_path, out_path, o);
    int out_rate = 0;
    const testing::Stereo delivered = decode_all(out_path, &out_rate);
    add_band_power(delivered, out_rate, out);
    EXPECT_EQ(out_rate, rate);
    add_band_power(song, rate, in);
  }
  Balance b;
  double level = 0;
  int count = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double hz = kLowestHz * std::pow(2.0, static_cast<double>(i) / 3.0);
    b.centre_hz.push_back(hz);
    b.gain_db.push_back(10 * std::log10(out[i] / in[i]));
    if (hz > 190.0 && hz < 2100.0) {
      level += b.gain_db.back();
      ++count;
    }
  }
  for (double& g : b.gain_db) {
    g -= level / count;
    b.worst_db = std::max(b.worst_db, std::abs(g));
  }
  return b;
}

void print(const char* what, const Balance& b) {
  std::printf("%s: output/input per third octave (dB), worst %.2f\n", what, b.worst_db);
  for (std::size_t i = 0; i < b.centre_hz.size(); ++i)
    std::printf("  %6.0f Hz %+5.2f\n", b.centre_hz[i], b.gain_db[i]);
}

// The room as the tests meet it: off, at one level (the classic preset's: its balance is
// folded into the decoder's filters), or following a reverb curve that holds a level between
// its keyframes' extremes (the balance is fitted to the curve's highest level and follows the
// level while rendering; the highest keyframe lies beyond the song, so only the intermediate
// level is heard).
struct Room {
  const char* test_name;
  const char* name;
  double reverb;          // without a curve
  double curve_level;     // held by the curve (0: no curve)
  double curve_highest;   // the curve's highest keyframe
};

void PrintTo(const Room& room, std::ostream* os) { *os << room.name; }

engine::EngineSettings classic(const Room& room) {
  engine::EngineSettings s = engine::find_preset("classic")->settings;
  s.reverb = room.reverb;
  if (room.curve_level > 0)
    s.reverb_curve = {{0, room.curve_level}, {3600, room.curve_level}, {3601, room.curve_highest}};
  return s;
}

class TonalBalance : public ::testing::TestWithParam<Room> {
 protected:
  static engine::BinauralFilterCache& filters() {
    static engine::BinauralFilterCache cache;
    return cache;
  }
};

TEST_P(TonalBalance, CentredPinkNoiseKeepsItsBalance) {
  testing::TempDir dir;
  constexpr int kRate = 48000;
  testing::Stereo noise;
  noise.left = testing::pink_noise(static_cast<std::size_t>(3 * 8 * kRate), 11);  // 3 revolutions
  noise.right = noise.left;
  const Balance b = measure_balance(noise, kRate, classic(GetParam()), filters(), dir);
  print(("centred pink noise, " + std::string(GetParam().name)).c_str(), b);
  for (std::size_t i = 0; i < b.centre_hz.size(); ++i) EXPECT_NEAR(b.gain_db[i], 0.0, kPinkLimitDb) << b.centre_hz[i] << " Hz";
}

TEST_P(TonalBalance, RealStereoMusicKeepsItsBalance) {
  if (!fs::exists(kMusic)) GTEST_SKIP() << "hyperrogue-music not installed";
  testing::TempDir dir;
  int rate = 0;
  const testing::Stereo song = decode_all(kMusic, &rate);
  const Balance b = measure_balance(song, rate, classic(GetParam()), filters(), dir);
  print(("hr3-caves.ogg, " + std::string(GetParam().name)).c_str(), b);
  for (std::size_t i = 0; i < b.centre_hz.size(); ++i)
    EXPECT_NEAR(b.gain_db[i], 0.0, kLimitDb) << b.centre_hz[i] << " Hz";
}

const double kClassicReverb = engine::find_preset("classic")->settings.reverb;
std::string room_name(const ::testing::TestParamInfo<Room>& room) { return room.param.test_name; }

INSTANTIATE_TEST_SUITE_P(Rooms, TonalBalance,
                         ::testing::Values(Room{"RoomOff", "room off", 0.0, 0.0, 0.0},
                                           Room{"RoomOn", "room on", kClassicReverb, 0.0, 0.0},
                                           Room{"CurveAtAQuarter", "reverb curve at a quarter of its highest level", 0.0, 0.125, 0.5},
                                           Room{"CurveAtHalf", "reverb curve at half its highest level", 0.0, 0.25, 0.5}),
                         room_name);

}  // namespace
}  // namespace sy::pipeline
