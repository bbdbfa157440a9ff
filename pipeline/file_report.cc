#include "pipeline/file_report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "engine/audio_buffer.h"
#include "engine/loudness.h"
#include "io/decoder.h"

namespace sy::pipeline {
namespace {

constexpr double kShadowHz = 1500;         // above this the head shadows one ear
constexpr double kWindowSeconds = 0.05;
constexpr double kGateMeanSquare = 1e-6;   // -60 dBFS: windows quieter than this say nothing
constexpr double kMaxLevelDifferenceDb = 30;
constexpr double kBinDb = 0.1;
constexpr std::size_t kBins = static_cast<std::size_t>(2 * kMaxLevelDifferenceDb / kBinDb) + 1;

// Both channels in the two lanes of one register: the filter's recursion runs along time,
// so the channels are the only parallel work.
typedef double Pair __attribute__((vector_size(16)));

// A second-order Butterworth high-pass (the Audio EQ Cookbook's) on both channels at once;
// no packaged library offers a bare streaming biquad without a framework around it.
class HighPass {
 public:
  HighPass(double hz, int rate) {
    const double w = 2 * std::numbers::pi * hz / rate;
    const double alpha = std::sin(w) / (2 * std::numbers::sqrt2 / 2);
    const double a0 = 1 + alpha;
    b0_ = (1 + std::cos(w)) / 2 / a0;
    b1_ = -(1 + std::cos(w)) / a0;
    b2_ = b0_;
    a1_ = -2 * std::cos(w) / a0;
    a2_ = (1 - alpha) / a0;
  }
  Pair operator()(Pair x) {
    const Pair y = b0_ * x + b1_ * x1_ + b2_ * x2_ - a1_ * y1_ - a2_ * y2_;
    x2_ = x1_;
    x1_ = x;
    y2_ = y1_;
    y1_ = y;
    return y;
  }

 private:
  double b0_, b1_, b2_, a1_, a2_;
  Pair x1_{}, x2_{}, y1_{}, y2_{};
};

// Dividing by a power of ten gives the double nearest the decimal, which prints short.
double rounded(double v, double scale) { return std::round(v * scale) / scale; }

}  // namespace

struct ReportMeter::Impl {
  explicit Impl(int rate)
      : loudness(rate, true, true),
        high(kShadowHz, rate),
        window_frames(std::max<std::size_t>(1, static_cast<std::size_t>(kWindowSeconds * rate))) {}

  engine::LoudnessMeter loudness;
  double sum_ll = 0, sum_rr = 0, sum_lr = 0;
  HighPass high;
  std::size_t window_frames;
  std::size_t in_window = 0;
  double window_left = 0, window_right = 0;
  std::array<std::uint64_t, kBins> level_differences{};
  std::uint64_t windows_counted = 0;

  void close_window() {
    const double mean_square = (window_left + window_right) / (2.0 * static_cast<double>(in_window));
    if (mean_square > kGateMeanSquare) {
      const double tiny = std::numeric_limits<double>::min();
      const double difference = std::clamp(10 * std::log10((window_left + tiny) / (window_right + tiny)),
                                           -kMaxLevelDifferenceDb, kMaxLevelDifferenceDb);
      ++level_differences[static_cast<std::size_t>(std::lround((difference + kMaxLevelDifferenceDb) / kBinDb))];
      ++windows_counted;
    }
    window_left = window_right = 0;
    in_window = 0;
  }

  double level_difference_percentile(double p) const {
    const auto wanted = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(windows_counted)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBins; ++i) {
      seen += level_differences[i];
      if (seen >= std::max<std::uint64_t>(wanted, 1)) return static_cast<double>(i) * kBinDb - kMaxLevelDifferenceDb;
    }
    return kMaxLevelDifferenceDb;
  }
};

ReportMeter::ReportMeter(int sample_rate) : impl_(std::make_unique<Impl>(sample_rate)) {}
ReportMeter::~ReportMeter() = default;

