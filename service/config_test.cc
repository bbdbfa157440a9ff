#include "service/config.h"

#include <gtest/gtest.h>

#include <map>

namespace sy::service {
namespace {

TEST(Config, DefaultsMatchTheProductBrief) {
  const Config c;
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.data_dir, "data");
  EXPECT_EQ(c.max_upload_bytes, 200LL * 1024 * 1024);
  EXPECT_EQ(c.min_free_mb, 512);
  EXPECT_EQ(c.upload_url_ttl, std::chrono::minutes(15));
  EXPECT_EQ(c.download_url_ttl, std::chrono::hours(1));
  EXPECT_EQ(c.retention, std::chrono::hours(24));
  EXPECT_EQ(c.lease, std::chrono::seconds(60));
  EXPECT_EQ(c.max_attempts, 3);
  EXPECT_EQ(c.effective_public_url(), "http://127.0.0.1:8080");
  EXPECT_EQ(c.port(), 8080);
}

TEST(Config, PublicUrlNamesTheBoundPortWhenListenAsksForAnyPort) {
  Config c;
  c.listen = "127.0.0.1:0";
  EXPECT_EQ(c.port(), 0);
  EXPECT_EQ(c.effective_public_url(41234), "http://127.0.0.1:41234");
  c.public_url = "https://audio.example";  // an explicit URL always wins
  EXPECT_EQ(c.effective_public_url(41234), "https://audio.example");
}

TEST(Config, FileThenEnvironmentEachOverride) {
  Config c;
  apply_toml_string(c, R"(
[server]
listen = "0.0.0.0:9000"
cors_origins = ["https://a.example", "https://b.example"]
[storage]
data_dir = "/srv/sy"
retention_seconds = 3600
[queue]
lease_seconds = 2.5
[workers]
count = 3
)");
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.cors_origins, (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(c.data_dir, "/srv/sy");
  EXPECT_EQ(c.retention, std::chrono::hours(1));
  EXPECT_EQ(c.lease, std::chrono::milliseconds(2500));
  EXPECT_EQ(c.workers, 3);
  const std::map<std::string, std::string> env{{"SY_WORKERS", "5"}, {"SY_CORS_ORIGINS", "https://c.example"}};
  apply_environment(c, [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  EXPECT_EQ(c.workers, 5);
  EXPECT_EQ(c.cors_origins, std::vector<std::string>{"https://c.example"});
  EXPECT_EQ(c.listen, "0.0.0.0:9000") << "unset variables leave the file's value";
}

TEST(Config, RejectsTyposAndBadValues) {
  Config c;
  EXPECT_THROW(apply_toml_string(c, "[server]\nlisten_on = \"x\"\n"), std::invalid_argument);
  EXPECT_THROW(apply_toml_string(c, "[workers]\ncount = -1\n"), std::invalid_argument);
  EXPECT_THROW(apply_toml_string(c, "[server]\ncors_origins = [\"*\"]\n"), std::invalid_argument);
  EXPECT_THROW(apply_toml_string(c, "this is not toml"), std::invalid_argument);
  EXPECT_THROW(apply_environment(c, [](const char* n) -> const char* {
                 return std::string(n) == "SY_RETENTION_SECONDS" ? "soon" : nullptr;
               }),
               std::invalid_argument);
}

TEST(Config, RenderProcessLimitsFromFileAndEnvironment) {
  Config c;
  EXPECT_EQ(c.worker_memory_limit_mb, 1024);
  apply_toml_string(c, R"(
[workers]
memory_limit_mb = 512
file_size_limit_mb = 100
open_files_limit = 128
time_limit_seconds = 30
time_per_audio_second = 0.5
)");
  EXPECT_EQ(c.worker_memory_limit_mb, 512);
  EXPECT_EQ(c.worker_file_size_limit_mb, 100);
  EXPECT_EQ(c.worker_open_files_limit, 128);
  EXPECT_EQ(c.worker_time_limit, std::chrono::seconds(30));
  EXPECT_DOUBLE_EQ(c.worker_time_per_audio_second, 0.5);
  apply_environment(c, [](const char* n) -> const char* {
    return std::string(n) == "SY_WORKER_MEMORY_LIMIT_MB" ? "0" : nullptr;
  });
  EXPECT_EQ(c.worker_memory_limit_mb, 0) << "0 turns the limit off";
  // A limit too small for any render would only make children die at start.
  EXPECT_THROW(apply_toml_string(c, "[workers]\nmemory_limit_mb = 16\n"), std::invalid_argument);
  EXPECT_THROW(apply_toml_string(c, "[workers]\nopen_files_limit = 3\n"), std::invalid_argument);
  EXPECT_THROW(apply_toml_string(c, "[workers]\ntime_per_audio_second = -1\n"), std::invalid_argument);
}

// Found by fuzz_config: TOML's inf and nan, and integers beyond what the setting holds, were
// converted anyway (undefined behaviour; a NaN limit would have turned the limit off).
TEST(Config, RejectsNumbersWithoutAUsableValue) {
  Config c;
  for (const char* toml : {"[queue]\nlease_seconds = inf\n", "[queue]\nlease_seconds = 1e300\n",
                           "[queue]\nmax_attempts = 4294967297\n", "[workers]\ncount = nan\n",
                           "[workers]\nmax_duration_seconds = nan\n",
                           "[storage]\nmax_upload_bytes = 1e30\n",
                           "[storage]\nretention_seconds = -inf\n"})
    EXPECT_THROW(apply_toml_string(c, toml), std::invalid_argument) << toml;
  EXPECT_THROW(apply_environment(c, [](const char* n) -> const char* {
                 return std::string(n) == "SY_CREATE_PER_MINUTE" ? "nan" : nullptr;
               }),
               std::invalid_argument);
  apply_toml_string(c, "[queue]\nlease_seconds = 0.5\nmax_attempts = 2147483647\n");
  EXPECT_EQ(c.lease, std::chrono::milliseconds(500));
  EXPECT_EQ(c.max_attempts, 2147483647);
}

}  // namespace
TEST(Config, AnS3EventsSecretUnder32CharactersIsRefused) {
  Config c;
  EXPECT_THROW(apply_toml_string(c, "[events]\ns3_secret = \"CHANGE-ME\"\n"), std::invalid_argument);
  apply_toml_string(c, "[events]\ns3_secret = \"" + std::string(32, 'k') + "\"\n");
  EXPECT_EQ(c.s3_events_secret, std::string(32, 'k'));
}

// The deadlines of queue and store calls (issue 11): from the file and the environment, in
// seconds with a fraction; a value that would make every call fail, or hold a request thread
// for minutes, is refused with the setting's name.
TEST(Config, QueueAndStoreCallDeadlinesAreSettingsWithLimits) {
  Config c;
  EXPECT_EQ(c.queue_deadline, std::chrono::milliseconds(2000));
  EXPECT_EQ(c.s3_call_deadline, std::chrono::milliseconds(2000));
  apply_toml_string(c, "[queue]\ndeadline_seconds = 1.5\n[storage]\ns3_call_deadline_seconds = 4\n");
  EXPECT_EQ(c.queue_deadline, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.s3_call_deadline, std::chrono::milliseconds(4000));
  apply_environment(c, [](const char* n) -> const char* {
    const std::string name = n;
    return name == "SY_QUEUE_DEADLINE_SECONDS" ? "0.25" : name == "SY_S3_CALL_DEADLINE_SECONDS" ? "10" : nullptr;
  });
  EXPECT_EQ(c.queue_deadline, std::chrono::milliseconds(250));
  EXPECT_EQ(c.s3_call_deadline, std::chrono::milliseconds(10000));
  for (const char* toml : {"[queue]\ndeadline_seconds = 0\n", "[queue]\ndeadline_seconds = 0.05\n",
                           "[queue]\ndeadline_seconds = 600\n", "[queue]\ndeadline_seconds = \"soon\"\n",
                           "[storage]\ns3_call_deadline_seconds = -1\n",
                           "[storage]\ns3_call_deadline_seconds = inf\n"}) {
    try {
      apply_toml_string(c, toml);
      ADD_FAILURE() << "accepted: " << toml;
    } catch (const std::invalid_argument& e) {
      const std::string text = e.what();
      EXPECT_NE(text.find("deadline_seconds"), std::string::npos) << text;
      EXPECT_TRUE(text.find("0.1 to 60") != std::string::npos ||
                  text.find("not a number") != std::string::npos) << text;
    }
  }
  EXPECT_EQ(c.queue_deadline, std::chrono::milliseconds(250)) << "a refused value changes nothing";
}

// The message says where the value came from and which setting it is, and echoes the value.
TEST(Config, ARefusedValueNamesItsSourceAndSetting) {
  Config c;
  auto refusal = [](auto&& apply) -> std::string {
    try {
      apply();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(refusal([&] {
              apply_environment(c, [](const char* n) -> const char* {
                return std::string(n) == "SY_WORKERS" ? "abc" : nullptr;
              });
            }),
            "environment variable SY_WORKERS (workers.count): not a number: abc");
  EXPECT_EQ(refusal([&] { apply_toml_string(c, "[queue]\nmax_attempts = 0\n"); }),
            "config, key queue.max_attempts: must be an integer from 1 to 2147483647 (got 0)");
  EXPECT_EQ(refusal([&] { apply_flag(c, "server.listen", "--listen", "nonsense"); }),
            "--listen: expected HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080 (got "
            "'nonsense')");
  EXPECT_EQ(refusal([&] { apply_flag(c, "server.listen", "--listen", "[::1]:8443"); }), "accepted");
  EXPECT_EQ(c.port(), 8443);
  EXPECT_EQ(refusal([&] { apply_flag(c, "server.listen", "--listen", "127.0.0.1:8080x"); }),
            "--listen: expected HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080 (got "
            "'127.0.0.1:8080x')");
  EXPECT_EQ(c.listen, "[::1]:8443") << "a refused value changes nothing";
}

}  // namespace sy::service
