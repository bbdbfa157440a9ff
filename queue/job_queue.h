#pragma once
// The durable job queue: job state, attempts, leases, progress and results. One interface,
// one folder per backend (sqlite/ embedded, postgres/ for the scaled-out setup); every
// backend passes the same conformance suite (queue_conformance_test.h).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::queue {

using Clock = std::chrono::system_clock;

// Times are stored as milliseconds since the Unix epoch in every backend.
inline std::int64_t to_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline Clock::time_point from_ms(std::int64_t ms) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
}

enum class JobStatus { kAwaitingUpload, kQueued, kProcessing, kDone, kFailed, kExpired };
// "awaiting_upload", "queued", "processing", "done", "failed", "expired" (the API's names).
std::string_view status_name(JobStatus s);
std::optional<JobStatus> parse_status(std::string_view name);
bool is_final(JobStatus s);  // done, failed, expired

struct JobResult {
  std::string key;                 // processed/<id>/<attempt>/<name> (8D).<ext>
  std::int64_t bytes = 0;
  double duration_seconds = 0;     // of the rendered audio
  std::string format;              // "mp3"
  double wall_seconds = 0;         // render time
  // What was measured on the delivered file, as the API shows it (result.report: loudness,
  // true peak, range, correlation, rotation depth); empty when nothing was measured.
  std::string report_json = {};
};

struct NewJob {
  std::string id;
  std::string token_hash;          // SHA-256 hex of the job's secret token
  std::string filename;            // sanitised
  std::string upload_key;
  std::int64_t size = 0;           // declared upload size
  std::string settings_json;       // validated render settings
  int max_attempts = 3;
};

struct Job {
  std::string id;
  std::string token_hash;
  std::string filename;
  std::string upload_key;
  std::int64_t size = 0;
  std::string settings_json;
  JobStatus status = JobStatus::kAwaitingUpload;
  int attempts = 0;
  int max_attempts = 3;
  std::string lease_owner;
  Clock::time_point lease_expires{};
  double progress = 0;             // 0..1
  std::string stage;
  std::string error;               // the reason of the last failure
  // Failed because the file or its settings were refused (fail(..., permanent)): the same
  // upload would fail the same way again. False for a job whose attempts ran out.
  bool failed_permanently = false;
  Clock::time_point created_at{};
  Clock::time_point updated_at{};
  std::optional<JobResult> result; // when done
};

// Held while a task that must run in one process at a time runs (the janitor's sweep when
// several API servers share a queue); destroying it ends the turn.
class ExclusiveTurn {
 public:
  virtual ~ExclusiveTurn() = default;
};

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // Adds a job awaiting its upload. Throws std::runtime_error if the id exists.
  virtual void create(const NewJob& job) = 0;
  virtual std::optional<Job> get(const std::string& id) = 0;
  // awaiting_upload -> queued (the object-created event). True only for the call that moved
  // it, so duplicate events are harmless.
  virtual bool enqueue(const std::string& id) = 0;

  // Atomically takes the job queued longest: queued, or processing with an expired lease
  // (its worker died). Counts an attempt. A job whose lease expired on its last attempt
  // becomes failed (not permanently: the worker died, the file was not refused) instead of
  // being handed out again.
  virtual std::optional<Job> claim(const std::string& worker, std::chrono::milliseconds lease) = 0;
  // The following return false (or nullopt) when `worker` no longer holds the job: its lease
  // expired and another worker took it, or the job was deleted. The worker then stops.
  virtual bool renew(const std::string& id, const std::string& worker,
                     std::chrono::milliseconds lease) = 0;
  virtual bool report_progress(const std::string& id, const std::string& worker, double fraction,
                               const std::string& stage) = 0;
  // The result becomes the job's in the same statement that checks `worker` still holds the
  // job: a worker that lost it (another took the job after its lease ran out) changes
  // nothing and must delete its own result object, which each attempt writes under a key of
  // its own (storage::processed_key with the attempt).
  virtual bool complete(const std::string& id, const std::string& worker,
                        const JobResult& result) = 0;
  // A failed attempt: back to queued, or failed with `reason` kept when `permanent` or the
  // attempts are used up; the job keeps whether it failed permanently (Job::failed_permanently).
  // Returns the job's new status.
  virtual std::optional<JobStatus> fail(const std::string& id, const std::string& worker,
                                        const std::string& reason, bool permanent) = 0;
  // Hands the job back without counting the attempt (graceful shutdown).
  virtual bool release(const std::string& id, const std::string& worker) = 0;

  // Deletes the job; false if it did not exist.
  virtual bool remove(const std::string& id) = 0;
  virtual std::map<JobStatus, std::int64_t> count_by_status() = 0;
  // awaiting_upload jobs created before `cutoff` become expired; returns their ids.
  virtual std::vector<std::string> expire_uploads(Clock::time_point cutoff) = 0;
  // Jobs in a final state last changed before `cutoff` (retention is over).
  virtual std::vector<std::string> finished_before(Clock::time_point cutoff) = 0;
  // Whether a job that is not final yet (awaiting its upload, queued or processing) renders
  // from `upload_key`. A rerender reads its source job's upload, so the upload outlives the
  // source while a rerender still needs it.
  virtual bool upload_in_use(const std::string& upload_key) = 0;
  // The turn to run task `name` if no other holder (in this or another process sharing this
  // queue) has it, else nullptr. A holder that dies loses its turn.
  virtual std::unique_ptr<ExclusiveTurn> try_exclusive(const std::string& name) = 0;
};

}  // namespace sy::queue
