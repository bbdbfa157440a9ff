// The embedded store's routes: presigned uploads and downloads.
#include <gtest/gtest.h>

#include <fstream>

#include "service/api_test_fixture.h"
#include "storage/keys.h"
#include "storage/sigv4.h"

namespace sy::service {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_F(ApiTest, CompletedUploadQueuesTheJobThroughTheObjectCreatedEvent) {
  const auto c = create(5);
  const auto r = upload(c, "12345");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.header("ETag"));
  EXPECT_EQ(queued_hooks, 1);
  const auto j = body_of(get_job(c.id, c.token));
  EXPECT_EQ(j["status"], "queued");
  // The job no longer accepts an upload: the URL cannot overwrite its input.
  expect_error_shape(upload(c, "54321"), 403);
  EXPECT_EQ(queued_hooks, 1);
}

TEST_F(ApiTest, UploadsThatDoNotMatchAreRefusedAndStoreNothing) {
  const auto c = create(5);
  expect_error_shape(upload(c, "123456", 6), 403);  // signed content-length differs
  std::string tampered = c.upload_url;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  auto r = req("PUT", target_of(tampered), {}, {{"content-length", "5"}});
  auto refused = refusal(r);
  ASSERT_TRUE(refused);
  expect_error_shape(*refused, 403, "SignatureDoesNotMatch");
  // Another job's upload URL cannot write this job's key.
  const auto other = create(5);
  std::string swapped = target_of(other.upload_url);
  swapped.replace(swapped.find(other.id), other.id.size(), c.id);
  r = req("PUT", swapped, {}, {{"content-length", "5"}});
  refused = refusal(r);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_TRUE(store->list("uploads/").empty());
  EXPECT_EQ(body_of(get_job(c.id, c.token))["status"], "awaiting_upload");
}

TEST_F(ApiTest, DoneJobGetsAPresignedDownloadServedWithRanges) {
  const auto c = create(5);
  upload(c, "12345");
  auto job = queue->claim("w", 10s);
  ASSERT_TRUE(job);
  const std::string data(1000, 'x');
  const fs::path src = dir / "out.mp3";
  { std::ofstream(src, std::ios::binary) << data; }
  const std::string key = storage::processed_key(c.id, "My Song.mp3", "mp3");
  store->upload_from_file(key, src);
  ASSERT_TRUE(queue->complete(c.id, "w", {key, 1000, 12.5, "mp3", 1.0}));
  const auto j = body_of(get_job(c.id, c.token));
  EXPECT_EQ(j["status"], "done");
  EXPECT_EQ(j["result"]["bytes"], 1000);
  EXPECT_EQ(j["result"]["format"], "mp3");
  const std::string target = target_of(j["result"]["url"]);

  auto full = api->handle(req("GET", target));
  ASSERT_EQ(full.status, 200) << full.body;
  ASSERT_TRUE(full.file);
  EXPECT_EQ(full.file->length, 1000);
  EXPECT_EQ(full.header("Content-Type"), "audio/mpeg");
  EXPECT_NE(full.header("Content-Disposition")->find("My Song (8D).mp3"), std::string::npos);

  auto part = api->handle(req("GET", target, {}, {{"range", "bytes=10-19"}}));
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.file->offset, 10);
  EXPECT_EQ(part.file->length, 10);
  EXPECT_EQ(part.header("Content-Range"), "bytes 10-19/1000");
  part = api->handle(req("GET", target, {}, {{"range", "bytes=-100"}}));
  EXPECT_EQ(part.file->offset, 900);
  EXPECT_EQ(part.file->length, 100);
  expect_error_shape(api->handle(req("GET", target, {}, {{"range", "bytes=5000-"}})), 416);

  // The signature does not open another job's key.
  std::string other = target;
  other.replace(other.find(c.id), c.id.size(), std::string(32, 'a'));
  expect_error_shape(api->handle(req("GET", other)), 403, "SignatureDoesNotMatch");
  expect_error_shape(api->handle(req("GET", "/store/" + key)), 403);
}

TEST_F(ApiTest, ParseRange) {
  EXPECT_EQ(parse_range("bytes=0-0", 10), std::make_pair(std::int64_t{0}, std::int64_t{0}));
  EXPECT_EQ(parse_range("bytes=5-", 10), std::make_pair(std::int64_t{5}, std::int64_t{9}));
  EXPECT_EQ(parse_range("bytes=5-100", 10), std::make_pair(std::int64_t{5}, std::int64_t{9}));
  EXPECT_EQ(parse_range("bytes=-3", 10), std::make_pair(std::int64_t{7}, std::int64_t{9}));
  EXPECT_EQ(parse_range("bytes=10-", 10), std::make_pair(std::int64_t{-1}, std::int64_t{-1}));
  EXPECT_FALSE(parse_range("bytes=1-2,4-5", 10));
  EXPECT_FALSE(parse_range("items=1-2", 10));
  EXPECT_FALSE(parse_range("bytes=3-1", 10));
  EXPECT_FALSE(parse_range("bytes=a-b", 10));
}
}  // namespace
}  // namespace sy::service
