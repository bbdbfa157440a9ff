#include "service/upload_body.h"

#include <algorithm>
#include <optional>
#include <system_error>
#include <string>
#include <vector>

#include "base/errors.h"
#include "base/log.h"
#include "service/lingering_close.h"
#include "service/response_writer.h"

namespace sy::service {
namespace {

constexpr std::size_t kUploadChunk = 256 * 1024;

bool disk_full(const std::exception& e) {
  if (dynamic_cast<const base::StorageFull*>(&e)) return true;
  const auto* system = dynamic_cast<const std::system_error*>(&e);
  return system && (system->code() == std::errc::no_space_on_device ||
                    system->code() == std::errc::file_too_large);
}

// The store's message names files and folders: it goes to the log, tied to the request id;
// the client learns what it can act on. The partial object is removed with its writer.
Response upload_failure(const Request& req, const Upload& upload, const std::exception& e) {
  base::log::warn("upload not stored",
                  {{"request_id", req.request_id}, {"key", upload.presigned.key}, {"error", e.what()}});
  if (disk_full(e))
    return error_response(507, "insufficient_storage", "the server has no room for the upload");
  return error_response(500, "InternalError", "the upload could not be stored");
}

// Writes a piece of the body; the refusal to send when the store could not take it.
std::optional<Response> store_chunk(const Request& req, const Upload& upload, const char* data,
                                    std::size_t n, std::int64_t& left, std::uint64_t& unread) {
  try {
    upload.sink->write(data, n);
  } catch (const std::exception& e) {
    return upload_failure(req, upload, e);
  }
  left -= static_cast<std::int64_t>(n);
  unread = static_cast<std::uint64_t>(left);
  return std::nullopt;
}

}  // namespace

// GCC 12 pairs Asio's coroutine-frame operator delete with the wrong operator new when a
// coroutine has this many co_return paths (a false -Wmismatched-new-delete; both are Asio's
// recycling allocator).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
net::awaitable<Response> receive_upload(SessionContext& context, beast::tcp_stream& stream,
                                        beast::flat_buffer& buffer, const Request& req,
                                        const RouteMatch& match, bool& keep_alive,
                                        std::uint64_t& unread, std::uint64_t declared) {
  Api& api = context.api;
  const auto timeout = context.options.read_timeout;
  // Until the whole body is read, an answer leaves the rest of it unread.
  keep_alive = false;
  unread = declared;
  if (!req.header("content-length"))  // chunked: the signed length cannot frame it
    co_return api.finish(req, match, error_response(411, "MissingContentLength",
                                                    "an upload needs a Content-Length"));
  auto opened = api.open_upload(req, match);
  if (auto* refused = std::get_if<Response>(&opened)) co_return std::move(*refused);
  Upload& upload = std::get<Upload>(opened);
  error_code ec;
  co_await send_continue(stream, req, timeout, ec);
  if (ec) co_return api.finish(req, match, error_response(400, "IncompleteBody", ec.message()));
  // The signed Content-Length frames the body, so it is read straight from the socket in
  // large chunks (Beast's parser would copy it through its own buffer first).
  storage::PutWriter* writer = upload.sink.get();
  std::int64_t left = upload.size();
  const auto stored = [&](const char* data, std::size_t n) {
    return store_chunk(req, upload, data, n, left, unread);
  };
  const auto pre = std::min<std::size_t>(buffer.size(), static_cast<std::size_t>(left));
  if (pre > 0) {
    if (auto failed = stored(static_cast<const char*>(buffer.data().data()), pre))
      co_return api.finish(req, match, std::move(*failed));
    buffer.consume(pre);
  }
  std::vector<char> chunk(kUploadChunk);
  TransferPace pace(static_cast<std::uint64_t>(left), context.options);
  while (left > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::int64_t>(left, kUploadChunk));
    stream.expires_at(pace.next_deadline());
    const std::size_t n =
        co_await stream.async_read_some(net::buffer(chunk.data(), want), redirect(ec));
    if (ec || !pace.add(n)) {
      unread = 0;  // the client is gone or too slow: nothing to wait for
      const bool slow = !ec || ec == beast::error::timeout;
      co_return api.finish(req, match,
                           slow ? error_response(408, "RequestTimeout",
                                                 "the upload was too slow and was stopped")
                                : error_response(400, "IncompleteBody",
                                                 "the upload did not complete"));
    }
    if (auto failed = stored(chunk.data(), n)) co_return api.finish(req, match, std::move(*failed));
  }
  // fsync and rename can take a while for a large file: not on an I/O thread.
  std::optional<Response> failure;
  co_await net::co_spawn(
      context.blocking.get_executor(),
      [&]() -> net::awaitable<void> {
        try {
          writer->commit();
        } catch (const std::exception& e) {
          failure = upload_failure(req, upload, e);
        }
        co_return;
      },
      net::use_awaitable);
  if (failure) co_return api.finish(req, match, std::move(*failure));
  keep_alive = true;
  co_return api.finish_upload(req, match, upload);
}

#pragma GCC diagnostic pop

}  // namespace sy::service
