#include "engine/centre_split.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <numbers>
#include <vector>

#include "engine/convolver.h"  // fftw_planner_mutex

namespace sy::engine {

namespace {

constexpr std::size_t kBins = CentreSplit::kFrame / 2 + 1;
// Time constant of the spectral averages: long enough that two uncorrelated channels
// read a similarity near 0.3, short enough to follow a voice from word to word.
constexpr double kAverageSeconds = 0.08;
// Similarity below kMaskLow leaves a bin to the side, above kMaskHigh gives it to the
// shared part; a smooth step between. Mono reads 1, uncorrelated noise about 0.3, a
// centred voice with a stereo room around it 0.8 to 1.
constexpr float kMaskLow = 0.55f;
constexpr float kMaskHigh = 0.9f;

struct FftwFree {
  void operator()(void* p) const noexcept { fftwf_free(p); }
};
template <typename T>
std::unique_ptr<T[], FftwFree> fftw_array(std::size_t n) {
  auto* p = static_cast<T*>(fftwf_malloc(n * sizeof(T)));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(static_cast<void*>(p), 0, n * sizeof(T));
  return std::unique_ptr<T[], FftwFree>(p);
}

}  // namespace

struct CentreSplit::State {
  std::unique_ptr<float[], FftwFree> history;   // 2 x kFrame: the last kFrame input frames
  std::unique_ptr<float[], FftwFree> frame;     // 2 x kFrame: windowed copy for the transform
  std::unique_ptr<fftwf_complex[], FftwFree> spectrum;  // 2 x kBins
  std::unique_ptr<fftwf_complex[], FftwFree> shared_spectrum;  // kBins
  std::unique_ptr<float[], FftwFree> shared_frame;  // kFrame
  std::unique_ptr<float[], FftwFree> overlap;       // kFrame: overlap-add of the shared part
  std::vector<float> window;                        // sqrt-Hann, analysis and synthesis
  std::vector<float> power_l, power_r, cross_re, cross_im;  // per-bin averages
  float keep = 0;                                   // averaging coefficient per hop
  fftwf_plan forward = nullptr, inverse = nullptr;

