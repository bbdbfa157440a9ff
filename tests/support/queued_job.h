#pragma once
// A job as the API leaves it once its upload is in: a stereo 440 Hz sine of `seconds` made with
// ffmpeg in `dir`, uploaded to the store under the job's upload key, the row created and queued.
// For worker-level tests that drive a WorkerPool on a real queue and store.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "queue/job_queue.h"
#include "storage/keys.h"
#include "storage/object_store.h"
#include "tests/support/process.h"

namespace sy::testing {

inline void queue_sine_job(queue::JobQueue& queue, storage::ObjectStore& store,
                           const std::filesystem::path& dir, const std::string& id, int seconds,
                           const std::string& settings_json) {
  const std::filesystem::path song = dir / (id + ".wav");
  ASSERT_EQ(shell("ffmpeg -loglevel error -y -f lavfi -i sine=frequency=440:duration=" +
                  std::to_string(seconds) + " -ac 2 -ar 44100 " + quote(song.string())),
            0);
  queue::NewJob j;
  j.id = id;
  j.token_hash = "x";
  j.filename = song.filename().string();
  j.upload_key = storage::upload_key(j.id, j.filename);
  j.size = static_cast<std::int64_t>(std::filesystem::file_size(song));
  j.settings_json = settings_json;
  queue.create(j);
  store.upload_from_file(j.upload_key, song);
  ASSERT_TRUE(queue.enqueue(j.id));
}

}  // namespace sy::testing
