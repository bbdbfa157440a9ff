// The report's measures on signals whose answers are known.
#include "pipeline/file_report.h"

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace sy::pipeline {
namespace {

constexpr int kRate = 48000;

FileReport measure(const std::vector<float>& left, const std::vector<float>& right) {
  ReportMeter meter(kRate);
  // In uneven pieces, as a decoder hands them over.
  for (std::size_t pos = 0, piece = 1000; pos < left.size(); pos += piece, piece = piece % 3000 + 517) {
    const std::size_t n = std::min(piece, left.size() - pos);
    meter.add(engine::ConstAudioView({left.data() + pos, right.data() + pos}, n));
  }
  return meter.report();
}

std::vector<float> pink_noise(std::size_t frames, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> white(0.0f, 0.1f);
  std::vector<float> out(frames);
  float b0 = 0, b1 = 0, b2 = 0;  // Paul Kellet's economy pink filter
  for (float& v : out) {
    const float w = white(rng);
    b0 = 0.99765f * b0 + w * 0.0990460f;
    b1 = 0.96300f * b1 + w * 0.2965164f;
    b2 = 0.57000f * b2 + w * 1.0526913f;
    v = 0.25f * (b0 + b1 + b2 + w * 0.1848f);
  }
  return out;
}

TEST(FileReportTest, SineReadsItsLoudnessAndPeak) {
  std::vector<float> s(10 * kRate);
  const double amplitude = std::pow(10.0, -14.0 / 20.0);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * 997.0 * i / kRate));
  const FileReport r = measure(s, s);
  EXPECT_NEAR(r.integrated_lufs, -14.0, 0.1);
  EXPECT_NEAR(r.true_peak_dbtp, -14.0, 0.1);
  EXPECT_NEAR(r.loudness_range_lu, 0.0, 0.2);
  EXPECT_NEAR(r.correlation, 1.0, 1e-6);
  EXPECT_NEAR(r.rotation_depth_db, 0.0, 0.15);
}

TEST(FileReportTest, CorrelationTellsMonoUnrelatedAndCancelling) {
  const auto a = pink_noise(5 * kRate, 1), b = pink_noise(5 * kRate, 2);
  std::vector<float> inverted(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) inverted[i] = -a[i];
  EXPECT_NEAR(measure(a, a).correlation, 1.0, 1e-6);
  EXPECT_NEAR(measure(a, b).correlation, 0.0, 0.05);
  EXPECT_NEAR(measure(a, inverted).correlation, -1.0, 1e-6);
}

TEST(FileReportTest, RotationDepthIsTheSwingOfTheLevelDifference) {
  // Noise whose left/right level difference swings ±10 dB once every 4 s: the 5th to 95th
  // percentile of a sine's values spans 2 * 10 * sin(0.45 pi) = 19.75 dB.
  const auto n = pink_noise(40 * kRate, 3);
  std::vector<float> left(n.size()), right(n.size());
  for (std::size_t i = 0; i < n.size(); ++i) {
    const double ild = 10 * std::sin(2 * std::numbers::pi * static_cast<double>(i) / (4.0 * kRate));
    left[i] = static_cast<float>(static_cast<double>(n[i]) * std::pow(10.0, ild / 40));
    right[i] = static_cast<float>(static_cast<double>(n[i]) * std::pow(10.0, -ild / 40));
  }
  EXPECT_NEAR(measure(left, right).rotation_depth_db, 19.75, 0.6);
  EXPECT_NEAR(measure(n, n).rotation_depth_db, 0.0, 0.15);
}

TEST(FileReportTest, SilenceHasNoLoudnessAndTheJsonSaysNull) {
  const std::vector<float> silence(3 * kRate, 0.0f);
  const FileReport r = measure(silence, silence);
  EXPECT_TRUE(std::isinf(r.integrated_lufs));
  const nlohmann::json cli = report_json(r, engine::SettingNames::kFlag);
  EXPECT_TRUE(cli["integrated_lufs"].is_null());
  EXPECT_TRUE(cli["true_peak_dbtp"].is_null());
  EXPECT_EQ(cli["rotation_depth_db"], 0.0);
}

TEST(FileReportTest, JsonNamesForTheCliAndTheApi) {
  FileReport r{-14.004, -1.234, 6.789, 0.31234, 12.345};
  EXPECT_EQ(report_json(r, engine::SettingNames::kFlag).dump(),
            R"({"correlation":0.312,"integrated_lufs":-14.0,"loudness_range_lu":6.79,"rotation_depth_db":12.35,"true_peak_dbtp":-1.23})");
  EXPECT_EQ(report_json(r, engine::SettingNames::kJson).dump(),
            R"({"correlation":0.312,"integratedLufs":-14.0,"loudnessRange":6.79,"rotationDepthDb":12.35,"truePeakDbtp":-1.23})");
}

}  // namespace
}  // namespace sy::pipeline
