#pragma once
// The embedded object store's routes (/store/{key}): presigned reads with ranges, and
// presigned PUTs, which only an upload key of a job still waiting for it may take.
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "queue/job_queue.h"
#include "service/disk_floor.h"
#include "service/handler.h"
#include "service/metrics.h"
#include "storage/object_store.h"
#include "storage/presigned_endpoint.h"

namespace sy::service {

class StoreHandlers {
 public:
  // `endpoint` answers `store`'s presigned URLs here (the embedded store); null with S3.
  StoreHandlers(storage::ObjectStore& store, storage::PresignedEndpoint* endpoint,
                queue::JobQueue& queue, Metrics& metrics, const DiskFloor& disk);

  bool serving() const { return endpoint_ != nullptr; }
  // Checks a presigned request's signature and expiry for `method` ("GET" or "PUT"): nullopt
  // and `out` filled when it holds, else the refusal to send.
  std::optional<Response> verify(const Request& request, std::string_view method,
                                 storage::StoreRequest* out) const;

  Response read(const Call& call);  // GET and HEAD; call.presigned set
  // Before a PUT's body is read: the refusal to send, or nullopt and where the body goes.
  std::optional<Response> open_upload(const Call& call, std::unique_ptr<storage::PutWriter>* sink);
  // After the body was stored.
  Response upload_finished(const Call& call);

 private:
  storage::ObjectStore& store_;
  storage::PresignedEndpoint* endpoint_;
  queue::JobQueue& queue_;
  Metrics& metrics_;
  const DiskFloor& disk_;
};

// "bytes=0-99" against an object of `size` bytes. nullopt: no (usable) Range header;
// {-1,-1}: unsatisfiable.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_range(std::string_view header,
                                                                  std::int64_t size);

}  // namespace sy::service
