#include "engine/crossover.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace sy::engine {

namespace {

// Second-order Butterworth (Q = 1/sqrt(2)) sections via the bilinear transform with
// prewarping; a hand-written biquad because it is a dozen lines and no Debian package
// offers a plain C++ one without a framework around it.
void butterworth(double sample_rate, double cutoff_hz, bool highpass, Biquad& f) {
  const double k = std::tan(std::numbers::pi * cutoff_hz / sample_rate);
  const double k2 = k * k;
  const double norm = 1.0 / (1.0 + std::numbers::sqrt2 * k + k2);
  if (highpass) {
    f.b0 = norm;
    f.b1 = -2.0 * norm;
    f.b2 = norm;
  } else {
    f.b0 = k2 * norm;
    f.b1 = 2.0 * k2 * norm;
    f.b2 = k2 * norm;
  }
  f.a1 = 2.0 * (k2 - 1.0) * norm;
  f.a2 = (1.0 - std::numbers::sqrt2 * k + k2) * norm;
  f.reset();
}

}  // namespace

void LinkwitzRiley4::prepare(double sample_rate, double cutoff_hz) {
  for (int i = 0; i < 2; ++i) {
    butterworth(sample_rate, cutoff_hz, false, low_[i]);
    butterworth(sample_rate, cutoff_hz, true, high_[i]);
  }
}

void LinkwitzRiley4::reset() noexcept {
  for (int i = 0; i < 2; ++i) {
    low_[i].reset();
    high_[i].reset();
  }
}

void LinkwitzRiley4::process(std::span<const float> in, std::span<float> low, std::span<float> high) noexcept {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double x = static_cast<double>(in[i]);
    const double l = low_[1].tick(low_[0].tick(x));
    const double h = high_[1].tick(high_[0].tick(x));
    low[i] = static_cast<float>(l);
    high[i] = static_cast<float>(h);
  }
}

void StereoLinkwitzRiley4::prepare(double sample_rate, double cutoff_hz) {
  for (int i = 0; i < 4; ++i) {
    Biquad f;
    butterworth(sample_rate, cutoff_hz, i >= 2, f);
    sections_[i] = Section{f.b0, f.b1, f.b2, f.a1, f.a2};
  }
  reset();
}

void StereoLinkwitzRiley4::reset() noexcept {
  for (int s = 0; s < 4; ++s)
    for (int c = 0; c < 2; ++c) z1_[s][c] = z2_[s][c] = 0.0;
}

namespace {
// Two doubles, left and right: GCC and Clang map this onto one SSE2/NEON register.
using Pair = double __attribute__((vector_size(16)));
}  // namespace

void StereoLinkwitzRiley4::process(ConstAudioView in, AudioView low, AudioView high) noexcept {
  const std::size_t n = in.num_frames();
  const float* in_l = in.channel(0);
  const float* in_r = in.channel(1);
  float* low_l = low.channel(0);
  float* low_r = low.channel(1);
  float* high_l = high.channel(0);
  float* high_r = high.channel(1);
  Pair b0[4], b1[4], b2[4], a1[4], a2[4], z1[4], z2[4];
  for (int s = 0; s < 4; ++s) {
    b0[s] = Pair{sections_[s].b0, sections_[s].b0};
    b1[s] = Pair{sections_[s].b1, sections_[s].b1};
    b2[s] = Pair{sections_[s].b2, sections_[s].b2};
    a1[s] = Pair{sections_[s].a1, sections_[s].a1};
    a2[s] = Pair{sections_[s].a2, sections_[s].a2};
    z1[s] = Pair{z1_[s][0], z1_[s][1]};
    z2[s] = Pair{z2_[s][0], z2_[s][1]};
  }
  // Transposed direct form II, exactly as Biquad::tick.
  const auto tick = [&](int s, Pair x) {
    const Pair y = b0[s] * x + z1[s];
    z1[s] = b1[s] * x - a1[s] * y + z2[s];
    z2[s] = b2[s] * x - a2[s] * y;
    return y;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const Pair x{static_cast<double>(in_l[i]), static_cast<double>(in_r[i])};
    const Pair l = tick(1, tick(0, x));
    const Pair h = tick(3, tick(2, x));
    low_l[i] = static_cast<float>(l[0]);
    low_r[i] = static_cast<float>(l[1]);
    high_l[i] = static_cast<float>(h[0]);
    high_r[i] = static_cast<float>(h[1]);
  }
  for (int s = 0; s < 4; ++s)
    for (int c = 0; c < 2; ++c) {
      z1_[s][c] = z1[s][c];
      z2_[s][c] = z2[s][c];
    }
}

void MidSideCrossover::prepare(double sample_rate, double cutoff_hz, std::span<const Biquad> side_equaliser) {
  split_ = cutoff_hz > 0;
  const auto section = [](const Biquad& f) { return Section{f.b0, f.b1, f.b2, f.a1, f.a2}; };
  std::vector<Section> side;
  if (split_) {
    Biquad low, high;
    butterworth(sample_rate, cutoff_hz, false, low);
    butterworth(sample_rate, cutoff_hz, true, high);
    for (int i = 0; i < 2; ++i) mid_[i] = {section(low), section(high)};
    side = {section(high), section(high)};
  }
  for (const Biquad& f : side_equaliser) side.push_back(section(f));
  if (side.size() > kMaxSideSections) side.resize(kMaxSideSections);
  pairs_ = (side.size() + 1) / 2;
  side.resize(2 * pairs_);  // an identity section pads an odd count
  for (std::size_t j = 0; j < pairs_; ++j) side_[j] = {side[j], side[pairs_ + j]};
  reset();
}

