#include "service/s3_event_handlers.h"

#include "service/s3_events.h"
#include "storage/sigv4.h"

namespace sy::service {

using queue::JobStatus;

S3EventHandlers::S3EventHandlers(std::string secret, std::string bucket, queue::JobQueue& queue,
                                 JobHandlers& jobs, Metrics& metrics)
    : secret_(std::move(secret)), bucket_(std::move(bucket)), queue_(queue), jobs_(jobs),
      metrics_(metrics) {}

std::optional<Response> S3EventHandlers::authenticate(const Request& r) const {
  if (secret_.empty()) return error_response(404, "not_found", "S3 events are not enabled");
  // Bearer header, or ?secret= for gateways whose push endpoints cannot add headers (RGW).
  const auto bearer = r.bearer_token();
  const auto param = r.param("secret");
  if (!(bearer && storage::constant_time_equal(*bearer, secret_)) &&
      !(param && storage::constant_time_equal(*param, secret_)))
    return error_response(401, "unauthorized", "missing or wrong events secret");
  return std::nullopt;
}

Response S3EventHandlers::notify(const Call& call) {
  const auto batch = parse_s3_events(call.request.body);
  if (batch.refusal) return error_response(400, batch.refusal->code, batch.refusal->message);
  // Another bucket's notification names keys that are not ours: the whole batch is refused.
  for (std::size_t i = 0; i < batch.created.size(); ++i)
    if (!bucket_.empty() && batch.created[i].bucket != bucket_)
      return error_response(400, "invalid_event",
                            "record " + std::to_string(i) + " is of another bucket");
  int accepted = 0;
  for (const auto& created : batch.created) {
    // Replays and duplicates change nothing (enqueue moves a job once); keys of no job
    // awaiting its upload are ignored and counted.
    std::optional<queue::Job> job;
    if (created.key.rfind("uploads/", 0) == 0) {
      const auto rest = std::string_view(created.key).substr(8);
      job = queue_.get(std::string(rest.substr(0, rest.find('/'))));
    }
    if (!job || job->upload_key != created.key) {
      metrics_.s3_event("ignored");
      continue;
    }
    jobs_.upload_arrived({created.key, created.size});
    const bool queued = job->status == JobStatus::kAwaitingUpload &&
                        queue_.get(job->id).value_or(*job).status != JobStatus::kAwaitingUpload;
    metrics_.s3_event(queued ? "queued" : "duplicate");
    ++accepted;
  }
  return json_response(200, {{"accepted", accepted}});
}

}  // namespace sy::service
