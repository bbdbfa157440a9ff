#include "base/bounded_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace sy::base {
namespace {

TEST(BoundedCache, FindsWhatWasPutAndForgetsWhatWasErased) {
  BoundedCache<std::string, int> cache(4);
  EXPECT_FALSE(cache.find("a"));
  cache.put("a", 1);
  cache.put("a", 2);  // replaces
  EXPECT_EQ(cache.find("a"), 2);
  cache.erase("a");
  EXPECT_FALSE(cache.find("a"));
}

TEST(BoundedCache, NeverHoldsMoreThanTwiceItsCapacity) {
  BoundedCache<int, int> cache(100);
  for (int i = 0; i < 100000; ++i) {
    cache.put(i, i);
    ASSERT_LE(cache.size(), 200u);
  }
  // The newest entries are still there.
  EXPECT_EQ(cache.find(99999), 99999);
  EXPECT_FALSE(cache.find(0));
}

TEST(BoundedCache, AnEntryInUseSurvivesTurnovers) {
  BoundedCache<int, int> cache(10);
  cache.put(-1, 42);
  for (int i = 0; i < 1000; ++i) {
    cache.put(i, i);
    ASSERT_EQ(cache.find(-1), 42) << "lost after " << i << " other entries";
  }
}

TEST(BoundedCache, IsSafeUnderConcurrentUse) {
  BoundedCache<int, std::string> cache(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 20000; ++i) {
        const int key = (i * 7 + t) % 300;
        if (i % 3 == 0) cache.put(key, std::to_string(key));
        if (auto v = cache.find(key); v) { ASSERT_EQ(*v, std::to_string(key)); }
        if (i % 101 == 0) cache.erase(key);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.size(), 128u);
}

}  // namespace
}  // namespace sy::base
