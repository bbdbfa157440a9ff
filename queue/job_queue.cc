#include "queue/job_queue.h"

#include <array>
#include <utility>

namespace sy::queue {
namespace {
constexpr std::array<std::pair<JobStatus, std::string_view>, 6> kNames{{
    {JobStatus::kAwaitingUpload, "awaiting_upload"},
    {JobStatus::kQueued, "queued"},
    {JobStatus::kProcessing, "processing"},
    {JobStatus::kDone, "done"},
    {JobStatus::kFailed, "failed"},
    {JobStatus::kExpired, "expired"},
}};
}  // namespace

std::string_view status_name(JobStatus s) {
  for (const auto& [st, name] : kNames)
    if (st == s) return name;
  return "unknown";
}

std::optional<JobStatus> parse_status(std::string_view name) {
  for (const auto& [st, n] : kNames)
    if (n == name) return st;
  return std::nullopt;
}

bool is_final(JobStatus s) {
  return s == JobStatus::kDone || s == JobStatus::kFailed || s == JobStatus::kExpired;
}

}  // namespace sy::queue
