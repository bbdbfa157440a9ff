#include "service/lingering_close.h"

#include <array>

namespace sy::service {

using tcp = net::ip::tcp;

TransferPace::TransferPace(std::uint64_t size, const ServerOptions& options)
    : read_timeout_(options.read_timeout),
      window_(options.upload_rate_window),
      min_per_window_(options.min_upload_bytes_per_second *
                      static_cast<std::uint64_t>(options.upload_rate_window.count())),
      window_start_(Steady::now()) {
  const auto per_second = std::max<std::uint64_t>(1, options.min_upload_bytes_per_second);
  deadline_ = window_start_ + options.read_timeout + std::chrono::seconds(size / per_second);
}

bool TransferPace::add(std::size_t n) {
  window_bytes_ += n;
  const auto now = Steady::now();
  if (now - window_start_ < window_) return true;
  const bool fast_enough = window_bytes_ >= min_per_window_;
  window_start_ = now;
  window_bytes_ = 0;
  return fast_enough;
}

net::awaitable<void> lingering_close(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                     std::uint64_t unread, const ServerOptions& options) {
  error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  const std::uint64_t bound = std::min<std::uint64_t>(unread, options.max_discard_bytes);
  std::uint64_t dropped = std::min<std::uint64_t>(buffer.size(), bound);
  buffer.consume(buffer.size());
  TransferPace pace(bound, options);
  std::array<char, 16 * 1024> sink;
  while (!ec && dropped < bound) {
    stream.expires_at(pace.next_deadline());
    const std::size_t n = co_await stream.async_read_some(net::buffer(sink), redirect(ec));
    dropped += n;
    if (!pace.add(n)) break;
  }
}

}  // namespace sy::service
