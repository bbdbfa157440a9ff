#include "engine/crossover.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "engine/vector_clones.h"

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
  mid_ = {};
  if (split_) {
    Biquad low, high;
    butterworth(sample_rate, cutoff_hz, false, low);
    butterworth(sample_rate, cutoff_hz, true, high);
    mid_.sections[0] = {section(low), section(low), section(high), section(high)};
    side = {section(high), section(high)};
  }
  for (const Biquad& f : side_equaliser) side.push_back(section(f));
  if (side.size() > kMaxSideSections) side.resize(kMaxSideSections);
  depth_ = (side.size() + kLanes - 1) / kLanes;
  side.resize(kLanes * depth_);  // identity sections pad the count
  side_ = {};
  for (std::size_t lane = 0; lane < kLanes; ++lane)
    for (std::size_t d = 0; d < depth_; ++d) side_.sections[d][lane] = side[lane * depth_ + d];
  reset();
}

void MidSideCrossover::reset() noexcept {
  for (auto* lanes : {&mid_.z1, &mid_.z2}) *lanes = {};
  for (auto* lanes : {&side_.z1, &side_.z2}) *lanes = {};
}

namespace {

// GCC warns (at the end of the file) that 32-byte vectors change the calling convention
// without AVX; these never cross a call that is not inlined.
#pragma GCC diagnostic ignored "-Wpsabi"

// Four doubles, one per lane: one AVX register, or two SSE2 ones.
using Quad = double __attribute__((vector_size(32)));
constexpr std::size_t kLanes = MidSideCrossover::kLanes;

// `depth` sections in each of the four lanes, in registers while a block runs.
template <std::size_t depth>
struct Cascade {
  static constexpr std::size_t kSize = depth > 0 ? depth : 1;  // no zero-length arrays
  Quad b0[kSize], b1[kSize], b2[kSize], a1[kSize], a2[kSize], z1[kSize], z2[kSize];

