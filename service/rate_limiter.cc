#include "service/rate_limiter.h"

#include <algorithm>

namespace sy::service {

RateLimiter::RateLimiter(double per_minute, double burst)
    : rate_per_second_(per_minute / 60.0), burst_(std::max(burst, 1.0)) {}

bool RateLimiter::allow(const std::string& client, double* retry_after_seconds,
                        Clock::time_point now) {
  if (rate_per_second_ <= 0) return true;
  std::lock_guard lock(mutex_);
  // Full buckets carry no information: drop them now and then so the map stays small.
  if (now - last_prune_ > std::chrono::minutes(5)) {
    last_prune_ = now;
    std::erase_if(buckets_, [&](const auto& kv) {
      const double age = std::chrono::duration<double>(now - kv.second.updated).count();
      return kv.second.tokens + age * rate_per_second_ >= burst_;
    });
  }
  auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_per_second_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  if (retry_after_seconds) *retry_after_seconds = (1.0 - b.tokens) / rate_per_second_;
  return false;
}

}  // namespace sy::service
