#pragma once
// CLI11 2.1 takes an unknown first word for a stray argument: `surroundyou rendr --help` prints
// the top-level help and exits 0, and without --help it says only "A subcommand is required".
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace sy::cli {

// The usage error for a command line whose command is none of `app`'s, with the nearest name
// when one is a typo away: "unknown command 'rendr' (did you mean 'render'?; commands: ...)".
// Nothing when the first word that is no option names a command, or there is none.
std::optional<std::string> unknown_command_error(const CLI::App& app, int argc, const char* const* argv);

}  // namespace sy::cli
