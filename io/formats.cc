#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "io/encoder.h"
#include "base/errors.h"

namespace sy::io {
namespace {

struct FormatName {
  OutputFormat format;
  std::string_view name;
  std::string_view extension;
};

constexpr std::array<FormatName, 5> kFormats{{{OutputFormat::kMp3, "mp3", ".mp3"},
                                              {OutputFormat::kM4a, "m4a", ".m4a"},
                                              {OutputFormat::kOpus, "opus", ".opus"},
                                              {OutputFormat::kFlac, "flac", ".flac"},
                                              {OutputFormat::kWav, "wav", ".wav"}}};

// Other spellings people use for the same output.
constexpr std::array<std::pair<std::string_view, OutputFormat>, 4> kAliases{
    {{"aac", OutputFormat::kM4a},
     {"mp4", OutputFormat::kM4a},
     {"ogg", OutputFormat::kOpus},
     {"wave", OutputFormat::kWav}}};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool lookup(const std::string& name, OutputFormat* out) {
  for (const auto& f : kFormats) {
    if (f.name == name) {
      *out = f.format;
      return true;
    }
  }
  for (const auto& [alias, format] : kAliases) {
    if (alias == name) {
      *out = format;
      return true;
    }
  }
  return false;
}

const FormatName& entry(OutputFormat f) {
  for (const auto& e : kFormats) {
    if (e.format == f) return e;
  }
  return kFormats[0];
}

}  // namespace

OutputFormat parse_format(const std::string& name) {
  OutputFormat f{};
  if (!lookup(lower(name), &f)) {
    throw base::UsageError("unknown output format '" + name + "' (use mp3, m4a, opus, flac or wav)");
  }
  return f;
}

std::string format_name(OutputFormat f) { return std::string(entry(f).name); }
std::string format_extension(OutputFormat f) { return std::string(entry(f).extension); }

bool format_from_path(const std::string& path, OutputFormat* out) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return false;
  return lookup(lower(std::string_view(path).substr(dot + 1)), out);
}

}  // namespace sy::io
