#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/presets.h"
#include "worker/job_settings.h"

namespace sy::cli {

void add_presets_command(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("presets", "List the presets and their parameters");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON for machines");
  cmd->callback([json, &ctx] {
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const engine::Preset& p : engine::presets())
        out.push_back({{"name", p.name}, {"description", p.description}, {"settings", worker::settings_json(p.settings)}});
      std::printf("%s\n", out.dump(2).c_str());
      ctx.exit_code = kExitOk;
      return;
    }
    bool first = true;
    for (const engine::Preset& p : engine::presets()) {
      const engine::EngineSettings& s = p.settings;
      std::printf("%-14s %s%s\n", p.name.c_str(), p.description.c_str(), first ? "  [default]" : "");
      std::printf("%-14s trajectory=%s period=%gs direction=%s elevation=%g° width=%g° reverb=%g room-size=%g "
                  "damping=%g bass-crossover=%gHz speed=%g loudness=%gLUFS\n\n",
                  "", engine::trajectory_name(s.trajectory).c_str(), s.period_seconds, engine::direction_name(s.direction).c_str(),
                  s.elevation_degrees, s.width_degrees, s.reverb, s.room_size, s.damping, s.bass_crossover_hz,
                  s.speed, s.loudness_lufs);
      first = false;
    }
    ctx.exit_code = kExitOk;
  });
}

}  // namespace sy::cli
