#pragma once
// `surroundyou serve` settings: embedded defaults, then a TOML file, then SY_* environment
// variables, then command-line flags (each overrides the one before).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace sy::service {

struct Config {
  // [server]
  std::string listen = "127.0.0.1:8080";
  std::string public_url;                 // empty: http://<listen>
  int io_threads = 2;
  std::vector<std::string> cors_origins;  // exact origins allowed to call the API
  std::chrono::seconds read_timeout{30};  // headers and each body read
  std::chrono::seconds idle_timeout{60};  // between keep-alive requests
  std::chrono::seconds header_timeout{10};  // a request's first byte to its header's end
  int max_connections = 0;                // 0: from the open-file limit, with a reserve
  int max_connections_per_client = 64;    // 0: no cap (behind a proxy it is off)
  std::chrono::seconds shutdown_grace{15};
  std::string client_ip_header;           // e.g. "x-forwarded-for" behind a reverse proxy
  // [storage]
  std::filesystem::path data_dir = "data";
  std::int64_t max_upload_bytes = 200LL * 1024 * 1024;
  std::int64_t min_free_mb = 512;         // below it /readyz is 503 and uploads get 507
  std::chrono::seconds upload_url_ttl{15 * 60};
  std::chrono::seconds download_url_ttl{60 * 60};
  std::chrono::seconds retention{24 * 3600};
  std::string access_key = "surroundyou";
  std::string secret_key;                 // empty: generated once into <data>/store.secret
  std::string storage_backend = "local";  // "local" (embedded) or "s3"
  std::string s3_endpoint;                // empty: https://s3.<region>.amazonaws.com
  std::string s3_public_endpoint;         // what browsers reach (presigned URLs); empty: endpoint
  std::string s3_bucket;
  std::string s3_region = "us-east-1";
  bool s3_path_style = false;             // endpoint/bucket/key instead of bucket.endpoint/key
  std::string s3_access_key;              // empty: AWS_ACCESS_KEY_ID
  std::string s3_secret_key;              // empty: AWS_SECRET_ACCESS_KEY
  // The most one S3 request without a file behind it (HEAD, list, DELETE) may take, retries
  // included; past it the API answers 503.
  std::chrono::milliseconds s3_call_deadline{2000};
  // [queue]
  std::string queue_backend = "sqlite";   // "sqlite" (embedded) or "postgres"
  std::string queue_url;                  // postgres: postgresql://user:pass@host:port/db
  std::chrono::milliseconds lease{60000};
  // postgres: the most one queue call may take (pool wait, connect, statement); past it 503.
  std::chrono::milliseconds queue_deadline{2000};
  int max_attempts = 3;
  // [workers]
  int workers = -1;                       // -1: one per core; 0: none (API only)
  double max_duration_seconds = 30 * 60;
  std::string sofa_path;
  // Limits of each render process (serve's children; a `worker` applies them to itself).
  std::int64_t worker_memory_limit_mb = 1024;    // address space; 0: none
  std::int64_t worker_file_size_limit_mb = 2048; // largest file a render writes; 0: none
  int worker_open_files_limit = 256;             // 0: none
  std::chrono::seconds worker_time_limit{60};    // per attempt, plus the next per audio second
  double worker_time_per_audio_second = 0.25;
  // [limits]
  double create_per_minute = 30;
  double create_burst = 10;
  // [events]
  std::string s3_events_secret;
  // [janitor]
  std::chrono::seconds janitor_interval{60};
  std::chrono::seconds janitor_grace{60};

  std::string host() const;               // from listen
  unsigned short port() const;
  // public_url, else http://<listen>; with `bound_port` (the port actually bound, which
  // differs when listen asks for port 0) in place of listen's port.
  std::string effective_public_url(unsigned short bound_port = 0) const;
};

// Each throws std::invalid_argument on a bad value, naming the setting and where the value
// came from (the file and key, the environment variable, the flag).
void apply_toml_file(Config& config, const std::filesystem::path& file);
void apply_toml_string(Config& config, std::string_view toml);
using GetEnv = std::function<const char*(const char*)>;
void apply_environment(Config& config, const GetEnv& getenv);
// A command-line flag (`flag`, e.g. "--listen") that sets the setting `toml_key`.
void apply_flag(Config& config, std::string_view toml_key, std::string_view flag,
                const std::string& value);

// The settings table, for documentation: {toml key, environment variable, meaning}.
struct SettingInfo {
  const char* toml_key;
  const char* env;
  const char* help;
};
const std::vector<SettingInfo>& setting_infos();

}  // namespace sy::service
