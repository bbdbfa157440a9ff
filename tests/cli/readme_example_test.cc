// The README's shell example of the service, run exactly as printed against a real server.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace sy::testing {
namespace {

namespace fs = std::filesystem;

std::string service_example() {
  const std::string readme = read_file(fs::path(SY_SOURCE_DIR) / "README.md");
  const auto intro = readme.find("Converting `song.mp3` from a shell");
  if (intro == std::string::npos) return {};
  const auto begin = readme.find("```sh\n", intro);
  const auto end = readme.find("\n```", begin + 6);
  if (begin == std::string::npos || end == std::string::npos) return {};
  return readme.substr(begin + 6, end - begin - 6);
}

TEST(ReadmeTest, TheServiceExampleRunsAsPasted) {
  std::string script = service_example();
  ASSERT_FALSE(script.empty()) << "the README has no service example";
  TempDir dir;
  ServeOptions options;
  options.binary = SY_BINARY;
  options.data_dir = dir.path() / "data";
  options.log = dir.path() / "serve.log";
  options.workers = 1;
  ServerProcess server(options);
  // The only change: the port this test's server listens on.
  script = std::regex_replace(script, std::regex("localhost:8080"), "127.0.0.1:" + std::to_string(server.port()));
  fs::create_directory(dir.path() / "work");
  ASSERT_EQ(shell("cd " + quote((dir.path() / "work").string()) +
                  " && ffmpeg -v error -f lavfi -i \"sine=frequency=440:duration=3\" -ac 2 song.mp3"),
            0);
  std::ofstream(dir.path() / "example.sh") << script;
  CommandResult r = run({"sh", "-c", "cd " + quote((dir.path() / "work").string()) + " && timeout 120 bash -eu " +
                                         quote((dir.path() / "example.sh").string())});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << server.log_tail();
  // The event stream ends with the job done.
  EXPECT_NE(r.out.rfind("\"status\":\"done\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sy::testing
