#include "service/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace sy::service {
namespace {

using Setter = void (*)(Config&, const std::string&);

struct Setting {
  SettingInfo info;
  Setter set;
};

// "inf" and "nan" parse as numbers but mean nothing as a limit (a NaN limit compares false
// with everything and so turns the limit off).
double to_number(const std::string& v, const char* name) {
  double out = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || r.ec != std::errc{} || r.ptr != v.data() + v.size() || !std::isfinite(out))
    throw std::invalid_argument(std::string(name) + ": not a number: " + v);
  return out;
}
// At most `hi`, checked before the conversion: a double beyond the integer's range has no
// integer value to convert to.
std::int64_t to_int(const std::string& v, const char* name, std::int64_t lo,
                    std::int64_t hi = std::numeric_limits<int>::max()) {
  const double d = to_number(v, name);
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi) || d != std::floor(d))
    throw std::invalid_argument(std::string(name) + ": must be an integer from " +
                                std::to_string(lo) + " to " + std::to_string(hi) + " (got " + v + ")");
  return static_cast<std::int64_t>(d);
}
// A count kept in an int (to_int's default upper bound is int's).
int to_count(const std::string& v, const char* name, std::int64_t lo) {
  return static_cast<int>(to_int(v, name, lo));
}
// A limit of a render process: 0 (`zero_means`) or at least `least`, below which no render
// gets going.
std::int64_t zero_or_at_least(const std::string& v, const char* name, std::int64_t least, const char* zero_means) {
  const std::int64_t n = to_int(v, name, 0);
  if (n != 0 && n < least)
    throw std::invalid_argument(std::string(name) + ": 0 (" + zero_means + ") or at least " + std::to_string(least));
  return n;
}
// `v` when it names one of the two backends, else "name: a or b".
const std::string& either(const std::string& v, const char* name, std::string_view a, std::string_view b) {
  if (v != a && v != b) throw std::invalid_argument(std::string(name) + ": " + std::string(a) + " or " + std::string(b));
  return v;
}
std::vector<std::string> to_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto a = item.find_first_not_of(' ');
    const auto b = item.find_last_not_of(' ');
    if (a != std::string::npos) out.push_back(item.substr(a, b - a + 1));
  }
  return out;
}

// A deadline in seconds with a fraction, kept in milliseconds. Under 0.1 s a healthy server
// on another machine misses it; over 60 s a request thread waits longer than any client does.
std::chrono::milliseconds to_deadline(const std::string& v, const char* name) {
  const double seconds = to_number(v, name);
  if (seconds < 0.1 || seconds > 60)
    throw std::invalid_argument(std::string(name) + ": from 0.1 to 60 seconds (got " + v + ")");
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::lround(seconds * 1000)));
}

// The port of HOST:PORT, one a socket can bind; the message shows what was expected and what
// came.
unsigned short listen_port(const std::string& v) {
  const auto colon = v.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const char* first = v.data() + colon + 1;
    const char* last = v.data() + v.size();
    const auto r = std::from_chars(first, last, port);
    if (r.ec != std::errc{} || r.ptr != last) port = -1;
  }
  if (colon == std::string::npos || port < 0 || port > 65535)
    throw std::invalid_argument("listen: expected HOST:PORT with a port from 0 to 65535, e.g. "
                                "127.0.0.1:8080 (got '" + v + "')");
  return static_cast<unsigned short>(port);
}

// A setting taken as written: a name, a URL, a key or a path.
template <auto field>
void as_is(Config& c, const std::string& v) {
  c.*field = v;
}

#define SECONDS(field, name) \
  [](Config& c, const std::string& v) { c.field = std::chrono::seconds(to_int(v, name, 1)); }

