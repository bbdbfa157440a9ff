#include "cli/unknown_command.h"

#include <algorithm>
#include <vector>

namespace sy::cli {
namespace {

// Edits (insert, delete, replace) from one word to another; by hand because CLI11 2.1 offers no
// suggestions and a dozen lines beat a library for five short names.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string> unknown_command_error(const CLI::App& app, int argc, const char* const* argv) {
  // The top level has only flags (--help, --version), so the first other word is the command.
  std::string word;
  for (int i = 1; i < argc && word.empty(); ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (!arg.empty() && arg[0] != '-') word = arg;
  }
  if (word.empty()) return std::nullopt;
  std::string names, nearest;
  std::size_t nearest_distance = 0;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string& name = command->get_name();
    if (name == word) return std::nullopt;
    names += (names.empty() ? "" : ", ") + name;
    const std::size_t distance = edit_distance(word, name);
    if (nearest.empty() || distance < nearest_distance) {
      nearest = name;
      nearest_distance = distance;
    }
  }
  // Two edits, or a third of a longer word: further off than that a guess misleads.
  const std::size_t allowed = std::max<std::size_t>(2, word.size() / 3);
  const std::string hint = !nearest.empty() && nearest_distance <= allowed ? "did you mean '" + nearest + "'? " : "";
  return "unknown command '" + word + "' (" + hint + "commands: " + names + ")";
}

}  // namespace sy::cli
