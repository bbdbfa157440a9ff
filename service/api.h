#pragma once
// The HTTP API of PRODUCT.md as plain functions from Request to Response: jobs, events,
// presets, OpenAPI, health, metrics, CORS, and the embedded object store's routes.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

#include "base/bounded_cache.h"
#include "io/decoder.h"
#include "queue/job_queue.h"
#include "service/http_types.h"
#include "service/metrics.h"
#include "service/rate_limiter.h"
#include "storage/local/local_store.h"

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
};

// What the API tells the rest of the process.
struct ApiHooks {
  std::function<void()> job_queued;                      // wake a worker
  std::function<void(const std::string&)> job_deleted;   // stop its render
  std::function<int()> busy_workers;
  std::function<bool()> ready;                           // false while starting or stopping
};

class Api {
 public:
  // `local_store` is the embedded store when it serves /store/ (null with S3).
  Api(ApiOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
      storage::LocalObjectStore* local_store, Metrics& metrics, ApiHooks hooks = {});

  // Every route except the body of a store PUT, which the session streams.
  Response handle(const Request& request);

  // A PUT to /store/...: checks signature, size and that the job still awaits its upload.
  // On success fills `key` and `size` and returns nullopt; else the response to send.
  std::optional<Response> authorize_upload(const Request& request, std::string* key,
                                           std::int64_t* size);
  // The response after the body was stored (or failed to be).
  Response upload_finished(const Request& request, const std::string& key, std::int64_t bytes);

  // The object-created event, from the embedded store or from S3 notifications.
  void on_object_created(const storage::ObjectCreated& event);

  // A job's current view for SSE; nullopt once the job is gone.
  std::optional<nlohmann::json> job_view(const std::string& id);

  // Adds CORS headers to `response` when the request's Origin is allowed.
  void apply_cors(const Request& request, Response& response) const;

  static std::string route_of(const Request& request);  // route template for metrics
  static std::string method_label(const std::string& method);  // known verbs, else OTHER
  // Every {method, route template} the API answers (the OpenAPI test walks it).
  static const std::vector<std::pair<std::string, std::string>>& routes();

 private:
  Response create_job(const Request& r);
  Response get_job(const Request& r, const std::string& id);
  Response delete_job(const Request& r, const std::string& id);
  Response mark_uploaded(const Request& r, const std::string& id);
  Response events(const Request& r, const std::string& id);
  Response s3_events(const Request& r);
  Response presets() const;
  Response readiness();
  Response metrics();
  Response store_get(const Request& r);
  Response preflight(const Request& r) const;
  // The job when the request carries its token; nullopt means 404.
  std::optional<queue::Job> authorize_job(const Request& r, const std::string& id);
  nlohmann::json view(const queue::Job& job);
  std::string view_body(const queue::Job& job);  // view(job) serialized, cached
  storage::PresignedRequest download_url(const std::string& key);

  ApiOptions options_;
  queue::JobQueue& queue_;
  storage::ObjectStore& store_;
  storage::LocalObjectStore* local_;
  Metrics& metrics_;
  ApiHooks hooks_;
  RateLimiter limiter_;
  base::BoundedCache<std::string, std::pair<storage::Clock::time_point, storage::PresignedRequest>>
      url_cache_{10000};
  struct CachedView {
    queue::Job job;   // the row the body was built from
    std::string url;  // the download URL in it (done jobs)
    std::string body;
  };
  base::BoundedCache<std::string, std::shared_ptr<const CachedView>> view_cache_{10000};
};

// The OpenAPI 3 description of every route (service/openapi.cc).
const nlohmann::json& openapi_document();

// "bytes=0-99" against an object of `size` bytes. nullopt: no (usable) Range header;
// {-1,-1}: unsatisfiable.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_range(std::string_view header,
                                                                  std::int64_t size);

}  // namespace sy::service
