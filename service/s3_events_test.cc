#include "service/s3_events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sy::service {
namespace {

using nlohmann::json;

json record(json key, json size, std::string event = "ObjectCreated:Put") {
  return {{"eventName", std::move(event)},
          {"s3", {{"bucket", {{"name", "songs"}}}, {"object", {{"key", key}, {"size", size}}}}}};
}

std::string batch_of(const std::vector<json>& records) {
  return json{{"Records", records}}.dump();
}

TEST(S3Events, ObjectCreatedRecordsComeOutDecodedAndInOrder) {
  const auto batch = parse_s3_events(batch_of({record("uploads/a/My+Song%21.mp3", 5),
                                               record("uploads/b/x.mp3", 7, "ObjectRemoved:Delete"),
                                               record("uploads/c/y.flac", 0, "ObjectCreated:Copy")}));
  ASSERT_FALSE(batch.refusal) << batch.refusal->message;
  ASSERT_EQ(batch.created.size(), 2u) << "the removal is skipped";
  EXPECT_EQ(batch.created[0].bucket, "songs");
  EXPECT_EQ(batch.created[0].key, "uploads/a/My Song!.mp3");
  EXPECT_EQ(batch.created[0].size, 5);
  EXPECT_EQ(batch.created[1].key, "uploads/c/y.flac");
  EXPECT_EQ(batch.created[1].size, 0);
}

TEST(S3Events, BodiesThatAreNotEventJsonAreRefused) {
  EXPECT_EQ(parse_s3_events("{").refusal->code, "invalid_json");
  EXPECT_EQ(parse_s3_events("").refusal->code, "invalid_json");
  EXPECT_EQ(parse_s3_events("[]").refusal->code, "invalid_event");
  EXPECT_EQ(parse_s3_events(R"({"Records":{}})").refusal->code, "invalid_event");
  // S3's own test event when a notification is configured carries no Records.
  EXPECT_EQ(parse_s3_events(R"({"Service":"Amazon S3","Event":"s3:TestEvent"})").refusal->code,
            "invalid_event");
  const auto empty = parse_s3_events(R"({"Records":[]})");
  EXPECT_FALSE(empty.refusal);
  EXPECT_TRUE(empty.created.empty());
}

// One wrong field anywhere refuses the whole batch, even after good records, so the route
// never applies half of it.
TEST(S3Events, OneWronglyTypedFieldRefusesTheWholeBatch) {
  const json good = record("uploads/a/x.mp3", 5);
  std::vector<json> bad{
      json(42),
      json{{"eventName", 7}},
      json{{"s3", good["s3"]}},
      json{{"eventName", "ObjectCreated:Put"}, {"s3", "x"}},
      json{{"eventName", "ObjectCreated:Put"}, {"s3", {{"object", good["s3"]["object"]}}}},
      json{{"eventName", "ObjectCreated:Put"},
           {"s3", {{"bucket", {{"name", 1}}}, {"object", good["s3"]["object"]}}}},
      json{{"eventName", "ObjectCreated:Put"}, {"s3", {{"bucket", good["s3"]["bucket"]}}}},
      record(json::array({"uploads/a/x.mp3"}), 5),
      record("uploads/a/x.mp3", "5"),
      record("uploads/a/x.mp3", -1),
      record("uploads/a/x.mp3", 5.5),
      record("uploads/a/x.mp3", json::number_unsigned_t{1} << 63),
      record("uploads/a/x.mp3", nullptr),
      record("uploads/a/%zz.mp3", 5),
  };
  for (const auto& b : bad) {
    const auto batch = parse_s3_events(batch_of({good, b}));
    ASSERT_TRUE(batch.refusal) << b.dump();
    EXPECT_EQ(batch.refusal->code, "invalid_event") << b.dump();
    EXPECT_NE(batch.refusal->message.find("Records[1]"), std::string::npos)
        << "the message names the record: " << batch.refusal->message;
    EXPECT_TRUE(batch.created.empty());
  }
}

TEST(S3Events, TheLargestByteCountIsAccepted) {
  const auto batch =
      parse_s3_events(batch_of({record("k", std::numeric_limits<std::int64_t>::max())}));
  ASSERT_FALSE(batch.refusal);
  EXPECT_EQ(batch.created.at(0).size, std::numeric_limits<std::int64_t>::max());
}

}  // namespace
}  // namespace sy::service
