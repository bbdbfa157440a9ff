#pragma once
// Times in songs as people write them in messages: 90 -> "1:30", 3723.5 -> "1:02:03.5".
#include <cmath>
#include <cstdio>
#include <string>

namespace sy::base {

inline std::string time_text(double seconds) {
  const double rounded = std::round(seconds * 10) / 10;
  const long whole = static_cast<long>(rounded);
  const int tenths = static_cast<int>(std::lround((rounded - static_cast<double>(whole)) * 10));
  char buf[48];
  if (whole >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", whole / 3600, (whole / 60) % 60, whole % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", whole / 60, whole % 60);
  std::string out = buf;
  if (tenths > 0) out += "." + std::to_string(tenths);
  return out;
}

}  // namespace sy::base
