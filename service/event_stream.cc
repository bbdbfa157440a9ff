#include "service/event_stream.h"

#include <boost/beast/http.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "queue/job_queue.h"

namespace sy::service {

namespace http = beast::http;
using Steady = std::chrono::steady_clock;

net::awaitable<void> stream_job_events(SessionContext& context, beast::tcp_stream& stream,
                                       const Response& res, const std::string& job_id) {
  const ServerOptions& options = context.options;
  error_code ec;
  http::response<http::empty_body> m{http::status::ok, 11};
  for (const auto& [k, v] : res.headers) m.set(k, v);
  m.keep_alive(false);  // the stream ends when the connection closes
  http::response_serializer<http::empty_body> sr{m};
  stream.expires_after(options.read_timeout);
  co_await http::async_write_header(stream, sr, redirect(ec));
  if (ec) co_return;
  std::string out = "retry: 2000\n\n";
  std::string last;
  auto last_send = Steady::now();
  net::steady_timer timer(co_await net::this_coro::executor);
  for (;;) {
    std::optional<nlohmann::json> view;
    std::exception_ptr failure;
    try {
      view = context.api.job_view(job_id);
    } catch (const std::exception&) {
      failure = std::current_exception();
    }
    if (failure) {
      // The queue could not be read (database locked, away, disk trouble): the client is told
      // so and the stream ends (EventSource comes back after `retry`); the session logs why.
      out += "event: unavailable\ndata: {\"error\":\"unavailable\"}\n\n";
      stream.expires_after(options.read_timeout);
      co_await net::async_write(stream, net::buffer(out), redirect(ec));
      std::rethrow_exception(failure);
    }
    bool done = false;
    if (!view) {
      out += "event: deleted\ndata: {\"id\":\"" + job_id + "\"}\n\n";
      done = true;
    } else {
      const std::string status = (*view)["status"].get<std::string>();
      const std::string fingerprint = status + "|" + (*view)["stage"].dump() + "|" +
                                      (*view)["progress"].dump() + "|" +
                                      (*view)["attempts"].dump();
      if (fingerprint != last) {
        out += "event: status\ndata: " + view->dump() + "\n\n";
        last = fingerprint;
      }
      const auto st = queue::parse_status(status);
      done = st && queue::is_final(*st);
    }
    if (out.empty() && Steady::now() - last_send > options.sse_heartbeat) out = ": ping\n\n";
    if (!out.empty()) {
      stream.expires_after(options.read_timeout);
      co_await net::async_write(stream, net::buffer(out), redirect(ec));
      if (ec) co_return;
      out.clear();
      last_send = Steady::now();
    }
    if (done || context.stopping) co_return;
    timer.expires_after(options.sse_poll);
    co_await timer.async_wait(redirect(ec));
  }
}

}  // namespace sy::service
