#pragma once
// Binaural filter designs shared between renders: a design takes 0.3-0.7 s (reading and
// resampling the HRTF set is most of it), and a long-lived worker renders many songs with
// the few designs its presets use.
#include <atomic>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "base/bounded_cache.h"
#include "engine/binaural_design.h"

namespace sy::engine {

// One per process (the CLI's render command, a worker pool), handed to every renderer it
// makes (not owned by them). Keyed on the HRTF file, the sample rate and the whole design.
// The cache's lock is never held while designing: threads asking for a design in progress
// wait for that one design; threads asking for different designs design in parallel.
class BinauralFilterCache {
 public:
  using Filters = std::shared_ptr<const BinauralFilters>;
  // Makes the filters for (HRTF file, sample rate, design); throws when it cannot.
  using Designer = std::function<BinauralFilters(const std::string& sofa_path, double sample_rate,
                                                 const BinauralDecoderDesign& design)>;

  // `capacity` designs are kept (up to twice that, see BoundedCache); a renderer keeps its
  // own designs alive while it runs, whatever the cache evicts.
  explicit BinauralFilterCache(std::size_t capacity = 8, Designer designer = design_from_file);
  BinauralFilterCache(const BinauralFilterCache&) = delete;
  BinauralFilterCache& operator=(const BinauralFilterCache&) = delete;

  // The designed filters, designing them on first use. A failed design is not kept: its
  // error reaches every thread that waited for it, and the next call tries again.
  Filters get(const std::string& sofa_path, double sample_rate, const BinauralDecoderDesign& design);

  // Designs are also read from and written to `dir` (see filter_store.h), so the next
  // process on this machine skips them. Empty: memory only. Safe to call while designing.
  void keep_on_disk(std::string dir);

  // How many designs this cache has run (for tests and logs); designs read from disk count
  // in designs_loaded().
  std::size_t designs_made() const noexcept { return designs_made_.load(); }
  std::size_t designs_loaded() const noexcept { return designs_loaded_.load(); }

  // Reads the HRTF set at `sample_rate` and designs from it.
  static BinauralFilters design_from_file(const std::string& sofa_path, double sample_rate,
                                          const BinauralDecoderDesign& design);

 private:
  struct Key {
    std::string sofa_path;
    double sample_rate;
    BinauralDecoderDesign design;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const noexcept;
  };

  Designer designer_;
  base::BoundedCache<Key, std::shared_future<Filters>, KeyHash> designs_;
  std::atomic<std::size_t> designs_made_{0};
  std::atomic<std::size_t> designs_loaded_{0};
  std::mutex disk_mutex_;
  std::string disk_dir_;
};

}  // namespace sy::engine
