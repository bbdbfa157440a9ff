#include "service/api.h"

#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <set>
#include <tuple>

#include "engine/presets.h"
#include "base/log.h"
#include "service/s3_events.h"
#include "service/static_assets.h"
#include "storage/keys.h"
#include "storage/sigv4.h"
#include "pipeline/settings_schema.h"
#include "worker/job_settings.h"

namespace sy::service {
namespace {

using queue::JobStatus;
using storage::Clock;

constexpr std::string_view kJobsPrefix = "/api/v1/jobs/";

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return storage::to_hex(raw);
}

bool is_job_id(std::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string iso8601(Clock::time_point t) {
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Audio containers people upload; anything else is refused before a byte is sent.
bool audio_extension(const std::string& name) {
  static const std::set<std::string> kExt{".mp3", ".m4a", ".mp4", ".aac", ".ogg", ".oga",
                                          ".opus", ".flac", ".wav", ".aif", ".aiff", ".webm",
                                          ".wma", ".mka", ".alac", ".caf"};
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return kExt.count(ext) > 0;
}

// Everything view() reads from a job: equal rows give the same JSON.
bool same_view(const queue::Job& a, const queue::Job& b) {
  const auto fields = [](const queue::Job& j) {
    return std::tie(j.id, j.status, j.progress, j.stage, j.attempts, j.max_attempts, j.error,
                    j.filename, j.size, j.settings_json, j.created_at, j.updated_at);
  };
  const auto result = [](const queue::JobResult& r) {
    return std::tie(r.key, r.bytes, r.duration_seconds, r.format);
  };
  if (fields(a) != fields(b) || a.result.has_value() != b.result.has_value()) return false;
  return !a.result || result(*a.result) == result(*b.result);
}

Response not_found() { return error_response(404, "not_found", "no such job"); }

Response method_not_allowed(std::string allow) {
  auto r = error_response(405, "method_not_allowed", "method not allowed on this route");
  r.set("Allow", std::move(allow));
  return r;
}

Response store_error(const storage::StoreError& e) {
  return error_response(e.status, e.code, e.message);
}

}  // namespace

Api::Api(ApiOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
         storage::LocalObjectStore* local_store, Metrics& metrics, ApiHooks hooks)
    : options_(std::move(options)), queue_(queue), store_(store), local_(local_store),
      metrics_(metrics), hooks_(std::move(hooks)),
      limiter_(options_.create_per_minute, options_.create_burst) {}

std::string Api::route_of(const Request& r) {
  const std::string_view p = r.path();
  if (p.rfind(storage::kStorePathPrefix, 0) == 0) return "/store/{key}";
  if (p.rfind(kJobsPrefix, 0) == 0) {
    const auto rest = p.substr(kJobsPrefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return "/api/v1/jobs/{id}";
    const auto sub = rest.substr(slash + 1);
    // Only known routes become labels, so clients cannot grow the metrics without bound.
    if (sub == "events" || sub == "uploaded") return "/api/v1/jobs/{id}/" + std::string(sub);
    return "other";
  }
  static const std::set<std::string_view> kFixed{"/api/v1/jobs", "/api/v1/presets",
                                                 "/api/v1/openapi.json", "/api/v1/events/s3",
                                                 "/healthz", "/readyz", "/metrics"};
  if (kFixed.count(p)) return std::string(p);
  return "other";
}

const std::vector<std::pair<std::string, std::string>>& Api::routes() {
  static const std::vector<std::pair<std::string, std::string>> kRoutes{
      {"post", "/api/v1/jobs"},
      {"get", "/api/v1/jobs/{id}"},
      {"delete", "/api/v1/jobs/{id}"},
      {"get", "/api/v1/jobs/{id}/events"},
      {"post", "/api/v1/jobs/{id}/uploaded"},
      {"post", "/api/v1/events/s3"},
      {"get", "/api/v1/presets"},
      {"get", "/api/v1/openapi.json"},
      {"get", "/healthz"},
      {"get", "/readyz"},
      {"get", "/metrics"},
      {"get", "/store/{key}"},
      {"head", "/store/{key}"},
      {"put", "/store/{key}"},
  };
  return kRoutes;
}

Response Api::handle(const Request& r) {
  Response res;
  try {
    const std::string_view p = r.path();
    const std::string& m = r.method;
    if (m == "OPTIONS") {
      res = preflight(r);
    } else if (p == "/api/v1/jobs") {
      res = m == "POST" ? create_job(r) : method_not_allowed("POST");
    } else if (p.rfind(kJobsPrefix, 0) == 0) {
      const auto rest = p.substr(kJobsPrefix.size());
      const auto slash = rest.find('/');
      const std::string id(rest.substr(0, slash));
      const std::string_view sub =
          slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      if (sub.empty()) {
        if (m == "GET") res = get_job(r, id);
        else if (m == "DELETE") res = delete_job(r, id);
        else res = method_not_allowed("GET, DELETE");
      } else if (sub == "events") {
        res = m == "GET" ? events(r, id) : method_not_allowed("GET");
      } else if (sub == "uploaded") {
        res = m == "POST" ? mark_uploaded(r, id) : method_not_allowed("POST");
      } else {
        res = error_response(404, "not_found", "no such route");
      }
    } else if (p == "/api/v1/events/s3") {
      res = m == "POST" ? s3_events(r) : method_not_allowed("POST");
    } else if (p == "/api/v1/presets") {
      res = m == "GET" ? presets() : method_not_allowed("GET");
    } else if (p == "/api/v1/openapi.json") {
      res = m == "GET" ? json_response(200, openapi_document()) : method_not_allowed("GET");
    } else if (p == "/healthz") {
      res = json_response(200, {{"status", "ok"}});
    } else if (p == "/readyz") {
      res = readiness();
    } else if (p == "/metrics") {
      res = m == "GET" ? metrics() : method_not_allowed("GET");
    } else if (p.rfind(storage::kStorePathPrefix, 0) == 0 && local_) {
      if (m == "GET" || m == "HEAD") res = store_get(r);
      else if (m == "PUT") res = error_response(400, "bad_request", "PUT is streamed by the server");
      else res = method_not_allowed("GET, HEAD, PUT");
    } else if (auto page = static_asset(r)) {
      res = std::move(*page);  // the embedded web page (web/)
    } else {
      res = error_response(404, "not_found", "no such route");
    }
  } catch (const std::exception& e) {
    base::log::error("handler failed", {{"request_id", r.request_id}, {"error", e.what()}});
    res = error_response(500, "internal", "internal error");
  }
  res.route = route_of(r);
  apply_cors(r, res);
  return res;
}

std::string Api::method_label(const std::string& method) {
  static const std::set<std::string> kKnown{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
  return kKnown.count(method) ? method : "OTHER";
}

void Api::apply_cors(const Request& r, Response& res) const {
  const auto origin = r.header("origin");
  if (!origin) return;
  if (std::find(options_.cors_origins.begin(), options_.cors_origins.end(), *origin) ==
      options_.cors_origins.end())
    return;
  // The exact origin, never "*", and no credentials: clients authenticate with tokens.
  res.set("Access-Control-Allow-Origin", *origin);
  res.set("Vary", "Origin");
  res.set("Access-Control-Expose-Headers",
          "ETag, Content-Range, Content-Length, Content-Disposition, Location, X-Request-Id");
}

Response Api::preflight(const Request& r) const {
  Response res;
  res.status = 204;
  const auto origin = r.header("origin");
  const bool allowed =
      origin && std::find(options_.cors_origins.begin(), options_.cors_origins.end(), *origin) !=
                    options_.cors_origins.end();
  if (allowed) {
    res.set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
    res.set("Access-Control-Allow-Headers", "Authorization, Content-Type, Range, X-Request-Id");
    res.set("Access-Control-Max-Age", "600");
  }
  return res;
}

std::optional<queue::Job> Api::authorize_job(const Request& r, const std::string& id) {
  if (!is_job_id(id)) return std::nullopt;
  std::string token;
  if (auto auth = r.header("authorization"); auth && auth->rfind("Bearer ", 0) == 0)
    token = auth->substr(7);
  else if (auto q = r.param("token"))  // EventSource cannot send headers
    token = *q;
  if (token.empty()) return std::nullopt;
  auto job = queue_.get(id);
  if (!job) return std::nullopt;
  if (!storage::constant_time_equal(storage::sha256_hex(token), job->token_hash))
    return std::nullopt;
  return job;
}

nlohmann::json Api::view(const queue::Job& job) {
  nlohmann::json v{{"id", job.id},
                   {"status", queue::status_name(job.status)},
                   {"progress", job.progress},
                   {"stage", job.stage},
                   {"attempts", job.attempts},
                   {"maxAttempts", job.max_attempts},
                   {"error", job.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.error)},
                   {"filename", job.filename},
                   {"size", job.size},
                   {"createdAt", iso8601(job.created_at)},
                   {"updatedAt", iso8601(job.updated_at)}};
  try {
    v["settings"] = nlohmann::json::parse(job.settings_json);
  } catch (const std::exception&) {
    v["settings"] = nullptr;
  }
  if (job.status == JobStatus::kDone && job.result) {
    const auto get = download_url(job.result->key);
    v["result"] = {{"url", get.url},
                   {"expiresAt", iso8601(get.expires_at)},
                   {"bytes", job.result->bytes},
                   {"durationSeconds", job.result->duration_seconds},
                   {"format", job.result->format},
                   {"filename", storage::key_basename(job.result->key)}};
  }
  return v;
}

storage::PresignedRequest Api::download_url(const std::string& key) {
  // Signing costs five HMACs; a URL signed a moment ago serves every status request for a
  // while (it still has most of its validity left).
  const auto now = Clock::now();
  const auto reuse = std::min<Clock::duration>(options_.download_url_ttl / 10, std::chrono::minutes(5));
  if (auto cached = url_cache_.find(key); cached && now - cached->first < reuse)
    return cached->second;
  auto get = store_.presign_get(key, storage::key_basename(key), options_.download_url_ttl);
  url_cache_.put(key, {now, get});
  return get;
}

std::optional<nlohmann::json> Api::job_view(const std::string& id) {
  auto job = queue_.get(id);
  if (!job) return std::nullopt;
  return view(*job);
}

Response Api::create_job(const Request& r) {
  double retry_after = 0;
  if (!limiter_.allow(r.remote, &retry_after)) {
    auto res = error_response(429, "rate_limited", "too many jobs created; try again later");
    res.set("Retry-After", std::to_string(static_cast<int>(retry_after) + 1));
    return res;
  }
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(r.body);
  } catch (const std::exception&) {
    return error_response(400, "invalid_json", "the body must be a JSON object");
  }
  if (!body.is_object()) return error_response(400, "invalid_json", "the body must be a JSON object");
  if (!body.contains("filename") || !body["filename"].is_string() ||
      body["filename"].get<std::string>().empty() || body["filename"].get<std::string>().size() > 1024)
    return error_response(400, "invalid_filename", "filename must be a non-empty string");
  const std::string filename = storage::sanitise_filename(body["filename"].get<std::string>());
  if (!audio_extension(filename))
    return error_response(415, "unsupported_media_type",
                          "the file name must end in an audio extension such as .mp3 or .flac");
  if (!body.contains("size") || !body["size"].is_number_integer() ||
      body["size"].get<std::int64_t>() <= 0)
    return error_response(400, "invalid_size", "size must be a positive integer (bytes)");
  const auto size = body["size"].get<std::int64_t>();
  if (size > options_.max_upload_bytes)
    return error_response(413, "too_large",
                          "the file is larger than " + std::to_string(options_.max_upload_bytes) +
                              " bytes");
  worker::JobSettings settings;
  try {
    settings = worker::parse_job_settings(body.value("settings", nlohmann::json()), options_.limits);
  } catch (const std::invalid_argument& e) {
    return error_response(400, "invalid_settings", e.what());
  }

  const std::string id = random_hex(16);     // 128 bits: unguessable
  const std::string token = random_hex(32);  // the job's secret; only its hash is stored
  queue::NewJob job;
  job.id = id;
  job.token_hash = storage::sha256_hex(token);
  job.filename = filename;
  job.upload_key = storage::upload_key(id, filename);
  job.size = size;
  job.settings_json = settings.normalized.dump();
  job.max_attempts = options_.max_attempts;
  queue_.create(job);
  const auto put = store_.presign_put(job.upload_key, size, storage::content_type_for(filename),
                                      options_.upload_url_ttl);
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [k, v] : put.headers) headers[k] = v;
  base::log::info("job created", {{"request_id", r.request_id}, {"job_id", id}, {"size", size}});
  auto res = json_response(201, {{"id", id},
                                 {"token", token},
                                 {"status", "awaiting_upload"},
                                 {"settings", settings.normalized},
                                 {"upload",
                                  {{"method", put.method},
                                   {"url", put.url},
                                   {"headers", headers},
                                   {"expiresAt", iso8601(put.expires_at)}}}});
  res.set("Location", std::string(kJobsPrefix) + id);
  return res;
}

Response Api::get_job(const Request& r, const std::string& id) {
  const auto job = authorize_job(r, id);
  if (!job) return not_found();
  Response res;
  res.body = view_body(*job);
  res.set("Content-Type", "application/json");
  res.set("Cache-Control", "no-store");
  return res;
}

std::string Api::view_body(const queue::Job& job) {
  // Clients poll a job far more often than it changes: the serialized view is kept per job
  // and reused while the row and the download URL it names are the same (building the JSON
  // was a fifth of a status request's CPU).
  std::string url;
  if (job.status == JobStatus::kDone && job.result) url = download_url(job.result->key).url;
  if (auto cached = view_cache_.find(job.id);
      cached && (*cached)->url == url && same_view((*cached)->job, job))
    return (*cached)->body;
  std::string body = view(job).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  view_cache_.put(job.id, std::make_shared<const CachedView>(CachedView{job, std::move(url), body}));
  return body;
}

Response Api::delete_job(const Request& r, const std::string& id) {
  const auto job = authorize_job(r, id);
  if (!job) return not_found();
  queue_.remove(id);
  view_cache_.erase(id);
  if (hooks_.job_deleted) hooks_.job_deleted(id);
  store_.remove_prefix("uploads/" + id + "/");
  store_.remove_prefix("processed/" + id + "/");
  base::log::info("job deleted", {{"request_id", r.request_id}, {"job_id", id}});
  Response res;
  res.status = 204;
  return res;
}

Response Api::mark_uploaded(const Request& r, const std::string& id) {
  const auto job = authorize_job(r, id);
  if (!job) return not_found();
  if (job->status == JobStatus::kAwaitingUpload) {
    const auto info = store_.stat(job->upload_key);
    if (!info || info->size != job->size)
      return error_response(409, "upload_missing", "the upload is not complete");
    on_object_created({job->upload_key, info->size});
  } else if (job->status == JobStatus::kExpired) {
    return error_response(409, "expired", "the upload window has closed");
  }
  return json_response(202, view(*queue_.get(id)));
}

Response Api::events(const Request& r, const std::string& id) {
  const auto job = authorize_job(r, id);
  if (!job) return not_found();
  Response res;
  res.sse_job_id = id;
  res.set("Content-Type", "text/event-stream");
  res.set("Cache-Control", "no-store");
  res.set("X-Accel-Buffering", "no");  // ask reverse proxies not to hold events back
  return res;
}

Response Api::s3_events(const Request& r) {
  if (options_.s3_events_secret.empty())
    return error_response(404, "not_found", "S3 events are not enabled");
  // Bearer header, or ?secret= for gateways whose push endpoints cannot add headers (RGW).
  const auto auth = r.header("authorization");
  const auto param = r.param("secret");
  if (!(auth && storage::constant_time_equal(*auth, "Bearer " + options_.s3_events_secret)) &&
      !(param && storage::constant_time_equal(*param, options_.s3_events_secret)))
    return error_response(401, "unauthorized", "missing or wrong events secret");
  const auto batch = parse_s3_events(r.body);
  if (batch.refusal) return error_response(400, batch.refusal->code, batch.refusal->message);
  int accepted = 0;
  for (const auto& created : batch.created) {
    // Replays and duplicates change nothing (enqueue moves a job once); keys of no job
    // awaiting its upload are ignored and counted.
    std::optional<queue::Job> job;
    if (created.key.rfind("uploads/", 0) == 0) {
      const auto rest = std::string_view(created.key).substr(8);
      job = queue_.get(std::string(rest.substr(0, rest.find('/'))));
    }
    if (!job || job->upload_key != created.key) {
      metrics_.s3_event("ignored");
      continue;
    }
    on_object_created({created.key, created.size});
    const bool queued = job->status == JobStatus::kAwaitingUpload &&
                        queue_.get(job->id).value_or(*job).status != JobStatus::kAwaitingUpload;
    metrics_.s3_event(queued ? "queued" : "duplicate");
    ++accepted;
  }
  return json_response(200, {{"accepted", accepted}});
}

void Api::on_object_created(const storage::ObjectCreated& event) {
  // uploads/<id>/<name>: anything else (results) raises no work.
  if (event.key.rfind("uploads/", 0) != 0) return;
  const auto rest = std::string_view(event.key).substr(8);
  const std::string id(rest.substr(0, rest.find('/')));
  const auto job = queue_.get(id);
  if (!job || job->upload_key != event.key) {
    base::log::warn("object created for no job", {{"key", event.key}});
    return;
  }
  if (event.size != job->size) {
    base::log::warn("upload size differs from the declared size",
              {{"job_id", id}, {"size", event.size}, {"declared", job->size}});
    return;
  }
  if (queue_.enqueue(id)) {
    base::log::info("job queued", {{"job_id", id}, {"bytes", event.size}});
    if (hooks_.job_queued) hooks_.job_queued();
  }
}

std::optional<Response> Api::authorize_upload(const Request& r, std::string* key,
                                              std::int64_t* size) {
  auto finish = [&](Response res) {
    res.route = route_of(r);
    apply_cors(r, res);
    return res;
  };
  if (!local_) return finish(error_response(404, "not_found", "no embedded store"));
  storage::StoreRequest sr;
  storage::StoreError err;
  const bool ok = local_->authorize(
      "PUT", r.target, [&](std::string_view n) { return r.header(n); }, Clock::now(), &sr, &err);
  if (!ok) return finish(store_error(err));
  // Only an upload key of a job that still waits for it can be written.
  if (sr.key.rfind("uploads/", 0) != 0)
    return finish(error_response(403, "AccessDenied", "this key is not writable"));
  const auto rest = std::string_view(sr.key).substr(8);
  const auto job = queue_.get(std::string(rest.substr(0, rest.find('/'))));
  if (!job || job->upload_key != sr.key || job->status != JobStatus::kAwaitingUpload)
    return finish(error_response(403, "AccessDenied", "the job does not accept an upload"));
  if (sr.content_length != job->size)
    return finish(error_response(413, "EntityTooLarge", "the body differs from the declared size"));
  *key = sr.key;
  *size = sr.content_length;
  return std::nullopt;
}

Response Api::upload_finished(const Request& r, const std::string& key, std::int64_t bytes) {
  metrics_.uploaded(bytes);
  Response res;
  res.status = 200;
  res.set("ETag", "\"" + storage::sha256_hex(key + std::to_string(bytes)).substr(0, 32) + "\"");
  res.route = route_of(r);
  apply_cors(r, res);
  return res;
}

Response Api::presets() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : sy::engine::presets()) {
    list.push_back({{"name", p.name}, {"description", p.description}, {"settings", pipeline::engine_settings_json(p.settings)}});
  }
  return json_response(200, {{"presets", list}});
}

