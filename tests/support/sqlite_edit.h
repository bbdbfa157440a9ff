#pragma once
// The queue's SQLite file changed behind its back, on a connection of the test's own: as
// another process would (a worker taking a lease over), or as a failing database would
// (a trigger that refuses an update).
#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace sy::testing {

// Runs `sql` (one or more statements) on the file `db`; throws std::runtime_error with
// SQLite's message when it cannot. Waits for a lock the queue holds (a progress update
// under way) as the queue's own connections do, instead of failing on SQLITE_BUSY.
inline void edit_sqlite(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* c = nullptr;
  std::string error;
  if (sqlite3_open(db.c_str(), &c) != SQLITE_OK || sqlite3_busy_timeout(c, 10000) != SQLITE_OK ||
      sqlite3_exec(c, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    error = sqlite3_errmsg(c);
  sqlite3_close(c);
  if (!error.empty()) throw std::runtime_error("sqlite " + db.string() + ": " + error + " (" + sql + ")");
}

}  // namespace sy::testing
