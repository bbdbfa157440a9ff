#include "service/store_handlers.h"

#include <algorithm>
#include <charconv>

#include "storage/sigv4.h"

namespace sy::service {
namespace {

Response store_error(const storage::StoreError& e) {
  return error_response(e.status, e.code, e.message);
}

}  // namespace

StoreHandlers::StoreHandlers(storage::ObjectStore& store, storage::PresignedEndpoint* endpoint,
                             queue::JobQueue& queue, Metrics& metrics, const DiskFloor& disk)
    : store_(store), endpoint_(endpoint), queue_(queue), metrics_(metrics), disk_(disk) {}

std::optional<Response> StoreHandlers::verify(const Request& r, std::string_view method,
                                              storage::StoreRequest* out) const {
  if (!endpoint_) return error_response(404, "not_found", "no embedded store");
  storage::StoreError err;
  const bool ok = endpoint_->authorize(
      method, r.target, [&](std::string_view n) { return r.header(n); }, storage::Clock::now(),
      out, &err);
  if (!ok) return store_error(err);
  return std::nullopt;
}

Response StoreHandlers::read(const Call& call) {
  const Request& r = call.request;
  const storage::StoreRequest& sr = *call.presigned;
  const auto info = store_.stat(sr.key);
  const auto path = info ? store_.local_path(sr.key) : std::nullopt;
  if (!info || !path) return error_response(404, "NoSuchKey", "the object does not exist");
  Response res;
  res.head_only = r.method == "HEAD";
  res.set("Content-Type", sr.content_type);
  if (!sr.content_disposition.empty()) res.set("Content-Disposition", sr.content_disposition);
  res.set("Accept-Ranges", "bytes");
  res.set("Cache-Control", "private, max-age=3600");
  res.set("ETag", "\"" + std::to_string(info->size) + "-" +
                      std::to_string(info->modified.time_since_epoch().count()) + "\"");
  FileBody file{*path, 0, info->size};
  if (const auto range = r.header("range")) {
    const auto rg = parse_range(*range, info->size);
    if (rg && rg->first < 0) {
      auto bad = error_response(416, "InvalidRange", "the range is not satisfiable");
      bad.set("Content-Range", "bytes */" + std::to_string(info->size));
      return bad;
    }
    if (rg) {
      res.status = 206;
      file.offset = rg->first;
      file.length = rg->second - rg->first + 1;
      res.set("Content-Range", "bytes " + std::to_string(rg->first) + "-" +
                                   std::to_string(rg->second) + "/" + std::to_string(info->size));
    }
  }
  res.file = file;
  return res;
}

std::optional<Response> StoreHandlers::open_upload(const Call& call,
                                                   std::unique_ptr<storage::PutWriter>* sink) {
  const storage::StoreRequest& sr = *call.presigned;
  // Only an upload key of a job that still waits for it can be written.
  if (sr.key.rfind("uploads/", 0) != 0)
    return error_response(403, "AccessDenied", "this key is not writable");
  const auto rest = std::string_view(sr.key).substr(8);
  const auto job = queue_.get(std::string(rest.substr(0, rest.find('/'))));
  if (!job || job->upload_key != sr.key || job->status != queue::JobStatus::kAwaitingUpload)
    return error_response(403, "AccessDenied", "the job does not accept an upload");
  if (sr.content_length != job->size)
    return error_response(413, "EntityTooLarge", "the body differs from the declared size");
  // Refused before its body is read: a full disk would cut it off half-written.
  if (!disk_.fits(sr.content_length))
    return error_response(507, "insufficient_storage", "the server has no room for the upload");
  *sink = endpoint_->begin_put(sr.key, sr.content_length);
  return std::nullopt;
}

Response StoreHandlers::upload_finished(const Call& call) {
  const storage::StoreRequest& sr = *call.presigned;
  metrics_.uploaded(sr.content_length);
  Response res;
  res.status = 200;
  res.set("ETag", "\"" + storage::sha256_hex(sr.key + std::to_string(sr.content_length)).substr(0, 32) +
                      "\"");
  return res;
}

std::optional<std::pair<std::int64_t, std::int64_t>> parse_range(std::string_view h,
                                                                  std::int64_t size) {
  constexpr std::string_view kUnit = "bytes=";
  if (h.rfind(kUnit, 0) != 0) return std::nullopt;
  h.remove_prefix(kUnit.size());
  if (h.find(',') != std::string_view::npos) return std::nullopt;  // multi-range: send it all
  const auto dash = h.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s, std::int64_t* out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return !s.empty() && r.ec == std::errc{} && r.ptr == s.data() + s.size() && *out >= 0;
  };
  const auto a = h.substr(0, dash);
  const auto b = h.substr(dash + 1);
  std::int64_t first = 0, last = 0;
  const std::pair<std::int64_t, std::int64_t> unsatisfiable{-1, -1};
  if (a.empty()) {  // suffix: the last N bytes
    if (!num(b, &last)) return std::nullopt;
    if (last == 0 || size == 0) return unsatisfiable;
    return std::make_pair(std::max<std::int64_t>(0, size - last), size - 1);
  }
  if (!num(a, &first)) return std::nullopt;
  if (b.empty()) last = size - 1;
  else if (!num(b, &last) || last < first) return std::nullopt;
  if (first >= size) return unsatisfiable;
  return std::make_pair(first, std::min(last, size - 1));
}

}  // namespace sy::service
