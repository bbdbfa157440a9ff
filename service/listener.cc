#include "service/listener.h"

#include <sys/socket.h>

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
    : acceptor_(home), contexts_(std::move(contexts)), sessions_(sessions) {}

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

net::awaitable<void> Listener::accept_loop() {
  for (;;) {
    error_code ec;
    tcp::socket socket(contexts_[next_context_++ % contexts_.size()]->get_executor());
    co_await acceptor_.async_accept(socket, redirect(ec));
    if (ec) {
      if (sessions_.stopping || ec == net::error::operation_aborted) co_return;
      base::log::warn("accept failed", {{"error", ec.message()}});
      net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(50));
      co_await t.async_wait(redirect(ec));
      continue;
    }
    // Responses go out in one write, but streamed bodies are written in pieces: never let
    // Nagle's algorithm hold a piece back waiting for the client's delayed ACK.
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    net::co_spawn(executor, run_session(sessions_, beast::tcp_stream(std::move(socket))),
                  net::detached);
  }
}

}  // namespace sy::service
