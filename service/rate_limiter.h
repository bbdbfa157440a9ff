#pragma once
// Per-client token buckets for job creation. Hand-written: a map and a mutex are all it takes.
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sy::service {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `per_minute` tokens refill each minute, up to `burst` saved. per_minute <= 0 disables it.
  RateLimiter(double per_minute, double burst);
  // Takes a token for `client`; false (and the seconds to wait) when it has none left.
  bool allow(const std::string& client, double* retry_after_seconds = nullptr,
             Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  double rate_per_second_;
  double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point last_prune_{};
};

}  // namespace sy::service
