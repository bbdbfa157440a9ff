#include "service/server.h"

// <utility> first: Boost 1.74's asio/awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <cctype>
#include <mutex>

#include "queue/job_queue.h"
#include "base/log.h"
#include "storage/sigv4.h"

namespace sy::service {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kUploadChunk = 256 * 1024;

auto redirect(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

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

template <class Message>
void copy_headers(const Response& res, Message& m) {
  for (const auto& [k, v] : res.headers) m.set(k, v);
}

// The status line and header of a response with a string body, as Beast's serializer writes
// them (its reason phrase, `Connection: close` when the connection ends, Content-Length last).
// Written by hand into one string because a Beast message and serializer cost a fifth of a
// small request's CPU in per-field allocations and buffer-sequence iteration.
std::string response_head(const Response& res, bool keep_alive) {
  std::string out;
  out.reserve(256);
  char number[24];
  const auto append_number = [&](std::uint64_t n) {
    const auto r = std::to_chars(number, number + sizeof number, n);
    out.append(number, static_cast<std::size_t>(r.ptr - number));
  };
  out += "HTTP/1.1 ";
  append_number(static_cast<std::uint64_t>(res.status));
  out += ' ';
  const auto reason = http::obsolete_reason(static_cast<http::status>(res.status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [name, value] : res.headers) {
    // Framing is ours alone.
    if (beast::iequals(name, "content-length") || beast::iequals(name, "connection")) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "Content-Length: ";
  append_number(res.body.size());
  out += "\r\n\r\n";
  return out;
}

struct BusyGuard {
  explicit BusyGuard(std::atomic<int>& n) : n_(n) { ++n_; }
  ~BusyGuard() { --n_; }
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;
  std::atomic<int>& n_;
};

}  // namespace

// One io_context per thread (concurrency hint 1). A connection lives on one of them, so its
// handlers never run concurrently and need no strand: a strand inside Asio's type-erased
// executor is heap-allocated and reference-counted on every operation, which showed up as a
// large share of the per-request CPU under load.
std::vector<std::unique_ptr<net::io_context>> make_contexts(int threads) {
  std::vector<std::unique_ptr<net::io_context>> contexts;
  for (int t = 0; t < std::max(1, threads); ++t)
    contexts.push_back(std::make_unique<net::io_context>(1));
  return contexts;
}

struct Server::Impl {
  Impl(ServerOptions o, Api& a, Metrics& m)
      : options(std::move(o)), api(a), metrics(m),
        contexts(make_contexts(options.threads)), acceptor(*contexts.front()) {}

  ServerOptions options;
  Api& api;
  Metrics& metrics;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  std::size_t next_context = 0;  // only the accept loop touches it
  net::thread_pool blocking{2};  // fsync of finished uploads
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<int> busy{0};
  std::atomic<int> event_streams{0};

  net::awaitable<void> listen() {
    for (;;) {
      error_code ec;
      // Connections are dealt to the threads' contexts in turn.
      tcp::socket socket(contexts[next_context++ % contexts.size()]->get_executor());
      co_await acceptor.async_accept(socket, redirect(ec));
      if (ec) {
        if (stopping || ec == net::error::operation_aborted) co_return;
        base::log::warn("accept failed", {{"error", ec.message()}});
        net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(50));
        co_await t.async_wait(redirect(ec));
        continue;
      }
      // Responses go out in one write, but streamed bodies are written in pieces: never let
      // Nagle's algorithm hold a piece back waiting for the client's delayed ACK.
      socket.set_option(tcp::no_delay(true), ec);
      auto ex = socket.get_executor();
      net::co_spawn(ex, session(beast::tcp_stream(std::move(socket))), net::detached);
    }
  }

  Request make_request(const http::request_parser<http::empty_body>& parser,
                       const std::string& remote) {
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
    return req;
  }

  net::awaitable<void> send_continue(beast::tcp_stream& stream, const Request& req,
                                     error_code& ec) {
    const auto expect = req.header("expect");
    if (!expect || !beast::iequals(*expect, "100-continue")) co_return;
    http::response<http::empty_body> res{http::status::continue_, 11};
    stream.expires_after(options.read_timeout);
    co_await http::async_write(stream, res, redirect(ec));
  }

  // Streams a presigned PUT into the embedded store, never holding the body in memory.
  net::awaitable<Response> upload(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                  const Request& req, const RouteMatch& match, bool& keep_alive) {
    auto opened = api.open_upload(req, match);
    if (auto* refused = std::get_if<Response>(&opened)) {
      keep_alive = false;  // the body stays unread
      co_return std::move(*refused);
    }
    Upload& upload = std::get<Upload>(opened);
    error_code ec;
    co_await send_continue(stream, req, ec);
    if (ec) {
      keep_alive = false;
      co_return api.finish(req, match, error_response(400, "IncompleteBody", ec.message()));
    }
    // The signed Content-Length frames the body, so it is read straight from the socket in
    // large chunks (Beast's parser would copy it through its own buffer first).
    storage::PutWriter* writer = upload.sink.get();
    const std::int64_t size = upload.size();
    std::int64_t left = size;
    const auto pre = std::min<std::size_t>(buffer.size(), static_cast<std::size_t>(left));
    if (pre > 0) {
      writer->write(static_cast<const char*>(buffer.data().data()), pre);
      buffer.consume(pre);
      left -= static_cast<std::int64_t>(pre);
    }
    std::vector<char> chunk(kUploadChunk);
    while (left > 0) {
      const auto want = static_cast<std::size_t>(std::min<std::int64_t>(left, kUploadChunk));
      stream.expires_after(options.read_timeout);
      const std::size_t n =
          co_await stream.async_read_some(net::buffer(chunk.data(), want), redirect(ec));
      if (ec) {
        keep_alive = false;
        co_return api.finish(req, match,
                             error_response(400, "IncompleteBody", "the upload did not complete"));
      }
      writer->write(chunk.data(), n);
      left -= static_cast<std::int64_t>(n);
    }
    // fsync and rename can take a while for a large file: not on an I/O thread.
    std::string failure;
    co_await net::co_spawn(
        blocking.get_executor(),
        [&]() -> net::awaitable<void> {
          try {
            writer->commit();
          } catch (const std::exception& e) {
            failure = e.what();
          }
          co_return;
        },
        net::use_awaitable);
    if (!failure.empty()) {
      keep_alive = false;
      base::log::warn("upload not stored",
                      {{"request_id", req.request_id}, {"key", upload.presigned.key}, {"error", failure}});
      co_return api.finish(req, match, error_response(400, "IncompleteBody", failure));
    }
    co_return api.finish_upload(req, match, upload);
  }

  net::awaitable<void> write_response(beast::tcp_stream& stream, const Response& res,
                                      bool keep_alive, error_code& ec) {
    const auto status = static_cast<http::status>(res.status);
    stream.expires_after(options.read_timeout);
    if (!res.file && !res.head_only) {
      const std::string head = response_head(res, keep_alive);
      const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(res.body)};
      co_await net::async_write(stream, buffers, redirect(ec));
      co_return;
    }
    http::response<http::empty_body> m{status, 11};
    copy_headers(res, m);
    m.keep_alive(keep_alive);
    m.content_length(res.file ? static_cast<std::uint64_t>(res.file->length) : res.body.size());
    http::response_serializer<http::empty_body> sr{m};
    co_await http::async_write_header(stream, sr, redirect(ec));
    if (ec || res.head_only || !res.file) co_return;

    const int fd = ::open(res.file->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ec = error_code(errno, boost::system::generic_category());
      co_return;
    }
    std::vector<char> chunk(kChunk);
    std::int64_t offset = res.file->offset;
    std::int64_t left = res.file->length;
    while (left > 0 && !ec) {
      const auto want = static_cast<std::size_t>(std::min<std::int64_t>(left, kChunk));
      const ssize_t n = ::pread(fd, chunk.data(), want, offset);
      if (n <= 0) {
        ec = error_code(n < 0 ? errno : EIO, boost::system::generic_category());
        break;
      }
      stream.expires_after(options.read_timeout);
      co_await net::async_write(stream, net::buffer(chunk.data(), static_cast<std::size_t>(n)),
                                redirect(ec));
      offset += n;
      left -= n;
    }
    ::close(fd);
  }

  // Server-Sent Events: the job's view whenever it changes, until it is final or gone.
  net::awaitable<void> sse(beast::tcp_stream& stream, const Response& res) {
    error_code ec;
    http::response<http::empty_body> m{http::status::ok, 11};
    copy_headers(res, m);
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
      const auto view = api.job_view(res.sse_job_id);
      bool done = false;
      if (!view) {
        out += "event: deleted\ndata: {\"id\":\"" + res.sse_job_id + "\"}\n\n";
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
      if (done || stopping) co_return;
      timer.expires_after(options.sse_poll);
      co_await timer.async_wait(redirect(ec));
    }
  }

  net::awaitable<void> session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    error_code ec;
    const auto endpoint = stream.socket().remote_endpoint(ec);
    const std::string remote = ec ? "unknown" : endpoint.address().to_string();
    for (;;) {
      http::request_parser<http::empty_body> header_parser;
      header_parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      // Body limits are per route and set once the target is known.
      header_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      stream.expires_after(options.idle_timeout);
      co_await http::async_read_header(stream, buffer, header_parser, redirect(ec));
      if (ec) {
        if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
            ec != net::error::operation_aborted && ec != net::error::connection_reset &&
            ec != net::error::eof) {
          // Malformed or oversized headers: say so once, then close.
          Response bad = error_response(ec == http::error::header_limit ? 431 : 400,
                                        "bad_request", ec.message());
          error_code ignored;
          co_await write_response(stream, bad, false, ignored);
        }
        break;
      }
      BusyGuard guard(busy);
      const auto started = Steady::now();
      Request req = make_request(header_parser, remote);
      if (!options.client_ip_header.empty()) {
        if (auto forwarded = req.header(options.client_ip_header)) {
          std::string_view last(*forwarded);
          last = last.substr(last.rfind(',') == std::string_view::npos ? 0 : last.rfind(',') + 1);
          while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
          while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
          if (!last.empty() && last.size() <= 64) req.remote = std::string(last);
        }
      }
      bool keep_alive = header_parser.get().keep_alive() && !stopping;
      Response res;
      const RouteMatch match = api.route(req);
      if (match.route && match.route->streaming == Streaming::kUpload) {
        res = co_await upload(stream, buffer, req, match, keep_alive);
      } else {
        const std::size_t body_limit = match.route ? match.route->body_limit : kJsonBodyLimit;
        http::request_parser<http::string_body> parser(std::move(header_parser));
        parser.body_limit(body_limit);
        // The header was parsed without a limit, so a declared length is checked here.
        if (parser.content_length().value_or(0) > body_limit) {
          res = api.finish(req, match, error_response(413, "too_large", "the request body is too large"));
          res.set("X-Request-Id", req.request_id);
          error_code ignored;
          co_await write_response(stream, res, false, ignored);
          metrics.request(res.route, method_label(req.method), res.status);
          break;
        }
        if (parser.content_length().value_or(0) > 0 || parser.chunked()) {
          co_await send_continue(stream, req, ec);
          if (ec) break;
        }
        if (!parser.is_done()) {  // a GET is complete with its header: no read op to post
          stream.expires_after(options.read_timeout);
          co_await http::async_read(stream, buffer, parser, redirect(ec));
        }
        if (ec == http::error::body_limit) {
          res = api.finish(req, match, error_response(413, "too_large", "the request body is too large"));
          keep_alive = false;
          ec = {};
        } else if (ec) {
          break;
        } else {
          req.body = std::move(parser.get().body());
          res = api.handle(req, match);
        }
      }
      res.set("X-Request-Id", req.request_id);
      if (!res.sse_job_id.empty()) {
        // Each stream polls the queue; past the cap a client is told to poll instead.
        if (++event_streams > options.max_event_streams) {
          --event_streams;
          res = api.finish(req, match, error_response(503, "too_many_streams",
                                                      "too many event streams; poll the job"));
          res.set("Retry-After", "5");
        } else {
          metrics.request(res.route, method_label(req.method), 200);
          co_await sse(stream, res);
          --event_streams;
          break;
        }
      }
      if (!res.file && !res.head_only) {
        // The common case inline: no nested coroutine frame per request.
        const std::string head = response_head(res, keep_alive);
        const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(res.body)};
        stream.expires_after(options.read_timeout);
        co_await net::async_write(stream, buffers, redirect(ec));
      } else {
        co_await write_response(stream, res, keep_alive, ec);
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
      if (ec || !keep_alive || stopping) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
};

Server::Server(ServerOptions options, Api& api, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), api, metrics)) {}

