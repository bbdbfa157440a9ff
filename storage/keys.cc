#include "storage/keys.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "storage/sigv4.h"

namespace sy::storage {
namespace {

constexpr std::size_t kMaxName = 120;

// Length of the valid UTF-8 sequence starting at s[i] (multi-byte only), or 0: overlong
// forms and surrogates are invalid (RFC 3629, table 3-7 of the Unicode standard).
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t* code_point) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3;
  else if (c >= 0xF0 && c <= 0xF4) n = 4;
  else return 0;
  if (c == 0xE0) low = 0xA0;
  if (c == 0xED) high = 0x9F;
  if (c == 0xF0) low = 0x90;
  if (c == 0xF4) high = 0x8F;
  if (i + n > s.size()) return 0;
  const auto second = static_cast<unsigned char>(s[i + 1]);
  if (second < low || second > high) return 0;
  char32_t cp = c & (0xFF >> (n + 1));
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  *code_point = cp;
  return n;
}

// Characters that show nothing or turn the text's direction: a name holding them can pass for
// another ("evil\u202Egpj.exe" shows as "evilexe.jpg"). C1 controls, zero-width characters
// and marks, bidi embeddings, overrides and isolates, line/paragraph separators, BOM.
bool invisible(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0xFEFF || cp == 0x061C || cp == 0x00AD || cp == 0x2060;
}

bool allowed_ascii(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '.' || c == '_' ||
         c == '-' || c == '(' || c == ')' || c == '[' || c == ']' || c == '+' || c == ',' ||
         c == '&' || c == '\'' || c == '!' || c == '#' || c == '@';
}

// Cuts to at most `max` bytes without splitting a UTF-8 sequence.
std::string cut_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

std::pair<std::string_view, std::string_view> split_extension(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || name.size() - dot > 10) return {name, {}};
  return {name.substr(0, dot), name.substr(dot)};
}

}  // namespace

std::string sanitise_filename(std::string_view name) {
  // Only the last path component counts, whichever separator the client's OS uses.
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);

  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    const char c = name[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      const char keep = allowed_ascii(c) ? c : '_';
      if (!(keep == '_' && !out.empty() && out.back() == '_' && !allowed_ascii(c)))
        out.push_back(keep);
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t n = utf8_sequence(name, i, &cp);
    if (n) {
      if (!invisible(cp)) out.append(name.substr(i, n));
      i += n;
    } else {
      if (out.empty() || out.back() != '_') out.push_back('_');
      ++i;
    }
  }
  // No hidden files, no "." or "..", no surrounding blanks.
  const auto first = out.find_first_not_of(". _");
  out = first == std::string::npos ? std::string{} : out.substr(first);
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  if (out.empty()) return "upload";
  if (out.size() > kMaxName) {
    auto [stem, ext] = split_extension(out);
    out = cut_utf8(stem, kMaxName - ext.size()) + std::string(ext);
    // Without an extension the cut may end on a blank or a dot.
    while (out.back() == ' ' || out.back() == '.') out.pop_back();
  }
  return out;
}

bool is_valid_key(std::string_view key) {
  if (key.empty() || key.size() > 1024) return false;
  std::size_t start = 0;
  while (true) {
    const auto slash = key.find('/', start);
    const auto seg = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::none_of(key.begin(), key.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F || c == '\\';
  });
}

std::string upload_key(std::string_view job_id, std::string_view filename) {
  return "uploads/" + std::string(job_id) + "/" + sanitise_filename(filename);
}

namespace {
std::string result_name(std::string_view filename, std::string_view extension, bool preview) {
  const std::string clean = sanitise_filename(filename);
  return std::string(split_extension(clean).first) + (preview ? " (8D preview)." : " (8D).") +
         std::string(extension);
}
}  // namespace

std::string processed_key(std::string_view job_id, std::string_view filename,
                          std::string_view extension, bool preview) {
  return "processed/" + std::string(job_id) + "/" + result_name(filename, extension, preview);
}

std::string attempt_key(std::string_view job_id, std::string_view filename,
                        std::string_view extension, std::string_view attempt, bool preview) {
  return "attempts/" + std::string(job_id) + "/" + std::string(attempt) + "/" +
         result_name(filename, extension, preview);
}

std::array<std::string, 3> job_key_prefixes(std::string_view job_id) {
  std::array<std::string, 3> out;
  for (std::size_t i = 0; i < kJobKeyRoots.size(); ++i)
    out[i] = std::string(kJobKeyRoots[i]) + std::string(job_id) + "/";
  return out;
}

std::string key_basename(std::string_view key) {
  const auto slash = key.rfind('/');
  return std::string(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

std::string content_type_for(std::string_view key) {
  // Video containers say video/: a browser then plays the picture, and an audio-only file
  // inside one plays just the same.
  static const std::array<std::pair<std::string_view, std::string_view>, 14> kTypes{{
      {".mp3", "audio/mpeg"}, {".m4a", "audio/mp4"}, {".mp4", "video/mp4"},
      {".aac", "audio/aac"}, {".opus", "audio/ogg"}, {".ogg", "audio/ogg"},
      {".flac", "audio/flac"}, {".wav", "audio/wav"}, {".webm", "video/webm"},
      {".mov", "video/quicktime"}, {".mkv", "video/x-matroska"}, {".m4v", "video/mp4"},
      {".json", "application/json"}, {".txt", "text/plain; charset=utf-8"},
  }};
  const auto dot = key.rfind('.');
  if (dot != std::string_view::npos) {
    std::string ext(key.substr(dot));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    for (const auto& [e, t] : kTypes)
      if (e == ext) return std::string(t);
  }
  return "application/octet-stream";
}

std::string attachment_disposition(std::string_view name) {
  std::string ascii;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    ascii.push_back(u < 0x20 || u >= 0x7F || c == '"' || c == '\\' ? '_' : c);
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + uri_encode(name, false);
}

}  // namespace sy::storage
