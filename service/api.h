#pragma once
// The HTTP API of PRODUCT.md as plain functions from Request to Response. Api finds a
// request's route in the table (routes.h), runs the route's authentication and hands the
// request to the handlers of its resource (jobs, the embedded store, S3 events, operations);
// it holds no socket code, so it is tested without a network.
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "queue/job_queue.h"
#include "service/api_options.h"
#include "service/disk_floor.h"
#include "service/http_types.h"
#include "service/job_handlers.h"
#include "service/metrics.h"
#include "service/openapi.h"
#include "service/operation_handlers.h"
#include "service/routes.h"
#include "service/s3_event_handlers.h"
#include "service/store_handlers.h"
#include "storage/object_store.h"
#include "storage/presigned_endpoint.h"

namespace sy::service {

// A request body the session streams into the object store (Streaming::kUpload routes).
struct Upload {
  storage::StoreRequest presigned;           // what the URL's signature allows
  std::unique_ptr<storage::PutWriter> sink;  // where the body goes
  std::int64_t size() const { return presigned.content_length; }
};

class Api {
 public:
  // `endpoint` answers the store's presigned URLs at /store/ when they point at this server
  // (the embedded store); null with S3, which answers its own.
  Api(ApiOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
      storage::PresignedEndpoint* endpoint, Metrics& metrics, ApiHooks hooks = {});

  // The request's route; the session asks before it reads the body.
  RouteMatch route(const Request& request) const;

  // Answers a request whose body was read (every route but a Streaming::kUpload one).
  Response handle(const Request& request) { return handle(request, route(request)); }
  Response handle(const Request& request, const RouteMatch& match);

  // A Streaming::kUpload route, before its body: the route's authentication and checks.
  // Returns the response to send, or where the session streams the body.
  std::variant<Response, Upload> open_upload(const Request& request, const RouteMatch& match);
  // The response after the body was stored.
  Response finish_upload(const Request& request, const RouteMatch& match, const Upload& upload);

  // A response the session made itself (413, 503): the route label and CORS headers.
  Response finish(const Request& request, const RouteMatch& match, Response response) const;

  // The object-created event, from the embedded store or from S3 notifications.
  void on_object_created(const storage::ObjectCreated& event);

  // A job's current view for SSE; nullopt once the job is gone.
  std::optional<nlohmann::json> job_view(const std::string& id);

 private:
  Response call(const Route& route, const Request& r, std::string_view param);
  Response preflight(const Request& r) const;
  void apply_cors(const Request& r, Response& res) const;

  std::vector<std::string> cors_origins_;
  DiskFloor disk_;
  JobHandlers jobs_;
  StoreHandlers store_;
  S3EventHandlers s3_events_;
  OperationHandlers operations_;
  Handlers handlers_{jobs_, store_, s3_events_, operations_};
};

}  // namespace sy::service
