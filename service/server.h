#pragma once
// The HTTP server on Boost.Beast: a listener accepts, each connection runs a session
// (timeouts, body limits, keep-alive, streaming store uploads/downloads and SSE), and the
// Api's plain functions answer. Each thread runs its own io_context and owns the connections
// handed to it, so a connection needs no strand and its executor is never heap-allocated.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "service/api.h"

namespace sy::service {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;       // 0: any free port (tests)
  int threads = 2;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{60};
  // From a request's first byte to the end of its header (slow-header clients).
  std::chrono::seconds header_timeout{10};
  // A body slower than this, averaged over the window, is cut off; the whole body gets
  // read_timeout plus its size at this rate.
  std::uint64_t min_upload_bytes_per_second = 16 * 1024;
  std::chrono::seconds upload_rate_window{30};
  // Most a refused request's body is read and dropped so its answer is delivered.
  std::uint64_t max_discard_bytes = 200ULL * 1024 * 1024;
  // 0: from the open-file limit (raised to the hard limit at start), with a reserve.
  int max_connections = 0;
  int max_connections_per_client = 64;  // 0: no cap per client
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds sse_poll{250};
  std::chrono::seconds sse_heartbeat{15};
  int max_event_streams = 1000;
  int max_event_streams_per_job = 4;
  int max_event_streams_per_client = 16;
  // Behind a reverse proxy: the lower-case header naming the client's address (its last
  // comma-separated entry, the one our proxy added), used for rate limits and logs.
  std::string client_ip_header;
  // A socket already listening (from bind_listener) to serve instead of binding host:port.
  int listen_fd = -1;
};

// (listener.cc) Binds and listens on host:port (port 0: any free port) before the rest of the service is
// built, so presigned URLs can name the bound port. Returns the socket for
// ServerOptions::listen_fd and the bound port in `bound_port`. Throws if it cannot listen.
int bind_listener(const std::string& host, unsigned short port, unsigned short* bound_port);

class Server {
 public:
  Server(ServerOptions options, Api& api, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (or adopts listen_fd) and starts the threads; returns the bound port. Throws if it
  // cannot listen.
  unsigned short start();
  // Stops accepting, ends event streams and idle connections, lets in-flight requests finish
  // for up to `grace`, then stops the threads.
  void stop(std::chrono::seconds grace);
  int in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy::service
