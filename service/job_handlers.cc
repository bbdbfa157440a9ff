#include "service/job_handlers.h"

#include <openssl/rand.h>

#include <algorithm>
#include <set>

#include "base/log.h"
#include "base/sizes.h"
#include "storage/keys.h"
#include "storage/sigv4.h"
#include "worker/job_settings.h"

namespace sy::service {
namespace {

using queue::JobStatus;

constexpr std::string_view kJobsPath = "/api/v1/jobs/";

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

// Audio and video containers people upload (a video's sound is rendered, its picture kept);
// anything else is refused before a byte is sent.
bool media_extension(const std::string& name) {
  static const std::set<std::string> kExt{".mp3", ".m4a", ".mp4", ".aac", ".ogg", ".oga",
                                          ".opus", ".flac", ".wav", ".aif", ".aiff", ".webm",
                                          ".wma", ".mka", ".alac", ".caf", ".mov", ".mkv",
                                          ".m4v"};
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return kExt.count(ext) > 0;
}

}  // namespace

JobHandlers::JobHandlers(const ApiOptions& options, queue::JobQueue& queue,
                         storage::ObjectStore& store, const ApiHooks& hooks)
    : options_(options), queue_(queue), store_(store), hooks_(hooks),
      limiter_(options.create_per_minute, options.create_burst),
      views_(store, options.download_url_ttl) {}

std::optional<queue::Job> JobHandlers::authorize(const Request& r, std::string_view id,
                                                 bool token_in_query) {
  if (!is_job_id(id)) return std::nullopt;
  std::string token;
  if (auto bearer = r.bearer_token())
    token = *bearer;
  else if (auto q = r.param("token"); q && token_in_query)  // EventSource sends no headers
    token = *q;
  if (token.empty()) return std::nullopt;
  auto job = queue_.get(std::string(id));
  if (!job) return std::nullopt;
  if (!storage::constant_time_equal(storage::sha256_hex(token), job->token_hash))
    return std::nullopt;
  return job;
}

Response JobHandlers::create(const Call& call) {
  const Request& r = call.request;
  nlohmann::json body;
  try {
    body = parse_json_body(r.body);
  } catch (const std::invalid_argument& e) {
    return error_response(400, "invalid_json", e.what());
  }
  if (!body.is_object()) return error_response(400, "invalid_json", "the body must be a JSON object");
  if (!body.contains("filename") || !body["filename"].is_string() ||
      body["filename"].get<std::string>().empty() || body["filename"].get<std::string>().size() > 1024)
    return error_response(400, "invalid_filename", "filename must be a non-empty string");
  const std::string filename = storage::sanitise_filename(body["filename"].get<std::string>());
  if (!media_extension(filename))
    return error_response(415, "unsupported_media_type",
                          "the file name must end in an audio or video extension such as .mp3, .flac or .mp4");
  if (!body.contains("size") || !body["size"].is_number_integer() ||
      body["size"].get<std::int64_t>() <= 0)
    return error_response(400, "invalid_size", "size must be a positive integer (bytes)");
  const auto size = body["size"].get<std::int64_t>();
  if (size > options_.max_upload_bytes)
    return error_response(413, "too_large",
                          "the file is " + base::size_text(size) + ", over the " +
                              base::size_text(options_.max_upload_bytes) + " upload limit");
  std::string token;
  nlohmann::json settings;
  Response refusal;
  auto job = new_job(r, body.value("settings", nlohmann::json()), &token, &settings, &refusal);
  if (!job) return refusal;
  job->filename = filename;
  job->upload_key = storage::upload_key(job->id, filename);
  job->size = size;
  queue_.create(*job);
  const auto put = store_.presign_put(job->upload_key, size, storage::content_type_for(filename),
                                      options_.upload_url_ttl);
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [k, v] : put.headers) headers[k] = v;
  base::log::info("job created", {{"request_id", r.request_id}, {"job_id", job->id}, {"size", size}});
  return created(*job, token, settings,
                 {{"status", "awaiting_upload"},
                  {"upload",
                   {{"method", put.method},
                    {"url", put.url},
                    {"headers", headers},
                    {"expiresAt", iso8601(put.expires_at)}}}});
}

std::optional<queue::NewJob> JobHandlers::new_job(const Request& r,
                                                  const nlohmann::json& settings_body,
                                                  std::string* token, nlohmann::json* settings,
                                                  Response* refusal) {
  double retry_after = 0;
  if (!limiter_.allow(r.remote, &retry_after)) {
    *refusal = error_response(429, "rate_limited", "too many jobs created; try again later");
    refusal->set("Retry-After", std::to_string(static_cast<int>(retry_after) + 1));
    return std::nullopt;
  }
  try {
    *settings = worker::parse_job_settings(settings_body, options_.limits).normalized;
  } catch (const std::invalid_argument& e) {
    *refusal = error_response(400, "invalid_settings", e.what());
    return std::nullopt;
  }
  queue::NewJob job;
  job.id = random_hex(16);   // 128 bits: unguessable
  *token = random_hex(32);   // the job's secret; only its hash is stored
  job.token_hash = storage::sha256_hex(*token);
  job.settings_json = settings->dump();
  job.max_attempts = options_.max_attempts;
  return job;
}

