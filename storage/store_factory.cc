#include "storage/store_factory.h"

#include <stdexcept>

namespace sy::storage {

std::unique_ptr<ObjectStore> open_store(StoreSettings s) {
  if (s.backend == "local") {
    if (s.local.root.empty()) throw std::invalid_argument("storage: the local store needs a folder");
    if (s.local.credentials.secret_key.empty())
      s.local.credentials.secret_key = load_or_create_secret(s.local.root);
    return std::make_unique<LocalObjectStore>(std::move(s.local));
  }
  if (s.backend == "s3") return std::make_unique<S3ObjectStore>(std::move(s.s3));
  throw std::invalid_argument("storage.backend: unknown backend '" + s.backend + "' (local or s3)");
}

}  // namespace sy::storage
