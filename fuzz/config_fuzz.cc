// A `serve`/`worker` configuration: the TOML file, and the same settings as SY_* variables.
// The loaders promise std::invalid_argument naming the setting for anything they refuse;
// anything they accept must be a value the server can run with.
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "service/config.h"

namespace {

void check_usable(const sy::service::Config& c) {
  using namespace std::chrono_literals;
  SY_FUZZ_CHECK(c.io_threads >= 1, "io_threads < 1 accepted");
  SY_FUZZ_CHECK(c.read_timeout >= 1s && c.idle_timeout >= 1s, "a timeout under 1 s accepted");
  SY_FUZZ_CHECK(c.max_upload_bytes >= 1, "max_upload_bytes < 1 accepted");
  SY_FUZZ_CHECK(c.upload_url_ttl >= 1s && c.download_url_ttl >= 1s && c.retention >= 1s,
                "a URL validity or retention under 1 s accepted");
  SY_FUZZ_CHECK(c.lease >= 100ms, "a lease under 0.1 s accepted");
  SY_FUZZ_CHECK(c.max_attempts >= 1, "max_attempts < 1 accepted");
  SY_FUZZ_CHECK(c.workers >= -1, "a negative worker count accepted");
  SY_FUZZ_CHECK(c.janitor_interval >= 1s && c.janitor_grace >= 1s, "a janitor time under 1 s accepted");
  SY_FUZZ_CHECK(c.storage_backend == "local" || c.storage_backend == "s3", "an unknown storage backend");
  SY_FUZZ_CHECK(c.queue_backend == "sqlite" || c.queue_backend == "postgres", "an unknown queue backend");
  for (const auto& origin : c.cors_origins) SY_FUZZ_CHECK(origin != "*", "CORS origin * accepted");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  sy::service::Config from_file;
  try {
    sy::service::apply_toml_string(from_file, text);
    check_usable(from_file);
    (void)from_file.port();  // serve checks it before it starts
  } catch (const std::invalid_argument&) {
  }

  // The same bytes as environment: NAME=value lines, as `env` prints them.
  std::map<std::string, std::string> env;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(start, end - start);
    if (const auto eq = line.find('='); eq != std::string_view::npos)
      env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    start = end + 1;
  }
  sy::service::Config from_env;
  try {
    sy::service::apply_environment(from_env, [&](const char* name) -> const char* {
      const auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    });
    check_usable(from_env);
    (void)from_env.port();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