const std::vector<Setting>& settings() {
  static const std::vector<Setting> kSettings{
      {{"server.listen", "SY_LISTEN", "HOST:PORT to listen on"},
       [](Config& c, const std::string& v) {
         (void)listen_port(v);
         c.listen = v;
       }},
      {{"server.public_url", "SY_PUBLIC_URL", "scheme://host[:port] clients reach us at"},
       as_is<&Config::public_url>},
      {{"server.io_threads", "SY_IO_THREADS", "threads serving HTTP"},
       [](Config& c, const std::string& v) { c.io_threads = to_count(v, "io_threads", 1); }},
      {{"server.cors_origins", "SY_CORS_ORIGINS", "allowed origins (list, comma-separated in env)"},
       [](Config& c, const std::string& v) {
         c.cors_origins = to_list(v);
         for (const auto& o : c.cors_origins)
           if (o == "*") throw std::invalid_argument("cors_origins: list origins, not *");
       }},
      {{"server.client_ip_header", "SY_CLIENT_IP_HEADER",
        "header with the client address set by a reverse proxy (last entry used)"},
       [](Config& c, const std::string& v) {
         c.client_ip_header = v;
         for (auto& ch : c.client_ip_header)
           ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
       }},
      {{"server.read_timeout_seconds", "SY_READ_TIMEOUT_SECONDS", "per read of headers/body"},
       SECONDS(read_timeout, "read_timeout_seconds")},
      {{"server.idle_timeout_seconds", "SY_IDLE_TIMEOUT_SECONDS", "keep-alive idle time"},
       SECONDS(idle_timeout, "idle_timeout_seconds")},
      {{"server.header_timeout_seconds", "SY_HEADER_TIMEOUT_SECONDS",
        "from a request's first byte to the end of its header"},
       SECONDS(header_timeout, "header_timeout_seconds")},
      {{"server.max_connections", "SY_MAX_CONNECTIONS",
        "open connections (0: three quarters of the open-file limit); more get 503"},
       [](Config& c, const std::string& v) { c.max_connections = to_count(v, "max_connections", 0); }},
      {{"server.max_connections_per_client", "SY_MAX_CONNECTIONS_PER_CLIENT",
        "open connections of one client address (0: no cap); more get 503"},
       [](Config& c, const std::string& v) {
         c.max_connections_per_client = to_count(v, "max_connections_per_client", 0);
       }},
      {{"storage.data_dir", "SY_DATA_DIR", "where the queue and objects live"},
       as_is<&Config::data_dir>},
      {{"storage.max_upload_bytes", "SY_MAX_UPLOAD_BYTES", "largest upload"},
       [](Config& c, const std::string& v) {
         c.max_upload_bytes = to_int(v, "max_upload_bytes", 1, std::int64_t{1} << 50);
       }},
      {{"storage.min_free_mb", "SY_MIN_FREE_MB",
        "free MiB the data directory keeps (0: no check); below it /readyz is 503 and "
        "uploads that would not fit get 507"},
       [](Config& c, const std::string& v) {
         c.min_free_mb = to_int(v, "min_free_mb", 0, std::int64_t{1} << 30);
       }},
      {{"storage.upload_url_seconds", "SY_UPLOAD_URL_SECONDS", "upload URL validity"},
       SECONDS(upload_url_ttl, "upload_url_seconds")},
      {{"storage.download_url_seconds", "SY_DOWNLOAD_URL_SECONDS", "download URL validity"},
       SECONDS(download_url_ttl, "download_url_seconds")},
      {{"storage.retention_seconds", "SY_RETENTION_SECONDS", "how long jobs and objects are kept"},
       SECONDS(retention, "retention_seconds")},
      {{"storage.access_key", "SY_ACCESS_KEY", "access key id in presigned URLs"},
       as_is<&Config::access_key>},
      {{"storage.secret_key", "SY_SECRET_KEY", "signing secret (default: generated)"},
       as_is<&Config::secret_key>},
      {{"storage.backend", "SY_STORAGE_BACKEND", "local (embedded) or s3"},
       [](Config& c, const std::string& v) { c.storage_backend = either(v, "storage.backend", "local", "s3"); }},
      {{"storage.s3_endpoint", "SY_S3_ENDPOINT", "S3 endpoint URL (default AWS by region)"},
       as_is<&Config::s3_endpoint>},
      {{"storage.s3_public_endpoint", "SY_S3_PUBLIC_ENDPOINT", "S3 endpoint browsers reach"},
       as_is<&Config::s3_public_endpoint>},
      {{"storage.s3_bucket", "SY_S3_BUCKET", "S3 bucket of uploads and results"},
       as_is<&Config::s3_bucket>},
      {{"storage.s3_region", "SY_S3_REGION", "S3 region"},
       as_is<&Config::s3_region>},
      {{"storage.s3_path_style", "SY_S3_PATH_STYLE", "path-style S3 addressing (true/false)"},
       [](Config& c, const std::string& v) { c.s3_path_style = v == "1" || v == "true" || v == "yes"; }},
      {{"storage.s3_access_key", "SY_S3_ACCESS_KEY", "S3 access key (default AWS_ACCESS_KEY_ID)"},
       as_is<&Config::s3_access_key>},
      {{"storage.s3_secret_key", "SY_S3_SECRET_KEY", "S3 secret (default AWS_SECRET_ACCESS_KEY)"},
       as_is<&Config::s3_secret_key>},
      {{"storage.s3_call_deadline_seconds", "SY_S3_CALL_DEADLINE_SECONDS",
        "the most one S3 request the API waits for (HEAD, list, DELETE) may take, retries included"},
       [](Config& c, const std::string& v) {
         c.s3_call_deadline = to_deadline(v, "storage.s3_call_deadline_seconds");
       }},
      {{"queue.backend", "SY_QUEUE_BACKEND", "sqlite (embedded) or postgres"},
       [](Config& c, const std::string& v) { c.queue_backend = either(v, "queue.backend", "sqlite", "postgres"); }},
      {{"queue.url", "SY_QUEUE_URL", "postgres connection URL"},
       as_is<&Config::queue_url>},
      {{"queue.lease_seconds", "SY_LEASE_SECONDS", "worker lease, renewed while working"},
       [](Config& c, const std::string& v) {
         const double seconds = to_number(v, "lease_seconds");
         if (seconds < 0.1 || seconds > 86400)
           throw std::invalid_argument("lease_seconds: from 0.1 to 86400");
         c.lease = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
       }},
      {{"queue.deadline_seconds", "SY_QUEUE_DEADLINE_SECONDS",
        "postgres: the most one queue call may take (pool wait, connect, statement)"},
       [](Config& c, const std::string& v) { c.queue_deadline = to_deadline(v, "queue.deadline_seconds"); }},
      {{"queue.max_attempts", "SY_MAX_ATTEMPTS", "attempts before a job fails"},
       [](Config& c, const std::string& v) { c.max_attempts = to_count(v, "max_attempts", 1); }},
      {{"workers.count", "SY_WORKERS", "render workers (0: API only; unset: one per core)"},
       [](Config& c, const std::string& v) { c.workers = to_count(v, "workers", 0); }},
      {{"workers.max_duration_seconds", "SY_MAX_DURATION_SECONDS", "longest song accepted"},
       [](Config& c, const std::string& v) { c.max_duration_seconds = to_number(v, "max_duration_seconds"); }},
      {{"workers.sofa_path", "SY_SOFA_PATH", "HRTF set (default: the system's)"},
       as_is<&Config::sofa_path>},
      {{"workers.memory_limit_mb", "SY_WORKER_MEMORY_LIMIT_MB",
        "address space of each render process in MiB (0: no limit)"},
       [](Config& c, const std::string& v) {
         c.worker_memory_limit_mb = zero_or_at_least(v, "memory_limit_mb", 256, "no limit");
       }},
      {{"workers.file_size_limit_mb", "SY_WORKER_FILE_SIZE_LIMIT_MB",
        "largest file a render process may write in MiB (0: no limit)"},
       [](Config& c, const std::string& v) {
         c.worker_file_size_limit_mb = to_int(v, "file_size_limit_mb", 0);
       }},
      {{"workers.open_files_limit", "SY_WORKER_OPEN_FILES_LIMIT",
        "open files of a render process (0: the system's)"},
       [](Config& c, const std::string& v) {
         c.worker_open_files_limit = static_cast<int>(zero_or_at_least(v, "open_files_limit", 64, "the system's"));
       }},
      {{"workers.time_limit_seconds", "SY_WORKER_TIME_LIMIT_SECONDS",
        "wall-clock and CPU time of one render attempt, before the per-second allowance"},
       SECONDS(worker_time_limit, "time_limit_seconds")},
      {{"workers.time_per_audio_second", "SY_WORKER_TIME_PER_AUDIO_SECOND",
        "extra time an attempt gets per second of audio"},
       [](Config& c, const std::string& v) {
         c.worker_time_per_audio_second = to_number(v, "time_per_audio_second");
         if (c.worker_time_per_audio_second < 0)
           throw std::invalid_argument("time_per_audio_second: must be >= 0");
       }},
      {{"limits.create_per_minute", "SY_CREATE_PER_MINUTE", "jobs per client per minute (0: off)"},
       [](Config& c, const std::string& v) { c.create_per_minute = to_number(v, "create_per_minute"); }},
      {{"limits.create_burst", "SY_CREATE_BURST", "jobs a client may create at once"},
       [](Config& c, const std::string& v) { c.create_burst = to_number(v, "create_burst"); }},
      {{"events.s3_secret", "SY_S3_EVENTS_SECRET", "bearer secret of POST /api/v1/events/s3"},
       [](Config& c, const std::string& v) {
         // Anyone who guesses it queues jobs: a short one is refused, and serve does not start.
         if (!v.empty() && v.size() < 32)
           throw std::invalid_argument("events.s3_secret: at least 32 characters (e.g. openssl rand -hex 32)");
         c.s3_events_secret = v;
       }},
      {{"janitor.interval_seconds", "SY_JANITOR_SECONDS", "how often expired data is removed"},
       SECONDS(janitor_interval, "interval_seconds")},
      {{"janitor.grace_seconds", "SY_JANITOR_GRACE_SECONDS", "extra time after an upload URL expires"},
       SECONDS(janitor_grace, "grace_seconds")},
  };
  return kSettings;
}

