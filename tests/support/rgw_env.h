#pragma once
// The Ceph RGW of the scale-out fixtures, as tests reach it: tests/scaleout/start_rgw.sh writes
// KEY=VALUE lines (RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY, RGW_CONF) to <state>/rgw/env.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "storage/s3/s3_store.h"

namespace sy::testing {

// KEY=VALUE lines of a file; an absent file reads as empty.
inline std::map<std::string, std::string> read_env_file(const std::filesystem::path& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (const auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  return out;
}

// An S3 client's options for `bucket` on that gateway (path-style, its test user's keys).
inline storage::S3Options rgw_store_options(const std::map<std::string, std::string>& rgw,
                                            std::string bucket) {
  storage::S3Options o;
  o.endpoint = rgw.at("RGW_ENDPOINT");
  o.bucket = std::move(bucket);
  o.path_style = true;
  o.access_key = rgw.at("RGW_ACCESS_KEY");
  o.secret_key = rgw.at("RGW_SECRET_KEY");
  return o;
}

}  // namespace sy::testing
