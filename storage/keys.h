#pragma once
// Object keys from PRODUCT.md: uploads/<job-id>/<sanitised name> and
// processed/<job-id>/<name> (8D).<ext>, and each render attempt's own
// attempts/<job-id>/<attempt>/<name> (8D).<ext>. Nothing a user sends can make a key leave its prefix.
#include <array>
#include <string>
#include <string_view>

namespace sy::storage {

// A file name safe as one key segment: no path parts, no control characters, no leading dots,
// at most 120 bytes (the extension is kept when shortening). Valid UTF-8 letters are kept;
// invisible and direction-changing characters (C1 controls, U+200B-U+200F, U+202A-U+202E,
// U+2066-U+2069, U+2028/9, U+FEFF, soft hyphen, word joiner, Arabic letter mark) are dropped.
std::string sanitise_filename(std::string_view name);

// Relative, '/'-separated, no empty, "." or ".." segments, no backslash or control characters.
bool is_valid_key(std::string_view key);

std::string upload_key(std::string_view job_id, std::string_view filename);
// processed/<job-id>/<name> (8D).<ext>, the job's result (PRODUCT.md); the last segment is the
// name the download is saved as. `filename` is the original (sanitised) upload name; its
// extension is replaced by `extension` ("mp3", without the dot). A preview (an excerpt of the
// song) is "<name> (8D preview).<ext>".
std::string processed_key(std::string_view job_id, std::string_view filename,
                          std::string_view extension, bool preview = false);
// attempts/<job-id>/<attempt>/<name> (8D).<ext>: where one attempt uploads its result, so a
// worker that lost its lease never writes over what another attempt wrote. It becomes the
// processed key only by a move made while the lease is held (worker/worker_pool.cc).
// `attempt` is one key segment (letters, digits, '-').
std::string attempt_key(std::string_view job_id, std::string_view filename,
                        std::string_view extension, std::string_view attempt,
                        bool preview = false);
// Every prefix under which a job's objects live, for deleting a job whole.
inline constexpr std::array<std::string_view, 3> kJobKeyRoots{"uploads/", "processed/", "attempts/"};
std::array<std::string, 3> job_key_prefixes(std::string_view job_id);
// The last segment of a key.
std::string key_basename(std::string_view key);

// MIME type from a key's extension ("application/octet-stream" when unknown).
std::string content_type_for(std::string_view key);
// Content-Disposition that saves a download as `name` (RFC 6266): an ASCII fallback and the
// UTF-8 name (RFC 5987).
std::string attachment_disposition(std::string_view name);

}  // namespace sy::storage
