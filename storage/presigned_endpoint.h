#pragma once
// The serving end of a store's presigned URLs, for a store whose URLs point at this process
// (the embedded store, at /store/<key> on our own HTTP server). The HTTP layer needs this
// much and no more of such a store: check a request against its signature, stream a PUT's
// body in, and clear away bodies that never finished. S3 serves its own URLs and has none.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/object_store.h"

namespace sy::storage {

// A request to the store that passed its signature check.
struct StoreRequest {
  std::string key;
  std::int64_t content_length = -1;      // PUT: the signed, declared size
  std::string content_disposition;       // GET: response-content-disposition if signed
  std::string content_type;              // GET: response-content-type or from the extension
};

struct StoreError {
  int status = 403;  // 400, 403, 404, 411, 413
  std::string code;
  std::string message;
};

// Streams one PUT body to a temporary file; commit() checks the size, fsyncs, renames into
// place and raises the object-created event. Destroyed without commit: nothing is left.
class PutWriter {
 public:
  virtual ~PutWriter() = default;
  // Returns false once more bytes arrived than declared (the caller answers 413).
  virtual bool write(const char* data, std::size_t n) = 0;
  virtual std::int64_t bytes_written() const = 0;
  // Throws std::runtime_error on a size mismatch (nothing stored) or an I/O failure.
  virtual void commit() = 0;
};

class PresignedEndpoint {
 public:
  virtual ~PresignedEndpoint() = default;

  // `target` is the raw request target ("/store/a/b?X-Amz-..."); `header` looks up a request
  // header by lower-case name. Checks key, signature, expiry and (for PUT) the declared size
  // against Content-Length and the store's limit. Fills `out`, or `error` to answer with.
  using HeaderFn = std::function<std::optional<std::string>(std::string_view)>;
  virtual bool authorize(std::string_view method, std::string_view target, const HeaderFn& header,
                         Clock::time_point now, StoreRequest* out, StoreError* error) const = 0;

  virtual std::unique_ptr<PutWriter> begin_put(const std::string& key,
                                               std::int64_t expected_size) = 0;

  // Deletes temporary files of PUTs that never finished, older than `age`.
  virtual std::size_t remove_stale_temp_files(std::chrono::seconds age) = 0;
};

}  // namespace sy::storage
