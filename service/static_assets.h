#pragma once
// The web page compiled into the binary (web/): `/` and `/index.html` answer the page,
// `/assets/<name>-<hash>.<ext>` the hashed scripts and styles.
#include <optional>

#include "service/http_types.h"

namespace sy::service {

// The embedded file for a GET or HEAD of `/`, `/index.html` or `/assets/...`; nullopt for
// any other request (the API answers those).
std::optional<Response> static_asset(const Request& request);

}  // namespace sy::service
