#include "service/rate_limiter.h"

#include <gtest/gtest.h>

namespace sy::service {
namespace {

TEST(RateLimiter, BurstThenRefillAtTheRate) {
  RateLimiter limiter(60, 3);  // one a second, three saved
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("a", nullptr, t0));
  double wait = 0;
  EXPECT_FALSE(limiter.allow("a", &wait, t0));
  EXPECT_NEAR(wait, 1.0, 1e-6);
  EXPECT_TRUE(limiter.allow("b", nullptr, t0)) << "clients are separate";
  EXPECT_FALSE(limiter.allow("a", nullptr, t0 + std::chrono::milliseconds(500)));
  EXPECT_TRUE(limiter.allow("a", nullptr, t0 + std::chrono::milliseconds(1600)));
  EXPECT_FALSE(limiter.allow("a", nullptr, t0 + std::chrono::milliseconds(1700)));
  // Ten idle seconds refill only up to the burst.
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += limiter.allow("a", nullptr, t0 + std::chrono::seconds(12));
  EXPECT_EQ(allowed, 3);
}

TEST(RateLimiter, ZeroRateDisables) {
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.allow("a"));
}

}  // namespace
}  // namespace sy::service
