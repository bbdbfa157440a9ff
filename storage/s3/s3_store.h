#pragma once
// The S3 backend of ObjectStore: AWS S3, Ceph RGW, MinIO, R2… over libcurl with SigV4.
// Browsers upload and download with presigned URLs straight to the bucket; the workers use
// signed requests (streaming GET, single PUT or multipart upload). 5xx answers, throttling
// and network errors are retried with exponential backoff, then throw base::Unavailable; 4xx
// answers throw S3Error at once.
#include <chrono>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>

#include "storage/object_store.h"
#include "storage/sigv4.h"

namespace sy::storage {

struct S3Options {
  std::string endpoint;         // scheme://host[:port]; empty: https://s3.<region>.amazonaws.com
  std::string public_endpoint;  // what browsers reach, for presigned URLs; empty: endpoint
  std::string bucket;
  std::string region = "us-east-1";
  bool path_style = false;      // endpoint/bucket/key; else bucket.endpoint-host/key
  std::string access_key;       // empty: AWS_ACCESS_KEY_ID
  std::string secret_key;       // empty: AWS_SECRET_ACCESS_KEY
  int max_attempts = 5;         // per request, for 5xx / network errors
  std::chrono::milliseconds backoff{200};          // doubled per retry, with jitter
  std::chrono::seconds connect_timeout{2};
  std::chrono::seconds stall_timeout{30};          // abort a transfer that moves nothing
  // The most a request without a file behind it (HEAD, list, DELETE: what the API makes while
  // a client waits) may take, retries included; past it base::Unavailable. Transfers of
  // files (the workers') are bounded by connect_timeout and stall_timeout instead.
  std::chrono::milliseconds call_deadline{2000};
  std::int64_t multipart_threshold = 32LL << 20;   // larger files go up in parts
  std::int64_t part_size = 16LL << 20;             // S3's minimum is 5 MiB
  std::function<Clock::time_point()> clock;        // empty: the system clock (tests pin it)
};

// An answer S3 gave that retrying will not change (4xx), or retries that ran out.
class S3Error : public std::runtime_error {
 public:
  S3Error(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }           // 0: no HTTP answer (network)
  const std::string& code() const { return code_; }  // e.g. NoSuchKey, AccessDenied

 private:
  int status_;
  std::string code_;
};

class S3ObjectStore final : public ObjectStore {
 public:
  // Throws std::invalid_argument for a missing bucket/credentials or a bad endpoint.
  explicit S3ObjectStore(S3Options options);

  std::optional<ObjectInfo> stat(const std::string& key) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  void remove(const std::string& key) override;
  void remove_prefix(const std::string& prefix) override;
  void download_to_file(const std::string& key, const std::filesystem::path& dest) override;
  void upload_from_file(const std::string& key, const std::filesystem::path& src) override;
  void move(const std::string& from, const std::string& to,
            std::chrono::milliseconds deadline) override;
  // Bucket notifications reach the API over HTTP (POST /api/v1/events/s3), not through here.
  void set_object_created_handler(ObjectCreatedHandler handler) override;

  // Creates the bucket if it does not exist (development and tests).
  void ensure_bucket();
  // For tests: the URL a request for `key` goes to, and the retries made so far.
  std::string object_url(const std::string& key, bool for_browser) const;
  int retries() const { return retries_.load(); }

  struct Response {
    int status = 0;
    std::string body;
    HeaderList headers;  // lower-case names
    std::string header(std::string_view name) const;
  };

 private:
  PresignedRequest presign(const std::string& method, const std::string& key,
                           std::chrono::seconds ttl, QueryParams query,
                           HeaderList headers) const override;
  struct Endpoint {
    std::string scheme;  // http or https
    std::string host;    // with :port when not the default
  };
  struct Target {
    std::string host;
    std::string path;  // decoded
    std::string base;  // scheme://host
  };
  Target target(const std::string& key, bool for_browser) const;
  Clock::time_point now() const { return options_.clock ? options_.clock() : Clock::now(); }
  struct Body;  // bytes in memory, or a stretch of a file
  // One signed request with retries. `body` is sent as is; `sink` (optional) receives the
  // response body instead of Response::body (streaming GET). A request without a file behind
  // it takes at most `deadline` (0: options' call_deadline), retries included.
  Response request(const std::string& method, const std::string& key, const QueryParams& query,
                   const HeaderList& headers, const Body& body,
                   std::FILE* sink = nullptr, bool allow_404 = false,
                   std::chrono::milliseconds deadline = {});
  void multipart_upload(const std::string& key, int fd, std::int64_t size);

  S3Options options_;
  SigV4Credentials credentials_;
  Endpoint endpoint_;
  Endpoint public_endpoint_;
  std::mutex mutex_;
  ObjectCreatedHandler handler_;
  std::atomic<int> retries_{0};
};

// Reads the text of <tag>…</tag> elements from an S3 XML answer, entities decoded.
std::vector<std::string> xml_values(std::string_view xml, std::string_view tag);

}  // namespace sy::storage