void ReportMeter::add(engine::ConstAudioView audio) {
  Impl& m = *impl_;
  m.loudness.add(audio);
  const float* left = audio.channel(0);
  const float* right = audio.channel(1);
  // Locals, so the sums and the filter stay in registers through the loop.
  Pair products{}, shadowed{};  // {ll, rr}, {hl², hr²} of the window in progress
  double lr = 0;
  HighPass high = m.high;
  std::size_t in_window = m.in_window;
  for (std::size_t i = 0; i < audio.num_frames();) {
    // Up to the end of the audio or of the window in progress, whichever comes first.
    const std::size_t end = std::min(audio.num_frames(), i + (m.window_frames - in_window));
    in_window += end - i;
    for (; i < end; ++i) {
      const Pair x = {left[i], right[i]};
      products += x * x;
      lr += x[0] * x[1];
      const Pair h = high(x);
      shadowed += h * h;
    }
    if (in_window == m.window_frames) {
      m.window_left += shadowed[0];
      m.window_right += shadowed[1];
      shadowed = Pair{};
      m.in_window = in_window;
      m.close_window();
      in_window = 0;
    }
  }
  m.sum_ll += products[0];
  m.sum_rr += products[1];
  m.sum_lr += lr;
  m.window_left += shadowed[0];
  m.window_right += shadowed[1];
  m.in_window = in_window;
  m.high = high;
}

FileReport ReportMeter::report() const {
  const Impl& m = *impl_;
  FileReport r;
  r.integrated_lufs = m.loudness.integrated_lufs();
  r.true_peak_dbtp = m.loudness.true_peak_dbtp();
  r.loudness_range_lu = m.loudness.loudness_range_lu();
  const double energy = std::sqrt(m.sum_ll * m.sum_rr);
  r.correlation = energy > 0 ? std::clamp(m.sum_lr / energy, -1.0, 1.0) : 0;
  if (m.windows_counted > 0)
    r.rotation_depth_db = m.level_difference_percentile(0.95) - m.level_difference_percentile(0.05);
  return r;
}

io::DecodedAudioFn WrittenFileMeter::listener() {
  return [this](int rate, const float* const* planes, std::size_t frames) {
    if (!meter_) meter_ = std::make_unique<ReportMeter>(rate);
    meter_->add(engine::ConstAudioView({planes[0], planes[1]}, frames));
  };
}

FileReport WrittenFileMeter::report() const {
  if (!meter_) throw std::runtime_error("cannot check the output: the encoder gave no audio back");
  return meter_->report();
}

FileReport measure_file(const std::string& path) {
  io::DecodeOptions options;
  options.limits.max_bytes = 0;  // our own output: a long WAV is larger than any upload
  options.limits.max_duration_seconds = 0;
  std::unique_ptr<io::Decoder> decoder;
  try {
    decoder = io::Decoder::open(path, options);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot read the output back to check it: ") + e.what());
  }
  ReportMeter meter(decoder->output_sample_rate());
  constexpr std::size_t kBlock = 8192;
  engine::AudioBuffer buffer(2, kBlock);
  while (const std::size_t n = decoder->read(buffer.planes(), kBlock))
    meter.add(std::as_const(buffer).view().first(n));
  return meter.report();
}

nlohmann::json report_json(const FileReport& r, engine::SettingNames names) {
  const bool api = names == engine::SettingNames::kJson;
  auto finite = [](double v, double scale) {
    return std::isfinite(v) ? nlohmann::json(rounded(v, scale)) : nlohmann::json();
  };
  return {{api ? "integratedLufs" : "integrated_lufs", finite(r.integrated_lufs, 100)},
          {api ? "truePeakDbtp" : "true_peak_dbtp", finite(r.true_peak_dbtp, 100)},
          {api ? "loudnessRange" : "loudness_range_lu", finite(r.loudness_range_lu, 100)},
          {"correlation", finite(r.correlation, 1000)},
          {api ? "rotationDepthDb" : "rotation_depth_db", finite(r.rotation_depth_db, 100)}};
}

}  // namespace sy::pipeline
