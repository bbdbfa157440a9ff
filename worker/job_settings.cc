#include "worker/job_settings.h"

#include <set>
#include <stdexcept>

#include "engine/presets.h"
#include "base/errors.h"

namespace sy::worker {
namespace {

double number(const nlohmann::json& j, const char* field) {
  if (!j.is_number()) throw std::invalid_argument(std::string(field) + " must be a number");
  return j.get<double>();
}

std::string text(const nlohmann::json& j, const char* field) {
  if (!j.is_string()) throw std::invalid_argument(std::string(field) + " must be a string");
  return j.get<std::string>();
}

// "192k", "320000" or 192000 -> bits per second.
int parse_bitrate(const nlohmann::json& j) {
  double v = 0;
  if (j.is_number()) {
    v = j.get<double>();
  } else if (j.is_string()) {
    std::string s = j.get<std::string>();
    double scale = 1;
    if (!s.empty() && (s.back() == 'k' || s.back() == 'K')) {
      scale = 1000;
      s.pop_back();
    }
    std::size_t used = 0;
    try {
      v = std::stod(s, &used) * scale;
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size()) throw std::invalid_argument("bitrate must look like 192k");
  } else {
    throw std::invalid_argument("bitrate must look like 192k");
  }
  if (v < 32000 || v > 512000) throw std::invalid_argument("bitrate must be 32k..512k");
  return static_cast<int>(v);
}

}  // namespace

JobSettings parse_job_settings(const nlohmann::json& settings, const io::InputLimits& limits) {
  if (!settings.is_null() && !settings.is_object())
    throw std::invalid_argument("settings must be an object");
  static const std::set<std::string> kKnown{"preset", "period", "direction", "elevation",
                                            "width", "reverb", "format", "bitrate",
                                            "loudness", "speed", "trajectory", "roomSize",
                                            "damping", "bassCrossover", "truePeak"};
  const nlohmann::json s = settings.is_null() ? nlohmann::json::object() : settings;
  for (const auto& [key, value] : s.items())
    if (!kKnown.count(key)) throw std::invalid_argument("unknown setting: " + key);

  JobSettings out;
  const std::string preset_name = s.contains("preset") ? text(s["preset"], "preset") : "classic";
  const engine::Preset* preset = engine::find_preset(preset_name);
  if (!preset) throw std::invalid_argument("unknown preset: " + preset_name);
  engine::EngineSettings& e = out.options.engine;
  e = preset->settings;
  if (s.contains("period")) e.period_seconds = number(s["period"], "period");
  if (s.contains("direction")) e.direction = engine::parse_direction(text(s["direction"], "direction"));
  if (s.contains("elevation")) e.elevation_degrees = number(s["elevation"], "elevation");
  if (s.contains("width")) e.width_degrees = number(s["width"], "width");
  if (s.contains("reverb")) e.reverb = number(s["reverb"], "reverb");
  if (s.contains("loudness")) e.loudness_lufs = number(s["loudness"], "loudness");
  if (s.contains("speed")) e.speed = number(s["speed"], "speed");
  if (s.contains("trajectory")) e.trajectory = engine::parse_trajectory(text(s["trajectory"], "trajectory"));
  if (s.contains("roomSize")) e.room_size = number(s["roomSize"], "roomSize");
  if (s.contains("damping")) e.damping = number(s["damping"], "damping");
  if (s.contains("bassCrossover")) e.bass_crossover_hz = number(s["bassCrossover"], "bassCrossover");
  if (s.contains("truePeak")) e.true_peak_dbtp = number(s["truePeak"], "truePeak");
  engine::validate(e);  // throws std::invalid_argument naming the field

  const std::string format = s.contains("format") ? text(s["format"], "format") : "mp3";
  try {
    out.options.encode.format = io::parse_format(format);
  } catch (const base::UsageError&) {
    throw std::invalid_argument("unknown format: " + format + " (mp3, m4a, opus, flac, wav)");
  }
  if (s.contains("bitrate")) out.options.encode.bitrate = parse_bitrate(s["bitrate"]);
  out.options.limits = limits;
  out.format = io::format_name(out.options.encode.format);

  out.normalized = settings_json(e);
  out.normalized["preset"] = preset_name;
  out.normalized["format"] = out.format;
  out.normalized["bitrate"] = std::to_string(out.options.encode.bitrate / 1000) + "k";
  return out;
}

nlohmann::json settings_json(const engine::EngineSettings& s) {
  return {{"trajectory", engine::trajectory_name(s.trajectory)},
          {"period", s.period_seconds},
          {"direction", engine::direction_name(s.direction)},
          {"elevation", s.elevation_degrees},
          {"width", s.width_degrees},
          {"reverb", s.reverb},
          {"roomSize", s.room_size},
          {"damping", s.damping},
          {"bassCrossover", s.bass_crossover_hz},
          {"speed", s.speed},
          {"loudness", s.loudness_lufs},
          {"truePeak", s.true_peak_dbtp}};
}

}  // namespace sy::worker
