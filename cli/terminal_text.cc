#include "cli/terminal_text.h"

#include <locale.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cwchar>

namespace sy::cli {
namespace {

// wcwidth() follows the LC_CTYPE of the calling thread: measure under C.UTF-8 whatever the
// user's locale, without touching the process's.
class Utf8Ctype {
 public:
  Utf8Ctype() {
    static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (utf8 != static_cast<locale_t>(nullptr)) previous_ = uselocale(utf8);
  }
  ~Utf8Ctype() {
    if (previous_ != static_cast<locale_t>(nullptr)) uselocale(previous_);
  }
  Utf8Ctype(const Utf8Ctype&) = delete;
  Utf8Ctype& operator=(const Utf8Ctype&) = delete;

 private:
  locale_t previous_ = static_cast<locale_t>(nullptr);
};

// Walks `text` a character at a time: fn(byte offset, byte length, columns) returns false to stop.
template <typename Fn>
void for_each_char(const std::string& text, Fn&& fn) {
  Utf8Ctype ctype;
  std::mbstate_t state{};
  std::size_t i = 0;
  while (i < text.size()) {
    wchar_t wc = 0;
    std::size_t n = std::mbrtowc(&wc, text.data() + i, text.size() - i, &state);
    int columns = 1;
    if (n == static_cast<std::size_t>(-1) || n == static_cast<std::size_t>(-2) || n == 0) {
      n = 1;  // a stray byte: the terminal shows one replacement character
      state = {};
    } else {
      columns = wcwidth(wc);
      if (columns < 0) columns = 1;
    }
    if (!fn(i, n, columns)) return;
    i += n;
  }
}

}  // namespace

int terminal_columns(std::FILE* stream) {
  const int fd = fileno(stream);
  if (fd < 0 || !isatty(fd)) return 0;
  winsize size{};
  if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* env = std::getenv("COLUMNS")) {
    const int columns = std::atoi(env);
    if (columns > 0) return columns;
  }
  return 80;
}

int display_width(const std::string& text) {
  int total = 0;
  for_each_char(text, [&](std::size_t, std::size_t, int columns) {
    total += columns;
    return true;
  });
  return total;
}

std::string fit(const std::string& text, int columns) {
  if (columns <= 0) return {};
  if (display_width(text) <= columns) return text;
  std::size_t keep = 0;
  int used = 0;
  for_each_char(text, [&](std::size_t at, std::size_t bytes, int width) {
    if (used + width > columns - 1) return false;  // room for the "…"
    used += width;
    keep = at + bytes;
    return true;
  });
  return text.substr(0, keep) + "…";
}

std::string fit_padded(const std::string& text, int columns) {
  std::string out = fit(text, columns);
  const int width = display_width(out);
  if (width < columns) out.append(static_cast<std::size_t>(columns - width), ' ');
  return out;
}

std::vector<std::string> wrap_items(const std::vector<std::string>& items, const std::string& separator,
                                    const std::string& indent, int columns) {
  std::vector<std::string> lines;
  std::string line;
  int width = 0;
  const int separator_width = display_width(separator);
  const int indent_width = display_width(indent);
  for (const std::string& item : items) {
    const int item_width = display_width(item);
    if (line.empty()) {
      const std::string lead = lines.empty() ? "" : indent;
      line = lead + (columns > 0 ? fit(item, columns - display_width(lead)) : item);
      width = display_width(line);
      continue;
    }
    if (columns <= 0 || width + separator_width + item_width <= columns) {
      line += separator + item;
      width += separator_width + item_width;
      continue;
    }
    lines.push_back(line);
    line = indent + fit(item, columns - indent_width);
    width = display_width(line);
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace sy::cli
