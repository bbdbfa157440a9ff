#pragma once
// CLI11's help, wrapped to the terminal: CLI11 2.1 prints each description on one line, which
// a terminal folds at its edge, into the left column.
#include <CLI/CLI.hpp>

#include <string>

namespace sy::cli {

// Columns text written to stdout should fit: the terminal's, else $COLUMNS, else 80.
int output_columns();

// `text` with its lines broken between words so none is wider than `columns` (display columns);
// a line's continuation keeps its leading spaces. A word wider than a line stays whole.
std::string wrap_words(const std::string& text, int columns);

class HelpFormatter : public CLI::Formatter {
 public:
  // `columns`: the width to fit; 0 takes the terminal's (COLUMNS, else 80 off a terminal).
  explicit HelpFormatter(int columns = 0);

  std::string make_option(const CLI::Option* opt, bool is_positional) const override;
  // CLI11 2.1's own (its make_groups is not virtual) ends the last shown option group with a
  // blank line when a hidden group ("") comes after it, doubling the blank line before the footer.
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;
  std::string make_subcommand(const CLI::App* sub) const override;
  std::string make_description(const CLI::App* app) const override;
  std::string make_footer(const CLI::App* app) const override;

 private:
  // What is left of a line for a description beside the name column.
  int description_columns() const;
  // The shown option groups, a blank line between two.
  std::string shown_groups(const CLI::App* app, CLI::AppFormatMode mode) const;
  std::string name_and_description(const std::string& name, const std::string& description) const;

  int columns_;
};

}  // namespace sy::cli
