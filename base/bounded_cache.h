#pragma once
// A thread-safe map of bounded size for values that are cheap to rebuild (signed URLs, job
// views, queue rows, HRTF filter designs). Hand-written: neither the standard library nor
// Debian's Boost 1.74 has a concurrent bounded map.
//
// Two generations instead of an LRU list: entries go into `young`; when it reaches the
// capacity, `young` becomes `old` and the previous `old` is dropped. A hit in `old` moves the
// entry back to `young`. Every operation is O(1), a lookup costs one lock and at most two
// hash probes, and the cache never holds more than 2 x capacity entries, while entries in use
// survive a turnover (a plain "clear when full" map dropped them all at once).
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace sy::base {

template <class Key, class Value, class Hash = std::hash<Key>, class Equal = std::equal_to<Key>>
class BoundedCache {
 public:
  explicit BoundedCache(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  BoundedCache(const BoundedCache&) = delete;
  BoundedCache& operator=(const BoundedCache&) = delete;

  // A copy of the value (values are small or shared_ptrs), or nullopt.
  std::optional<Value> find(const Key& key) {
    std::lock_guard lock(mutex_);
    if (auto it = young_.find(key); it != young_.end()) return it->second;
    auto it = old_.find(key);
    if (it == old_.end()) return std::nullopt;
    Value value = it->second;
    auto node = old_.extract(it);
    insert_young(std::move(node.key()), std::move(node.mapped()));
    return value;
  }

  // The value under `key`, or else `make()`'s, stored and returned, and whether it was made.
  // The check and the insert are one step under the lock, so of several threads asking for
  // a missing key exactly one makes it; make() runs under that lock and must be cheap (to
  // share something slow to build, store a std::shared_future and fulfil it after).
  template <class Make>
  std::pair<Value, bool> find_or_put(const Key& key, Make&& make) {
    std::lock_guard lock(mutex_);
    if (auto it = young_.find(key); it != young_.end()) return {it->second, false};
    if (auto it = old_.find(key); it != old_.end()) {
      Value value = it->second;
      auto node = old_.extract(it);
      insert_young(std::move(node.key()), std::move(node.mapped()));
      return {std::move(value), false};
    }
    Value value = make();
    insert_young(key, value);
    return {std::move(value), true};
  }

  void put(Key key, Value value) {
    std::lock_guard lock(mutex_);
    old_.erase(key);
    if (auto it = young_.find(key); it != young_.end()) {
      it->second = std::move(value);
      return;
    }
    insert_young(std::move(key), std::move(value));
  }

  void erase(const Key& key) {
    std::lock_guard lock(mutex_);
    young_.erase(key);
    old_.erase(key);
  }

  void clear() {
    std::lock_guard lock(mutex_);
    young_.clear();
    old_.clear();
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return young_.size() + old_.size();
  }
  std::size_t capacity() const { return capacity_; }

 private:
  using Map = std::unordered_map<Key, Value, Hash, Equal>;

  void insert_young(Key key, Value value) {
    if (young_.size() >= capacity_) {
      old_ = std::move(young_);
      young_ = Map();
    }
    young_.emplace(std::move(key), std::move(value));
  }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  Map young_;
  Map old_;
};

}  // namespace sy::base
