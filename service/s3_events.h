#pragma once
// The body of an S3 bucket notification (the standard event JSON that S3, Ceph RGW and MinIO
// post) as a plain function, so the route and the fuzzer see the same parser.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::service {

struct S3ObjectCreated {
  std::string bucket;
  std::string key;  // decoded from the event's form encoding
  std::int64_t size = 0;
};

struct S3EventRefusal {
  std::string code;     // error code for the API answer: invalid_json or invalid_event
  std::string message;  // a sentence for the client
};

// Either every ObjectCreated record of the body, in order (records of other event types are
// skipped), or the reason the whole body is refused. Every field of every record is checked
// before the caller sees any of them, so a batch is applied whole or not at all.
struct S3EventBatch {
  std::vector<S3ObjectCreated> created;
  std::optional<S3EventRefusal> refusal;
};

S3EventBatch parse_s3_events(std::string_view body);

}  // namespace sy::service
