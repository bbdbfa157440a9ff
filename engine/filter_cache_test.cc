#include "engine/filter_cache.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/filter_store.h"

#include "engine/renderer.h"

namespace sy::engine {
namespace {

using namespace std::chrono_literals;

// A stand-in design that costs nothing, for tests about the cache's bookkeeping; the real
// designer is tested below and in binaural_design_test.cc.
BinauralFilters tiny_filters(const std::string&, double, const BinauralDecoderDesign& design) {
  BinauralFilters f;
  f.basis = design.basis;
  f.channel_filters.assign(ambisonic_channels(design.basis), std::vector<float>(4, 0.25f));
  f.loudness_correction.assign(ambisonic_channels(design.basis), 0.0f);
  return f;
}

TEST(FilterCacheTest, ConcurrentRequestsForOneDesignShareOneRealDesign) {
  BinauralFilterCache cache;
  BinauralDecoderDesign design;
  design.crossover_hz = 150;
  std::vector<BinauralFilterCache::Filters> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got) threads.emplace_back([&] { g = cache.get(kDefaultSofaPath, 48000.0, design); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(cache.designs_made(), 1u);
  for (const auto& g : got) EXPECT_EQ(g, got[0]);
  EXPECT_EQ(got[0]->channel_filters.size(), 7u);
  EXPECT_GT(got[0]->arrival_delay, 0u);  // a real design, from the KEMAR set
}

// A thread asking for a design that another thread is making waits for it instead of
// making a second one.
TEST(FilterCacheTest, ASecondCallerWaitsForTheDesignInProgress) {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false, release = false;
  std::atomic<int> calls{0};
  BinauralFilterCache cache(8, [&](const std::string& path, double rate, const BinauralDecoderDesign& d) {
    ++calls;
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, 10s, [&] { return release; });
    return tiny_filters(path, rate, d);
  });
  const BinauralDecoderDesign design;
  BinauralFilterCache::Filters first, second;
  std::thread a([&] { first = cache.get("a.sofa", 48000.0, design); });
  {
    std::unique_lock lock(mutex);
    cv.wait_for(lock, 10s, [&] { return entered; });
  }
  std::thread b([&] { second = cache.get("a.sofa", 48000.0, design); });
  std::this_thread::sleep_for(100ms);  // b asks while a is still designing
  {
    const std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  a.join();
  b.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(first, second);
}

// The cache's lock is not held while designing: two different designs run at the same time
// (each waits until both have started; under one lock they never would).
TEST(FilterCacheTest, DifferentDesignsAreMadeInParallel) {
  std::mutex mutex;
  std::condition_variable cv;
  int started = 0;
  bool both_started = false;
  BinauralFilterCache cache(8, [&](const std::string& path, double rate, const BinauralDecoderDesign& d) {
    std::unique_lock lock(mutex);
    ++started;
    cv.notify_all();
    both_started = cv.wait_for(lock, 10s, [&] { return started == 2; });
    return tiny_filters(path, rate, d);
  });
  BinauralDecoderDesign narrow, wide;
  wide.pair_width_degrees = 120;
  std::thread a([&] { cache.get("a.sofa", 48000.0, narrow); });
  std::thread b([&] { cache.get("a.sofa", 48000.0, wide); });
  a.join();
  b.join();
  EXPECT_TRUE(both_started);
  EXPECT_EQ(cache.designs_made(), 2u);
}

// Every field that changes the filters, the HRTF file and the rate make a different entry.
TEST(FilterCacheTest, KeyIsTheWholeDesignTheFileAndTheRate) {
  BinauralFilterCache cache(64, tiny_filters);
  const BinauralDecoderDesign base;
  std::vector<std::function<void(BinauralDecoderDesign&)>> changes = {
      [](BinauralDecoderDesign& d) { d.basis = AmbisonicBasis::kSphere; },
      [](BinauralDecoderDesign& d) { d.horizontal_speakers = 12; },
      [](BinauralDecoderDesign& d) { d.sphere_speakers = 36; },
      [](BinauralDecoderDesign& d) { d.max_re = false; },
      [](BinauralDecoderDesign& d) { d.level_match_low_hz = 150; },
      [](BinauralDecoderDesign& d) { d.level_match_high_hz = 900; },
      [](BinauralDecoderDesign& d) { d.max_length = 256; },
      [](BinauralDecoderDesign& d) { d.diffuse_field_eq = false; },
      [](BinauralDecoderDesign& d) { d.equal_loudness = false; },
      [](BinauralDecoderDesign& d) { d.pair_width_degrees = 90; },
      [](BinauralDecoderDesign& d) { d.crossover_hz = 150; },
      [](BinauralDecoderDesign& d) { d.magnitude_fit_floor = 0.1; },
      [](BinauralDecoderDesign& d) { d.orbit_elevation_degrees = 30; },
      [](BinauralDecoderDesign& d) { d.orbit_weight = 0.8; },
  };
  const auto base_filters = cache.get("a.sofa", 48000.0, base);
  std::size_t expected = 1;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    BinauralDecoderDesign d = base;
    changes[i](d);
    EXPECT_NE(cache.get("a.sofa", 48000.0, d), base_filters) << "field " << i;
    EXPECT_EQ(cache.designs_made(), ++expected) << "field " << i;
  }
  EXPECT_NE(cache.get("b.sofa", 48000.0, base), base_filters);
  EXPECT_NE(cache.get("a.sofa", 44100.0, base), base_filters);
  EXPECT_EQ(cache.designs_made(), expected + 2);
  EXPECT_EQ(cache.get("a.sofa", 48000.0, base), base_filters);  // still there
  EXPECT_EQ(cache.designs_made(), expected + 2);
}

TEST(FilterCacheTest, AFailedDesignIsNotKept) {
  int calls = 0;
  BinauralFilterCache cache(8, [&](const std::string& path, double rate, const BinauralDecoderDesign& d) {
    if (++calls == 1) throw std::runtime_error("disk hiccup");
    return tiny_filters(path, rate, d);
  });
  EXPECT_THROW(cache.get("a.sofa", 48000.0, {}), std::runtime_error);
  EXPECT_NE(cache.get("a.sofa", 48000.0, {}), nullptr);
  EXPECT_EQ(calls, 2);
  EXPECT_THROW(BinauralFilterCache().get("/nonexistent/none.sofa", 48000.0, {}), std::runtime_error);
}

// Renderers handed the same cache design once per distinct design.
TEST(FilterCacheTest, RenderersShareTheirCachesDesigns) {
  BinauralFilterCache cache;
  EngineSettings classic;
  auto a = make_renderer(classic, kDefaultSofaPath, &cache);
  auto b = make_renderer(classic, kDefaultSofaPath, &cache);
  a->prepare(48000.0, 1024);
  b->prepare(48000.0, 1024);
  EXPECT_EQ(cache.designs_made(), 1u);
  EngineSettings wide = classic;
  wide.width_degrees = 120;
  make_renderer(wide, kDefaultSofaPath, &cache)->prepare(48000.0, 1024);
  EXPECT_EQ(cache.designs_made(), 2u);
}

}  // namespace
}  // namespace sy::engine

