#pragma once
// The OpenAPI 3 description of every route, served at /api/v1/openapi.json.
#include <nlohmann/json.hpp>

namespace sy::service {

const nlohmann::json& openapi_document();

}  // namespace sy::service
