#pragma once
// File sizes as people write and read them: "200M" in, "200 MB" out. A megabyte here is
// 1024 x 1024 bytes, the unit every limit of ours is set in (200 MB = 209,715,200 bytes).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace sy::base {

// "200M", "200 MB", "1.5G", "512k", "1000" (bytes) -> bytes; nullopt for anything else, for
// zero, negative and absurd (over an exabyte) sizes.
inline std::optional<std::int64_t> parse_size(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (text.empty() || !(text[0] >= '0' && text[0] <= '9')) return std::nullopt;
  std::string unit = text.substr(used);
  if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K" || unit == "KB" || unit == "KIB") scale = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MIB") scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GIB") scale = 1024.0 * 1024 * 1024;
  else return std::nullopt;
  const double bytes = std::round(value * scale);
  if (!(bytes >= 1) || bytes > 1e18) return std::nullopt;
  return static_cast<std::int64_t>(bytes);
}

// 209715200 -> "200 MB", 1572864 -> "1.5 MB", 2048 -> "2 KB", 512 -> "512 bytes".
inline std::string size_text(std::int64_t bytes) {
  const char* units[] = {"KB", "MB", "GB"};
  double value = static_cast<double>(bytes);
  if (value < 1024) return std::to_string(bytes) + " bytes";
  int unit = -1;
  while (value >= 1024 && unit < 2) {
    value /= 1024;
    ++unit;
  }
  char buf[48];
  if (std::fabs(value - std::round(value)) < 0.05 || value >= 100)
    std::snprintf(buf, sizeof buf, "%.0f %s", value, units[unit]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", value, units[unit]);
  return buf;
}

}  // namespace sy::base
