#pragma once
// The jobs resource: create a job with its presigned upload, read and delete it, the
// "uploaded" fallback, its event stream; and what happens when its upload arrives.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "queue/job_queue.h"
#include "service/api_options.h"
#include "service/handler.h"
#include "service/job_views.h"
#include "service/rate_limiter.h"
#include "storage/object_store.h"

namespace sy::service {

class JobHandlers {
 public:
  JobHandlers(const ApiOptions& options, queue::JobQueue& queue, storage::ObjectStore& store,
              const ApiHooks& hooks);

  // The job when the request carries its token (Bearer, or ?token= for EventSource);
  // nullopt means 404, as if it did not exist.
  // `token_in_query`: the token may come as ?token= (the event stream only).
  std::optional<queue::Job> authorize(const Request& request, std::string_view id,
                                      bool token_in_query = false);

  Response create(const Call& call);
  Response get(const Call& call);            // call.job set
  Response remove(const Call& call);         // call.job set
  Response mark_uploaded(const Call& call);  // call.job set
  Response events(const Call& call);         // call.job set; the session streams the events
  // A new job with its own id and token on the source job's upload (call.job), queued at once.
  Response rerender(const Call& call);

  // An object was stored: an upload completes its job, which is queued.
  void upload_arrived(const storage::ObjectCreated& event);
  // A job's current view; nullopt once the job is gone.
  std::optional<nlohmann::json> view(const std::string& id);

 private:
  // The created job's answer: its id, token, status and settings (and where to upload it).
  Response created(const queue::NewJob& job, const std::string& token,
                   const nlohmann::json& settings, nlohmann::json extra);
  // A new job's id, token and row with `settings` applied; nullopt and `refusal` set when the
  // caller is over the rate limit or the settings are refused.
  std::optional<queue::NewJob> new_job(const Request& r, const nlohmann::json& settings_body,
                                       std::string* token, nlohmann::json* settings,
                                       Response* refusal);

  ApiOptions options_;
  queue::JobQueue& queue_;
  storage::ObjectStore& store_;
  ApiHooks hooks_;
  RateLimiter limiter_;
  JobViews views_;
};

}  // namespace sy::service
