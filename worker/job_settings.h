#pragma once
// A job's render settings as the API receives them (the settings schema of
// pipeline/settings_schema.h under its JSON names) mapped onto RenderOptions.
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/render.h"

namespace sy::worker {

struct JobSettings {
  pipeline::RenderOptions options;
  std::string format;          // "mp3", the result's extension
  nlohmann::json normalized;   // what the job stores and reports
};

// Throws std::invalid_argument naming the JSON field for anything unknown or out of range.
JobSettings parse_job_settings(const nlohmann::json& settings, const io::InputLimits& limits);

}  // namespace sy::worker
