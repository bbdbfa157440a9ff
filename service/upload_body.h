#pragma once
// The body of a Streaming::kUpload route (a presigned PUT to the embedded store), streamed
// from the socket into the store without ever being held in memory.
#include <cstdint>

#include "service/http_types.h"
#include "service/routes.h"
#include "service/session.h"

namespace sy::service {

// Asks the API whether the body is wanted, reads exactly the signed Content-Length into the
// store at the minimum pace, commits it off the I/O thread, and returns the answer.
// `declared` is what the header says follows. `keep_alive` turns false when the connection
// cannot carry another request; `unread` is then how many body bytes may still come, for
// the session to read and drop after the answer so the client sees it.
net::awaitable<Response> receive_upload(SessionContext& context, beast::tcp_stream& stream,
                                        beast::flat_buffer& buffer, const Request& request,
                                        const RouteMatch& match, bool& keep_alive,
                                        std::uint64_t& unread, std::uint64_t declared);

}  // namespace sy::service
