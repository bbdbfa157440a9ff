#pragma once
// The built web page (web/dist), compiled into the binary by web/cmake/embed_assets.cmake.
#include <span>
#include <string_view>

namespace sy::web {

struct EmbeddedAsset {
  std::string_view path;          // "/index.html", "/assets/index-<hash>.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view bytes;
};

// Every embedded file, sorted by path.
std::span<const EmbeddedAsset> embedded_assets() noexcept;

}  // namespace sy::web
