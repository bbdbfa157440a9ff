#include "service/api.h"

#include <algorithm>
#include <set>

#include "base/log.h"
#include "service/static_assets.h"

namespace sy::service {
namespace {

constexpr std::string_view kJobsPrefix = "/api/v1/jobs/";

Response method_not_allowed(std::string allow) {
  auto r = error_response(405, "method_not_allowed", "method not allowed on this route");
  r.set("Allow", std::move(allow));
  return r;
}

}  // namespace

Api::Api(ApiOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
         storage::LocalObjectStore* local_store, Metrics& metrics, ApiHooks hooks)
    : cors_origins_(options.cors_origins),
      jobs_(options, queue, store, hooks),
      store_(store, local_store, queue, metrics),
      s3_events_(options.s3_events_secret, queue, jobs_, metrics),
      operations_(queue, metrics, hooks) {}

std::string Api::route_of(const Request& r) {
  const std::string_view p = r.path();
  if (p.rfind(storage::kStorePathPrefix, 0) == 0) return "/store/{key}";
  if (p.rfind(kJobsPrefix, 0) == 0) {
    const auto rest = p.substr(kJobsPrefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return "/api/v1/jobs/{id}";
    const auto sub = rest.substr(slash + 1);
    // Only known routes become labels, so clients cannot grow the metrics without bound.
    if (sub == "events" || sub == "uploaded") return "/api/v1/jobs/{id}/" + std::string(sub);
    return "other";
  }
  static const std::set<std::string_view> kFixed{"/api/v1/jobs", "/api/v1/presets",
                                                 "/api/v1/openapi.json", "/api/v1/events/s3",
                                                 "/healthz", "/readyz", "/metrics"};
  if (kFixed.count(p)) return std::string(p);
  return "other";
}

const std::vector<std::pair<std::string, std::string>>& Api::routes() {
  static const std::vector<std::pair<std::string, std::string>> kRoutes{
      {"post", "/api/v1/jobs"},
      {"get", "/api/v1/jobs/{id}"},
      {"delete", "/api/v1/jobs/{id}"},
      {"get", "/api/v1/jobs/{id}/events"},
      {"post", "/api/v1/jobs/{id}/uploaded"},
      {"post", "/api/v1/events/s3"},
      {"get", "/api/v1/presets"},
      {"get", "/api/v1/openapi.json"},
      {"get", "/healthz"},
      {"get", "/readyz"},
      {"get", "/metrics"},
      {"get", "/store/{key}"},
      {"head", "/store/{key}"},
      {"put", "/store/{key}"},
  };
  return kRoutes;
}

Response Api::handle(const Request& r) {
  Response res;
  try {
    const std::string_view p = r.path();
    const std::string& m = r.method;
    Call call{r, {}};
    // Routes of one job answer 404 unless the request carries the job's token.
    const auto with_job = [&](std::string_view id, auto handler) {
      const auto job = jobs_.authorize(r, id);
      if (!job) return error_response(404, "not_found", "no such job");
      call.job = &*job;
      return (jobs_.*handler)(call);
    };
    if (m == "OPTIONS") {
      res = preflight(r);
    } else if (p == "/api/v1/jobs") {
      res = m == "POST" ? jobs_.create(call) : method_not_allowed("POST");
    } else if (p.rfind(kJobsPrefix, 0) == 0) {
      const auto rest = p.substr(kJobsPrefix.size());
      const auto slash = rest.find('/');
      const std::string_view id = rest.substr(0, slash);
      const std::string_view sub =
          slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      if (sub.empty()) {
        if (m == "GET") res = with_job(id, &JobHandlers::get);
        else if (m == "DELETE") res = with_job(id, &JobHandlers::remove);
        else res = method_not_allowed("GET, DELETE");
      } else if (sub == "events") {
        res = m == "GET" ? with_job(id, &JobHandlers::events) : method_not_allowed("GET");
      } else if (sub == "uploaded") {
        res = m == "POST" ? with_job(id, &JobHandlers::mark_uploaded) : method_not_allowed("POST");
      } else {
        res = error_response(404, "not_found", "no such route");
      }
    } else if (p == "/api/v1/events/s3") {
      if (m != "POST") res = method_not_allowed("POST");
      else if (auto refused = s3_events_.authenticate(r)) res = std::move(*refused);
      else res = s3_events_.notify(call);
    } else if (p == "/api/v1/presets") {
      res = m == "GET" ? operations_.presets(call) : method_not_allowed("GET");
    } else if (p == "/api/v1/openapi.json") {
      res = m == "GET" ? operations_.openapi(call) : method_not_allowed("GET");
    } else if (p == "/healthz") {
      res = operations_.health(call);
    } else if (p == "/readyz") {
      res = operations_.readiness(call);
    } else if (p == "/metrics") {
      res = m == "GET" ? operations_.metrics(call) : method_not_allowed("GET");
    } else if (p.rfind(storage::kStorePathPrefix, 0) == 0 && store_.serving()) {
      storage::StoreRequest presigned;
      if (m == "GET" || m == "HEAD") {
        if (auto refused = store_.verify(r, "GET", &presigned)) {
          res = std::move(*refused);
        } else {
          call.presigned = &presigned;
          res = store_.read(call);
        }
      } else if (m == "PUT") {
        res = error_response(400, "bad_request", "PUT is streamed by the server");
      } else {
        res = method_not_allowed("GET, HEAD, PUT");
      }
    } else if (auto page = static_asset(r)) {
      res = std::move(*page);  // the embedded web page (web/)
    } else {
      res = error_response(404, "not_found", "no such route");
    }
  } catch (const std::exception& e) {
    base::log::error("handler failed", {{"request_id", r.request_id}, {"error", e.what()}});
    res = error_response(500, "internal", "internal error");
  }
  return finish(r, std::move(res));
}

std::variant<Response, Upload> Api::open_upload(const Request& r) {
  Upload upload;
  if (auto refused = store_.verify(r, "PUT", &upload.presigned)) return finish(r, std::move(*refused));
  if (auto refused = store_.open_upload(Call{r, {}, nullptr, &upload.presigned}, &upload.sink))
    return finish(r, std::move(*refused));
  return upload;
}

Response Api::finish_upload(const Request& r, const Upload& upload) {
  return finish(r, store_.upload_finished(Call{r, {}, nullptr, &upload.presigned}));
}

void Api::on_object_created(const storage::ObjectCreated& event) { jobs_.upload_arrived(event); }

std::optional<nlohmann::json> Api::job_view(const std::string& id) { return jobs_.view(id); }

Response Api::finish(const Request& r, Response res) const {
  res.route = route_of(r);
  apply_cors(r, res);
  return res;
}

std::string Api::method_label(const std::string& method) {
  static const std::set<std::string> kKnown{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
  return kKnown.count(method) ? method : "OTHER";
}

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