Server::~Server() {
  stop(std::chrono::seconds(0));
  if (impl_->options.listen_fd >= 0) ::close(impl_->options.listen_fd);  // never started
}

int bind_listener(const std::string& host, unsigned short port, unsigned short* bound_port) {
  net::io_context ioc;
  const tcp::endpoint endpoint(net::ip::make_address(host), port);
  tcp::acceptor acceptor(ioc);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(net::socket_base::max_listen_connections);
  if (bound_port) *bound_port = acceptor.local_endpoint().port();
  return acceptor.release();
}

unsigned short Server::start() {
  auto& i = *impl_;
  if (i.options.listen_fd >= 0) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(i.options.listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("listen_fd is not a socket");
    i.acceptor.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), i.options.listen_fd);
    i.options.listen_fd = -1;  // the acceptor owns it now
  } else {
    unsigned short unused = 0;
    i.acceptor.assign(net::ip::make_address(i.options.host).is_v6() ? tcp::v6() : tcp::v4(),
                      bind_listener(i.options.host, i.options.port, &unused));
  }
  const unsigned short port = i.acceptor.local_endpoint().port();
  net::co_spawn(i.acceptor.get_executor(), i.listen(), net::detached);
  for (auto& context : i.contexts) {
    i.work.push_back(net::make_work_guard(*context));
    i.threads.emplace_back([c = context.get()] { c->run(); });
  }
  return port;
}

void Server::stop(std::chrono::seconds grace) {
  auto& i = *impl_;
  if (i.threads.empty()) return;
  i.stopping = true;
  net::post(i.acceptor.get_executor(), [&i] {
    error_code ec;
    i.acceptor.close(ec);
  });
  const auto deadline = Steady::now() + grace;
  while (i.busy > 0 && Steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Event streams notice `stopping` within one poll.
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
      i.options.sse_poll * 2, std::chrono::duration_cast<std::chrono::milliseconds>(grace)));
  i.work.clear();
  for (auto& context : i.contexts) context->stop();
  for (auto& t : i.threads) t.join();
  i.threads.clear();
  i.blocking.join();
}

int Server::in_flight() const { return impl_->busy.load(); }

}  // namespace sy::service
