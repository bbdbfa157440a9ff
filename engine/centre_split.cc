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
#include "engine/vector_clones.h"

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

SY_VECTOR_CLONES void windowed(const float* __restrict x, const float* __restrict window, float* __restrict out) noexcept {
  for (std::size_t i = 0; i < CentreSplit::kFrame; ++i) out[i] = x[i] * window[i];
}

SY_VECTOR_CLONES void overlap_add(const float* __restrict y, const float* __restrict window,
                                  float* __restrict sum) noexcept {
  for (std::size_t i = 0; i < CentreSplit::kFrame; ++i) sum[i] += y[i] * window[i];
}

// The per-bin averages over time of both powers and the cross-spectrum L times conj(R).
SY_VECTOR_CLONES void update_averages(const fftwf_complex* __restrict spectrum, float keep, float* __restrict power_l,
                                      float* __restrict power_r, float* __restrict cross_re,
                                      float* __restrict cross_im) noexcept {
  const float* __restrict xl = spectrum[0];
  const float* __restrict xr = spectrum[kBins];
  const float take = 1.0f - keep;
  for (std::size_t k = 0; k < kBins; ++k) {
    const float lr = xl[2 * k], li = xl[2 * k + 1], rr = xr[2 * k], ri = xr[2 * k + 1];
    power_l[k] = keep * power_l[k] + take * (lr * lr + li * li);
    power_r[k] = keep * power_r[k] + take * (rr * rr + ri * ri);
    cross_re[k] = keep * cross_re[k] + take * (lr * rr + li * ri);
    cross_im[k] = keep * cross_im[k] + take * (li * rr - lr * ri);
  }
}

// The mask from the averages (each kBins + 2 long: a zero guard either side, so the sum over
// three neighbouring bins needs no bounds check) applied to the mid spectrum.
SY_VECTOR_CLONES void shared_spectrum(const fftwf_complex* __restrict spectrum, const float* __restrict power_l,
                                      const float* __restrict power_r, const float* __restrict cross_re,
                                      const float* __restrict cross_im, fftwf_complex* __restrict shared) noexcept {
  const float* __restrict xl = spectrum[0];
  const float* __restrict xr = spectrum[kBins];
  float* __restrict out = shared[0];
  // FFTW's round trip gains kFrame, the windows' overlap 2.
  constexpr float kScale = 0.5f / static_cast<float>(CentreSplit::kFrame);
  for (std::size_t k = 0; k < kBins; ++k) {
    // Averages over three neighbouring bins as well as over time: uncorrelated channels then
    // read a lower similarity, and the mask flickers less (less "musical noise").
    const float pl = power_l[k] + power_l[k + 1] + power_l[k + 2];
    const float pr = power_r[k] + power_r[k + 1] + power_r[k + 2];
    const float cre = cross_re[k] + cross_re[k + 1] + cross_re[k + 2];
    const float cim = cross_im[k] + cross_im[k + 1] + cross_im[k + 2];
    const float similarity = 2.0f * std::sqrt(cre * cre + cim * cim) / (pl + pr + 1e-20f);
    const float x = std::clamp((similarity - kMaskLow) / (kMaskHigh - kMaskLow), 0.0f, 1.0f);
    const float mask = x * x * (3.0f - 2.0f * x);
    const float g = 0.5f * mask * kScale;
    out[2 * k] = g * (xl[2 * k] + xr[2 * k]);
    out[2 * k + 1] = g * (xl[2 * k + 1] + xr[2 * k + 1]);
  }
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
  // Per-bin averages, bin k at [k + 1]; the guards at 0 and kBins + 1 stay 0.
  std::vector<float> power_l, power_r, cross_re, cross_im;
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
  s->power_l.assign(kBins + 2, 0.0f);
  s->power_r.assign(kBins + 2, 0.0f);
  s->cross_re.assign(kBins + 2, 0.0f);
  s->cross_im.assign(kBins + 2, 0.0f);
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
  for (std::size_t c = 0; c < 2; ++c) windowed(hist[c], s.window.data(), s.frame.get() + c * kFrame);
  fftwf_execute(s.forward);

  update_averages(s.spectrum.get(), s.keep, s.power_l.data() + 1, s.power_r.data() + 1, s.cross_re.data() + 1,
                  s.cross_im.data() + 1);
  shared_spectrum(s.spectrum.get(), s.power_l.data(), s.power_r.data(), s.cross_re.data(), s.cross_im.data(),
                  s.shared_spectrum.get());
  fftwf_execute(s.inverse);

  float* ola = s.overlap.get();
  const float* y = s.shared_frame.get();
  overlap_add(y, s.window.data(), ola);
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