void MidSideCrossover::reset() noexcept {
  for (auto* z : {&mid_z1_, &mid_z2_})
    for (auto& s : *z) s = {0.0, 0.0};
  for (auto* z : {&side_z1_, &side_z2_})
    for (auto& s : *z) s = {0.0, 0.0};
}

namespace {

// Coefficients and state of `count` sections, lane by lane.
template <std::size_t count>
struct Lanes {
  static constexpr std::size_t kSize = count > 0 ? count : 1;  // no zero-length arrays
  Pair b0[kSize], b1[kSize], b2[kSize], a1[kSize], a2[kSize], z1[kSize], z2[kSize];

  // Transposed direct form II, exactly as Biquad::tick, in both lanes through every section.
  Pair run(Pair x) noexcept {
    for (std::size_t j = 0; j < count; ++j) {
      const Pair y = b0[j] * x + z1[j];
      z1[j] = b1[j] * x - a1[j] * y + z2[j];
      z2[j] = b2[j] * x - a2[j] * y;
      x = y;
    }
    return x;
  }
  // The same in one lane only.
  double run_lane(double x, int lane) noexcept {
    for (std::size_t j = 0; j < count; ++j) {
      const double y = b0[j][lane] * x + z1[j][lane];
      z1[j][lane] = b1[j][lane] * x - a1[j][lane] * y + z2[j][lane];
      z2[j][lane] = b2[j][lane] * x - a2[j][lane] * y;
      x = y;
    }
    return x;
  }
};

template <std::size_t count, class Section, class State>
Lanes<count> load(const Section* sections, const State& z1, const State& z2) {
  Lanes<count> l;
  for (std::size_t j = 0; j < count; ++j) {
    const auto& [x, y] = sections[j];
    l.b0[j] = Pair{x.b0, y.b0};
    l.b1[j] = Pair{x.b1, y.b1};
    l.b2[j] = Pair{x.b2, y.b2};
    l.a1[j] = Pair{x.a1, y.a1};
    l.a2[j] = Pair{x.a2, y.a2};
    l.z1[j] = Pair{z1[j][0], z1[j][1]};
    l.z2[j] = Pair{z2[j][0], z2[j][1]};
  }
  return l;
}

template <std::size_t count, class State>
void save(const Lanes<count>& l, State& z1, State& z2) {
  for (std::size_t j = 0; j < count; ++j)
    for (int lane = 0; lane < 2; ++lane) {
      z1[j][static_cast<std::size_t>(lane)] = l.z1[j][lane];
      z2[j][static_cast<std::size_t>(lane)] = l.z2[j][lane];
    }
}

}  // namespace

template <std::size_t pairs, bool split>
void MidSideCrossover::run(ConstAudioView in, std::span<float> low, AudioView high) noexcept {
  const std::size_t n = in.num_frames();
  const float* in_l = in.channel(0);
  const float* in_r = in.channel(1);
  float* high_l = high.channel(0);
  float* high_r = high.channel(1);
  Lanes<pairs> side = load<pairs>(side_.data(), side_z1_, side_z2_);
  Lanes<2> mid = load<2>(mid_.data(), mid_z1_, mid_z2_);
  const auto side_at = [&](std::size_t i) { return 0.5 * (double{in_l[i]} - double{in_r[i]}); };
  // One frame: the side's equalised value for it is `side_value`.
  const auto emit = [&](std::size_t i, double side_value) {
    double m = 0.5 * (double{in_l[i]} + double{in_r[i]});
    if constexpr (split) {
      const Pair v = mid.run(Pair{m, m});
      // The centred bass is L + R's low band: twice the mid's.
      low[i] = static_cast<float>(2.0 * v[0]);
      m = v[1];
    }
    high_l[i] = static_cast<float>(m + side_value);
    high_r[i] = static_cast<float>(m - side_value);
  };
  // The first half of the side's cascade runs one frame ahead of the second: `ahead` is the
  // first half's output for the frame the second half takes next.
  double ahead = side.run_lane(side_at(0), 0);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    // Read the next frame before this one is written: in may alias high.
    const Pair v = side.run(Pair{side_at(i + 1), ahead});
    ahead = v[0];
    emit(i, v[1]);
  }
  emit(n - 1, side.run_lane(ahead, 1));
  save(side, side_z1_, side_z2_);
  save(mid, mid_z1_, mid_z2_);
}

void MidSideCrossover::process(ConstAudioView in, std::span<float> low, AudioView high) noexcept {
  if (in.num_frames() == 0) return;
  // A loop for each length of the side's cascade keeps its sections in registers.
  const auto with = [&]<std::size_t pairs>() {
    if (split_)
      run<pairs, true>(in, low, high);
    else
      run<pairs, false>(in, low, high);
  };
  switch (pairs_) {
    case 0: with.template operator()<0>(); break;
    case 1: with.template operator()<1>(); break;
    case 2: with.template operator()<2>(); break;
    case 3: with.template operator()<3>(); break;
    case 4: with.template operator()<4>(); break;
    case 5: with.template operator()<5>(); break;
    default: with.template operator()<6>(); break;
  }
}

}  // namespace sy::engine
