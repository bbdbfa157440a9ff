#pragma once
// The S3 gateway of the `rgw` ctest fixture (tests/scaleout/start_rgw.sh) stopped and started
// again on the same port, as a crash or an operator's restart would; the cluster behind it
// (monitor, OSD) and the objects stay. Only for suites that run serially (RUN_SERIAL): every
// test on the gateway sees the outage.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/http_client.h"

namespace sy::testing {

class RgwRestart {
 public:
  // `state`: the fixture's state folder (its `dir` file names the daemons' folder).
  RgwRestart(const std::string& state, std::string endpoint) : endpoint_(std::move(endpoint)) {
    std::ifstream in(state + "/dir");
    std::getline(in, dir_);
  }
  void stop() {
    std::ifstream in(dir_ + "/run/client.rgw.pid");
    pid_t pid = 0;
    ASSERT_TRUE(in >> pid) << "no radosgw pid in " << dir_;
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(answers()) << "the gateway still answers";
  }
  void start() {
    ASSERT_EQ(std::system(("radosgw -c '" + dir_ + "/ceph.conf' -n client.rgw").c_str()), 0);
    for (int i = 0; i < 300 && !answers(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(answers()) << "the gateway did not come back";
  }

 private:
  bool answers() const {
    try {
      http_request("GET", endpoint_ + "/", {}, {}, std::chrono::seconds(2));
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  std::string endpoint_, dir_;
};

}  // namespace sy::testing
