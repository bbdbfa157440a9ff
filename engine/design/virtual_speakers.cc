#include "engine/design/virtual_speakers.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "engine/hrtf.h"

namespace sy::engine {

namespace {

constexpr double kPi = std::numbers::pi;

// Mode matching: the decoder D = Y^T (Y Y^T)^-1 reproduces every ambisonic channel exactly
// on the loudspeakers. Returns X = (Y Y^T)^-1 Y, channels x speakers (D = X^T).
Eigen::MatrixXd mode_matching(AmbisonicBasis basis, const std::vector<Bearing>& speakers) {
  const auto k_count = static_cast<Eigen::Index>(ambisonic_channels(basis));
  const auto s_count = static_cast<Eigen::Index>(speakers.size());
  Eigen::MatrixXd y(k_count, s_count);
  std::vector<float> gains(static_cast<std::size_t>(k_count));
  for (Eigen::Index s = 0; s < s_count; ++s) {
    const Bearing& d = speakers[static_cast<std::size_t>(s)];
    ambisonic_gains(basis, d.azimuth, d.elevation, gains.data());
    for (Eigen::Index k = 0; k < k_count; ++k) y(k, s) = double{gains[static_cast<std::size_t>(k)]};
  }
  // The Gram matrix is symmetric positive definite for any layout that resolves the basis.
  const Eigen::LLT<Eigen::MatrixXd> gram((y * y.transpose()).eval());
  if (gram.info() != Eigen::Success) throw std::runtime_error("singular ambisonic decoder");
  return gram.solve(y);
}

// Per-order weights: max-rE trades some sharpness for less spread of energy.
std::vector<double> order_weights(AmbisonicBasis basis, bool max_re) {
  std::vector<double> weight(kAmbisonicOrder + 1, 1.0);
  if (!max_re) return weight;
  const double dim_angle = basis == AmbisonicBasis::kHorizontal ? kPi / (2.0 * kAmbisonicOrder + 2.0)
                                                                : 2.4068 / (kAmbisonicOrder + 1.51);
  for (int l = 0; l <= kAmbisonicOrder; ++l) {
    weight[static_cast<std::size_t>(l)] = basis == AmbisonicBasis::kHorizontal
                                              ? std::cos(l * dim_angle)
                                              : std::legendre(static_cast<unsigned>(l), std::cos(dim_angle));
  }
  return weight;
}

}  // namespace

BinauralFilters fold_virtual_speakers(HrtfSet& hrtf, const BinauralDecoderDesign& design) {
  const AmbisonicBasis basis = design.basis;
  const std::size_t k_count = ambisonic_channels(basis);
  const std::vector<Bearing> dirs = layout_for(basis, design.horizontal_speakers, design.sphere_speakers);
  const std::size_t s_count = dirs.size();
  if (s_count < k_count) throw std::invalid_argument("too few virtual loudspeakers");
  const Eigen::MatrixXd x = mode_matching(basis, dirs);  // x(k, s): weight of channel k for speaker s
  const std::vector<double> order_weight = order_weights(basis, design.max_re);

  // Loudspeaker responses, trimmed to start just before the earliest arrival.
  const std::size_t n = hrtf.length();
  std::vector<std::vector<float>> left(s_count, std::vector<float>(n)), right(s_count, std::vector<float>(n));
  float peak = 0;
  for (std::size_t s = 0; s < s_count; ++s) {
    hrtf.response(dirs[s].azimuth * 180.0 / kPi, dirs[s].elevation * 180.0 / kPi, left[s].data(),
                  right[s].data());
    for (std::size_t i = 0; i < n; ++i) peak = std::max({peak, std::abs(left[s][i]), std::abs(right[s][i])});
  }
  std::size_t onset = n;
  for (std::size_t s = 0; s < s_count; ++s)
    for (std::size_t i = 0; i < n; ++i)
      if (std::abs(left[s][i]) > 0.01f * peak || std::abs(right[s][i]) > 0.01f * peak) {
        onset = std::min(onset, i);
        break;
      }
  constexpr std::size_t kPreRoll = 16;  // keeps the resampler's pre-ringing
  const std::size_t start = onset > kPreRoll ? onset - kPreRoll : 0;

  BinauralFilters out;
  out.basis = basis;
  out.channel_filters.assign(k_count, std::vector<float>(n - start, 0.0f));
  for (std::size_t k = 0; k < k_count; ++k) {
    const double sign = ambisonic_channel_is_odd(basis, k) ? -1.0 : 1.0;
    const double w = order_weight[static_cast<std::size_t>(ambisonic_channel_order(basis, k))];
    std::vector<double> acc(n - start, 0.0);
    for (std::size_t s = 0; s < s_count; ++s) {
      const double d = 0.5 * w * x(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(s));
      for (std::size_t i = start; i < n; ++i)
        acc[i - start] += d * (double{left[s][i]} + sign * double{right[s][i]});
    }
    for (std::size_t i = 0; i < acc.size(); ++i) out.channel_filters[k][i] = static_cast<float>(acc[i]);
  }

  // Cut the tail once less than -70 dB of the energy is left.
  double total = 0;
  std::vector<double> energy_at(n - start, 0.0);
  for (const auto& f : out.channel_filters)
    for (std::size_t i = 0; i < f.size(); ++i) energy_at[i] += double{f[i]} * double{f[i]};
  for (double e : energy_at) total += e;
  std::size_t end = energy_at.size();
  double tail = 0;
  while (end > 1 && tail + energy_at[end - 1] < 1e-7 * total) tail += energy_at[--end];
  // What is left past max_length is the end of the measurement's decay: fade it out so one
  // FFT partition holds the whole filter.
  if (design.max_length > 0 && end > design.max_length) {
    end = design.max_length;
    const std::size_t fade = std::min<std::size_t>(32, end);
    for (auto& f : out.channel_filters)
      for (std::size_t i = 0; i < fade; ++i)
        f[end - fade + i] *= static_cast<float>(0.5 + 0.5 * std::cos(kPi * (static_cast<double>(i) + 0.5) / static_cast<double>(fade)));
  }
  for (auto& f : out.channel_filters) f.resize(end);
  return out;
}

}  // namespace sy::engine
