#pragma once
// The body of a Streaming::kUpload route (a presigned PUT to the embedded store), streamed
// from the socket into the store without ever being held in memory.
#include "service/http_types.h"
#include "service/routes.h"
#include "service/session.h"

namespace sy::service {

// Asks the API whether the body is wanted, reads exactly the signed Content-Length into the
// store, commits it off the I/O thread, and returns the answer. `keep_alive` turns false when
// the connection cannot carry another request (a refused body stays unread).
net::awaitable<Response> receive_upload(SessionContext& context, beast::tcp_stream& stream,
                                        beast::flat_buffer& buffer, const Request& request,
                                        const RouteMatch& match, bool& keep_alive);

}  // namespace sy::service
