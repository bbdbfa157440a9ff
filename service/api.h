#pragma once
// The HTTP API of PRODUCT.md as plain functions from Request to Response. Api routes a
// request to the handlers of its resource (jobs, the embedded store, S3 events, operations)
// and adds CORS; it holds no socket code, so it is tested without a network.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "queue/job_queue.h"
#include "service/api_options.h"
#include "service/http_types.h"
#include "service/job_handlers.h"
#include "service/metrics.h"
#include "service/openapi.h"
#include "service/operation_handlers.h"
#include "service/s3_event_handlers.h"
#include "service/store_handlers.h"
#include "storage/local/local_store.h"

namespace sy::service {

// A request body the session streams into the object store.
struct Upload {
  storage::StoreRequest presigned;             // what the URL's signature allows
  std::unique_ptr<storage::PutWriter> sink;    // where the body goes
  std::int64_t size() const { return presigned.content_length; }
};

class Api {
 public:
  // `local_store` is the embedded store when it serves /store/ (null with S3).
  Api(ApiOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
      storage::LocalObjectStore* local_store, Metrics& metrics, ApiHooks hooks = {});

  // Every route except the body of a store PUT, which the session streams.
  Response handle(const Request& request);

  // A PUT to /store/...: checks signature, size and that the job still awaits its upload.
  // Returns the response to send, or where the session streams the body.
  std::variant<Response, Upload> open_upload(const Request& request);
  // The response after the body was stored.
  Response finish_upload(const Request& request, const Upload& upload);

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
  Response preflight(const Request& r) const;
  Response finish(const Request& r, Response res) const;  // route label and CORS

  std::vector<std::string> cors_origins_;
  JobHandlers jobs_;
  StoreHandlers store_;
  S3EventHandlers s3_events_;
  OperationHandlers operations_;
};

}  // namespace sy::service
