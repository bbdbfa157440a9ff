#pragma once
// The PostgreSQL server of the `postgres` ctest fixture (tests/scaleout/start_pg.sh): its URL,
// and the server stopped and started again on the same port and files, as a crash or an
// operator's restart would.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace sy::testing {

// A line the fixture wrote into its state folder ($SY_TEST_PG_STATE): "url", "datadir".
inline std::string postgres_fixture_value(const std::string& name) {
  const char* state = std::getenv("SY_TEST_PG_STATE");
  if (!state) throw std::runtime_error("SY_TEST_PG_STATE is not set: run through ctest");
  std::ifstream in(std::string(state) + "/" + name);
  std::string value;
  if (!std::getline(in, value) || value.empty())
    throw std::runtime_error(std::string("no PostgreSQL server: ") + state + "/" + name + " is missing");
  return value;
}

// The fixture server's URL, for a suite's own connections.
inline std::string postgres_url() { return postgres_fixture_value("url"); }

// Only for suites that run serially (RUN_SERIAL): every test on the server sees the outage.

class PostgresRestart {
 public:
  explicit PostgresRestart(const std::string& url) : dir_(postgres_fixture_value("datadir")) {
    port_ = url.substr(url.rfind(':') + 1, url.rfind('/') - url.rfind(':') - 1);
    as_pg_ = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    bin_ = "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)";
  }
  void stop() { run(bin_ + "/pg_ctl -D " + dir_ + "/db -m fast -w stop"); }
  void start() {
    run(bin_ + "/pg_ctl -D " + dir_ + "/db -l " + dir_ + "/server.log -w -t 30 -o \"-p " + port_ +
        " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200\" start");
  }

 private:
  void run(const std::string& command) {
    const std::string line = as_pg_ + "sh -c '" + command + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(("bash -c " + quote(line)).c_str()), 0) << line;
  }
  static std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }
  std::string dir_, port_, as_pg_, bin_;
};

}  // namespace sy::testing
