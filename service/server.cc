#include "service/server.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "service/connection_table.h"
#include "service/listener.h"
#include "service/session.h"

namespace sy::service {
namespace {

using Steady = std::chrono::steady_clock;

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

std::vector<net::io_context*> pointers(const std::vector<std::unique_ptr<net::io_context>>& all) {
  std::vector<net::io_context*> out;
  for (const auto& c : all) out.push_back(c.get());
  return out;
}

// The open-file limit is raised before the connection cap is derived from it.
ServerOptions with_connection_limits(ServerOptions o) {
  const auto open_files = raise_open_file_limit();
  if (o.max_connections <= 0) o.max_connections = default_max_connections(open_files);
  // Behind a reverse proxy every connection comes from the proxy.
  if (!o.client_ip_header.empty()) o.max_connections_per_client = 0;
  return o;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Api& api, Metrics& metrics)
      : sessions(with_connection_limits(std::move(o)), api, metrics),
        contexts(make_contexts(sessions.options.threads)),
        listener(*contexts.front(), pointers(contexts), sessions) {}

  SessionContext sessions;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  Listener listener;
  std::vector<std::thread> threads;
};

Server::Server(ServerOptions options, Api& api, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), api, metrics)) {}

Server::~Server() {
  stop(std::chrono::seconds(0));
  auto& options = impl_->sessions.options;
  if (options.listen_fd >= 0) ::close(options.listen_fd);  // never started
}

unsigned short Server::start() {
  auto& i = *impl_;
  auto& options = i.sessions.options;
  unsigned short port = 0;
  if (options.listen_fd >= 0) {
    port = i.listener.adopt(options.listen_fd);
    options.listen_fd = -1;  // the listener owns it now
  } else {
    unsigned short unused = 0;
    const int fd = bind_listener(options.host, options.port, &unused);
    try {
      port = i.listener.adopt(fd);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  i.listener.start();
  for (auto& context : i.contexts) {
    i.work.push_back(net::make_work_guard(*context));
    i.threads.emplace_back([c = context.get()] { c->run(); });
  }
  return port;
}

void Server::stop(std::chrono::seconds grace) {
  auto& i = *impl_;
  if (i.threads.empty()) return;
  i.sessions.stopping = true;
  i.listener.close();
  const auto deadline = Steady::now() + grace;
  while (i.sessions.busy > 0 && Steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Event streams notice `stopping` within one poll.
  std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
      i.sessions.options.sse_poll * 2, std::chrono::duration_cast<std::chrono::milliseconds>(grace)));
  i.work.clear();
  for (auto& context : i.contexts) context->stop();
  for (auto& t : i.threads) t.join();
  i.threads.clear();
  i.sessions.blocking.join();
}

int Server::in_flight() const { return impl_->sessions.busy.load(); }

}  // namespace sy::service
