// The conformance suite against a real Ceph RADOS Gateway, which the `rgw` ctest fixture
// (tests/scaleout/start_rgw.sh) starts on a loopback port: real signatures, real refusals.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

#include "storage/object_store_conformance_test.h"
#include "storage/store_factory.h"
#include "tests/support/temp_dir.h"

namespace sy::storage {
namespace {

std::map<std::string, std::string> rgw() {
  const char* state = std::getenv("SY_TEST_RGW_STATE");
  if (!state) throw std::runtime_error("SY_TEST_RGW_STATE is not set: run through ctest");
  std::map<std::string, std::string> env;
  std::ifstream in(std::string(state) + "/env");
  for (std::string line; std::getline(in, line);)
    if (const auto eq = line.find('='); eq != std::string::npos)
      env[line.substr(0, eq)] = line.substr(eq + 1);
  if (env["RGW_ENDPOINT"].empty()) throw std::runtime_error(std::string("no RGW: ") + state + "/env");
  return env;
}

// Each test process has a bucket of its own, so ctest may run them side by side.
StoreSettings settings(const testing::ClockFn& clock) {
  static const auto env = rgw();
  StoreSettings s;
  s.backend = "s3";
  s.s3.endpoint = env.at("RGW_ENDPOINT");
  s.s3.bucket = "sy-conformance-" + std::to_string(::getpid());
  s.s3.path_style = true;
  s.s3.access_key = env.at("RGW_ACCESS_KEY");
  s.s3.secret_key = env.at("RGW_SECRET_KEY");
  s.s3.clock = clock;
  return s;
}

void empty_bucket() {
  S3ObjectStore store(settings(nullptr).s3);
  store.ensure_bucket();
  store.remove_prefix("");
}

using testing::ObjectStoreConformance;
INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreConformance,
                         ::testing::Values(testing::StoreBackend{
                             "S3", empty_bucket, settings,
                             [](const std::string&, std::int64_t) {}}),  // S3 takes any upload
                         testing::backend_name);

// Beyond the suite: what only the S3 client does.
TEST(S3Store, AnswersOf4xxAreNotRetried) {
  empty_bucket();
  S3ObjectStore store(settings(nullptr).s3);
  sy::testing::TempDir dir;
  try {
    store.download_to_file("processed/none/a.mp3", dir.path() / "a.mp3");
    ADD_FAILURE() << "a missing key must throw";
  } catch (const S3Error& e) {
    EXPECT_EQ(e.status(), 404);
  }
  EXPECT_EQ(store.retries(), 0) << "a 404 is an answer, not a failure to retry";
}

}  // namespace
}  // namespace sy::storage
