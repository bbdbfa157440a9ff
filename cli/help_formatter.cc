#include "cli/help_formatter.h"

#include <cstdlib>
#include <sstream>

#include "cli/terminal_text.h"

namespace sy::cli {
namespace {

constexpr int kDefaultColumns = 80;
// Narrower than this the help is unreadable either way: keep the layout.
constexpr int kMinDescriptionColumns = 24;
// Options inside an option group ("[Option Group: sound]") sit two columns further in.
constexpr int kGroupIndent = 2;

std::string wrap_line(const std::string& line, int columns) {
  const std::size_t first = line.find_first_not_of(' ');
  if (first == std::string::npos || display_width(line) <= columns) return line;
  const std::string indent = line.substr(0, first);
  const int indent_width = static_cast<int>(indent.size());
  std::string out = indent, word;
  int used = indent_width;
  bool line_empty = true;
  std::istringstream words(line.substr(first));
  while (words >> word) {
    const int width = display_width(word);
    if (!line_empty && used + 1 + width > columns) {
      out += '\n' + indent;
      used = indent_width;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++used;
    }
    out += word;
    used += width;
    line_empty = false;
  }
  return out;
}

}  // namespace

int output_columns() {
  if (const int columns = terminal_columns(stdout); columns > 0) return columns;
  if (const char* env = std::getenv("COLUMNS")) {
    const int columns = std::atoi(env);
    if (columns > 0) return columns;
  }
  return kDefaultColumns;
}

std::string wrap_words(const std::string& text, int columns) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('\n', start);
    out += wrap_line(text.substr(start, end == std::string::npos ? std::string::npos : end - start), columns);
    if (end == std::string::npos) break;
    out += '\n';
    start = end + 1;
  }
  return out;
}

HelpFormatter::HelpFormatter(int columns) : columns_(columns > 0 ? columns : output_columns()) {}

int HelpFormatter::description_columns() const {
  const int left = columns_ - static_cast<int>(get_column_width()) - kGroupIndent;
  return left < kMinDescriptionColumns ? kMinDescriptionColumns : left;
}

std::string HelpFormatter::name_and_description(const std::string& name, const std::string& description) const {
  std::stringstream out;
  CLI::detail::format_help(out, name, wrap_words(description, description_columns()), get_column_width());
  return out.str();
}

std::string HelpFormatter::make_option(const CLI::Option* opt, bool is_positional) const {
  return name_and_description(make_option_name(opt, is_positional) + make_option_opts(opt), make_option_desc(opt));
}

std::string HelpFormatter::shown_groups(const CLI::App* app, CLI::AppFormatMode mode) const {
  std::string out;
  for (const std::string& group : app->get_groups()) {
    if (group.empty()) continue;
    const std::vector<const CLI::Option*> options = app->get_options([&](const CLI::Option* opt) {
      const bool help_flag = opt == app->get_help_ptr() || opt == app->get_help_all_ptr();
      return opt->get_group() == group && opt->nonpositional() && (mode != CLI::AppFormatMode::Sub || !help_flag);
    });
    if (options.empty()) continue;
    if (!out.empty()) out += '\n';
    out += make_group(group, false, options);
  }
  return out;
}

std::string HelpFormatter::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
  const std::string footer = make_footer(app);
  return make_description(app) + make_usage(app, name) + make_positionals(app) + shown_groups(app, mode) +
         make_subcommands(app, mode) + (footer.empty() ? "" : "\n" + footer);
}

std::string HelpFormatter::make_subcommand(const CLI::App* sub) const {
  return name_and_description(sub->get_display_name(true), sub->get_description());
}

std::string HelpFormatter::make_description(const CLI::App* app) const {
  return wrap_words(CLI::Formatter::make_description(app), columns_);
}

std::string HelpFormatter::make_footer(const CLI::App* app) const {
  return wrap_words(CLI::Formatter::make_footer(app), columns_);
}

}  // namespace sy::cli
