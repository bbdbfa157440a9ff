#pragma once
// The lease race of issue 11 item 6, played on a real store: once a worker's result is up
// (its attempt's upload), "another worker" takes the job over and finishes first, as when the
// first worker's lease ran out while it uploaded. The winner does what a real worker does:
// uploads under its own attempt key, moves that to the job's result key and completes.
// Used with the embedded store (worker tests) and with S3 on Ceph RGW (scaleout).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "queue/job_queue.h"
#include "storage/keys.h"
#include "storage/object_store.h"
#include "tests/support/sqlite_edit.h"

namespace sy::testing {

class StoreWhereTheLeaseIsLostDuringUpload final : public storage::ObjectStore {
 public:
  // `take_over(job_id)` hands the job's lease to the worker named "winner" (an edit of the
  // queue's row, as the winner's claim after the lease ran out would make). The winner's
  // result holds the bytes of `winner_file`.
  StoreWhereTheLeaseIsLostDuringUpload(storage::ObjectStore& real, queue::JobQueue& queue,
                                       std::function<void(const std::string&)> take_over,
                                       std::filesystem::path winner_file)
      : real_(real), queue_(queue), take_over_(std::move(take_over)),
        winner_file_(std::move(winner_file)) {}

  std::optional<storage::ObjectInfo> stat(const std::string& k) override { return real_.stat(k); }
  std::vector<storage::ObjectInfo> list(const std::string& p) override { return real_.list(p); }
  void remove(const std::string& k) override { real_.remove(k); }
  void remove_prefix(const std::string& p) override { real_.remove_prefix(p); }
  void download_to_file(const std::string& k, const std::filesystem::path& d) override {
    real_.download_to_file(k, d);
  }
  std::optional<std::filesystem::path> local_path(const std::string& k) override {
    return real_.local_path(k);
  }
  void set_object_created_handler(storage::ObjectCreatedHandler) override {}
  void move(const std::string& from, const std::string& to, std::chrono::milliseconds d) override {
    ++loser_moves;  // the winner moves through the real store
    real_.move(from, to, d);
  }
  void upload_from_file(const std::string& key, const std::filesystem::path& src) override {
    real_.upload_from_file(key, src);
    if (key.rfind("attempts/", 0) != 0 || !loser_key.empty()) return;
    loser_key = key;
    const std::string id = key.substr(9, key.find('/', 9) - 9);
    const auto job = queue_.get(id);
    ASSERT_TRUE(job);
    take_over_(id);
    const std::string format = key.substr(key.rfind('.') + 1);
    const std::string winner_upload = storage::attempt_key(id, job->filename, format, "2-winner");
    real_.upload_from_file(winner_upload, winner_file_);
    result_key = storage::processed_key(id, job->filename, format);
    real_.move(winner_upload, result_key, std::chrono::seconds(10));
    const auto bytes = static_cast<std::int64_t>(std::filesystem::file_size(winner_file_));
    ASSERT_TRUE(queue_.complete(id, "winner", queue::JobResult{result_key, bytes, 1, format, 1}));
  }

  std::string loser_key;   // the first worker's attempt upload
  std::string result_key;  // the job's result, as the winner completed it
  int loser_moves = 0;

 private:
  storage::PresignedRequest presign(const std::string&, const std::string&, std::chrono::seconds,
                                    storage::QueryParams, storage::HeaderList) const override {
    return {};
  }
  storage::ObjectStore& real_;
  queue::JobQueue& queue_;
  std::function<void(const std::string&)> take_over_;
  std::filesystem::path winner_file_;
};

// The take-over for a job queue kept in SQLite at `db`: the row's lease goes to "winner".
inline std::function<void(const std::string&)> take_over_in_sqlite(std::filesystem::path db) {
  return [db = std::move(db)](const std::string&) { edit_sqlite(db, "UPDATE jobs SET lease_owner = 'winner'"); };
}

}  // namespace sy::testing
