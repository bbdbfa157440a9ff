#include "queue/sqlite/sqlite_queue.h"

#include <sqlite3.h>

#include <filesystem>

#include "queue/queue_conformance_test.h"

namespace sy::queue {
namespace {

namespace fs = std::filesystem;

fs::path test_db() {
  return fs::temp_directory_path() / ("sy_queue_" + std::to_string(::getpid())) / "queue.db";
}

void reset_db() {
  fs::remove_all(test_db().parent_path());
}

using testing::JobQueueConformance;
INSTANTIATE_TEST_SUITE_P(Sqlite, JobQueueConformance,
                         ::testing::Values(testing::QueueBackend{
                             "Sqlite", reset_db,
                             [] { return std::make_unique<SqliteJobQueue>(test_db()); }}),
                         testing::backend_name);

TEST(SqliteQueue, MigratesToTheLatestSchemaAndUsesWal) {
  reset_db();
  {
    SqliteJobQueue q(test_db());
    EXPECT_EQ(q.schema_version(), SqliteJobQueue::latest_schema_version());
  }
  SqliteJobQueue again(test_db());  // migrating twice is a no-op
  EXPECT_EQ(again.schema_version(), SqliteJobQueue::latest_schema_version());
  EXPECT_TRUE(fs::exists(test_db().string() + "-wal"));
}

TEST(SqliteQueue, RefusesADatabaseFromANewerBinary) {
  reset_db();
  { SqliteJobQueue q(test_db()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(test_db().c_str(), &db), SQLITE_OK);
  const std::string sql =
      "PRAGMA user_version=" + std::to_string(SqliteJobQueue::latest_schema_version() + 1);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THROW(SqliteJobQueue q(test_db()), std::runtime_error);
  reset_db();
}

}  // namespace
}  // namespace sy::queue