Response Api::readiness() {
  if (hooks_.ready && !hooks_.ready())
    return error_response(503, "not_ready", "starting or shutting down");
  try {
    queue_.count_by_status();
  } catch (const std::exception& e) {
    return error_response(503, "not_ready", std::string("queue unavailable: ") + e.what());
  }
  return json_response(200, {{"status", "ready"}});
}

Response Api::metrics() {
  Response res;
  res.body = metrics_.scrape(queue_.count_by_status(), hooks_.busy_workers ? hooks_.busy_workers() : 0);
  res.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return res;
}

Response Api::store_get(const Request& r) {
  storage::StoreRequest sr;
  storage::StoreError err;
  const bool ok = local_->authorize(
      "GET", r.target, [&](std::string_view n) { return r.header(n); }, Clock::now(), &sr, &err);
  if (!ok) return store_error(err);
  const auto info = store_.stat(sr.key);
  if (!info) return error_response(404, "NoSuchKey", "the object does not exist");
  Response res;
  res.head_only = r.method == "HEAD";
  res.set("Content-Type", sr.content_type);
  if (!sr.content_disposition.empty()) res.set("Content-Disposition", sr.content_disposition);
  res.set("Accept-Ranges", "bytes");
  res.set("Cache-Control", "private, max-age=3600");
  res.set("ETag", "\"" + std::to_string(info->size) + "-" +
                      std::to_string(info->modified.time_since_epoch().count()) + "\"");
  FileBody file{*local_->local_path(sr.key), 0, info->size};
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
