#include "service/session.h"

#include <boost/beast/http.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <limits>
#include <string>

#include "base/log.h"
#include "service/event_stream.h"
#include "service/lingering_close.h"
#include "service/response_writer.h"
#include "service/upload_body.h"
#include "storage/sigv4.h"

namespace sy::service {
namespace {

namespace http = beast::http;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;

std::string request_id_for(const http::fields& h) {
  const auto it = h.find("x-request-id");
  if (it != h.end()) {
    const auto v = it->value();
    if (!v.empty() && v.size() <= 64 &&
        std::all_of(v.begin(), v.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        }))
      return std::string(v);
  }
  // A random per-process prefix and a counter: unique without a syscall per request.
  static const std::string prefix = [] {
    unsigned char raw[4];
    if (RAND_bytes(raw, sizeof raw) != 1) return std::string("0000");
    return storage::to_hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  }();
  static std::atomic<std::uint64_t> counter{0};
  return prefix + "-" + std::to_string(++counter);
}

Request make_request(const http::request_parser<http::empty_body>& parser,
                     const std::string& remote, const std::string& client_ip_header) {
  const auto& h = parser.get();
  Request req;
  req.method = std::string(h.method_string());
  req.target = std::string(h.target());
  req.remote = remote;
  req.request_id = request_id_for(h);
  for (const auto& f : h) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    auto [it, inserted] = req.headers.try_emplace(name, std::string(f.value()));
    if (!inserted) it->second += ", " + std::string(f.value());
  }
  // Behind a reverse proxy: the last entry of its header, the one our proxy added.
  if (!client_ip_header.empty()) {
    if (auto forwarded = req.header(client_ip_header)) {
      std::string_view last(*forwarded);
      last = last.substr(last.rfind(',') == std::string_view::npos ? 0 : last.rfind(',') + 1);
      while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
      while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
      if (!last.empty() && last.size() <= 64) req.remote = std::string(last);
    }
  }
  return req;
}

struct BusyGuard {
  explicit BusyGuard(std::atomic<int>& n) : n_(n) { ++n_; }
  ~BusyGuard() { --n_; }
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;
  std::atomic<int>& n_;
};

// Without a Content-Length the bytes that may follow are unknown: read this many at most.
constexpr std::uint64_t kUnknownBodyBound = 1024 * 1024;

std::uint64_t declared_length(const http::request_parser<http::empty_body>& parser) {
  if (parser.chunked()) return kUnknownBodyBound;
  return parser.content_length().value_or(0);
}

}  // namespace

net::awaitable<void> refuse_connection(SessionContext& context, beast::tcp_stream stream,
                                       ConnectionTable::Refusal why) {
  struct Count {
    std::atomic<int>& n;
    ~Count() { --n; }
  } count{context.refusing};
  const bool per_client = why == ConnectionTable::Refusal::kClientFull;
  Response res = error_response(503, per_client ? "too_many_connections" : "unavailable",
                                per_client ? "too many connections from this client"
                                           : "the server is at its connection limit");
  res.set("Retry-After", "1");
  const std::string head = response_head(res, false);
  const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(res.body)};
  error_code ec;
  stream.expires_after(std::chrono::seconds(2));
  co_await net::async_write(stream, buffers, redirect(ec));
  if (ec) co_return;
  // The request the client sends meanwhile is read and dropped, briefly, so the 503 is not
  // lost to a reset.
  ServerOptions brief = context.options;
  brief.read_timeout = std::chrono::seconds(2);
  beast::flat_buffer buffer;
  co_await lingering_close(stream, buffer, 64 * 1024, brief);
}

