#pragma once
// Each subcommand registers itself on the CLI11 app; its callback stores the exit status.
#include <CLI/CLI.hpp>

namespace sy::cli {

// Exit statuses from PRODUCT.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitBadInput = 3;
inline constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as a shell reports it

struct CommandContext {
  int exit_code = kExitOk;
};

void add_render_command(CLI::App& app, CommandContext& ctx);
void add_probe_command(CLI::App& app, CommandContext& ctx);
void add_presets_command(CLI::App& app, CommandContext& ctx);
void add_serve_command(CLI::App& app, CommandContext& ctx);   // cli/serve_command.cc
void add_worker_command(CLI::App& app, CommandContext& ctx);  // cli/worker_command.cc (scale-out)

}  // namespace sy::cli
