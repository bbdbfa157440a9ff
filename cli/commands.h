#pragma once
// Each subcommand registers itself on the CLI11 app; its callback stores the exit status.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/unknown_command.h"

namespace sy::cli {

// Exit statuses from PRODUCT.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitBadInput = 3;
inline constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as a shell reports it
// The --help footer of the long-running commands (serve, worker), which share their exit codes.
inline constexpr const char* kServiceExitStatus =
    "Exit status: 0 after a clean stop (SIGTERM or Ctrl-C), 2 usage error or a bad setting, 1 any other failure.";

struct CommandContext {
  int exit_code = kExitOk;
};

void add_render_command(CLI::App& app, CommandContext& ctx);
void add_probe_command(CLI::App& app, CommandContext& ctx);
void add_presets_command(CLI::App& app, CommandContext& ctx);
void add_serve_command(CLI::App& app, CommandContext& ctx);   // cli/serve_command.cc
void add_worker_command(CLI::App& app, CommandContext& ctx);  // cli/worker_command.cc (scale-out)

// Parses the command line and runs the command it names: its exit status, or that of help,
// a usage error or a failure that escaped the command.
inline int run(CLI::App& app, CommandContext& ctx, int argc, char** argv) {
  // Before CLI11 sees --help: it would print the top-level help for a mistyped command.
  if (const auto unknown = unknown_command_error(app, argc, argv)) {
    std::fprintf(stderr, "error: %s\n", unknown->c_str());
    std::fprintf(stderr, "Run with --help for usage.\n");
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::fprintf(stderr, "Run with --help for usage.\n");
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  return ctx.exit_code;
}

}  // namespace sy::cli
