#include "service/routes.h"

#include <array>

#include "service/job_handlers.h"
#include "service/operation_handlers.h"
#include "service/s3_event_handlers.h"
#include "service/store_handlers.h"

namespace sy::service {
namespace {

// Status polls come first: the table is walked in order for every request.
constexpr std::array kRoutes{
    Route{"GET", "/api/v1/jobs/{id}",
          [](Handlers& h, const Call& c) { return h.jobs.get(c); },
          Auth::kJobToken, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Status, progress and (when done) a presigned download URL",
      "responses": {"200": {"description": "the job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                    "404": {"$ref": "#/components/responses/NotFound"}}})json"},
    Route{"DELETE", "/api/v1/jobs/{id}",
          [](Handlers& h, const Call& c) { return h.jobs.remove(c); },
          Auth::kJobToken, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Delete the job and its objects; a running render stops",
      "responses": {"204": {"description": "deleted"}, "404": {"$ref": "#/components/responses/NotFound"}}})json"},
    Route{"POST", "/api/v1/jobs",
          [](Handlers& h, const Call& c) { return h.jobs.create(c); },
          Auth::kNone, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Create a job and get a presigned upload URL",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateJob"}}}},
      "responses": {
        "201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreatedJob"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
        "415": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}})json"},
    Route{"GET", "/api/v1/jobs/{id}/events",
          [](Handlers& h, const Call& c) { return h.jobs.events(c); },
          Auth::kJobToken, Streaming::kEvents, kJsonBodyLimit, nullptr, R"json({
      "summary": "Server-Sent Events: 'status' events carry the Job object until it is final",
      "parameters": [{"name": "token", "in": "query", "required": false, "schema": {"type": "string"},
                      "description": "the job token, for EventSource which cannot send headers"}],
      "responses": {"200": {"description": "an event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                    "404": {"$ref": "#/components/responses/NotFound"}}})json"},
    Route{"POST", "/api/v1/jobs/{id}/uploaded",
          [](Handlers& h, const Call& c) { return h.jobs.mark_uploaded(c); },
          Auth::kJobToken, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Fallback: tell the service the upload is complete",
      "responses": {"202": {"description": "queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                    "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Error"}}})json"},
    Route{"POST", "/api/v1/jobs/{id}/rerender",
          [](Handlers& h, const Call& c) { return h.jobs.rerender(c); },
          Auth::kJobToken, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Render the job's upload again with other settings: a new job (its own id and token), queued at once, no second upload; the source job is kept",
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Rerender"}}}},
      "responses": {
        "201": {"description": "the new job, queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RerenderedJob"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/NotFound"},
        "409": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}})json"},
    Route{"POST", "/api/v1/events/s3",
          [](Handlers& h, const Call& c) { return h.s3_events.notify(c); },
          Auth::kEventsSecret, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "S3 bucket notifications (standard S3 event JSON): ObjectCreated queues the job",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
      "responses": {"200": {"description": "accepted"}, "401": {"$ref": "#/components/responses/Error"},
                    "404": {"$ref": "#/components/responses/Error"}}})json"},
    Route{"GET", "/api/v1/presets",
          [](Handlers& h, const Call& c) { return h.operations.presets(c); },
          Auth::kNone, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "The named presets and their parameters", "responses": {"200": {"description": "presets"}}})json"},
    Route{"GET", "/api/v1/openapi.json",
          [](Handlers& h, const Call& c) { return h.operations.openapi(c); },
          Auth::kNone, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "This document", "responses": {"200": {"description": "OpenAPI 3"}}})json"},
    Route{"*", "/healthz",
          [](Handlers& h, const Call& c) { return h.operations.health(c); },
          Auth::kNone, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Liveness", "responses": {"200": {"description": "alive"}}})json"},
    Route{"*", "/readyz",
          [](Handlers& h, const Call& c) { return h.operations.readiness(c); },
          Auth::kNone, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Readiness: queue reachable, not shutting down",
      "responses": {"200": {"description": "ready"}, "503": {"$ref": "#/components/responses/Error"}}})json"},
    Route{"GET", "/metrics",
          [](Handlers& h, const Call& c) { return h.operations.metrics(c); },
          Auth::kNone, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Prometheus metrics",
      "responses": {"200": {"description": "text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}})json"},
    Route{"GET", "/store/{key}",
          [](Handlers& h, const Call& c) { return h.store.read(c); },
          Auth::kPresigned, Streaming::kFile, kJsonBodyLimit, nullptr, R"json({
      "summary": "Embedded object store: read through a presigned URL (SigV4 query parameters); supports Range",
      "responses": {"200": {"description": "the object"}, "206": {"description": "a range"}, "403": {"$ref": "#/components/responses/Error"},
                    "404": {"$ref": "#/components/responses/Error"}, "416": {"$ref": "#/components/responses/Error"}}})json"},
    Route{"HEAD", "/store/{key}",
          [](Handlers& h, const Call& c) { return h.store.read(c); },
          Auth::kPresigned, Streaming::kNone, kJsonBodyLimit, nullptr, R"json({
      "summary": "Embedded object store: headers of an object",
      "responses": {"200": {"description": "headers only"}, "403": {"description": "bad signature"}}})json"},
    Route{"PUT", "/store/{key}",
          [](Handlers& h, const Call& c) { return h.store.upload_finished(c); },
          Auth::kPresigned, Streaming::kUpload, 0,
          [](Handlers& h, const Call& c, std::unique_ptr<storage::PutWriter>* sink) {
            return h.store.open_upload(c, sink);
          },
          R"json({
      "summary": "Embedded object store: upload through a presigned URL; Content-Length must equal the declared size",
      "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
      "responses": {"200": {"description": "stored; the job is queued"}, "403": {"$ref": "#/components/responses/Error"},
                    "411": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}})json"},
};

// `path` against a template; `param` gets the placeholder's part. No strings are built.
bool match_path(std::string_view pattern, std::string_view path, std::string_view* param) {
  const auto open = pattern.find('{');
  if (open == std::string_view::npos) return pattern == path;
  const auto close = pattern.find('}', open);
  const auto prefix = pattern.substr(0, open);
  const auto suffix = pattern.substr(close + 1);
  if (path.size() < prefix.size() + suffix.size() || !path.starts_with(prefix) ||
      !path.ends_with(suffix))
    return false;
  const auto value = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  const bool spans_slashes = pattern.substr(open, close - open + 1) == "{key}";
  if (!spans_slashes && value.find('/') != std::string_view::npos) return false;
  *param = value;
  return true;
}

}  // namespace

std::span<const Route> routes() { return kRoutes; }

RouteMatch match_route(std::string_view method, std::string_view path, bool store_served) {
  RouteMatch m;
  for (const Route& route : kRoutes) {
    std::string_view param;
    if (!match_path(route.path, path, &param)) continue;
    // Labels come from templates only, so clients cannot grow the metrics without bound.
    if (!m.path_known) m.label = route.path;
    if (route.auth == Auth::kPresigned && !store_served) continue;
    m.path_known = true;
    if (route.method == method || route.method == "*") {
      m.route = &route;
      m.param = param;
      return m;
    }
  }
  return m;
}

std::string allowed_methods(std::string_view path, bool store_served) {
  std::string allow;
  std::string_view unused;
  for (const Route& route : kRoutes) {
    if (!match_path(route.path, path, &unused)) continue;
    if (route.auth == Auth::kPresigned && !store_served) continue;
    if (!allow.empty()) allow += ", ";
    allow += route.method;
  }
  return allow;
}

std::string_view method_label(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"})
    if (method == known) return known;
  return "OTHER";
}

}  // namespace sy::service