namespace sy::engine {
namespace {

void expect_same_filters(const BinauralFilters& a, const BinauralFilters& b) {
  EXPECT_EQ(a.basis, b.basis);
  EXPECT_EQ(a.channel_filters, b.channel_filters);
  EXPECT_EQ(a.low_frequency_delay, b.low_frequency_delay);
  EXPECT_EQ(a.arrival_delay, b.arrival_delay);
  EXPECT_EQ(a.bass_gain, b.bass_gain);
  EXPECT_EQ(a.loudness_correction, b.loudness_correction);
  ASSERT_EQ(a.side_equaliser.size(), b.side_equaliser.size());
  for (std::size_t i = 0; i < a.side_equaliser.size(); ++i) {
    EXPECT_EQ(a.side_equaliser[i].b0, b.side_equaliser[i].b0);
    EXPECT_EQ(a.side_equaliser[i].a2, b.side_equaliser[i].a2);
  }
}

// A store folder of its own for one test, with the default design made and kept in it.
struct StoredDesign {
  explicit StoredDesign(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    design.crossover_hz = 150;
    cache.keep_on_disk(dir.string());
    made = cache.get(kDefaultSofaPath, 44100.0, design);
  }
  ~StoredDesign() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path dir;
  BinauralDecoderDesign design;
  BinauralFilterCache cache;
  std::shared_ptr<const BinauralFilters> made;
};

// The next process reads the design the first one made, bit for bit; a damaged or foreign
// file is designed again and replaced, never used.
TEST(FilterCacheTest, DesignsKeptOnDiskAreReadBackByTheNextCache) {
  const StoredDesign stored("sy-filter-store");
  const auto& [dir, design, first, made] = stored;
  EXPECT_EQ(first.designs_made(), 1u);

  BinauralFilterCache second;
  second.keep_on_disk(dir.string());
  const auto loaded = second.get(kDefaultSofaPath, 44100.0, design);
  EXPECT_EQ(second.designs_made(), 0u);
  EXPECT_EQ(second.designs_loaded(), 1u);
  expect_same_filters(*made, *loaded);

  // Another design is another file.
  BinauralDecoderDesign other = design;
  other.pair_width_degrees = 90;
  BinauralFilterCache third(8, tiny_filters);
  third.keep_on_disk(dir.string());
  third.get(kDefaultSofaPath, 44100.0, other);
  EXPECT_EQ(third.designs_made(), 1u);

  // Cut every stored file short: read as missing, designed again.
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    std::filesystem::resize_file(entry.path(), std::filesystem::file_size(entry.path()) / 2);
  BinauralFilterCache fourth;
  fourth.keep_on_disk(dir.string());
  expect_same_filters(*made, *fourth.get(kDefaultSofaPath, 44100.0, design));
  EXPECT_EQ(fourth.designs_made(), 1u);
  EXPECT_EQ(fourth.designs_loaded(), 0u);
}

// The sphere's design follows the circle the source travels: a render on another tilt or
// with another weighting never reads this one's stored filters.
TEST(FilterCacheTest, StoredKeyHoldsTheOrbitAndTheFitWeighting) {
  BinauralDecoderDesign design;
  design.basis = AmbisonicBasis::kSphere;
  design.magnitude_fit_floor = 0.1;
  design.orbit_elevation_degrees = 30;
  design.orbit_weight = 0.8;
  const std::string key = stored_filters_key(kDefaultSofaPath, 44100.0, design);
  ASSERT_FALSE(key.empty());
  for (const auto& change : std::vector<std::function<void(BinauralDecoderDesign&)>>{
           [](BinauralDecoderDesign& d) { d.orbit_elevation_degrees = 20; },
           [](BinauralDecoderDesign& d) { d.orbit_weight = 0.5; },
           [](BinauralDecoderDesign& d) { d.magnitude_fit_floor = 0; }}) {
    BinauralDecoderDesign other = design;
    change(other);
    EXPECT_NE(stored_filters_key(kDefaultSofaPath, 44100.0, other), key);
  }
}

// A file that passes the key check may still be damaged or forged: values the renderer sizes
// buffers and loops from are checked, and such a file is designed again, never rendered with.
TEST(FilterCacheTest, StoredFiltersWithImpossibleValuesAreDesignedAgain) {
  const StoredDesign stored("sy-filter-forged");
  const auto& [dir, design, first, made] = stored;
  const std::string key = stored_filters_key(kDefaultSofaPath, 44100.0, design);
  ASSERT_FALSE(key.empty());
  ASSERT_TRUE(load_stored_filters(dir.string(), key).has_value());

  const std::vector<std::pair<const char*, std::function<void(BinauralFilters&)>>> forgeries = {
      {"bass delay that wraps a size", [](BinauralFilters& f) { f.low_frequency_delay = std::numeric_limits<std::size_t>::max() - 100; }},
      {"arrival past the filter", [](BinauralFilters& f) { f.arrival_delay = f.channel_filters[0].size() * 1000; }},
      {"a NaN tap", [](BinauralFilters& f) { f.channel_filters[1][3] = std::numeric_limits<float>::quiet_NaN(); }},
      {"filters of different lengths", [](BinauralFilters& f) { f.channel_filters[2].resize(7); }},
      {"an empty filter set", [](BinauralFilters& f) { f.channel_filters.front().clear(); }},
      {"a correction per channel missing", [](BinauralFilters& f) { f.loudness_correction.pop_back(); }},
      {"an infinite bass gain", [](BinauralFilters& f) { f.bass_gain = std::numeric_limits<float>::infinity(); }},
      {"too many side sections", [](BinauralFilters& f) { f.side_equaliser.resize(64); }},
  };
  for (const auto& [what, forge] : forgeries) {
    BinauralFilters forged = *made;
    forge(forged);
    store_filters(dir.string(), key, forged);
    EXPECT_FALSE(load_stored_filters(dir.string(), key).has_value()) << what;
    BinauralFilterCache next;
    next.keep_on_disk(dir.string());
    expect_same_filters(*made, *next.get(kDefaultSofaPath, 44100.0, design));
    EXPECT_EQ(next.designs_made(), 1u) << what;
    EXPECT_EQ(next.designs_loaded(), 0u) << what;
  }
}

}  // namespace
}  // namespace sy::engine
