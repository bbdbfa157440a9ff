#pragma once
// Where uploads and results live. One interface, one folder per backend (local/, s3/), chosen
// by store_factory.h from configuration, so the API and the workers never know which one they
// talk to; object_store_conformance_test.h is what every backend must do.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::storage {

using Clock = std::chrono::system_clock;
using QueryParams = std::vector<std::pair<std::string, std::string>>;  // decoded
using HeaderList = std::vector<std::pair<std::string, std::string>>;   // lowercase name, value

struct PresignedRequest {
  std::string method;                                        // "PUT" or "GET"
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // the client must send these
  Clock::time_point expires_at;
};

struct ObjectInfo {
  std::string key;
  std::int64_t size = 0;
  Clock::time_point modified;
};

// Raised when an object has been stored completely: the embedded store calls it after the
// rename; with S3 the bucket notification arrives through the API instead.
struct ObjectCreated {
  std::string key;
  std::int64_t size = 0;
};
using ObjectCreatedHandler = std::function<void(const ObjectCreated&)>;

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // A URL that accepts exactly `size` bytes for `key` until it expires: the size is signed.
  PresignedRequest presign_put(const std::string& key, std::int64_t size,
                               const std::string& content_type, std::chrono::seconds ttl);
  // A URL that reads `key`; the response names the file `download_name` (none if empty).
  PresignedRequest presign_get(const std::string& key, const std::string& download_name,
                               std::chrono::seconds ttl);
  // Removes every object of a job (storage::job_key_prefixes): its results, its attempts'
  // uploads and, unless `keep_upload` (a rerender still to run reads it), its upload.
  void remove_job(std::string_view job_id, bool keep_upload);

  virtual std::optional<ObjectInfo> stat(const std::string& key) = 0;
  virtual std::vector<ObjectInfo> list(const std::string& prefix) = 0;
  virtual void remove(const std::string& key) = 0;
  // Removes every object whose key starts with `prefix`.
  virtual void remove_prefix(const std::string& prefix) = 0;

  // For workers: copy an object to a local file / store a local file as an object.
  virtual void download_to_file(const std::string& key, const std::filesystem::path& dest) = 0;
  virtual void upload_from_file(const std::string& key, const std::filesystem::path& src) = 0;
  // `to` becomes what `from` holds, whole or not at all (a reader never sees part of it), and
  // `from` is gone: S3 copies on the server and then deletes `from`, the embedded store
  // renames. Takes at most `deadline` (past it base::Unavailable and `to` unchanged or
  // replaced whole); a `from` left behind by a failed delete is the janitor's.
  virtual void move(const std::string& from, const std::string& to,
                    std::chrono::milliseconds deadline) = 0;
  // A path the object can be read from in place, when the store is on this machine.
  virtual std::optional<std::filesystem::path> local_path(const std::string& /*key*/) {
    return std::nullopt;
  }

  virtual void set_object_created_handler(ObjectCreatedHandler handler) = 0;

 protected:
  // A SigV4-presigned `method` request for `key` wherever this store is reached, signing
  // `query` and `headers` besides the host. Throws std::invalid_argument on an invalid key.
  virtual PresignedRequest presign(const std::string& method, const std::string& key,
                                   std::chrono::seconds ttl, QueryParams query,
                                   HeaderList headers) const = 0;
};

}  // namespace sy::storage
