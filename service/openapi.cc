// The OpenAPI 3 document served at /api/v1/openapi.json: the shared parts are written here,
// the paths come from the route table.
#include "service/openapi.h"

#include <string>

#include "pipeline/settings_schema.h"
#include "service/routes.h"

namespace sy::service {

namespace {

// Everything but the paths.
constexpr std::string_view kDocument = R"json(
{
  "openapi": "3.0.3",
  "info": {
    "title": "SurroundYou API",
    "version": "1.0.0",
    "description": "Turn songs into 8D audio: create a job, PUT the file to its presigned URL, follow progress, download the result through a presigned URL. A job's token (Authorization: Bearer) is required for everything about it; without it the job does not exist (404)."
  },
  "servers": [{"url": "/"}],
  "components": {
    "securitySchemes": {
      "jobToken": {"type": "http", "scheme": "bearer", "description": "the token returned when the job was created"},
      "eventsSecret": {"type": "http", "scheme": "bearer", "description": "the shared secret of S3 notifications"}
    },
    "parameters": {
      "JobId": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}},
      "Key": {"name": "key", "in": "path", "required": true, "schema": {"type": "string"}, "description": "object key, e.g. uploads/<id>/<name>"}
    },
    "schemas": {
      "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"],
          "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}
      },
      "CreateJob": {
        "type": "object", "required": ["filename", "size"],
        "properties": {"filename": {"type": "string"}, "size": {"type": "integer", "minimum": 1}, "settings": {"$ref": "#/components/schemas/Settings"}}
      },
      "Job": {
        "type": "object",
        "properties": {
          "id": {"type": "string"},
          "status": {"type": "string", "enum": ["awaiting_upload", "queued", "processing", "done", "failed", "expired"]},
          "progress": {"type": "number", "minimum": 0, "maximum": 1},
          "stage": {"type": "string"},
          "attempts": {"type": "integer"},
          "maxAttempts": {"type": "integer"},
          "error": {"type": "string", "nullable": true},
          "retryable": {"type": "boolean", "description": "only when failed: false when the file or its settings were refused, on any attempt (the same upload fails the same way again), true when its attempts ran out on other failures (crashes, kills, limits, lost workers)"},
          "filename": {"type": "string"},
          "size": {"type": "integer"},
          "settings": {"$ref": "#/components/schemas/Settings"},
          "createdAt": {"type": "string", "format": "date-time"},
          "updatedAt": {"type": "string", "format": "date-time"},
          "result": {"type": "object", "properties": {
            "url": {"type": "string"}, "expiresAt": {"type": "string", "format": "date-time"},
            "bytes": {"type": "integer"}, "durationSeconds": {"type": "number"},
            "format": {"type": "string"}, "filename": {"type": "string"},
            "report": {"type": "object", "description": "measured on the delivered file; null where silence has no value",
              "properties": {"integratedLufs": {"type": "number", "nullable": true}, "truePeakDbtp": {"type": "number", "nullable": true},
                             "loudnessRange": {"type": "number", "nullable": true}, "correlation": {"type": "number", "nullable": true},
                             "rotationDepthDb": {"type": "number", "nullable": true},
                             "tempoBpm": {"type": "number", "description": "with beatsPerTurn: the tempo the turns follow (found, or bpm as given); absent without a clear beat"},
                             "note": {"type": "string", "description": "why the motion is not what was asked, e.g. no clear beat: the turns keep the period instead"}}}}}
        }
      },
      "CreatedJob": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "token": {"type": "string"},
          "status": {"type": "string", "enum": ["awaiting_upload"]},
          "settings": {"$ref": "#/components/schemas/Settings"},
          "upload": {"type": "object", "properties": {
            "method": {"type": "string", "enum": ["PUT"]}, "url": {"type": "string"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "expiresAt": {"type": "string", "format": "date-time"}}}
        }
      },
      "Rerender": {
        "type": "object", "additionalProperties": false,
        "properties": {"settings": {"$ref": "#/components/schemas/Settings"}}
      },
      "RerenderedJob": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "token": {"type": "string"},
          "status": {"type": "string", "enum": ["queued"]},
          "source": {"type": "string", "description": "the job whose upload it renders"},
          "settings": {"$ref": "#/components/schemas/Settings"}
        }
      }
    },
    "responses": {
      "Error": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "no such job, or not its token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  }
}
)json";

// The components parameter each path placeholder refers to.
std::string_view placeholder_parameter(std::string_view path) {
  if (path.find("{id}") != std::string_view::npos) return "#/components/parameters/JobId";
  if (path.find("{key}") != std::string_view::npos) return "#/components/parameters/Key";
  return {};
}

nlohmann::json build() {
  auto doc = nlohmann::json::parse(kDocument);
  // The settings' schema comes from the one settings table (pipeline/settings_schema.h).
  doc["components"]["schemas"]["Settings"] = pipeline::settings_openapi_schema();
  auto& paths = doc["paths"] = nlohmann::json::object();
  for (const Route& route : routes()) {
    auto& item = paths[std::string(route.path)];
    if (const auto ref = placeholder_parameter(route.path); !ref.empty())
      item["parameters"] = nlohmann::json::array({{{"$ref", ref}}});
    auto operation = nlohmann::json::parse(route.openapi);
    if (route.auth == Auth::kJobToken)
      operation["security"] = nlohmann::json::array({{{"jobToken", nlohmann::json::array()}}});
    if (route.auth == Auth::kEventsSecret)
      operation["security"] = nlohmann::json::array({{{"eventsSecret", nlohmann::json::array()}}});
    item[openapi_method(route)] = std::move(operation);
  }
  return doc;
}

}  // namespace

std::string openapi_method(const Route& route) {
  if (route.method == "*") return "get";  // probes: GET is the one documented
  std::string m(route.method);
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return m;
}

const nlohmann::json& openapi_document() {
  static const nlohmann::json kDoc = build();
  return kDoc;
}

}  // namespace sy::service
