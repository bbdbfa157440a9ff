#pragma once
// A job as clients see it (the JSON of GET /api/v1/jobs/{id} and of its events), with the
// serialized view and the signed download URL cached: clients poll far more often than a
// job changes.
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/bounded_cache.h"
#include "queue/job_queue.h"
#include "storage/object_store.h"

namespace sy::service {

// "2024-05-01T12:00:00Z"
std::string iso8601(storage::Clock::time_point t);

class JobViews {
 public:
  JobViews(storage::ObjectStore& store, std::chrono::seconds download_url_ttl);

  nlohmann::json view(const queue::Job& job);
  // view(job) serialized; reused while the row and its download URL stay the same.
  std::string body(const queue::Job& job);
  void forget(const std::string& id);

 private:
  storage::PresignedRequest download_url(const std::string& key);

  storage::ObjectStore& store_;
  std::chrono::seconds download_url_ttl_;
  base::BoundedCache<std::string, std::pair<storage::Clock::time_point, storage::PresignedRequest>>
      url_cache_{10000};
  struct CachedView {
    queue::Job job;   // the row the body was built from
    std::string url;  // the download URL in it (done jobs)
    std::string body;
  };
  base::BoundedCache<std::string, std::shared_ptr<const CachedView>> view_cache_{10000};
};

}  // namespace sy::service
