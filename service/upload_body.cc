#include "service/upload_body.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/log.h"
#include "service/response_writer.h"

namespace sy::service {
namespace {

constexpr std::size_t kUploadChunk = 256 * 1024;

}  // namespace

net::awaitable<Response> receive_upload(SessionContext& context, beast::tcp_stream& stream,
                                        beast::flat_buffer& buffer, const Request& req,
                                        const RouteMatch& match, bool& keep_alive) {
  Api& api = context.api;
  const auto timeout = context.options.read_timeout;
  auto opened = api.open_upload(req, match);
  if (auto* refused = std::get_if<Response>(&opened)) {
    keep_alive = false;  // the body stays unread
    co_return std::move(*refused);
  }
  Upload& upload = std::get<Upload>(opened);
  error_code ec;
  co_await send_continue(stream, req, timeout, ec);
  if (ec) {
    keep_alive = false;
    co_return api.finish(req, match, error_response(400, "IncompleteBody", ec.message()));
  }
  // The signed Content-Length frames the body, so it is read straight from the socket in
  // large chunks (Beast's parser would copy it through its own buffer first).
  storage::PutWriter* writer = upload.sink.get();
  std::int64_t left = upload.size();
  const auto pre = std::min<std::size_t>(buffer.size(), static_cast<std::size_t>(left));
  if (pre > 0) {
    writer->write(static_cast<const char*>(buffer.data().data()), pre);
    buffer.consume(pre);
    left -= static_cast<std::int64_t>(pre);
  }
  std::vector<char> chunk(kUploadChunk);
  while (left > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::int64_t>(left, kUploadChunk));
    stream.expires_after(timeout);
    const std::size_t n =
        co_await stream.async_read_some(net::buffer(chunk.data(), want), redirect(ec));
    if (ec) {
      keep_alive = false;
      co_return api.finish(req, match,
                           error_response(400, "IncompleteBody", "the upload did not complete"));
    }
    writer->write(chunk.data(), n);
    left -= static_cast<std::int64_t>(n);
  }
  // fsync and rename can take a while for a large file: not on an I/O thread.
  std::string failure;
  co_await net::co_spawn(
      context.blocking.get_executor(),
      [&]() -> net::awaitable<void> {
        try {
          writer->commit();
        } catch (const std::exception& e) {
          failure = e.what();
        }
        co_return;
      },
      net::use_awaitable);
  if (!failure.empty()) {
    keep_alive = false;
    base::log::warn("upload not stored",
                    {{"request_id", req.request_id}, {"key", upload.presigned.key}, {"error", failure}});
    co_return api.finish(req, match, error_response(400, "IncompleteBody", failure));
  }
  co_return api.finish_upload(req, match, upload);
}

}  // namespace sy::service
