#pragma once
#include <string>
#include <vector>

#include "engine/settings.h"

namespace sy::engine {

struct Preset {
  std::string name;
  std::string description;  // one sentence for people
  EngineSettings settings;
};

// classic (default), slow, fast, subtle, legacy, slowed-reverb.
const std::vector<Preset>& presets();
// nullptr when there is no preset of that name.
const Preset* find_preset(const std::string& name);

}  // namespace sy::engine
