#pragma once
// Who holds the server's connections: a count in total and per client address, and the
// connections waiting for a request, which are closed, oldest first, to make room when the
// server is full (nginx reuses its idle keep-alive connections the same way).
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sy::service {

struct ConnectionLimits {
  int max_total = 1024;
  int max_per_client = 64;  // 0: no cap per client (e.g. behind a reverse proxy)
};

class ConnectionTable {
 public:
  // One admitted connection. `close_idle` asks its session to end while it waits for a
  // request; it is called with the table's lock released and must only post work.
  struct Entry {
    std::string client;
    std::function<void()> close_idle;
    bool idle = false;
    std::list<Entry*>::iterator idle_at;
  };

  enum class Refusal { kNone, kServerFull, kClientFull };

  explicit ConnectionTable(ConnectionLimits limits) : limits_(limits) {}

  // Admits a connection from `client`, closing the oldest idle one when the server is full;
  // null and the reason when it is refused. Release the entry when the connection ends.
  std::shared_ptr<Entry> admit(const std::string& client, Refusal* refusal);
  void release(Entry& entry);
  // How the table asks the connection's session to end while it waits for a request.
  void set_close_idle(Entry& entry, std::function<void()> close_idle);
  // A connection starts or stops waiting for its next request.
  void set_idle(Entry& entry, bool idle);

  int open() const;
  const ConnectionLimits& limits() const { return limits_; }

 private:
  const ConnectionLimits limits_;
  mutable std::mutex mutex_;
  int open_ = 0;
  std::unordered_map<std::string, int> per_client_;
  std::list<Entry*> idle_;  // oldest first
};

// Raises the soft open-file limit to the hard one; returns the soft limit now in force.
std::uint64_t raise_open_file_limit();
// What `server.max_connections` defaults to under an open-file limit: a quarter of the
// descriptors (at least 64) stay for uploads being written, the queue, the store and the
// render processes' pipes.
int default_max_connections(std::uint64_t open_file_limit);

}  // namespace sy::service
