#pragma once
// The listener (the role of Beast's http_server_async example of that name): accepts
// connections and deals them to the server threads' io_contexts in turn, where each runs a
// session.
#include <chrono>
#include <cstddef>
#include <vector>

#include "service/session.h"

namespace sy::service {

class Listener {
 public:
  // The accept loop runs on `home`; sessions run on `contexts`, one after another.
  Listener(net::io_context& home, std::vector<net::io_context*> contexts,
           SessionContext& sessions);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Takes over a listening socket (from bind_listener); returns its port. Throws if `fd` is
  // not a socket.
  unsigned short adopt(int fd);
  void start();
  // Stops accepting; safe from any thread.
  void close();

 private:
  net::awaitable<void> accept_loop();
  void shed_pending();

  static constexpr int kMaxRefusing = 256;

  net::ip::tcp::acceptor acceptor_;
  std::vector<net::io_context*> contexts_;
  std::size_t next_context_ = 0;  // only the accept loop touches it
  SessionContext& sessions_;
  int reserve_fd_;  // given up to accept-and-close when descriptors run out
  std::chrono::steady_clock::time_point last_warning_{};
};

}  // namespace sy::service
