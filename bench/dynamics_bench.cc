// Room, crossover, limiter and loudness meter alone: x_realtime per stage on one core.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "engine/crossover.h"
#include "engine/limiter.h"
#include "engine/loudness.h"
#include "engine/room.h"

namespace {

constexpr double kRate = 48000.0;
constexpr std::size_t kBlock = 1024;
constexpr std::size_t kSeconds = 10;
constexpr std::size_t kFrames = kSeconds * static_cast<std::size_t>(kRate);

std::vector<float> noise(float amplitude, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-amplitude, amplitude);
  std::vector<float> v(kFrames);
  for (float& x : v) x = dist(gen);
  return v;
}

void report(benchmark::State& state) {
  state.counters["x_realtime"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kSeconds), benchmark::Counter::kIsRate);
}

// Processes 10 s of stereo noise per iteration through `stage`.
void run_stage(benchmark::State& state, sy::engine::StereoProcessor& stage, float amplitude) {
  stage.prepare(kRate, kBlock);
  const auto left = noise(amplitude, 1), right = noise(amplitude, 2);
  std::vector<float> out_l(kBlock), out_r(kBlock);
  const sy::engine::ConstAudioView in({left.data(), right.data()}, kFrames);
  const sy::engine::AudioView out({out_l.data(), out_r.data()}, kBlock);
  for (auto _ : state) {
    for (std::size_t pos = 0; pos + kBlock <= kFrames; pos += kBlock) stage.process(in.slice(pos, kBlock), out);
    benchmark::DoNotOptimize(out_l.data());
  }
  report(state);
}

void BM_RoomModerate(benchmark::State& state) {
  sy::engine::Room room(sy::engine::RoomParams{});
  run_stage(state, room, 0.3f);
}

void BM_RoomLargeHall(benchmark::State& state) {
  sy::engine::Room room(sy::engine::RoomParams{0.85, 0.6, 0.5});
  run_stage(state, room, 0.3f);
}

void BM_LimiterTransparent(benchmark::State& state) {
  auto limiter = sy::engine::make_true_peak_limiter(-1.0);
  run_stage(state, *limiter, 0.3f);
}

void BM_LimiterHeavy(benchmark::State& state) {  // 12 dB over full scale
  auto limiter = sy::engine::make_true_peak_limiter(-1.0);
  run_stage(state, *limiter, 4.0f);
}

void BM_CrossoverStereo(benchmark::State& state) {
  sy::engine::LinkwitzRiley4 xo[2];
  for (auto& x : xo) x.prepare(kRate, 150.0);
  const auto left = noise(0.3f, 1), right = noise(0.3f, 2);
  std::vector<float> low(kBlock), high(kBlock);
  for (auto _ : state) {
    for (std::size_t pos = 0; pos + kBlock <= kFrames; pos += kBlock) {
      xo[0].process(std::span(left).subspan(pos, kBlock), low, high);
      xo[1].process(std::span(right).subspan(pos, kBlock), low, high);
    }
    benchmark::DoNotOptimize(low.data());
  }
  report(state);
}

// Both channels in one pass (what the renderer runs).
void BM_CrossoverStereoLockstep(benchmark::State& state) {
  sy::engine::StereoLinkwitzRiley4 xo;
  xo.prepare(kRate, 150.0);
  const auto left = noise(0.3f, 1), right = noise(0.3f, 2);
  std::vector<float> low_l(kBlock), low_r(kBlock), high_l(kBlock), high_r(kBlock);
  const sy::engine::ConstAudioView in({left.data(), right.data()}, kFrames);
  const sy::engine::AudioView low({low_l.data(), low_r.data()}, kBlock);
  const sy::engine::AudioView high({high_l.data(), high_r.data()}, kBlock);
  for (auto _ : state) {
    for (std::size_t pos = 0; pos + kBlock <= kFrames; pos += kBlock) xo.process(in.slice(pos, kBlock), low, high);
    benchmark::DoNotOptimize(low_l.data());
  }
  report(state);
}

void BM_LoudnessMeterWithTruePeak(benchmark::State& state) {
  const auto left = noise(0.3f, 1), right = noise(0.3f, 2);
  for (auto _ : state) {
    sy::engine::LoudnessMeter meter(static_cast<int>(kRate), true);
    meter.add(sy::engine::ConstAudioView({left.data(), right.data()}, kFrames));
    benchmark::DoNotOptimize(meter.integrated_lufs());
  }
  report(state);
}

}  // namespace

BENCHMARK(BM_RoomModerate)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RoomLargeHall)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LimiterTransparent)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LimiterHeavy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CrossoverStereo)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CrossoverStereoLockstep)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoudnessMeterWithTruePeak)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