  ~State() {
    const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    if (forward != nullptr) fftwf_destroy_plan(forward);
    if (inverse != nullptr) fftwf_destroy_plan(inverse);
  }
};

CentreSplit::CentreSplit() = default;
CentreSplit::~CentreSplit() = default;

void CentreSplit::prepare(double sample_rate) {
  auto s = std::make_unique<State>();
  s->history = fftw_array<float>(2 * kFrame);
  s->frame = fftw_array<float>(2 * kFrame);
  s->spectrum = fftw_array<fftwf_complex>(2 * kBins);
  s->shared_spectrum = fftw_array<fftwf_complex>(kBins);
  s->shared_frame = fftw_array<float>(kFrame);
  s->overlap = fftw_array<float>(kFrame);
  // sqrt of a periodic Hann: analysis times synthesis is a Hann, and Hann windows a quarter
  // frame apart sum to exactly 2.
  s->window.resize(kFrame);
  for (std::size_t i = 0; i < kFrame; ++i)
    s->window[i] = static_cast<float>(std::sin(std::numbers::pi * static_cast<double>(i) / kFrame));
  s->power_l.assign(kBins, 0.0f);
  s->power_r.assign(kBins, 0.0f);
  s->cross_re.assign(kBins, 0.0f);
  s->cross_im.assign(kBins, 0.0f);
  s->keep = static_cast<float>(std::exp(-static_cast<double>(kHop) / (kAverageSeconds * sample_rate)));
  {
    const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    const int n = static_cast<int>(kFrame);
    s->forward = fftwf_plan_many_dft_r2c(1, &n, 2, s->frame.get(), nullptr, 1, n, s->spectrum.get(), nullptr, 1,
                                         static_cast<int>(kBins), FFTW_MEASURE);
    s->inverse = fftwf_plan_dft_c2r_1d(n, s->shared_spectrum.get(), s->shared_frame.get(), FFTW_MEASURE);
  }
  if (s->forward == nullptr || s->inverse == nullptr) throw std::runtime_error("FFTW could not plan the centre split");
  state_ = std::move(s);
}

void CentreSplit::reset() noexcept {
  if (!state_) return;
  State& s = *state_;
  std::fill(s.history.get(), s.history.get() + 2 * kFrame, 0.0f);
  std::fill(s.overlap.get(), s.overlap.get() + kFrame, 0.0f);
  std::fill(s.power_l.begin(), s.power_l.end(), 0.0f);
  std::fill(s.power_r.begin(), s.power_r.end(), 0.0f);
  std::fill(s.cross_re.begin(), s.cross_re.end(), 0.0f);
  std::fill(s.cross_im.begin(), s.cross_im.end(), 0.0f);
}

void CentreSplit::process(ConstAudioView in, float* shared, AudioView side) noexcept {
  State& s = *state_;
  float* hist[2] = {s.history.get(), s.history.get() + kFrame};
  // Slide the history by a hop and append the new input.
  for (std::size_t c = 0; c < 2; ++c) {
    std::memmove(hist[c], hist[c] + kHop, (kFrame - kHop) * sizeof(float));
    std::memcpy(hist[c] + kFrame - kHop, in.channel(c), kHop * sizeof(float));
  }
  for (std::size_t c = 0; c < 2; ++c) {
    float* f = s.frame.get() + c * kFrame;
    for (std::size_t i = 0; i < kFrame; ++i) f[i] = hist[c][i] * s.window[i];
  }
  fftwf_execute(s.forward);

  const fftwf_complex* xl = s.spectrum.get();
  const fftwf_complex* xr = s.spectrum.get() + kBins;
  const float keep = s.keep, take = 1.0f - keep;
  for (std::size_t k = 0; k < kBins; ++k) {
    const float lr = xl[k][0], li = xl[k][1], rr = xr[k][0], ri = xr[k][1];
    s.power_l[k] = keep * s.power_l[k] + take * (lr * lr + li * li);
    s.power_r[k] = keep * s.power_r[k] + take * (rr * rr + ri * ri);
    // L times the conjugate of R.
    s.cross_re[k] = keep * s.cross_re[k] + take * (lr * rr + li * ri);
    s.cross_im[k] = keep * s.cross_im[k] + take * (li * rr - lr * ri);
  }
  // FFTW's round trip gains kFrame, the windows' overlap 2.
  constexpr float kScale = 0.5f / static_cast<float>(kFrame);
  fftwf_complex* out = s.shared_spectrum.get();
  for (std::size_t k = 0; k < kBins; ++k) {
    // Averages over three neighbouring bins as well as over time: uncorrelated channels then
    // read a lower similarity, and the mask flickers less (less "musical noise").
    const std::size_t lo = k > 0 ? k - 1 : k, hi = k + 1 < kBins ? k + 1 : k;
    float pl = 0, pr = 0, cre = 0, cim = 0;
    for (std::size_t j = lo; j <= hi; ++j) {
      pl += s.power_l[j];
      pr += s.power_r[j];
      cre += s.cross_re[j];
      cim += s.cross_im[j];
    }
    const float similarity = 2.0f * std::sqrt(cre * cre + cim * cim) / (pl + pr + 1e-20f);
    float x = std::clamp((similarity - kMaskLow) / (kMaskHigh - kMaskLow), 0.0f, 1.0f);
    const float mask = x * x * (3.0f - 2.0f * x);
    const float g = 0.5f * mask * kScale;
    out[k][0] = g * (xl[k][0] + xr[k][0]);
    out[k][1] = g * (xl[k][1] + xr[k][1]);
  }
  fftwf_execute(s.inverse);

  float* ola = s.overlap.get();
  const float* y = s.shared_frame.get();
  for (std::size_t i = 0; i < kFrame; ++i) ola[i] += y[i] * s.window[i];
  // The oldest hop is complete (every frame that covers it has been added): out it goes,
  // with the input it came from.
  for (std::size_t i = 0; i < kHop; ++i) shared[i] = ola[i];
  for (std::size_t c = 0; c < 2; ++c) {
    float* d = side.channel(c);
    for (std::size_t i = 0; i < kHop; ++i) d[i] = hist[c][i] - shared[i];
  }
  std::memmove(ola, ola + kHop, (kFrame - kHop) * sizeof(float));
  std::fill(ola + kFrame - kHop, ola + kFrame, 0.0f);
}

}  // namespace sy::engine
