#pragma once
// Server-Sent Events for GET /api/v1/jobs/{id}/events.
#include <string>

#include "service/http_types.h"
#include "service/session.h"

namespace sy::service {

// Writes `response`'s header, then the view of job `job_id` whenever it changes (heartbeats
// between), until the job is final or gone, the client leaves or the server stops.
net::awaitable<void> stream_job_events(SessionContext& context, beast::tcp_stream& stream,
                                       const Response& response, const std::string& job_id);

}  // namespace sy::service
