#pragma once
// The embedded object store: files under <data>/objects, served by our own HTTP server at
// /store/<key>, reached through SigV4-presigned URLs exactly like S3.
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/object_store.h"
#include "storage/presigned_endpoint.h"
#include "storage/sigv4.h"

namespace sy::storage {

// Where a presigned request to the embedded store points: http://host:port/store/<key>.
inline constexpr std::string_view kStorePathPrefix = "/store/";

struct LocalStoreOptions {
  std::filesystem::path root;       // objects/ and tmp/ are created below it
  std::string public_url;           // scheme://host[:port] that clients use, no trailing slash
  SigV4Credentials credentials;
  std::int64_t max_object_bytes = 200LL * 1024 * 1024;
  std::function<Clock::time_point()> clock;  // when URLs are signed; empty: now (tests pin it)
};

// The signing secret kept in <root>/store.secret (mode 0600), made on first use, so presigned
// URLs survive restarts and every process sharing the folder signs alike. Two processes
// starting at once agree on one secret.
std::string load_or_create_secret(const std::filesystem::path& root);

class LocalObjectStore final : public ObjectStore, public PresignedEndpoint {
 public:
  explicit LocalObjectStore(LocalStoreOptions options);

  std::optional<ObjectInfo> stat(const std::string& key) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  void remove(const std::string& key) override;
  void remove_prefix(const std::string& prefix) override;
  void download_to_file(const std::string& key, const std::filesystem::path& dest) override;
  void upload_from_file(const std::string& key, const std::filesystem::path& src) override;
  void move(const std::string& from, const std::string& to,
            std::chrono::milliseconds deadline) override;
  std::optional<std::filesystem::path> local_path(const std::string& key) override;
  void set_object_created_handler(ObjectCreatedHandler handler) override;

  // PresignedEndpoint: our HTTP server answers this store's URLs.
  bool authorize(std::string_view method, std::string_view target, const HeaderFn& header,
                 Clock::time_point now, StoreRequest* out, StoreError* error) const override;
  std::unique_ptr<PutWriter> begin_put(const std::string& key, std::int64_t expected_size) override;
  std::size_t remove_stale_temp_files(std::chrono::seconds age) override;

  std::filesystem::path path_for(const std::string& key) const;  // throws on an invalid key
  const LocalStoreOptions& options() const { return options_; }

 private:
  PresignedRequest presign(const std::string& method, const std::string& key,
                           std::chrono::seconds ttl, QueryParams query,
                           HeaderList headers) const override;
  friend class LocalPutWriter;
  void raise_created(const ObjectCreated& event);
  std::string host() const;

  LocalStoreOptions options_;
  std::filesystem::path objects_;
  std::filesystem::path tmp_;
  std::mutex handler_mutex_;
  ObjectCreatedHandler handler_;
};

}  // namespace sy::storage
