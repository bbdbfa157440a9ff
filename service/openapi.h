#pragma once
// The OpenAPI 3 description of every route, served at /api/v1/openapi.json; its paths come
// from the route table.
#include <string>

#include <nlohmann/json.hpp>

namespace sy::service {

struct Route;

const nlohmann::json& openapi_document();
// The route's method as an OpenAPI operation key ("get", "put", ...).
std::string openapi_method(const Route& route);

}  // namespace sy::service
