#pragma once
// AWS Signature Version 4 in its query-string ("presigned URL") form, shared by the embedded
// object store (which checks signatures) and the S3 backend (which makes them).
// Hand-written on OpenSSL because no Debian C++ library offers SigV4 without the whole AWS SDK.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/object_store.h"

namespace sy::storage {

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region = "us-east-1";
  std::string service = "s3";
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, everything else
// becomes %XX (upper case); '/' stays only when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);
// Inverse of uri_encode ('+' is left alone). Returns nullopt on a malformed escape.
std::optional<std::string> uri_decode(std::string_view s);
// Splits "a=1&b=%20" into decoded pairs. nullopt on a malformed escape.
std::optional<QueryParams> parse_query(std::string_view query);

std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string to_hex(std::string_view raw);
// Compares without an early exit, so the time taken says nothing about where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string amz_date(std::chrono::system_clock::time_point t);  // 20130524T000000Z
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view s);

// The canonical request of the SigV4 spec; `path` is decoded, `query` excludes X-Amz-Signature,
// `headers` are the signed headers (lower-case names).
std::string canonical_request(std::string_view method, std::string_view path,
                              const QueryParams& query, const HeaderList& headers,
                              std::string_view payload_hash);
// Hex signature of a canonical request made at `amz_date_str`.
std::string sign(const SigV4Credentials& creds, std::string_view amz_date_str,
                 std::string_view canonical);

struct PresignInput {
  std::string method = "GET";
  std::string host;             // as sent in the Host header, with port if not default
  std::string path;             // decoded, starting with '/'
  QueryParams extra_query;      // e.g. response-content-disposition; signed too
  HeaderList extra_headers;     // signed besides host, e.g. {"content-length","123"}
  std::chrono::system_clock::time_point time;
  std::chrono::seconds expires{3600};
};

// The encoded query string ("X-Amz-Algorithm=...&X-Amz-Signature=...") to append after '?'.
std::string presign_query(const SigV4Credentials& creds, const PresignInput& in);
// The whole presigned request, its URL at `base_url` (scheme://host[:port] of `in.host`).
PresignedRequest presigned_request(const SigV4Credentials& creds, const PresignInput& in,
                                   std::string_view base_url);

enum class VerifyResult { kOk, kMissing, kMalformed, kWrongCredential, kExpired, kBadSignature };
std::string_view verify_result_name(VerifyResult r);

// Checks a presigned request as received. `header` returns the value of a request header by
// lower-case name (nullopt if absent).
VerifyResult verify_presigned(
    const SigV4Credentials& creds, std::string_view method, std::string_view path,
    const QueryParams& query,
    const std::function<std::optional<std::string>(std::string_view)>& header,
    std::chrono::system_clock::time_point now);

}  // namespace sy::storage
