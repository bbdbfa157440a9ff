#pragma once
// A job's render settings as the API receives them ({preset, format, bitrate} and the engine
// settings of settings_json() — the CLI's flags) mapped onto RenderOptions.
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/render.h"

namespace sy::worker {

struct JobSettings {
  pipeline::RenderOptions options;
  std::string format;          // "mp3", the result's extension
  nlohmann::json normalized;   // what the job stores and reports
};

// Throws std::invalid_argument naming the field for anything unknown or out of range.
JobSettings parse_job_settings(const nlohmann::json& settings, const io::InputLimits& limits);

// The engine settings under the names parse_job_settings() reads (camelCase: period,
// direction, elevation, width, reverb, trajectory, roomSize, damping, bassCrossover,
// truePeak, loudness, speed). The API's presets, a job's stored settings and the CLI's
// `presets --json` all print them this way, so what one shows the other accepts.
nlohmann::json settings_json(const engine::EngineSettings& s);

}  // namespace sy::worker
