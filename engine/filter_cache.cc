#include "engine/filter_cache.h"

#include <exception>
#include <optional>
#include <utility>

#include "base/log.h"
#include "engine/filter_store.h"
#include "engine/hrtf.h"

namespace sy::engine {

std::size_t BinauralFilterCache::KeyHash::operator()(const Key& key) const noexcept {
  std::size_t seed = hash_value(key.design);
  seed ^= std::hash<std::string>{}(key.sofa_path) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  seed ^= std::hash<double>{}(key.sample_rate) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  return seed;
}

BinauralFilterCache::BinauralFilterCache(std::size_t capacity, Designer designer)
    : designer_(std::move(designer)), designs_(capacity) {}

BinauralFilters BinauralFilterCache::design_from_file(const std::string& sofa_path, double sample_rate,
                                                      const BinauralDecoderDesign& design) {
  HrtfSet hrtf(sofa_path, sample_rate);
  return design_binaural_filters(hrtf, design);
}

void BinauralFilterCache::keep_on_disk(std::string dir) {
  std::lock_guard lock(disk_mutex_);
  disk_dir_ = std::move(dir);
}

BinauralFilterCache::Filters BinauralFilterCache::get(const std::string& sofa_path, double sample_rate,
                                                      const BinauralDecoderDesign& design) {
  Key key{sofa_path, sample_rate, design};
  // Under the cache's lock only the promise is placed; the design runs after it is released.
  std::promise<Filters> promise;
  auto [pending, mine] = designs_.find_or_put(key, [&promise] { return promise.get_future().share(); });
  if (mine) {
    try {
      std::string dir;
      {
        std::lock_guard lock(disk_mutex_);
        dir = disk_dir_;
      }
      const std::string stored_key = dir.empty() ? std::string() : stored_filters_key(sofa_path, sample_rate, design);
      std::shared_ptr<const BinauralFilters> filters;
      // The disk is a shortcut only: a store that cannot be read or written never fails a
      // render that could design its filters.
      std::optional<BinauralFilters> stored;
      try {
        stored = load_stored_filters(dir, stored_key);
      } catch (const std::exception& e) {
        base::log::warn("cannot read stored filters, designing them", {{"error", e.what()}});
      }
      if (stored) {
        filters = std::make_shared<const BinauralFilters>(std::move(*stored));
        designs_loaded_.fetch_add(1);
      } else {
        filters = std::make_shared<const BinauralFilters>(designer_(sofa_path, sample_rate, design));
        designs_made_.fetch_add(1);
        try {
          store_filters(dir, stored_key, *filters);
        } catch (const std::exception& e) {
          base::log::warn("cannot store designed filters", {{"error", e.what()}});
        }
      }
      promise.set_value(std::move(filters));
    } catch (...) {
      designs_.erase(key);
      promise.set_exception(std::current_exception());
    }
  }
  return pending.get();
}

}  // namespace sy::engine