net::awaitable<void> run_session(SessionContext& context, beast::tcp_stream stream,
                                 std::shared_ptr<ConnectionTable::Entry> slot) {
  const ServerOptions& options = context.options;
  Api& api = context.api;
  Metrics& metrics = context.metrics;
  ConnectionTable& table = context.connections;
  // The table may close this connection from the accept thread while it waits for a
  // request: on this connection's own thread, and only while the session lives.
  auto alive = std::make_shared<beast::tcp_stream*>(&stream);
  table.set_close_idle(*slot, [executor = stream.get_executor(), alive] {
    net::post(executor, [alive] {
      if (*alive) (*alive)->cancel();
    });
  });
  struct Release {
    ConnectionTable& table;
    ConnectionTable::Entry& entry;
    std::shared_ptr<beast::tcp_stream*>& alive;
    ~Release() {
      *alive = nullptr;
      table.release(entry);
    }
  } release{table, *slot, alive};
  beast::flat_buffer buffer;
  error_code ec;
  const auto endpoint = stream.socket().remote_endpoint(ec);
  const std::string remote = ec ? "unknown" : endpoint.address().to_string();
  std::uint64_t unread = 0;  // request bytes that may follow an answer sent before them
  for (;;) {
    http::request_parser<http::empty_body> header_parser;
    header_parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    // Body limits are per route and set once the target is known.
    header_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (buffer.size() == 0) {
      // Waiting for a request: the idle timeout, and the table may reuse the connection.
      table.set_idle(*slot, true);
      stream.expires_after(options.idle_timeout);
      // read_size: 512 bytes for a connection that never sent anything, the buffer it has
      // after that: an idle connection holds no more than it needs.
      const std::size_t n =
          co_await stream.async_read_some(buffer.prepare(beast::read_size(buffer, 4096)), redirect(ec));
      table.set_idle(*slot, false);
      if (ec) break;
      buffer.commit(n);
    }
    // Most requests arrive whole in one read: parsed here, with no read operation (and its
    // deadline) to start and complete.
    buffer.consume(header_parser.put(buffer.data(), ec));
    if (ec == http::error::need_more) {
      ec = {};
      // From its first byte a header has a deadline of its own: a trickle cannot hold a slot.
      stream.expires_after(options.header_timeout);
      co_await http::async_read_header(stream, buffer, header_parser, redirect(ec));
    }
    if (ec) {
      if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
          ec != net::error::operation_aborted && ec != net::error::connection_reset &&
          ec != net::error::eof) {
        // Malformed or oversized headers: say so once, then close.
        Response bad = error_response(ec == http::error::header_limit ? 431 : 400,
                                      "bad_request", ec.message());
        error_code ignored;
        co_await write_response(stream, bad, false, options.read_timeout, ignored);
        unread = kUnknownBodyBound;
      }
      break;
    }
    BusyGuard guard(context.busy);
    const auto started = Steady::now();
    Request req = make_request(header_parser, remote, options.client_ip_header);
    bool keep_alive = header_parser.get().keep_alive() && !context.stopping;
    Response res;
    const RouteMatch match = api.route(req);
    if (match.route && match.route->streaming == Streaming::kUpload) {
      res = co_await receive_upload(context, stream, buffer, req, match, keep_alive, unread,
                                    declared_length(header_parser));
    } else {
      const std::size_t body_limit = match.route ? match.route->body_limit : kJsonBodyLimit;
      http::request_parser<http::string_body> parser(std::move(header_parser));
      parser.body_limit(body_limit);
      // The header was parsed without a limit, so a declared length is checked here.
      if (parser.content_length().value_or(0) > body_limit) {
        res = api.finish(req, match, error_response(413, "too_large", "the request body is too large"));
        res.set("X-Request-Id", req.request_id);
        error_code ignored;
        co_await write_response(stream, res, false, options.read_timeout, ignored);
        metrics.request(res.route, method_label(req.method), res.status);
        unread = *parser.content_length();
        break;
      }
      if (parser.content_length().value_or(0) > 0 || parser.chunked()) {
        co_await send_continue(stream, req, options.read_timeout, ec);
        if (ec) break;
      }
      if (!parser.is_done()) {  // a GET is complete with its header: no read op to post
        stream.expires_after(options.read_timeout);
        co_await http::async_read(stream, buffer, parser, redirect(ec));
      }
      if (ec == http::error::body_limit) {
        res = api.finish(req, match, error_response(413, "too_large", "the request body is too large"));
        keep_alive = false;
        unread = kUnknownBodyBound;
        ec = {};
      } else if (ec) {
        break;
      } else {
        req.body = std::move(parser.get().body());
        res = api.handle(req, match);
      }
    }
    res.set("X-Request-Id", req.request_id);
    if (match.route && match.route->streaming == Streaming::kEvents && res.status == 200) {
      // Each stream polls the queue; past a cap a client is told to poll instead.
      if (auto stream_slot = context.streams.acquire(std::string(match.param), remote)) {
        metrics.request(res.route, method_label(req.method), 200);
        try {
          co_await stream_job_events(context, stream, res, std::string(match.param));
        } catch (const std::exception& e) {
          base::log::warn("event stream failed",
                          {{"request_id", req.request_id}, {"error", e.what()}});
        }
        break;  // the slot goes back with stream_slot, however the stream ended
      }
      res = api.finish(req, match, error_response(503, "too_many_streams",
                                                  "too many event streams; poll the job"));
      res.set("Retry-After", "5");
      res.set("X-Request-Id", req.request_id);
    }
    if (!res.file && !res.head_only) {
      // The common case inline: no nested coroutine frame per request.
      const std::string head = response_head(res, keep_alive);
      const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(res.body)};
      stream.expires_after(options.read_timeout);
      co_await net::async_write(stream, buffers, redirect(ec));
    } else {
      co_await write_response(stream, res, keep_alive, options.read_timeout, ec);
    }
    const double ms = std::chrono::duration<double, std::milli>(Steady::now() - started).count();
    metrics.request(res.route, method_label(req.method), res.status);
    const auto level = req.method == "GET" && res.status < 400 ? spdlog::level::debug
                                                                : spdlog::level::info;
    if (spdlog::should_log(level))  // build the fields only when the line is written
      base::log::event(level, "request",
                       {{"request_id", req.request_id},
                        {"method", req.method},
                        {"route", res.route},
                        {"status", res.status},
                        {"ms", ms},
                        {"remote", remote}});
    if (ec || !keep_alive || context.stopping) break;
  }
  if (unread > 0 && !context.stopping)
    co_await lingering_close(stream, buffer, unread, options);
  else
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace sy::service
