#pragma once
// The jobs table as both SQL backends read it: the columns a job is selected with, and the
// Job made from one row of them. A new column is added here once, not in each backend.
#include "queue/job_queue.h"

namespace sy::queue {

inline constexpr const char* kJobColumns =
    "id, token_hash, filename, upload_key, size, settings, status, attempts, max_attempts, "
    "lease_owner, lease_expires, progress, stage, error, created_at, updated_at, result_key, "
    "result_bytes, result_duration, result_format, result_wall, result_report, failed_permanently";

// `row` reads column i of a row selected with kJobColumns: text(i), int64(i), real(i), and
// null(i) for SQL NULL (which text, int64 and real read as empty or 0).
template <class Row>
Job job_from_row(const Row& row) {
  Job j;
  j.id = row.text(0);
  j.token_hash = row.text(1);
  j.filename = row.text(2);
  j.upload_key = row.text(3);
  j.size = row.int64(4);
  j.settings_json = row.text(5);
  j.status = parse_status(row.text(6)).value_or(JobStatus::kFailed);
  j.attempts = static_cast<int>(row.int64(7));
  j.max_attempts = static_cast<int>(row.int64(8));
  j.lease_owner = row.text(9);
  j.lease_expires = from_ms(row.int64(10));
  j.progress = row.real(11);
  j.stage = row.text(12);
  j.error = row.text(13);
  j.created_at = from_ms(row.int64(14));
  j.updated_at = from_ms(row.int64(15));
  j.failed_permanently = row.int64(22) != 0;
  if (!row.null(16))
    j.result = JobResult{row.text(16), row.int64(17), row.real(18), row.text(19), row.real(20), row.text(21)};
  return j;
}

}  // namespace sy::queue
