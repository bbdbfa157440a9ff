#include "storage/s3/s3_signer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "base/errors.h"
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include "storage/s3/s3_store.h"

namespace sy::storage {
namespace {

using namespace std::chrono_literals;

Clock::time_point at(const char* amz) { return *parse_amz_date(amz); }

std::string authorization(const HeaderList& h) {
  for (const auto& [k, v] : h)
    if (k == "authorization") return v;
  return {};
}

// Published examples the header signature must reproduce to the letter.
struct AwsExample {
  const char* name;
  SigV4Credentials creds;
  HeaderSignInput in;
  const char* authorization;
};

class S3SignerExample : public ::testing::TestWithParam<AwsExample> {};

TEST_P(S3SignerExample, AuthorizationMatchesThePublishedOne) {
  HeaderSignInput in = GetParam().in;
  in.payload_hash = sha256_hex("");
  EXPECT_EQ(authorization(sign_headers(GetParam().creds, in)), GetParam().authorization);
}

INSTANTIATE_TEST_SUITE_P(
    S3Signer, S3SignerExample,
    ::testing::Values(
        // AWS Signature Version 4 test suite, "get-vanilla" (service "service", us-east-1).
        AwsExample{"AwsTestSuiteGetVanilla",
                   {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"},
                   {.method = "GET", .host = "example.amazonaws.com", .path = "/", .query = {}, .headers = {},
                    .payload_hash = {}, .time = at("20150830T123600Z"), .add_content_sha256 = false},
                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                   "SignedHeaders=host;x-amz-date, "
                   "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        // The S3 documentation's header-signed GET Object example (Range: bytes=0-9).
        AwsExample{"AwsS3GetObjectExample",
                   {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"},
                   {.method = "GET", .host = "examplebucket.s3.amazonaws.com", .path = "/test.txt", .query = {},
                    .headers = {{"range", "bytes=0-9"}}, .payload_hash = {}, .time = at("20130524T000000Z")},
                   "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                   "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                   "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

std::map<std::string, std::string> query_of(const std::string& url) {
  std::map<std::string, std::string> out;
  const auto q = parse_query(url.substr(url.find('?') + 1));
  if (q)
    for (const auto& [k, v] : *q) out[k] = v;
  return out;
}

std::string path_of(const std::string& url) {
  const auto start = url.find('/', url.find("://") + 3);
  return url.substr(start, url.find('?') - start);
}

// Runs Debian's botocore on the same inputs (storage/s3/botocore_presign.py).
std::vector<std::string> botocore_presign(const nlohmann::json& cases) {
  const std::string input = ::testing::TempDir() + "/botocore_cases.json";
  std::ofstream(input) << cases.dump();
  const std::string cmd = std::string("/usr/bin/python3 ") + SY_BOTOCORE_SCRIPT + " < " + input;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  std::vector<std::string> urls;
  char line[8192];
  while (p && std::fgets(line, sizeof line, p.get())) {
    std::string s(line);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    urls.push_back(s);
  }
  return urls;
}

struct Case {
  S3Options options;
  std::string method;
  std::string key;
  std::int64_t size;
  std::string download_name;
  std::chrono::seconds ttl;
};

TEST(S3Signer, PresignedUrlsMatchBotocore) {
  const auto fixed = at("20240229T235959Z");
  std::vector<Case> cases;
  S3Options path_style;
  path_style.endpoint = "http://127.0.0.1:7480";
  path_style.bucket = "songs";
  path_style.region = "eu-west-3";
  path_style.path_style = true;
  path_style.access_key = "0555b35654ad1656d804";
  path_style.secret_key = "h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==";
  path_style.clock = [fixed] { return fixed; };
  S3Options virtual_host = path_style;
  virtual_host.endpoint = "https://s3.us-west-2.amazonaws.com";
  virtual_host.region = "us-west-2";
  virtual_host.path_style = false;
  cases.push_back({path_style, "PUT", "uploads/3f2a/my song (1) é.mp3", 5123456, "", 900s});
  cases.push_back({path_style, "GET", "processed/3f2a/my song (1) é (8D).mp3", 0,
                   "my song (1) é (8D).mp3", 3600s});
  cases.push_back({virtual_host, "PUT", "uploads/x/a+b&c=d.flac", 42, "", 60s});
  cases.push_back({virtual_host, "GET", "processed/x/a+b&c=d (8D).mp3", 0, "a+b&c=d (8D).mp3",
                   604800s});

  nlohmann::json input = nlohmann::json::array();
  std::vector<std::string> ours;
  for (const auto& c : cases) {
    S3ObjectStore store(c.options);
    const auto req = c.method == "PUT" ? store.presign_put(c.key, c.size, "audio/mpeg", c.ttl)
                                       : store.presign_get(c.key, c.download_name, c.ttl);
    ours.push_back(req.url);
    // botocore gets the unsigned URL (with the operation's own query) and the signed headers.
    std::string url = store.object_url(c.key, true);
    if (!c.download_name.empty())
      url += "?response-content-disposition=" +
             uri_encode(query_of(req.url)["response-content-disposition"], false);
    nlohmann::json j{{"method", c.method},
                     {"url", url},
                     {"region", c.options.region},
                     {"expires", c.ttl.count()},
                     {"access_key", c.options.access_key},
                     {"secret_key", c.options.secret_key},
                     {"time", "20240229T235959Z"}};
    if (c.method == "PUT") j["headers"] = {{"Content-Length", std::to_string(c.size)}};
    input.push_back(j);
  }
  const auto theirs = botocore_presign(input);
  ASSERT_EQ(theirs.size(), cases.size()) << "botocore did not answer (python3-botocore installed?)";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(ours[i] + "\nbotocore: " + theirs[i]);
    EXPECT_EQ(ours[i].substr(0, ours[i].find('?')), theirs[i].substr(0, theirs[i].find('?')));
    EXPECT_EQ(query_of(ours[i]), query_of(theirs[i]));
    EXPECT_EQ(query_of(ours[i])["X-Amz-Signature"].size(), 64u);
  }
  EXPECT_EQ(path_of(ours[0]), "/songs/uploads/3f2a/my%20song%20%281%29%20%C3%A9.mp3");
  EXPECT_EQ(ours[2].rfind("https://songs.s3.us-west-2.amazonaws.com/uploads/x/", 0), 0u);
}

TEST(S3Store, ReadsValuesFromS3Xml) {
  const std::string xml =
      "<ListBucketResult><Contents><Key>a&amp;b</Key><Size>3</Size></Contents>"
      "<Contents><Key>c</Key><Size>4</Size></Contents><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>";
  EXPECT_EQ(xml_values(xml, "Key"), (std::vector<std::string>{"a&b", "c"}));
  EXPECT_EQ(xml_values(xml, "Contents").size(), 2u);
  EXPECT_TRUE(xml_values(xml, "Missing").empty());
}

TEST(S3Store, RefusesAMissingBucketOrCredentials) {
  S3Options o;
  o.access_key = "a";
  o.secret_key = "b";
  EXPECT_THROW(S3ObjectStore{o}, std::invalid_argument);
  o.bucket = "x";
  o.endpoint = "ftp://host";
  EXPECT_THROW(S3ObjectStore{o}, std::invalid_argument);
  o.endpoint = "http://host:80/";
  S3ObjectStore store(o);
  EXPECT_EQ(store.object_url("k", false), "http://x.host/k") << "default port and slash dropped";
}

TEST(S3Store, RefusesInvalidKeysBeforeSendingAnything) {
  S3Options o;
  o.endpoint = "http://127.0.0.1:1";  // nothing listens: a request would fail differently
  o.bucket = "songs";
  o.access_key = "a";
  o.secret_key = "b";
  o.max_attempts = 1;
  S3ObjectStore store(o);
  // An empty key names the bucket: DELETE on it would delete the bucket.
  for (const std::string key : {"", "uploads/../x.mp3", "uploads//x.mp3", "/x.mp3"}) {
    EXPECT_THROW(store.remove(key), std::invalid_argument) << key;
    EXPECT_THROW(store.stat(key), std::invalid_argument) << key;
    EXPECT_THROW(store.presign_get(key, "", std::chrono::seconds(60)), std::invalid_argument) << key;
  }
}

// A store that takes the connection and never answers (a hung RGW) or refuses it (stopped):
// a request the API makes while a client waits gives up within its deadline, as Unavailable.
TEST(S3Store, AStoreThatDoesNotAnswerIsUnavailableWithinTheDeadline) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener, 16), 0);  // the kernel completes handshakes; no one reads
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  S3Options o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  o.bucket = "songs";
  o.path_style = true;
  o.access_key = "a";
  o.secret_key = "b";
  o.call_deadline = std::chrono::milliseconds(1500);
  S3ObjectStore hung(o);
  for (const auto& call : std::vector<std::function<void()>>{
           [&] { hung.stat("uploads/x/a.mp3"); }, [&] { hung.list("uploads/"); },
           [&] { hung.remove("uploads/x/a.mp3"); }}) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(call(), base::Unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  }
  ::close(listener);
  o.endpoint = "http://127.0.0.1:1";  // nothing listens: refused
  S3ObjectStore stopped(o);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(stopped.stat("uploads/x/a.mp3"), base::Unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
}

}  // namespace
}  // namespace sy::storage
