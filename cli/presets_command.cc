#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/help_formatter.h"
#include "cli/terminal_text.h"
#include "engine/presets.h"
#include "pipeline/settings_schema.h"

namespace sy::cli {
namespace {

// A preset's values as the render flags that reproduce it, in the schema's order.
std::vector<std::string> as_flags(const engine::EngineSettings& s) {
  const nlohmann::json values = pipeline::engine_settings_json(s);
  std::vector<std::string> out;
  for (const pipeline::SettingSpec& spec : pipeline::setting_specs()) {
    const auto it = values.find(std::string(spec.json));
    if (it == values.end()) continue;
    char number[32];
    std::snprintf(number, sizeof number, "%g", it->is_number() ? it->get<double>() : 0.0);
    out.push_back(std::string(spec.flag) + ' ' + (it->is_string() ? it->get<std::string>() : std::string(number)));
  }
  return out;
}

}  // namespace

void add_presets_command(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("presets", "List the presets and their parameters");
  auto json = std::make_shared<bool>(false);
  auto schema = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON for machines");
  cmd->add_flag("--schema", *schema,
                "Print every setting as JSON: API name, flag, type, unit, range, default, description");
  cmd->callback([json, schema, &ctx] {
    if (*schema) {
      std::printf("%s\n", pipeline::settings_schema_json().dump(2).c_str());
      ctx.exit_code = kExitOk;
      return;
    }
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const engine::Preset& p : engine::presets())
        out.push_back({{"name", p.name}, {"description", p.description},
                       {"settings", pipeline::engine_settings_json(p.settings)}});
      std::printf("%s\n", out.dump(2).c_str());
      ctx.exit_code = kExitOk;
      return;
    }
    bool first = true;
    // The name in a column of its own, the description and the flags beside it.
    const std::string indent(15, ' ');
    for (const engine::Preset& p : engine::presets()) {
      char name[32];
      std::snprintf(name, sizeof name, "%-14s ", p.name.c_str());
      const std::string about = wrap_words(indent + p.description + (first ? "  [default]" : ""), output_columns());
      std::printf("%s%s\n", name, about.substr(indent.size()).c_str());
      // Each flag and its value stay on one line, so a line can be pasted after `render`.
      std::vector<std::string> flags = as_flags(p.settings);
      flags.front() = indent + flags.front();
      for (const std::string& line : wrap_items(flags, " ", indent, output_columns())) std::printf("%s\n", line.c_str());
      std::printf("\n");
      first = false;
    }
    ctx.exit_code = kExitOk;
  });
}

}  // namespace sy::cli
