#pragma once
// A job's render settings as the API receives them ({preset, period, direction, elevation,
// width, reverb, format, bitrate, loudness, speed} — the CLI's flags) mapped onto RenderOptions.
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/render.h"

namespace sy::worker {

struct JobSettings {
  RenderOptions options;
  std::string format;          // "mp3", the result's extension
  nlohmann::json normalized;   // what the job stores and reports
};

// Throws std::invalid_argument naming the field for anything unknown or out of range.
JobSettings parse_job_settings(const nlohmann::json& settings, const InputLimits& limits);

}  // namespace sy::worker
