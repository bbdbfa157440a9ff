// The body of POST /api/v1/events/s3 after the secret matched: any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/check.h"
#include "service/s3_events.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto batch =
      sy::service::parse_s3_events({reinterpret_cast<const char*>(data), size});
  if (batch.refusal) {
    SY_FUZZ_CHECK(batch.created.empty(), "a refused batch hands out records");
    SY_FUZZ_CHECK(batch.refusal->code == "invalid_json" || batch.refusal->code == "invalid_event",
                  "a refusal with an unknown code");
    SY_FUZZ_CHECK(!batch.refusal->message.empty(), "a refusal without a message");
    return 0;
  }
  for (const auto& object : batch.created)
    SY_FUZZ_CHECK(object.size >= 0, "a negative object size");
  return 0;
}
