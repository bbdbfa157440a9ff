#pragma once
// A session (the role of Beast's http_server_async example of that name): one connection's
// requests read, routed and answered in turn, with header and body limits, timeouts and
// keep-alive; uploads stream into the store, files and event streams stream out. The
// answers come from Api's plain functions, which never see a socket.
// <utility> first: Boost 1.74's asio/awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include <atomic>

#include "service/api.h"
#include "service/connection_table.h"
#include "service/metrics.h"
#include "service/server.h"
#include "service/stream_slots.h"

namespace sy::service {

namespace net = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

inline auto redirect(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

// What every session shares with the server that runs it.
struct SessionContext {
  // `o`'s connection limits are resolved (server.cc).
  SessionContext(ServerOptions o, Api& a, Metrics& m)
      : options(std::move(o)),
        api(a),
        metrics(m),
        connections({options.max_connections, options.max_connections_per_client}),
        streams({options.max_event_streams, options.max_event_streams_per_job,
                 options.max_event_streams_per_client},
                [&m](int open) { m.event_streams_open(open); }) {}

  ServerOptions options;
  Api& api;
  Metrics& metrics;
  ConnectionTable connections;
  StreamSlots streams;
  net::thread_pool blocking{2};  // fsync of finished uploads
  std::atomic<bool> stopping{false};
  std::atomic<int> busy{0};       // requests being answered
  std::atomic<int> refusing{0};   // connections being answered 503 by the listener
};

// Serves one connection until it closes, errs, idles out or the server stops; `slot` is its
// place in the connection table, released when it ends.
net::awaitable<void> run_session(SessionContext& context, beast::tcp_stream stream,
                                 std::shared_ptr<ConnectionTable::Entry> slot);

// Answers a connection over a limit 503 (Retry-After) at once and closes it.
net::awaitable<void> refuse_connection(SessionContext& context, beast::tcp_stream stream,
                                       ConnectionTable::Refusal why);

}  // namespace sy::service
