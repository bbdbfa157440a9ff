#include "service/api.h"

#include <algorithm>

#include "base/errors.h"
#include "base/log.h"
#include "service/static_assets.h"

namespace sy::service {
namespace {

// A presigned GET also answers HEAD, as S3's does.
std::string_view signed_method(const std::string& method) {
  return method == "HEAD" ? std::string_view("GET") : std::string_view(method);
}

}  // namespace

Api::Api(ApiOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
         storage::PresignedEndpoint* endpoint, Metrics& metrics, ApiHooks hooks)
    : cors_origins_(options.cors_origins),
      disk_(options.data_dir, options.min_free_bytes),
      jobs_(options, queue, store, hooks),
      store_(store, endpoint, queue, metrics, disk_),
      s3_events_(options.s3_events_secret, options.s3_bucket, queue, jobs_, metrics),
      operations_(queue, metrics, hooks, disk_) {}

RouteMatch Api::route(const Request& r) const {
  return match_route(r.method, r.path(), store_.serving());
}

namespace {

// What a failure below the API means to the client. The exception's text (paths, SQL, host
// names) goes to the log under the request id the client also gets, never into the answer.
Response failure_response(const Request& r, const char* what, const std::exception& e) {
  base::log::error(what, {{"request_id", r.request_id}, {"error", e.what()}});
  if (dynamic_cast<const base::StorageFull*>(&e))
    return error_response(507, "insufficient_storage", "the server has no room to store this");
  if (dynamic_cast<const base::TransientError*>(&e)) {
    Response res = error_response(503, "unavailable", "the service is busy or recovering; try again shortly");
    res.set("Retry-After", "2");
    return res;
  }
  return error_response(500, "internal", "internal error");
}

}  // namespace

Response Api::handle(const Request& r, const RouteMatch& match) {
  Response res;
  try {
    if (r.method == "OPTIONS") {
      res = preflight(r);
    } else if (match.route) {
      res = call(*match.route, r, match.param);
    } else if (match.path_known) {
      res = error_response(405, "method_not_allowed", "method not allowed on this route");
      res.set("Allow", allowed_methods(r.path(), store_.serving()));
    } else if (auto page = static_asset(r)) {
      res = std::move(*page);  // the embedded web page (web/)
    } else {
      res = error_response(404, "not_found", "no such route");
    }
  } catch (const std::exception& e) {
    res = failure_response(r, "handler failed", e);
  }
  return finish(r, match, std::move(res));
}

// Runs the route's authentication, then its handler with what it established.
Response Api::call(const Route& route, const Request& r, std::string_view param) {
  if (route.streaming == Streaming::kUpload)
    return error_response(400, "bad_request", "PUT is streamed by the server");
  Call call{r, param};
  switch (route.auth) {
    case Auth::kNone:
      break;
    case Auth::kJobToken: {
      // Only EventSource needs the token in the URL, where logs and Referer keep it.
      const auto job = jobs_.authorize(r, param, route.streaming == Streaming::kEvents);
      if (!job) return error_response(404, "not_found", "no such job");
      call.job = &*job;
      return route.handler(handlers_, call);
    }
    case Auth::kEventsSecret:
      if (auto refused = s3_events_.authenticate(r)) return std::move(*refused);
      break;
    case Auth::kPresigned: {
      storage::StoreRequest presigned;
      if (auto refused = store_.verify(r, signed_method(r.method), &presigned))
        return std::move(*refused);
      call.presigned = &presigned;
      return route.handler(handlers_, call);
    }
  }
  return route.handler(handlers_, call);
}

std::variant<Response, Upload> Api::open_upload(const Request& r, const RouteMatch& match) {
  Upload upload;
  try {
    if (!match.route || !match.route->open_upload || match.route->auth != Auth::kPresigned)
      return finish(r, match, error_response(404, "not_found", "no such route"));
    if (auto refused = store_.verify(r, signed_method(r.method), &upload.presigned))
      return finish(r, match, std::move(*refused));
    const Call call{r, match.param, nullptr, &upload.presigned};
    if (auto refused = match.route->open_upload(handlers_, call, &upload.sink))
      return finish(r, match, std::move(*refused));
  } catch (const std::exception& e) {
    return finish(r, match, failure_response(r, "upload refused", e));
  }
  return upload;
}

Response Api::finish_upload(const Request& r, const RouteMatch& match, const Upload& upload) {
  return finish(r, match, match.route->handler(handlers_, Call{r, match.param, nullptr, &upload.presigned}));
}

Response Api::finish(const Request& r, const RouteMatch& match, Response res) const {
  res.route = match.label;
  apply_cors(r, res);
  return res;
}

void Api::on_object_created(const storage::ObjectCreated& event) { jobs_.upload_arrived(event); }

std::optional<nlohmann::json> Api::job_view(const std::string& id) { return jobs_.view(id); }

void Api::apply_cors(const Request& r, Response& res) const {
  const auto origin = r.header("origin");
  if (!origin) return;
  if (std::find(cors_origins_.begin(), cors_origins_.end(), *origin) == cors_origins_.end())
    return;
  // The exact origin, never "*", and no credentials: clients authenticate with tokens.
  res.set("Access-Control-Allow-Origin", *origin);
  res.set("Vary", "Origin");
  res.set("Access-Control-Expose-Headers",
          "ETag, Content-Range, Content-Length, Content-Disposition, Location, X-Request-Id");
}

Response Api::preflight(const Request& r) const {
  Response res;
  res.status = 204;
  const auto origin = r.header("origin");
  const bool allowed = origin && std::find(cors_origins_.begin(), cors_origins_.end(), *origin) !=
                                     cors_origins_.end();
  if (allowed) {
    res.set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
    res.set("Access-Control-Allow-Headers", "Authorization, Content-Type, Range, X-Request-Id");
    res.set("Access-Control-Max-Age", "600");
  }
  return res;
}

}  // namespace sy::service
