#pragma once
// S3 bucket notifications (POST /api/v1/events/s3): an object created under uploads/
// queues its job, as the embedded store's own event does.
#include <optional>
#include <string>

#include "queue/job_queue.h"
#include "service/handler.h"
#include "service/job_handlers.h"
#include "service/metrics.h"

namespace sy::service {

class S3EventHandlers {
 public:
  // An empty `secret` turns the route off (404); records of a bucket other than `bucket`
  // (when set) refuse their whole batch.
  S3EventHandlers(std::string secret, std::string bucket, queue::JobQueue& queue,
                  JobHandlers& jobs, Metrics& metrics);

  // nullopt when the request carries the shared secret; else the refusal to send.
  std::optional<Response> authenticate(const Request& request) const;
  Response notify(const Call& call);

 private:
  std::string secret_;
  std::string bucket_;
  queue::JobQueue& queue_;
  JobHandlers& jobs_;
  Metrics& metrics_;
};

}  // namespace sy::service
