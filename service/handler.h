#pragma once
// What a route's handler is given: the request, the path's parameter, and what the route's
// authentication established. Handlers read no sockets; the session does the I/O.
#include <string_view>

#include "queue/job_queue.h"
#include "service/http_types.h"
#include "storage/presigned_endpoint.h"

namespace sy::service {

struct Call {
  const Request& request;
  std::string_view param;                           // the path's {id} or {key}, as sent
  const queue::Job* job = nullptr;                  // the job its token opened
  const storage::StoreRequest* presigned = nullptr;  // the store request its signature allows
};

}  // namespace sy::service
