// The OpenAPI 3 document served at /api/v1/openapi.json; api_test checks it names every route.
#include "service/openapi.h"

#include "pipeline/settings_schema.h"

namespace sy::service {

namespace {

nlohmann::json make_document() {
  nlohmann::json doc = nlohmann::json::parse(R"json(
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
          "filename": {"type": "string"},
          "size": {"type": "integer"},
          "settings": {"$ref": "#/components/schemas/Settings"},
          "createdAt": {"type": "string", "format": "date-time"},
          "updatedAt": {"type": "string", "format": "date-time"},
          "result": {"type": "object", "properties": {
            "url": {"type": "string"}, "expiresAt": {"type": "string", "format": "date-time"},
            "bytes": {"type": "integer"}, "durationSeconds": {"type": "number"},
            "format": {"type": "string"}, "filename": {"type": "string"}}}
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
      }
    },
    "responses": {
      "Error": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "no such job, or not its token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  },
  "paths": {
    "/api/v1/jobs": {
      "post": {
        "summary": "Create a job and get a presigned upload URL",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateJob"}}}},
        "responses": {
          "201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreatedJob"}}}},
          "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
          "415": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/api/v1/jobs/{id}": {
      "parameters": [{"$ref": "#/components/parameters/JobId"}],
      "get": {
        "summary": "Status, progress and (when done) a presigned download URL",
        "security": [{"jobToken": []}],
        "responses": {"200": {"description": "the job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                      "404": {"$ref": "#/components/responses/NotFound"}}
      },
      "delete": {
        "summary": "Delete the job and its objects; a running render stops",
        "security": [{"jobToken": []}],
        "responses": {"204": {"description": "deleted"}, "404": {"$ref": "#/components/responses/NotFound"}}
      }
    },
    "/api/v1/jobs/{id}/events": {
      "parameters": [{"$ref": "#/components/parameters/JobId"},
                     {"name": "token", "in": "query", "required": false, "schema": {"type": "string"}, "description": "the job token, for EventSource which cannot send headers"}],
      "get": {
        "summary": "Server-Sent Events: 'status' events carry the Job object until it is final",
        "security": [{"jobToken": []}],
        "responses": {"200": {"description": "an event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      "404": {"$ref": "#/components/responses/NotFound"}}
      }
    },
    "/api/v1/jobs/{id}/uploaded": {
      "parameters": [{"$ref": "#/components/parameters/JobId"}],
      "post": {
        "summary": "Fallback: tell the service the upload is complete",
        "security": [{"jobToken": []}],
        "responses": {"202": {"description": "queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
                      "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Error"}}
      }
    },
    "/api/v1/events/s3": {
      "post": {
        "summary": "S3 bucket notifications (standard S3 event JSON): ObjectCreated queues the job",
        "security": [{"eventsSecret": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "accepted"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
      }
    },
    "/api/v1/presets": {
      "get": {"summary": "The named presets and their parameters", "responses": {"200": {"description": "presets"}}}
    },
    "/api/v1/openapi.json": {
      "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3"}}}
    },
    "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "alive"}}}},
    "/readyz": {"get": {"summary": "Readiness: queue reachable, not shutting down", "responses": {"200": {"description": "ready"}, "503": {"$ref": "#/components/responses/Error"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    "/store/{key}": {
      "parameters": [{"$ref": "#/components/parameters/Key"}],
      "get": {
        "summary": "Embedded object store: read through a presigned URL (SigV4 query parameters); supports Range",
        "responses": {"200": {"description": "the object"}, "206": {"description": "a range"}, "403": {"$ref": "#/components/responses/Error"},
                      "404": {"$ref": "#/components/responses/Error"}, "416": {"$ref": "#/components/responses/Error"}}
      },
      "head": {
        "summary": "Embedded object store: headers of an object",
        "responses": {"200": {"description": "headers only"}, "403": {"description": "bad signature"}}
      },
      "put": {
        "summary": "Embedded object store: upload through a presigned URL; Content-Length must equal the declared size",
        "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"200": {"description": "stored; the job is queued"}, "403": {"$ref": "#/components/responses/Error"},
                      "411": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}
      }
    }
  }
}
)json");
  // The settings' schema comes from the one settings table (pipeline/settings_schema.h).
  doc["components"]["schemas"]["Settings"] = pipeline::settings_openapi_schema();
  return doc;
}

}  // namespace

const nlohmann::json& openapi_document() {
  static const nlohmann::json kDoc = make_document();
  return kDoc;
}

}  // namespace sy::service
