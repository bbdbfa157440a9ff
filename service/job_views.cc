#include "service/job_views.h"

#include <algorithm>
#include <ctime>
#include <tuple>

#include "storage/keys.h"

namespace sy::service {
namespace {

using queue::JobStatus;
using storage::Clock;

// Everything view() reads from a job: equal rows give the same JSON.
bool same_view(const queue::Job& a, const queue::Job& b) {
  const auto fields = [](const queue::Job& j) {
    return std::tie(j.id, j.status, j.progress, j.stage, j.attempts, j.max_attempts, j.error,
                    j.failed_permanently, j.filename, j.size, j.settings_json, j.created_at,
                    j.updated_at);
  };
  const auto result = [](const queue::JobResult& r) {
    return std::tie(r.key, r.bytes, r.duration_seconds, r.format, r.report_json);
  };
  if (fields(a) != fields(b) || a.result.has_value() != b.result.has_value()) return false;
  return !a.result || result(*a.result) == result(*b.result);
}

}  // namespace

std::string iso8601(Clock::time_point t) {
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

JobViews::JobViews(storage::ObjectStore& store, std::chrono::seconds download_url_ttl)
    : store_(store), download_url_ttl_(download_url_ttl) {}

nlohmann::json JobViews::view(const queue::Job& job) {
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
  // A refused file or settings fail the same way again, on any attempt: a client must not
  // offer to try that again. Attempts that ran out (crashes, limits, lost workers) may not.
  if (job.status == JobStatus::kFailed) v["retryable"] = !job.failed_permanently;
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
    if (!job.result->report_json.empty()) {
      const auto report = nlohmann::json::parse(job.result->report_json, nullptr, false);
      if (!report.is_discarded()) v["result"]["report"] = report;
    }
  }
  return v;
}

std::string JobViews::body(const queue::Job& job) {
  // Building the JSON was a fifth of a status request's CPU.
  std::string url;
  if (job.status == JobStatus::kDone && job.result) url = download_url(job.result->key).url;
  if (auto cached = view_cache_.find(job.id);
      cached && (*cached)->url == url && same_view((*cached)->job, job))
    return (*cached)->body;
  std::string body = view(job).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  view_cache_.put(job.id, std::make_shared<const CachedView>(CachedView{job, std::move(url), body}));
  return body;
}

void JobViews::forget(const std::string& id) { view_cache_.erase(id); }

storage::PresignedRequest JobViews::download_url(const std::string& key) {
  // Signing costs five HMACs; a URL signed a moment ago serves every status request for a
  // while (it still has most of its validity left).
  const auto now = Clock::now();
  const auto reuse = std::min<Clock::duration>(download_url_ttl_ / 10, std::chrono::minutes(5));
  if (auto cached = url_cache_.find(key); cached && now - cached->first < reuse)
    return cached->second;
  auto get = store_.presign_get(key, storage::key_basename(key), download_url_ttl_);
  url_cache_.put(key, {now, get});
  return get;
}

}  // namespace sy::service