std::string node_to_string(const toml::node& node, const char* key) {
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_floating_point()) {
    std::ostringstream os;
    os << *node.value<double>();
    return os.str();
  }
  if (node.is_boolean()) return *node.value<bool>() ? "1" : "0";
  if (const auto* arr = node.as_array()) {
    std::string out;
    for (const auto& el : *arr) {
      const auto s = el.value<std::string>();
      if (!s) throw std::invalid_argument(std::string(key) + ": list of strings expected");
      out += (out.empty() ? "" : ",") + *s;
    }
    return out;
  }
  throw std::invalid_argument(std::string(key) + ": unsupported value type");
}

// Re-throws a setter's refusal saying where the value came from (`where`: a flag, an
// environment variable, a key of a config file), in place of the short name the setter put
// in front ("workers: ...", "lease_seconds: ...").
[[noreturn]] void refuse(const std::string& where, const std::invalid_argument& e) {
  std::string reason = e.what();
  const auto colon = reason.find(": ");
  const bool short_name =
      colon != std::string::npos && colon > 0 &&
      std::all_of(reason.begin(), reason.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
               c == '_' || c == '.';
      });
  if (short_name) reason.erase(0, colon + 2);
  throw std::invalid_argument(where + ": " + reason);
}

// `file` empty: a config given as text (tests).
void apply_table(Config& config, const toml::table& root, const std::string& file) {
  // Unknown keys are errors: a typo should not silently fall back to a default.
  for (const auto& [section, node] : root) {
    const auto* table = node.as_table();
    if (!table) throw std::invalid_argument("config: [" + std::string(section.str()) + "] must be a table");
    for (const auto& [key, value] : *table) {
      const std::string full = std::string(section.str()) + "." + std::string(key.str());
      bool known = false;
      for (const auto& s : settings()) {
        if (full == s.info.toml_key) {
          try {
            s.set(config, node_to_string(value, s.info.toml_key));
          } catch (const std::invalid_argument& e) {
            refuse((file.empty() ? "config" : "config file " + file) + ", key " + full, e);
          }
          known = true;
        }
      }
      if (!known) throw std::invalid_argument("config: unknown setting " + full);
    }
  }
}

}  // namespace

