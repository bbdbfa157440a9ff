#include "engine/design/spectrum.h"

#include <fftw3.h>

#include <algorithm>
#include <mutex>

#include "engine/convolver.h"

namespace sy::engine {

namespace {

// Plans are made and destroyed under the engine's planner lock; FFTW_ESTIMATE because each
// plan runs a handful of times.
template <class Make>
void run_plan(Make make) {
  fftwf_plan plan;
  {
    const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    plan = make();
  }
  fftwf_execute(plan);
  const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  fftwf_destroy_plan(plan);
}

}  // namespace

std::vector<std::complex<double>> real_spectrum(std::span<const float> signal, std::size_t n) {
  std::vector<float> in(n, 0.0f);
  std::copy_n(signal.begin(), std::min(signal.size(), n), in.begin());
  std::vector<std::complex<float>> out(n / 2 + 1);
  run_plan([&] {
    return fftwf_plan_dft_r2c_1d(static_cast<int>(n), in.data(), reinterpret_cast<fftwf_complex*>(out.data()),
                                 FFTW_ESTIMATE);
  });
  return {out.begin(), out.end()};
}

std::vector<float> real_signal(const std::vector<std::complex<double>>& bins, std::size_t n) {
  std::vector<std::complex<float>> in(bins.begin(), bins.end());
  std::vector<float> out(n);
  run_plan([&] {
    return fftwf_plan_dft_c2r_1d(static_cast<int>(n), reinterpret_cast<fftwf_complex*>(in.data()), out.data(),
                                 FFTW_ESTIMATE);
  });
  for (float& v : out) v /= static_cast<float>(n);
  return out;
}

}  // namespace sy::engine
