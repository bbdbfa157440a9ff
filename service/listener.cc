#include "service/listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "base/log.h"

namespace sy::service {

using tcp = net::ip::tcp;

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

Listener::Listener(net::io_context& home, std::vector<net::io_context*> contexts,
                   SessionContext& sessions)
    : acceptor_(home),
      contexts_(std::move(contexts)),
      sessions_(sessions),
      reserve_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

Listener::~Listener() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

unsigned short Listener::adopt(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("listen_fd is not a socket");
  acceptor_.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd);
  return acceptor_.local_endpoint().port();
}

void Listener::start() { net::co_spawn(acceptor_.get_executor(), accept_loop(), net::detached); }

void Listener::close() {
  net::post(acceptor_.get_executor(), [this] {
    error_code ec;
    acceptor_.close(ec);
  });
}

// Out of descriptors, the pending connection cannot be accepted and would wake the loop
// again at once: give up the reserve descriptor, take the connection and close it, and
// keep the reserve for next time (libev's and nginx's way out of an accept spin).
void Listener::shed_pending() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  const int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd >= 0) ::close(fd);
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

net::awaitable<void> Listener::accept_loop() {
  acceptor_.non_blocking(true);
  Metrics& metrics = sessions_.metrics;
  for (;;) {
    error_code ec;
    tcp::socket socket(contexts_[next_context_++ % contexts_.size()]->get_executor());
    co_await acceptor_.async_accept(socket, redirect(ec));
    if (ec) {
      if (sessions_.stopping || ec == net::error::operation_aborted) co_return;
      if (ec == net::error::no_descriptors || ec.value() == ENFILE) {
        shed_pending();
        metrics.connection_refused("descriptors");
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_warning_ > std::chrono::seconds(10)) {  // one line, not one per attempt
        base::log::warn("accept failed", {{"error", ec.message()}});
        last_warning_ = now;
      }
      net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(20));
      co_await t.async_wait(redirect(ec));
      continue;
    }
    // Responses go out in one write, but streamed bodies are written in pieces: never let
    // Nagle's algorithm hold a piece back waiting for the client's delayed ACK.
    socket.set_option(tcp::no_delay(true), ec);
    const auto peer = socket.remote_endpoint(ec);
    const std::string client = ec ? std::string() : peer.address().to_string();
    auto executor = socket.get_executor();
    ConnectionTable::Refusal why = ConnectionTable::Refusal::kNone;
    if (auto slot = sessions_.connections.admit(client, &why)) {
      net::co_spawn(executor,
                    run_session(sessions_, beast::tcp_stream(std::move(socket)), std::move(slot)),
                    net::detached);
      continue;
    }
    metrics.connection_refused(why == ConnectionTable::Refusal::kClientFull ? "client_full"
                                                                            : "server_full");
    // The 503s themselves hold descriptors briefly; past a few hundred, a plain close.
    if (++sessions_.refusing > kMaxRefusing) {
      --sessions_.refusing;
      continue;
    }
    net::co_spawn(executor, refuse_connection(sessions_, beast::tcp_stream(std::move(socket)), why),
                  net::detached);
  }
}

}  // namespace sy::service
