#pragma once
// The behaviour every ObjectStore backend must show, presigned URLs included: they are
// exercised over real HTTP against the server that answers them (the embedded server for the
// local store, the S3 endpoint for S3). A backend's test instantiates the suite:
//   INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreConformance, ::testing::Values(StoreBackend{...}));
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "storage/object_store.h"
#include "storage/store_factory.h"
#include "tests/support/temp_dir.h"

namespace sy::storage::testing {

using ClockFn = std::function<Clock::time_point()>;

struct StoreBackend {
  std::string name;
  std::function<void()> reset;  // empties the store before each test
  // What the factory opens the store from. `clock` (empty: the real one) is when the store
  // signs URLs, so a test can hold a URL that expired long ago.
  std::function<StoreSettings(const ClockFn& clock)> settings;
  // Called before a presigned PUT of `key` (always uploads/<id>/<name>): the embedded server
  // takes only the upload a job waits for, so the local backend registers one; S3 takes any.
  std::function<void(const std::string& key, std::int64_t size)> expect_upload;
};

class ObjectStoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  // Another store on the same objects, through the factory.
  std::unique_ptr<ObjectStore> open(const ClockFn& clock = nullptr) const;
  // A file of `size` pseudo-random bytes (seeded by `seed`) in the test's own folder.
  std::filesystem::path make_file(const std::string& name, std::int64_t size, unsigned seed = 1);
  // Stores `size` bytes at `key` through upload_from_file and returns them.
  std::string put(const std::string& key, std::int64_t size, unsigned seed = 1);
  // The object's bytes as download_to_file delivers them.
  std::string get(const std::string& key);
  // A presigned PUT as a browser sends it; the HTTP status.
  int presigned_put(const PresignedRequest& put, const std::string& body);

  std::unique_ptr<ObjectStore> store;
  sy::testing::TempDir scratch;  // local files of this test
};

inline void PrintTo(const StoreBackend& b, std::ostream* os) { *os << b.name; }

inline std::string backend_name(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

}  // namespace sy::storage::testing
