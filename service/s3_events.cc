#include "service/s3_events.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "service/http_types.h"
#include "storage/sigv4.h"

namespace sy::service {
namespace {

using nlohmann::json;

S3EventBatch refuse(std::string message) {
  return {{}, S3EventRefusal{"invalid_event", std::move(message)}};
}

// The member `name` of `parent` when it has the wanted type, else null.
const json* member(const json& parent, const char* name, json::value_t type) {
  const auto it = parent.find(name);
  if (it == parent.end() || it->type() != type) return nullptr;
  return &*it;
}

}  // namespace

S3EventBatch parse_s3_events(std::string_view body) {
  json doc;
  try {
    doc = parse_json_body(body);
  } catch (const JsonTooDeep& e) {
    return {{}, S3EventRefusal{"invalid_json", e.what()}};
  } catch (const std::invalid_argument&) {
    return {{}, S3EventRefusal{"invalid_json", "the body must be S3 event JSON"}};
  }
  if (!doc.is_object()) return refuse("no Records array");
  const json* records = member(doc, "Records", json::value_t::array);
  if (!records) return refuse("no Records array");

  S3EventBatch batch;
  for (std::size_t i = 0; i < records->size(); ++i) {
    const json& rec = (*records)[i];
    const std::string where = "Records[" + std::to_string(i) + "]";
    if (!rec.is_object()) return refuse(where + " is not an object");
    const json* name = member(rec, "eventName", json::value_t::string);
    if (!name) return refuse(where + ".eventName is not a string");
    if (name->get_ref<const std::string&>().rfind("ObjectCreated:", 0) != 0) continue;

    const json* s3 = member(rec, "s3", json::value_t::object);
    if (!s3) return refuse(where + ".s3 is not an object");
    const json* bucket = member(*s3, "bucket", json::value_t::object);
    const json* bucket_name = bucket ? member(*bucket, "name", json::value_t::string) : nullptr;
    if (!bucket_name) return refuse(where + ".s3.bucket.name is not a string");
    const json* object = member(*s3, "object", json::value_t::object);
    if (!object) return refuse(where + ".s3.object is not an object");
    const json* key = member(*object, "key", json::value_t::string);
    if (!key) return refuse(where + ".s3.object.key is not a string");
    const auto size_it = object->find("size");
    // JSON has one number type; a size is a whole number of bytes that fits an int64.
    const bool size_ok =
        size_it != object->end() &&
        ((size_it->is_number_unsigned() &&
          size_it->get<std::uint64_t>() <=
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) ||
         (size_it->is_number_integer() && !size_it->is_number_unsigned() &&
          size_it->get<std::int64_t>() >= 0));
    if (!size_ok) return refuse(where + ".s3.object.size is not a byte count");

    // S3 form-encodes keys in events: '+' is a space, the rest percent-escapes.
    std::string form = key->get<std::string>();
    std::replace(form.begin(), form.end(), '+', ' ');
    auto decoded = storage::uri_decode(form);
    if (!decoded) return refuse(where + ".s3.object.key has a malformed escape");
    batch.created.push_back(
        {bucket_name->get<std::string>(), std::move(*decoded), size_it->get<std::int64_t>()});
  }
  return batch;
}

}  // namespace sy::service
