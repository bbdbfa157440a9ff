// The `settings` of POST /api/v1/jobs and /rerender: any JSON the client sends.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/check.h"
#include "io/encoder.h"
#include "worker/job_settings.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json settings;
  try {
    settings = nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const nlohmann::json::exception&) {
    return 0;  // the API answers invalid_json before the settings parser sees it
  }
  const sy::io::InputLimits limits;
  sy::worker::JobSettings parsed;
  try {
    parsed = sy::worker::parse_job_settings(settings, limits);
  } catch (const std::invalid_argument&) {
    return 0;  // the API answers 400 invalid_settings: the only refusal it catches
  }
  // What a job stores is what the API accepts: a rerender or a worker reading the stored
  // settings back gets the same job.
  sy::worker::JobSettings again;
  try {
    again = sy::worker::parse_job_settings(parsed.normalized, limits);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "stored settings %s refused: %s\n", parsed.normalized.dump().c_str(),
                 e.what());
    SY_FUZZ_CHECK(false, "the normalised settings of an accepted job are refused");
  }
  SY_FUZZ_CHECK(again.normalized == parsed.normalized, "normalising twice changes the settings");
  const auto& format = sy::io::format_info(parsed.options.encode.format);
  const int bitrate = parsed.options.encode.bitrate;
  SY_FUZZ_CHECK(!format.lossy || (bitrate >= format.min_bitrate && bitrate <= format.max_bitrate),
                "a bit rate outside the encoder's range was accepted");
  return 0;
}