Response JobHandlers::created(const queue::NewJob& job, const std::string& token,
                              const nlohmann::json& settings, nlohmann::json extra) {
  nlohmann::json body{{"id", job.id}, {"token", token}, {"settings", settings}};
  body.update(extra);
  auto res = json_response(201, body);
  res.set("Location", std::string(kJobsPath) + job.id);
  return res;
}

Response JobHandlers::rerender(const Call& call) {
  const Request& r = call.request;
  const queue::Job& source = *call.job;
  nlohmann::json body;
  try {
    body = r.body.empty() ? nlohmann::json::object() : parse_json_body(r.body);
  } catch (const std::invalid_argument& e) {
    return error_response(400, "invalid_json", e.what());
  }
  if (!body.is_object()) return error_response(400, "invalid_json", "the body must be a JSON object");
  for (const auto& [field, value] : body.items())
    if (field != "settings") return error_response(400, "invalid_json", "unknown field: " + field);
  const auto upload_present = [&] {
    const auto info = store_.stat(source.upload_key);
    return info && info->size == source.size;
  };
  if (source.status == JobStatus::kAwaitingUpload)
    return error_response(409, "not_uploaded", "the job's upload has not arrived yet");
  if (source.status == JobStatus::kExpired || !upload_present())
    return error_response(409, "source_gone",
                          "the original upload is gone; create a new job and upload the file again");

  std::string token;
  nlohmann::json settings;
  Response refusal;
  auto job = new_job(r, body.value("settings", nlohmann::json()), &token, &settings, &refusal);
  if (!job) return refusal;
  // The source's own object: no copy, and DELETE and the janitor keep it while this job needs it.
  job->filename = source.filename;
  job->upload_key = source.upload_key;
  job->size = source.size;
  queue_.create(*job);
  queue_.enqueue(job->id);
  // The source may have been deleted between the check above and the job's row: its upload
  // was then removed without seeing this job, and the job could never render.
  if (!upload_present()) {
    queue_.remove(job->id);
    return error_response(409, "source_gone",
                          "the original upload is gone; create a new job and upload the file again");
  }
  base::log::info("job rerendered", {{"request_id", r.request_id}, {"job_id", job->id},
                                     {"source_job_id", source.id}});
  if (hooks_.job_queued) hooks_.job_queued();
  return created(*job, token, settings, {{"status", "queued"}, {"source", source.id}});
}

Response JobHandlers::get(const Call& call) {
  Response res;
  res.body = views_.body(*call.job);
  res.set("Content-Type", "application/json");
  res.set("Cache-Control", "no-store");
  return res;
}

Response JobHandlers::remove(const Call& call) {
  const std::string& id = call.job->id;
  if (!queue_.remove(id)) return error_response(404, "not_found", "no such job");
  views_.forget(id);
  if (hooks_.job_deleted) hooks_.job_deleted(id);
  // A rerender still to run reads this upload; the janitor removes it once none does.
  store_.remove_job(id, queue_.upload_in_use(call.job->upload_key));
  base::log::info("job deleted", {{"request_id", call.request.request_id}, {"job_id", id}});
  Response res;
  res.status = 204;
  return res;
}

Response JobHandlers::mark_uploaded(const Call& call) {
  const queue::Job& job = *call.job;
  if (job.status == JobStatus::kAwaitingUpload) {
    const auto info = store_.stat(job.upload_key);
    if (!info || info->size != job.size)
      return error_response(409, "upload_missing", "the upload is not complete");
    upload_arrived({job.upload_key, info->size});
  } else if (job.status == JobStatus::kExpired) {
    return error_response(409, "expired", "the upload window has closed");
  }
  // Deleted or expired since the token was checked (the stat above is a network round trip
  // with S3): gone, as it would have been a moment earlier.
  const auto now = queue_.get(job.id);
  if (!now) return error_response(404, "not_found", "no such job");
  return json_response(202, views_.view(*now));
}

Response JobHandlers::events(const Call&) {
  // The header of the stream; the session writes the events (Streaming::kEvents).
  Response res;
  res.set("Content-Type", "text/event-stream");
  res.set("Cache-Control", "no-store");
  res.set("X-Accel-Buffering", "no");  // ask reverse proxies not to hold events back
  return res;
}

void JobHandlers::upload_arrived(const storage::ObjectCreated& event) {
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

std::optional<nlohmann::json> JobHandlers::view(const std::string& id) {
  auto job = queue_.get(id);
  if (!job) return std::nullopt;
  return views_.view(*job);
}

}  // namespace sy::service