  template <std::size_t max_depth>
  [[gnu::always_inline]] explicit Cascade(const MidSideCrossover::Lanes<max_depth>& l) {
    for (std::size_t d = 0; d < depth; ++d)
      for (std::size_t k = 0; k < kLanes; ++k) {
        const MidSideCrossover::Section& s = l.sections[d][k];
        b0[d][k] = s.b0;
        b1[d][k] = s.b1;
        b2[d][k] = s.b2;
        a1[d][k] = s.a1;
        a2[d][k] = s.a2;
        z1[d][k] = l.z1[d][k];
        z2[d][k] = l.z2[d][k];
      }
  }
  template <std::size_t max_depth>
  [[gnu::always_inline]] void save(MidSideCrossover::Lanes<max_depth>& l) const noexcept {
    for (std::size_t d = 0; d < depth; ++d)
      for (std::size_t k = 0; k < kLanes; ++k) {
        l.z1[d][k] = z1[d][k];
        l.z2[d][k] = z2[d][k];
      }
  }
  // Transposed direct form II, exactly as Biquad::tick, in every lane through its sections.
  [[gnu::always_inline]] Quad run(Quad x) noexcept {
    for (std::size_t d = 0; d < depth; ++d) {
      const Quad y = b0[d] * x + z1[d];
      z1[d] = b1[d] * x - a1[d] * y + z2[d];
      z2[d] = b2[d] * x - a2[d] * y;
      x = y;
    }
    return x;
  }
  // The same in one lane only.
  [[gnu::always_inline]] double run_lane(double x, std::size_t lane) noexcept {
    for (std::size_t d = 0; d < depth; ++d) {
      const double y = b0[d][lane] * x + z1[d][lane];
      z1[d][lane] = b1[d][lane] * x - a1[d][lane] * y + z2[d][lane];
      z2[d][lane] = b2[d][lane] * x - a2[d][lane] * y;
      x = y;
    }
    return x;
  }
};

struct Planes {
  const float* in_l;
  const float* in_r;
  float* low;
  float* high_l;
  float* high_r;
  std::size_t n;
};

// One block. At step t the side's lane l takes frame t - l (lane 0 the new frame, the
// others what the lane before gave at step t - 1), the mid's lanes 0 and 2 frame t, 1 and 3
// frame t - 1. Steps where only some lanes have a frame run those lanes alone.
template <std::size_t depth, bool split, std::size_t max_depth>
[[gnu::always_inline]] inline void run_block(MidSideCrossover::Lanes<1>& mid_lanes,
                                             MidSideCrossover::Lanes<max_depth>& side_lanes, const Planes& p) noexcept {
  Cascade<depth> side(side_lanes);
  Cascade<1> mid(mid_lanes);
  const std::size_t n = p.n;
  const auto side_at = [&](std::size_t i) __attribute__((always_inline)) { return 0.5 * (double{p.in_l[i]} - double{p.in_r[i]}); };
  const auto mid_at = [&](std::size_t i) __attribute__((always_inline)) { return 0.5 * (double{p.in_l[i]} + double{p.in_r[i]}); };
  // The mid above the bass of the last four frames, by frame % 4.
  double above[kLanes] = {};
  const auto keep_mid = [&](std::size_t frame, double low_band, double high_band) __attribute__((always_inline)) {
    p.low[frame] = static_cast<float>(2.0 * low_band);  // the centred bass is L + R's: twice the mid's
    above[frame % kLanes] = high_band;
  };
  const auto emit = [&](std::size_t frame, double side_value) __attribute__((always_inline)) {
    const double m = above[frame % kLanes];
    p.high_l[frame] = static_cast<float>(m + side_value);
    p.high_r[frame] = static_cast<float>(m - side_value);
  };

  if (n < kLanes) {
    // Too short to fill the lanes: each frame through every section in turn.
    for (std::size_t i = 0; i < n; ++i) {
      double s = side_at(i);
      for (std::size_t lane = 0; lane < kLanes; ++lane) s = side.run_lane(s, lane);
      const double m = mid_at(i);
      if constexpr (split)
        keep_mid(i, mid.run_lane(mid.run_lane(m, 0), 1), mid.run_lane(mid.run_lane(m, 2), 3));
      else
        above[i % kLanes] = m;
      emit(i, s);
    }
    side.save(side_lanes);
    mid.save(mid_lanes);
    return;
  }

  Quad m_out{}, s_out{};  // each lane's last output
  const auto mid_step = [&](std::size_t t) __attribute__((always_inline)) {
    const double m = mid_at(t);
    if constexpr (split) {
      if (t == 0) {
        m_out[0] = mid.run_lane(m, 0);
        m_out[2] = mid.run_lane(m, 2);
      } else {
        m_out = mid.run(Quad{m, m_out[0], m, m_out[2]});
        keep_mid(t - 1, m_out[1], m_out[3]);
      }
    } else {
      above[t % kLanes] = m;
    }
  };
  // Filling: lanes 0 .. t take frames t .. 0 (the later lanes first: they read s_out).
  for (std::size_t t = 0; t + 1 < kLanes; ++t) {
    mid_step(t);
    for (std::size_t lane = t; lane > 0; --lane) s_out[lane] = side.run_lane(s_out[lane - 1], lane);
    s_out[0] = side.run_lane(side_at(t), 0);
  }
  for (std::size_t t = kLanes - 1; t < n; ++t) {
    mid_step(t);
    s_out = side.run(Quad{side_at(t), s_out[0], s_out[1], s_out[2]});
    emit(t - (kLanes - 1), s_out[3]);
  }
  if constexpr (split) keep_mid(n - 1, mid.run_lane(m_out[0], 1), mid.run_lane(m_out[2], 3));
  // Draining: lanes t - n + 1 .. 3 finish the last frames.
  for (std::size_t t = n; t < n + kLanes - 1; ++t) {
    for (std::size_t lane = kLanes - 1; lane > t - n; --lane) s_out[lane] = side.run_lane(s_out[lane - 1], lane);
    emit(t - (kLanes - 1), s_out[3]);
  }
  side.save(side_lanes);
  mid.save(mid_lanes);
}

// A loop for each depth of the side's cascade keeps its sections in registers. (No lambda
// here: it would not be compiled for the AVX2 clone.)
using SideLanes = MidSideCrossover::Lanes<MidSideCrossover::kMaxSideSections / kLanes>;
template <bool split>
[[gnu::always_inline]] inline void run_depth(MidSideCrossover::Lanes<1>& mid, SideLanes& side, std::size_t depth,
                                             const Planes& p) noexcept {
  switch (depth) {
    case 0: run_block<0, split>(mid, side, p); break;
    case 1: run_block<1, split>(mid, side, p); break;
    case 2: run_block<2, split>(mid, side, p); break;
    default: run_block<3, split>(mid, side, p); break;
  }
}

SY_VECTOR_CLONES void run_any(MidSideCrossover::Lanes<1>& mid, SideLanes& side, std::size_t depth, bool split,
                              const Planes& p) noexcept {
  if (split)
    run_depth<true>(mid, side, depth, p);
  else
    run_depth<false>(mid, side, depth, p);
}

}  // namespace

void MidSideCrossover::process(ConstAudioView in, std::span<float> low, AudioView high) noexcept {
  if (in.num_frames() == 0) return;
  static_assert(kMaxSideSections / kLanes == 3, "run_any covers depths up to 3");
  const Planes planes{in.channel(0), in.channel(1), low.data(), high.channel(0), high.channel(1), in.num_frames()};
  run_any(mid_, side_, depth_, split_, planes);
}

}  // namespace sy::engine
