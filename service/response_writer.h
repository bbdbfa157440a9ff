#pragma once
// Writing answers to a connection: the status line and header, string and file bodies, and
// the interim 100 Continue.
#include <chrono>
#include <string>

#include "service/http_types.h"
#include "service/session.h"

namespace sy::service {

// The status line and header of a response with a string body, as Beast's serializer writes
// them (its reason phrase, `Connection: close` when the connection ends, Content-Length last).
std::string response_head(const Response& response, bool keep_alive);

// Writes `response` whole: its string body, or its file range in chunks, or for HEAD its
// header alone. Each write has `timeout` to finish.
net::awaitable<void> write_response(beast::tcp_stream& stream, const Response& response,
                                    bool keep_alive, std::chrono::seconds timeout, error_code& ec);

// Answers `Expect: 100-continue`, once the request is known to be wanted.
net::awaitable<void> send_continue(beast::tcp_stream& stream, const Request& request,
                                   std::chrono::seconds timeout, error_code& ec);

}  // namespace sy::service
