#include "engine/beat_tracker.h"

#include <qm-dsp/dsp/onsets/DetectionFunction.h>
#include <qm-dsp/dsp/tempotracking/DownBeat.h>
#include <qm-dsp/dsp/tempotracking/TempoTrackV2.h>
#include <qm-dsp/maths/MathUtilities.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sy::engine {

namespace {

// TempoTrackV2's comb filters and tempo prior count in detection-function steps of about
// 11.6 ms (512 frames at 44.1 kHz, what the library was tuned on); the downbeat finder
// wants the song near 3 kHz, by a power-of-two decimation that divides the step.
constexpr double kStepSeconds = 512.0 / 44100.0;
constexpr double kDownsampledHz = 3000.0;
// The onset function reads a frame of twice the step.
constexpr std::size_t kFrameSteps = 2;
// Where in its step a beat found at a detection-function index lies (measured on click
// tracks: beat_tracker_test.cc).
constexpr double kBeatOffsetSteps = -0.65;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

struct BeatTracker::State {
  double rate;
  std::size_t factor, step, frame;
  std::unique_ptr<DetectionFunction> onsets;
  std::unique_ptr<DownBeat> bars;
  std::vector<double> window;   // the last `frame` mono samples
  std::size_t filled = 0;       // of the newest step in `window`
  std::vector<float> step_audio;
  std::vector<double> df;       // one value per step
};

BeatTracker::BeatTracker(double sample_rate) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.rate = sample_rate;
  s.factor = static_cast<std::size_t>(MathUtilities::nextPowerOfTwo(static_cast<int>(sample_rate / kDownsampledHz)));
  s.factor = std::clamp<std::size_t>(s.factor, 1, 64);
  s.step = std::max<std::size_t>(
      s.factor, static_cast<std::size_t>(std::lround(sample_rate * kStepSeconds / static_cast<double>(s.factor))) * s.factor);
  s.frame = kFrameSteps * s.step;
  DFConfig config{};
  config.stepSize = static_cast<unsigned>(s.step);
  config.frameLength = static_cast<unsigned>(s.frame);
  config.DFType = DF_COMPLEXSD;
  config.dbRise = 3;
  config.adaptiveWhitening = false;
  config.whiteningRelaxCoeff = -1;
  config.whiteningFloor = -1;
  s.onsets = std::make_unique<DetectionFunction>(config);
  s.bars = std::make_unique<DownBeat>(static_cast<float>(sample_rate), s.factor, s.step);
  s.window.assign(s.frame, 0.0);
  s.step_audio.assign(s.step, 0.0f);
}

BeatTracker::~BeatTracker() = default;

void BeatTracker::add(ConstAudioView audio) {
  State& s = *state_;
  const float* l = audio.channel(0);
  const float* r = audio.channel(audio.num_channels() > 1 ? 1 : 0);
  for (std::size_t i = 0; i < audio.num_frames(); ++i) {
    const float mono = 0.5f * (l[i] + r[i]);
    s.step_audio[s.filled] = mono;
    s.window[s.frame - s.step + s.filled] = mono;
    if (++s.filled < s.step) continue;
    s.filled = 0;
    s.df.push_back(s.onsets->processTimeDomain(s.window.data()));
    s.bars->pushAudioBlock(s.step_audio.data());
    std::copy(s.window.begin() + static_cast<std::ptrdiff_t>(s.step), s.window.end(), s.window.begin());
  }
}

BeatAnalysis BeatTracker::finish(double bpm, int beats_per_bar) {
  State& s = *state_;
  BeatAnalysis out;
  // Fewer than about 8 seconds holds too few beats for the tempo path.
  if (s.df.size() < static_cast<std::size_t>(8.0 / kStepSeconds)) return out;

  std::vector<double> periods(s.df.size(), 0.0), tempi, beats;
  TempoTrackV2 tracker(static_cast<float>(s.rate), s.step);
  // With a tempo given the path is held to it; the beats' phase still comes from the song.
  tracker.calculateBeatPeriod(s.df, periods, tempi, bpm > 0 ? bpm : 120.0, bpm > 0);
  tracker.calculateBeats(s.df, periods, beats);
  if (beats.size() < 4) return out;

  // Clarity: the onset function at the beats against its typical level.
  const double typical = median(s.df);
  std::vector<double> at_beats;
  for (double b : beats) {
    const auto i = static_cast<std::size_t>(std::lround(b));
    double peak = 0;
    for (std::size_t j = i >= 2 ? i - 2 : 0; j <= std::min(s.df.size() - 1, i + 2); ++j) peak = std::max(peak, s.df[j]);
    at_beats.push_back(peak);
  }
  out.clarity = typical > 0 ? median(at_beats) / typical : (median(at_beats) > 0 ? 1e9 : 0);
  if (out.clarity < kClearBeat) return out;

  s.bars->setBeatsPerBar(beats_per_bar);
  std::size_t length = 0;
  const float* downsampled = s.bars->getBufferedAudio(length);
  std::vector<int> downbeats;
  s.bars->findDownBeats(downsampled, length, beats, downbeats);

  const double step_seconds = static_cast<double>(s.step) / s.rate;
  for (double b : beats) out.grid.beats.push_back((b + kBeatOffsetSteps) * step_seconds);
  out.grid.first_downbeat = downbeats.empty() ? 0 : static_cast<std::size_t>(std::max(0, downbeats.front()));
  std::vector<double> intervals;
  for (std::size_t i = 1; i < out.grid.beats.size(); ++i) intervals.push_back(out.grid.beats[i] - out.grid.beats[i - 1]);
  out.tempo_bpm = 60.0 / median(intervals);
  return out;
}

}  // namespace sy::engine
