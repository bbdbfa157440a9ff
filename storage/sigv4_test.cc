#include "storage/sigv4.h"

#include <gtest/gtest.h>

namespace sy::storage {
namespace {

using namespace std::chrono_literals;

SigV4Credentials aws_example() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
}

// The presigned GET example of AWS's "Authenticating Requests: Using Query Parameters" page.
TEST(SigV4, MatchesAwsPublishedPresignedGetExample) {
  PresignInput in;
  in.method = "GET";
  in.host = "examplebucket.s3.amazonaws.com";
  in.path = "/test.txt";
  in.time = *parse_amz_date("20130524T000000Z");
  in.expires = 86400s;
  const std::string q = presign_query(aws_example(), in);
  EXPECT_EQ(q,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, UriEncodeFollowsRfc3986) {
  EXPECT_EQ(uri_encode("a b/(8D)~._-", true), "a%20b/%288D%29~._-");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(uri_encode("\xC3\xA9", false), "%C3%A9");
  EXPECT_EQ(uri_decode("a%20b%2F"), "a b/");
  EXPECT_FALSE(uri_decode("bad%2"));
  EXPECT_FALSE(uri_decode("bad%zz"));
}

TEST(SigV4, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

// Found by fuzz_presigned_url: a signed year ("-999") made the nanosecond clock overflow.
TEST(SigV4, DatesTakeDigitsOnlyAndYearsTheClockCanHold) {
  EXPECT_TRUE(parse_amz_date("20260101T120000Z"));
  for (const char* date : {"-9990101T120000Z", "20260101T-10000Z", "2026+101T120000Z", "16000101T000000Z",
                           "99990101T000000Z"})
    EXPECT_FALSE(parse_amz_date(date)) << date;
}

class SigV4Verify : public ::testing::Test {
 protected:
  SigV4Credentials creds = aws_example();
  using Clock = std::chrono::system_clock;
  Clock::time_point t0 = *parse_amz_date("20260101T120000Z");

  QueryParams make(const std::string& method, const std::string& path, HeaderList extra = {}) {
    PresignInput in;
    in.method = method;
    in.host = "127.0.0.1:8080";
    in.path = path;
    in.extra_headers = std::move(extra);
    in.extra_query = {{"response-content-disposition", "attachment; filename=\"a b.mp3\""}};
    in.time = t0;
    in.expires = 900s;
    return *parse_query(presign_query(creds, in));
  }
  VerifyResult check(const std::string& method, const std::string& path, const QueryParams& q,
                     Clock::time_point at, std::string length = "10") {
    return verify_presigned(creds, method, path, q,
                            [&](std::string_view name) -> std::optional<std::string> {
                              if (name == "host") return "127.0.0.1:8080";
                              if (name == "content-length") return length;
                              return std::nullopt;
                            },
                            at);
  }
};

TEST_F(SigV4Verify, AcceptsItsOwnSignatureUntilExpiry) {
  const auto q = make("GET", "/store/processed/x/a b (8D).mp3");
  EXPECT_EQ(check("GET", "/store/processed/x/a b (8D).mp3", q, t0 + 10s), VerifyResult::kOk);
  EXPECT_EQ(check("GET", "/store/processed/x/a b (8D).mp3", q, t0 + 900s), VerifyResult::kOk);
  EXPECT_EQ(check("GET", "/store/processed/x/a b (8D).mp3", q, t0 + 901s),
            VerifyResult::kExpired);
  EXPECT_EQ(check("GET", "/store/processed/x/a b (8D).mp3", q, t0 - 1h), VerifyResult::kExpired);
}

TEST_F(SigV4Verify, RejectsAnyChange) {
  const std::string path = "/store/processed/x/a.mp3";
  const auto q = make("GET", path);
  EXPECT_EQ(check("GET", "/store/processed/y/a.mp3", q, t0), VerifyResult::kBadSignature);
  EXPECT_EQ(check("PUT", path, q, t0), VerifyResult::kBadSignature);
  for (std::size_t i = 0; i < q.size(); ++i) {
    auto tampered = q;
    tampered[i].second += "0";
    EXPECT_NE(check("GET", path, tampered, t0), VerifyResult::kOk) << q[i].first;
  }
  auto flipped = q;
  for (auto& [k, v] : flipped)
    if (k == "X-Amz-Signature") v[0] = v[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(check("GET", path, flipped, t0), VerifyResult::kBadSignature);
  auto dropped = q;
  dropped.pop_back();
  EXPECT_NE(check("GET", path, dropped, t0), VerifyResult::kOk);
  auto other = creds;
  other.secret_key = "another secret";
  EXPECT_EQ(verify_presigned(other, "GET", path, q,
                             [](std::string_view n) -> std::optional<std::string> {
                               if (n == "host") return "127.0.0.1:8080";
                               return std::nullopt;
                             },
                             t0),
            VerifyResult::kBadSignature);
}

TEST_F(SigV4Verify, SignedContentLengthPinsTheSize) {
  const std::string path = "/store/uploads/x/a.mp3";
  const auto q = make("PUT", path, {{"content-length", "10"}});
  EXPECT_EQ(check("PUT", path, q, t0, "10"), VerifyResult::kOk);
  EXPECT_EQ(check("PUT", path, q, t0, "11"), VerifyResult::kBadSignature);
}

}  // namespace
}  // namespace sy::storage
