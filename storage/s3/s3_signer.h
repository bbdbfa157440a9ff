#pragma once
// SigV4 in its header form (the Authorization header), for the requests our S3 client sends
// itself; presigned URLs for browsers use presign_query() from storage/sigv4.h.
#include <chrono>
#include <string>
#include <string_view>

#include "storage/sigv4.h"

namespace sy::storage {

// Payload hash S3 accepts when the body is not hashed (streamed uploads over TLS).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct HeaderSignInput {
  std::string method = "GET";
  std::string host;           // Host header value (with a non-default port)
  std::string path = "/";     // decoded
  QueryParams query;          // decoded
  HeaderList headers;         // other headers to sign (lower-case names), e.g. range
  std::string payload_hash;   // hex SHA-256 of the body, or UNSIGNED-PAYLOAD
  std::chrono::system_clock::time_point time;
  bool add_content_sha256 = true;  // S3 wants x-amz-content-sha256; other services do not
};

// The headers to send (host, x-amz-date, x-amz-content-sha256, the given ones and
// authorization), names in lower case.
HeaderList sign_headers(const SigV4Credentials& creds, const HeaderSignInput& in);

}  // namespace sy::storage
