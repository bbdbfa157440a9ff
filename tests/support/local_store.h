#pragma once
// The embedded store as the unit tests of the layers above storage/ use it: objects under
// `root`, presigned URLs pointing at `public_url` (a port nothing listens on unless the test
// serves it).
#include <filesystem>
#include <memory>
#include <string>

#include "storage/local/local_store.h"

namespace sy::testing {

inline std::unique_ptr<storage::LocalObjectStore> local_store(
    const std::filesystem::path& root, std::string public_url = "http://127.0.0.1:1",
    storage::SigV4Credentials credentials = {"local", "secret", "us-east-1", "s3"}) {
  storage::LocalStoreOptions options;
  options.root = root;
  options.public_url = std::move(public_url);
  options.credentials = std::move(credentials);
  return std::make_unique<storage::LocalObjectStore>(options);
}

}  // namespace sy::testing
