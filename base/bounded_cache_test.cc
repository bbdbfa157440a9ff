#include "base/bounded_cache.h"

#include <gtest/gtest.h>

#include <atomic>
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

TEST(BoundedCache, FindOrPutMakesAMissingValueOnce) {
  BoundedCache<std::string, int> cache(4);
  int made = 0;
  auto make = [&made] { return ++made * 10; };
  EXPECT_EQ(cache.find_or_put("a", make), std::make_pair(10, true));
  EXPECT_EQ(cache.find_or_put("a", make), std::make_pair(10, false));
  EXPECT_EQ(made, 1);
  // An entry that has aged into the old generation is found too, not made again.
  for (int i = 0; i < 4; ++i) cache.put(std::to_string(i), i);
  EXPECT_EQ(cache.find_or_put("a", make), std::make_pair(10, false));
  EXPECT_EQ(made, 1);
}

TEST(BoundedCache, FindOrPutMakesOnceAcrossThreads) {
  BoundedCache<int, int> cache(1000);  // room for every key: nothing is evicted
  std::atomic<int> made{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int key = 0; key < 200; ++key) cache.find_or_put(key, [&] { return ++made; });
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(made.load(), 200);  // one make per key, however the threads interleaved
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
