#pragma once
// What the API is configured with, and what it tells the rest of the process.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "io/decoder.h"

namespace sy::service {

struct ApiOptions {
  std::int64_t max_upload_bytes = 200LL * 1024 * 1024;
  io::InputLimits limits;
  std::chrono::seconds upload_url_ttl{15 * 60};
  std::chrono::seconds download_url_ttl{60 * 60};
  int max_attempts = 3;
  std::vector<std::string> cors_origins;  // exact origins; never "*"
  double create_per_minute = 30;          // per client; 0 disables the limit
  double create_burst = 10;
  std::string s3_events_secret;           // empty: the S3 event route is off
  std::string s3_bucket;                  // the bucket S3 notifications must name
  std::filesystem::path data_dir;         // whose free space /readyz and uploads check
  std::int64_t min_free_bytes = 0;        // 0: no check
};

struct ApiHooks {
  std::function<void()> job_queued;                      // wake a worker
  std::function<void(const std::string&)> job_deleted;   // stop its render
  std::function<int()> busy_workers;
  std::function<bool()> ready;                           // false while starting or stopping
};

}  // namespace sy::service
