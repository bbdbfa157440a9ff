#include "storage/object_store.h"

#include "storage/keys.h"

namespace sy::storage {

PresignedRequest ObjectStore::presign_put(const std::string& key, std::int64_t size,
                                          const std::string& content_type,
                                          std::chrono::seconds ttl) {
  auto out = presign("PUT", key, ttl, {}, {{"content-length", std::to_string(size)}});
  if (!content_type.empty()) out.headers.emplace_back("Content-Type", content_type);
  return out;
}

PresignedRequest ObjectStore::presign_get(const std::string& key,
                                          const std::string& download_name,
                                          std::chrono::seconds ttl) {
  if (download_name.empty()) return presign("GET", key, ttl, {}, {});
  return presign("GET", key, ttl,
                 {{"response-content-disposition", attachment_disposition(download_name)}}, {});
}

void ObjectStore::remove_job(std::string_view job_id, bool keep_upload) {
  const auto prefixes = job_key_prefixes(job_id);
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    if (keep_upload && kJobKeyRoots[i] == "uploads/") continue;
    remove_prefix(prefixes[i]);
  }
}

}  // namespace sy::storage
