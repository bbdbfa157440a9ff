#include "service/static_assets.h"

#include <algorithm>

#include "web/embedded_assets.h"

namespace sy::service {
namespace {

const web::EmbeddedAsset* find_asset(std::string_view path) {
  const auto assets = web::embedded_assets();
  const auto it = std::lower_bound(assets.begin(), assets.end(), path,
                                   [](const web::EmbeddedAsset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

// The page reaches only its own origin for scripts and styles; uploads and media may go to
// the object store, which is another origin with S3.
constexpr const char* kPagePolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob: http: https:; connect-src 'self' http: https:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

}  // namespace

std::optional<Response> static_asset(const Request& request) {
  if (request.method != "GET" && request.method != "HEAD") return std::nullopt;
  std::string_view path = request.path();
  const bool page = path == "/" || path == "/index.html";
  if (!page && path.rfind("/assets/", 0) != 0) return std::nullopt;
  if (page) path = "/index.html";

  Response res;
  const web::EmbeddedAsset* asset = find_asset(path);
  if (!asset) {
    res = error_response(404, "not_found", "no such file");
    return res;
  }
  res.status = 200;
  res.body.assign(asset->bytes);
  res.set("Content-Type", std::string(asset->content_type));
  res.set("X-Content-Type-Options", "nosniff");
  if (page) {
    // The page names its hashed assets, so it must be revalidated to pick up a new build.
    res.set("Cache-Control", "no-cache");
    res.set("Content-Security-Policy", kPagePolicy);
    res.set("Referrer-Policy", "no-referrer");
  } else {
    // Vite puts a content hash in every asset name: a changed file gets a new name.
    res.set("Cache-Control", "public, max-age=31536000, immutable");
  }
  res.head_only = request.method == "HEAD";
  return res;
}

}  // namespace sy::service
