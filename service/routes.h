#pragma once
// The one route table (FFmpeg's AVOption tables are the model): each route the service
// answers, once, with its handler, how it is authenticated, how much body it takes and what
// the session streams. Dispatch (api.cc), the metrics' route labels, 405 Allow headers, the
// session's body handling and the OpenAPI paths are all derived from it.
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "service/handler.h"

namespace sy::service {

class JobHandlers;
class StoreHandlers;
class S3EventHandlers;
class OperationHandlers;

// Every resource's handlers, as the table's functions reach them.
struct Handlers {
  JobHandlers& jobs;
  StoreHandlers& store;
  S3EventHandlers& s3_events;
  OperationHandlers& operations;
};

enum class Auth {
  kNone,
  kJobToken,      // the job's token; without it the job does not exist (404)
  kEventsSecret,  // the shared secret of S3 bucket notifications (401; 404 when not set up)
  kPresigned,     // a URL presigned by the embedded store (403); the route exists only with it
};

enum class Streaming {
  kNone,    // the body is read whole, up to body_limit, before the handler runs
  kUpload,  // the body streams into the store, framed by the signed Content-Length
  kFile,    // the answer may be a byte range of a stored file, streamed from disk
  kEvents,  // the answer is a Server-Sent Events stream, held open
};

// What small JSON bodies may weigh; the same for every route before the table existed.
inline constexpr std::size_t kJsonBodyLimit = 256 * 1024;

using Handler = Response (*)(Handlers&, const Call&);
// Before a streamed body is read: the refusal to send, or nullopt and where the body goes.
using UploadOpener = std::optional<Response> (*)(Handlers&, const Call&,
                                                 std::unique_ptr<storage::PutWriter>*);

struct Route {
  std::string_view method;  // "GET", "POST", ...; "*" answers every method (probes differ)
  // "{key}" (an object key) may span '/'; any other placeholder is one path segment.
  std::string_view path;
  Handler handler;
  Auth auth;
  Streaming streaming;
  std::size_t body_limit;         // bytes held in memory; 0 with Streaming::kUpload
  UploadOpener open_upload;       // Streaming::kUpload only
  std::string_view openapi;       // the OpenAPI operation object (summary, body, responses)
};

std::span<const Route> routes();

struct RouteMatch {
  const Route* route = nullptr;        // the route for the method and path; null: none
  std::string_view label = "other";    // metrics label: the path's template, else "other"
  std::string_view param;              // the path's placeholder, as sent
  bool path_known = false;             // a route has the path (another method: 405)
};

// Matches without building strings: it runs for every request.
RouteMatch match_route(std::string_view method, std::string_view path, bool store_served);
// The Allow header of a 405 for `path`: its routes' methods in table order.
std::string allowed_methods(std::string_view path, bool store_served);
// The method as a metrics label: the verbs routes use, else "OTHER" (labels stay bounded).
std::string_view method_label(std::string_view method);

}  // namespace sy::service
