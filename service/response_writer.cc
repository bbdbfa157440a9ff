#include "service/response_writer.h"

#include <boost/beast/http.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <vector>

namespace sy::service {
namespace {

namespace http = beast::http;

constexpr std::size_t kChunk = 64 * 1024;

template <class Message>
void copy_headers(const Response& res, Message& m) {
  for (const auto& [k, v] : res.headers) m.set(k, v);
}

}  // namespace

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

net::awaitable<void> write_response(beast::tcp_stream& stream, const Response& res,
                                    bool keep_alive, std::chrono::seconds timeout,
                                    error_code& ec) {
  const auto status = static_cast<http::status>(res.status);
  stream.expires_after(timeout);
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
    stream.expires_after(timeout);
    co_await net::async_write(stream, net::buffer(chunk.data(), static_cast<std::size_t>(n)),
                              redirect(ec));
    offset += n;
    left -= n;
  }
  ::close(fd);
}

net::awaitable<void> send_continue(beast::tcp_stream& stream, const Request& req,
                                   std::chrono::seconds timeout, error_code& ec) {
  const auto expect = req.header("expect");
  if (!expect || !beast::iequals(*expect, "100-continue")) co_return;
  http::response<http::empty_body> res{http::status::continue_, 11};
  stream.expires_after(timeout);
  co_await http::async_write(stream, res, redirect(ec));
}

}  // namespace sy::service
