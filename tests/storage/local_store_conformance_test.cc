// The conformance suite on the embedded store. Its presigned URLs are answered by the
// embedded server, which sits above storage/, so this instantiation lives here: a real
// `surroundyou serve` on a folder of its own, and the test's store opened through the
// factory on that folder, as a `worker` on the same machine does (it reads the signing secret
// the server made).
#include <memory>
#include <stdexcept>

#include "queue/sqlite/sqlite_queue.h"
#include "storage/object_store_conformance_test.h"
#include "storage/store_factory.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace sy::storage {
namespace {

struct Node {
  sy::testing::TempDir dir;
  std::unique_ptr<sy::testing::ServerProcess> server;  // stopped before `dir` goes
  std::filesystem::path data() const { return dir.path() / "data"; }
};

// One server for the process (ctest runs each test in a process of its own).
Node& node() {
  static Node n;
  if (!n.server) {
    sy::testing::ServeOptions o;
    o.binary = SY_BINARY;
    o.data_dir = n.data();
    o.log = n.dir.path() / "server.log";
    o.workers = 0;  // uploads stay where they land: no render picks them up
    o.env = {{"SY_CREATE_PER_MINUTE", "0"}};
    n.server = std::make_unique<sy::testing::ServerProcess>(std::move(o));
  }
  return n;
}

StoreSettings settings(const testing::ClockFn& clock) {
  StoreSettings s;
  s.backend = "local";
  s.local.root = node().data();
  s.local.public_url = node().server->url("");
  s.local.credentials.access_key = "surroundyou";  // serve's default
  s.local.clock = clock;
  return s;
}

void empty_store() { open_store(settings(nullptr))->remove_prefix(""); }

// The embedded server writes only the upload a job waits for, of the declared size.
void expect_upload(const std::string& key, std::int64_t size) {
  const auto slash = key.find('/', 8);
  if (key.rfind("uploads/", 0) != 0 || slash == std::string::npos)
    throw std::invalid_argument("not an upload key: " + key);
  queue::SqliteJobQueue queue(node().data() / "queue.db");
  queue.create({key.substr(8, slash - 8), "unused", key.substr(slash + 1), key, size, "{}", 3});
}

using testing::ObjectStoreConformance;
INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreConformance,
                         ::testing::Values(testing::StoreBackend{"Local", empty_store, settings,
                                                                 expect_upload}),
                         testing::backend_name);

}  // namespace
}  // namespace sy::storage
