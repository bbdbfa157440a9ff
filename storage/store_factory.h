#pragma once
// Picks the object store from configuration: the embedded store (files under the data folder,
// served by our own HTTP server) for one machine, or an S3 bucket to scale out. Callers see
// only ObjectStore.
#include <memory>
#include <string>

#include "storage/local/local_store.h"
#include "storage/object_store.h"
#include "storage/s3/s3_store.h"

namespace sy::storage {

struct StoreSettings {
  std::string backend = "local";  // "local" (embedded) or "s3"
  // local: an empty credentials.secret_key means the one kept in <root>/store.secret
  // (made on first use), so every process on the same folder signs and checks alike.
  LocalStoreOptions local;
  S3Options s3;
};

// Throws std::invalid_argument for an unknown backend or settings the backend refuses,
// std::runtime_error when the store cannot be opened.
std::unique_ptr<ObjectStore> open_store(StoreSettings settings);

}  // namespace sy::storage
