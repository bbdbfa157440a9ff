#pragma once
// What operators and client generators read: liveness, readiness, Prometheus metrics, the
// presets, and the OpenAPI document.
#include "queue/job_queue.h"
#include "service/api_options.h"
#include "service/disk_floor.h"
#include "service/handler.h"
#include "service/metrics.h"

namespace sy::service {

class OperationHandlers {
 public:
  OperationHandlers(queue::JobQueue& queue, Metrics& metrics, const ApiHooks& hooks,
                    const DiskFloor& disk);

  Response health(const Call& call) const;
  Response readiness(const Call& call);
  Response metrics(const Call& call);
  Response presets(const Call& call) const;
  Response openapi(const Call& call) const;

 private:
  queue::JobQueue& queue_;
  Metrics& metrics_;
  ApiHooks hooks_;
  const DiskFloor& disk_;
};

}  // namespace sy::service
