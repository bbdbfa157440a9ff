// File names from POST /api/v1/jobs become object keys and file paths; keys also arrive in
// store URLs and S3 events. Nothing a client sends may leave its prefix.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "storage/keys.h"

namespace {

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// `key` as a path below a root stays below it, segment by segment.
bool stays_below_root(const std::string& key) {
  const std::filesystem::path root = "/objects";
  const auto joined = (root / key).lexically_normal();
  const auto rel = joined.lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && *rel.begin() != "." && joined.is_absolute() &&
         joined.string().rfind("/objects/", 0) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string name = sy::storage::sanitise_filename(input);
  SY_FUZZ_CHECK(!name.empty() && name.size() <= 120, "a sanitised name is empty or too long");
  SY_FUZZ_CHECK(name.find_first_of("/\\") == std::string::npos, "a sanitised name has a separator");
  SY_FUZZ_CHECK(name.front() != '.' && name.front() != ' ', "a sanitised name starts hidden or blank");
  SY_FUZZ_CHECK(name.back() != '.' && name.back() != ' ', "a sanitised name ends in a dot or blank");
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    SY_FUZZ_CHECK(u >= 0x20 && u != 0x7F, "a sanitised name keeps a control character");
  }
  SY_FUZZ_CHECK(valid_utf8(name), "a sanitised name is not UTF-8");
  SY_FUZZ_CHECK(sy::storage::sanitise_filename(name) == name, "sanitising twice changes the name");

  const std::string id = "0123456789abcdef0123456789abcdef";
  const std::string upload = sy::storage::upload_key(id, input);
  SY_FUZZ_CHECK(upload == "uploads/" + id + "/" + name, "the upload key is not uploads/<id>/<name>");
  SY_FUZZ_CHECK(sy::storage::is_valid_key(upload), "an upload key is not a valid key");
  SY_FUZZ_CHECK(sy::storage::key_basename(upload) == name, "the upload key's last segment is not the name");
  const std::string processed = sy::storage::processed_key(id, input, "mp3");
  const std::string prefix = "processed/" + id + "/";
  SY_FUZZ_CHECK(processed.rfind(prefix, 0) == 0, "a result key leaves processed/<id>/");
  SY_FUZZ_CHECK(sy::storage::is_valid_key(processed), "a result key is not a valid key");
  SY_FUZZ_CHECK(processed.find('/', prefix.size()) == std::string::npos, "a result key has more segments");
  const std::string attempt = sy::storage::attempt_key(id, input, "mp3", "a1");
  const std::string attempt_prefix = "attempts/" + id + "/a1/";
  SY_FUZZ_CHECK(attempt.rfind(attempt_prefix, 0) == 0, "an attempt's key leaves attempts/<id>/<attempt>/");
  SY_FUZZ_CHECK(sy::storage::is_valid_key(attempt), "an attempt's key is not a valid key");
  SY_FUZZ_CHECK(attempt.find('/', attempt_prefix.size()) == std::string::npos, "an attempt's key has more segments");

  // Any key the store accepts names a file below its objects directory.
  if (sy::storage::is_valid_key(input)) {
    const std::string key(input);
    SY_FUZZ_CHECK(key.find('\0') == std::string::npos, "a valid key holds a NUL");
    SY_FUZZ_CHECK(stays_below_root(key), "a valid key leaves the objects directory");
  }
  return 0;
}
