#include "service/operation_handlers.h"

#include "base/log.h"
#include "engine/presets.h"
#include "pipeline/settings_schema.h"
#include "service/openapi.h"

namespace sy::service {

OperationHandlers::OperationHandlers(queue::JobQueue& queue, Metrics& metrics,
                                     const ApiHooks& hooks, const DiskFloor& disk)
    : queue_(queue), metrics_(metrics), hooks_(hooks), disk_(disk) {}

Response OperationHandlers::health(const Call&) const {
  // Load balancers ask many times a second: a fixed body, not a JSON document built each time.
  Response res;
  res.body = R"({"status":"ok"})";
  res.set("Content-Type", "application/json");
  return res;
}

Response OperationHandlers::readiness(const Call&) {
  if (hooks_.ready && !hooks_.ready())
    return error_response(503, "not_ready", "starting or shutting down");
  if (disk_.low()) return error_response(503, "not_ready", "low disk space");
  try {
    queue_.count_by_status();
  } catch (const std::exception& e) {
    // The error names the database host and its words: the log keeps them, the answer not.
    base::log::warn("not ready: queue unavailable", {{"error", e.what()}});
    return error_response(503, "not_ready", "not ready");
  }
  return json_response(200, {{"status", "ready"}});
}

Response OperationHandlers::metrics(const Call&) {
  Response res;
  res.body = metrics_.scrape(queue_.count_by_status(), hooks_.busy_workers ? hooks_.busy_workers() : 0);
  res.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return res;
}

Response OperationHandlers::presets(const Call&) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : sy::engine::presets())
    list.push_back({{"name", p.name},
                    {"description", p.description},
                    {"settings", pipeline::engine_settings_json(p.settings)}});
  return json_response(200, {{"presets", list}});
}

Response OperationHandlers::openapi(const Call&) const {
  return json_response(200, openapi_document());
}

}  // namespace sy::service
