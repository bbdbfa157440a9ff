#pragma once
// Text measured in terminal columns, so lines that are redrawn in place never wrap.
#include <cstdio>
#include <string>
#include <vector>

namespace sy::cli {

// Columns of the terminal `stream` writes to; 0 when it is not a terminal. $COLUMNS stands in
// when the terminal does not say.
int terminal_columns(std::FILE* stream);
// Columns `text` (UTF-8) takes: wide characters count two, combining marks none.
int display_width(const std::string& text);
// `text` cut to at most `columns` (ending in "…" when cut), never in the middle of a character.
std::string fit(const std::string& text, int columns);
// `text` padded with spaces to exactly `columns` (after fit()).
std::string fit_padded(const std::string& text, int columns);
// Joins `items` with `separator` into lines of at most `columns` (0: one line); lines after
// the first start with `indent`. An item too long for a line of its own is cut.
std::vector<std::string> wrap_items(const std::vector<std::string>& items, const std::string& separator,
                                    const std::string& indent, int columns);

}  // namespace sy::cli