std::string Config::host() const { return listen.substr(0, listen.rfind(':')); }

unsigned short Config::port() const {
  return listen_port(listen);
}

std::string Config::effective_public_url(unsigned short bound_port) const {
  if (!public_url.empty()) return public_url;
  if (bound_port == 0) return "http://" + listen;
  return "http://" + host() + ":" + std::to_string(bound_port);
}

void apply_toml_string(Config& config, std::string_view toml_text) {
  try {
    apply_table(config, toml::parse(toml_text), "");
  } catch (const toml::parse_error& e) {
    throw std::invalid_argument(std::string("config: ") + std::string(e.description()));
  }
}

void apply_toml_file(Config& config, const std::filesystem::path& file) {
  try {
    apply_table(config, toml::parse_file(file.string()), file.string());
  } catch (const toml::parse_error& e) {
    throw std::invalid_argument(file.string() + ": " + std::string(e.description()));
  }
}

void apply_environment(Config& config, const GetEnv& getenv) {
  for (const auto& s : settings())
    if (const char* v = getenv(s.info.env); v && *v) {
      try {
        s.set(config, v);
      } catch (const std::invalid_argument& e) {
        refuse("environment variable " + std::string(s.info.env) + " (" + s.info.toml_key + ")", e);
      }
    }
}

void apply_flag(Config& config, std::string_view toml_key, std::string_view flag,
                const std::string& value) {
  for (const auto& s : settings()) {
    if (toml_key != s.info.toml_key) continue;
    try {
      s.set(config, value);
    } catch (const std::invalid_argument& e) {
      refuse(std::string(flag), e);
    }
    return;
  }
  throw std::logic_error("no setting " + std::string(toml_key));
}

const std::vector<SettingInfo>& setting_infos() {
  static const std::vector<SettingInfo> kInfos = [] {
    std::vector<SettingInfo> out;
    for (const auto& s : settings()) out.push_back(s.info);
    return out;
  }();
  return kInfos;
}

}  // namespace sy::service
