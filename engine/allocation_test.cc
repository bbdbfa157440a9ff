// process() never allocates: every processor runs seconds of audio in uneven blocks while
// a counter that replaces operator new and malloc watches this thread.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/audio_buffer.h"
#include "engine/binaural_decoder.h"
#include "engine/convolver.h"
#include "engine/crossover.h"
#include "engine/filter_cache.h"
#include "engine/loudness.h"
#include "engine/presets.h"
#include "engine/renderer.h"
#include "engine/room.h"
#include "engine/testing/allocation_counter.h"

namespace sy::engine {
namespace {

using sy::testing::CountAllocations;

constexpr double kRate = 48000.0;
constexpr std::size_t kMaxBlock = 4096;
// Uneven block sizes, below and above every processor's internal block.
constexpr std::size_t kBlocks[] = {1, 64, 333, 512, 1000, 4096, 17};

// Two seconds of loud stereo noise, enough for every internal block, delay line and
// gating block (100 ms) of the meter to turn over.
AudioBuffer noise(std::size_t frames, float amplitude) {
  AudioBuffer b(2, frames);
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(-amplitude, amplitude);
  for (std::size_t c = 0; c < 2; ++c)
    for (float& v : b.view().span(c)) v = dist(gen);
  return b;
}

// Runs `frames` frames through `process(in, out)` in the uneven blocks; returns the
// allocations it made.
template <class Process>
std::size_t allocations_while(std::size_t frames, Process&& process) {
  const AudioBuffer in = noise(frames, 0.9f);
  AudioBuffer out(2, frames);
  const CountAllocations counter;
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < frames; ++i) {
    const std::size_t n = std::min(kBlocks[i % std::size(kBlocks)], frames - pos);
    process(in.view().slice(pos, n), out.view().slice(pos, n));
    pos += n;
  }
  return counter.count();
}

std::size_t processor_allocations(StereoProcessor& p, double seconds = 2.0) {
  p.prepare(kRate, kMaxBlock);
  return allocations_while(static_cast<std::size_t>(seconds * kRate),
                           [&p](ConstAudioView in, AudioView out) { p.process(in, out); });
}

TEST(AllocationCounterTest, SeesAllocationsOnItsThreadOnly) {
  std::size_t seen = 0;
  {
    const CountAllocations counter;
    auto* volatile p = new int(3);
    delete p;
    seen = counter.count();
  }
  EXPECT_EQ(seen, 1u);
  if (!sy::testing::counts_c_allocations()) GTEST_SKIP() << "sanitizer build: malloc is not counted";
  {
    const CountAllocations counter;
    void* (*volatile allocate)(std::size_t) = std::malloc;  // not optimised away
    std::free(allocate(64));
    seen = counter.count();
  }
  EXPECT_EQ(seen, 1u);
  {
    const CountAllocations counter;
    std::thread([] { std::make_unique<std::vector<int>>(100); }).join();
    seen = counter.count();
  }
  EXPECT_LE(seen, 2u);  // starting the thread may allocate here; the thread's own do not count
}

struct RendererCase {
  const char* name;
  EngineSettings settings;
};

std::vector<RendererCase> renderer_cases() {
  std::vector<RendererCase> cases;
  for (const Preset& p : presets()) cases.push_back({p.name.c_str(), p.settings});
  EngineSettings dry;
  dry.reverb = 0;
  cases.push_back({"dry", dry});
  EngineSettings elevated = dry;
  elevated.elevation_degrees = 30;
  cases.push_back({"elevated", elevated});
  EngineSettings eight = dry;
  eight.trajectory = Trajectory::kFigureEight;
  cases.push_back({"figure-eight", eight});
  EngineSettings full_band;
  full_band.bass_crossover_hz = 0;
  cases.push_back({"no-crossover", full_band});
  EngineSettings curves;
  curves.period_curve = {{0, 8}, {1, 4}, {3, 10}};
  curves.width_curve = {{0, 30}, {2, 90}};
  curves.elevation_curve = {{0, 0}, {2, 20}};
  curves.reverb_curve = {{0, 0.1}, {2, 0.6}};
  curves.fade_seconds = 1;
  cases.push_back({"curves-and-fade", curves});
  EngineSettings centre;
  centre.vocals = Vocals::kCenter;
  cases.push_back({"vocals-center", centre});
  EngineSettings narrow = dry;
  narrow.vocals = Vocals::kNarrow;
  cases.push_back({"vocals-narrow", narrow});
  return cases;
}

TEST(ProcessorAllocationTest, RendererDoesNotAllocate) {
  BinauralFilterCache filters;
  for (const RendererCase& c : renderer_cases()) {
    auto renderer = make_renderer(c.settings, kDefaultSofaPath, &filters);
    EXPECT_EQ(processor_allocations(*renderer), 0u) << c.name;
  }
}

TEST(ProcessorAllocationTest, RoomDoesNotAllocate) {
  for (const RoomParams& params : {RoomParams{}, RoomParams{0.0, 0.0, 1.0}, RoomParams{1.0, 1.0, 0.5}}) {
    Room room(params);
    EXPECT_EQ(processor_allocations(room), 0u) << params.size;
  }
}

TEST(ProcessorAllocationTest, LimiterDoesNotAllocate) {
  for (double ceiling : {-1.0, -9.0}) {  // mostly transparent, limiting hard
    auto limiter = make_true_peak_limiter(ceiling);
    EXPECT_EQ(processor_allocations(*limiter), 0u) << ceiling;
  }
}

TEST(ProcessorAllocationTest, GainDoesNotAllocate) {
  GainProcessor gain(0.5f);
  EXPECT_EQ(processor_allocations(gain), 0u);
}

TEST(ProcessorAllocationTest, CrossoverDoesNotAllocate) {
  StereoLinkwitzRiley4 stereo;
  stereo.prepare(kRate, 150.0);
  AudioBuffer high(2, 2 * static_cast<std::size_t>(kRate));
  EXPECT_EQ(allocations_while(high.num_frames(),
                              [&](ConstAudioView in, AudioView low) {
                                stereo.process(in, low, high.view().first(in.num_frames()));
                              }),
            0u);
  LinkwitzRiley4 mono;
  mono.prepare(kRate, 150.0);
  EXPECT_EQ(allocations_while(high.num_frames(),
                              [&](ConstAudioView in, AudioView low) {
                                mono.process(in.span(0), low.span(0), high.view().span(0).first(in.num_frames()));
                              }),
            0u);
}

TEST(ProcessorAllocationTest, ConvolverDoesNotAllocate) {
  constexpr std::size_t kBlock = 256;
  PartitionedConvolver convolver(kBlock, 16, 2);
  for (std::size_t i = 0; i < 16; ++i) {
    const AudioBuffer response = noise(700, 0.1f);  // three partitions
    convolver.set_filter(i % 2, i, response.view().span(0));
  }
  const AudioBuffer in = noise(kBlock, 0.5f);
  AudioBuffer sh(16, kBlock), out(2, kBlock);
  for (std::size_t c = 0; c < 16; ++c) std::copy_n(in.channel(c % 2), kBlock, sh.channel(c));
  const CountAllocations counter;
  for (int i = 0; i < 400; ++i) convolver.process(sh.view(), out.view());
  EXPECT_EQ(counter.count(), 0u);
}

TEST(ProcessorAllocationTest, BinauralDecoderDoesNotAllocate) {
  BinauralFilterCache cache;
  for (AmbisonicBasis basis : {AmbisonicBasis::kHorizontal, AmbisonicBasis::kSphere}) {
    BinauralDecoderDesign design;
    design.basis = basis;
    constexpr std::size_t kBlock = 512;
    BinauralDecoder decoder(*cache.get(kDefaultSofaPath, kRate, design), kBlock);
    const AudioBuffer in = noise(kBlock, 0.5f);
    AudioBuffer sh(ambisonic_channels(basis), kBlock), ears(2, kBlock);
    for (std::size_t c = 0; c < sh.num_channels(); ++c) std::copy_n(in.channel(c % 2), kBlock, sh.channel(c));
    const CountAllocations counter;
    for (int i = 0; i < 200; ++i) decoder.process(sh.view(), ears.view());
    EXPECT_EQ(counter.count(), 0u) << static_cast<int>(basis);
  }
}

// The meter is fed from the render's DSP loop for the whole song.
TEST(ProcessorAllocationTest, LoudnessMeterDoesNotAllocate) {
  for (bool true_peak : {false, true}) {
    LoudnessMeter meter(static_cast<int>(kRate), true_peak);
    const AudioBuffer audio = noise(10 * static_cast<std::size_t>(kRate), 0.5f);
    const CountAllocations counter;
    for (std::size_t pos = 0; pos < audio.num_frames(); pos += 1024)
      meter.add(audio.view().slice(pos, std::min<std::size_t>(1024, audio.num_frames() - pos)));
    EXPECT_EQ(counter.count(), 0u) << "true peak " << true_peak;
  }
}

}  // namespace
}  // namespace sy::engine
