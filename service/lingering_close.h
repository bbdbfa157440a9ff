#pragma once
// Reading what a client still sends after we answered without reading it, and the pace a
// request body must keep.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "service/session.h"

namespace sy::service {

// A body's deadlines: each read within the read timeout, the whole body within a time
// derived from its size at the minimum rate, and no window of `rate_window` below that rate
// (a client trickling bytes holds a connection and a descriptor for nothing).
class TransferPace {
 public:
  using Steady = std::chrono::steady_clock;
  TransferPace(std::uint64_t size, const ServerOptions& options);

  // When the next read must have finished.
  Steady::time_point next_deadline() const {
    return std::min(Steady::now() + read_timeout_, deadline_);
  }
  // Counts `n` bytes read; false once a whole window went by below the minimum rate.
  bool add(std::size_t n);

 private:
  std::chrono::seconds read_timeout_;
  std::chrono::seconds window_;
  std::uint64_t min_per_window_;
  Steady::time_point deadline_;
  Steady::time_point window_start_;
  std::uint64_t window_bytes_ = 0;
};

// The answer is written and up to `unread` bytes of the request may follow: half-close,
// then read and drop them (at most `bound`) until the client closes, so its kernel never
// meets a reset that discards our answer before the client reads it (nginx's lingering
// close). A client that writes its whole body before reading (urllib, browsers without
// Expect: 100-continue) then gets the answer instead of "broken pipe".
net::awaitable<void> lingering_close(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                     std::uint64_t unread, const ServerOptions& options);

}  // namespace sy::service
