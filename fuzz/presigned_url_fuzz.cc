// Requests to the embedded store's /store/<key> (presigned URLs, SigV4 query signing).
// A presigned URL grants one method on one key (and for a PUT one size) until it expires;
// no change to it and no request made without the secret may get more.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "storage/keys.h"
#include "storage/local/local_store.h"

namespace {

using namespace std::chrono_literals;
using sy::storage::Clock;

constexpr const char* kPublicUrl = "http://127.0.0.1:8080";
constexpr const char* kHost = "127.0.0.1:8080";

sy::storage::LocalObjectStore& store() {
  static const std::unique_ptr<sy::storage::LocalObjectStore> instance = [] {
    char dir[] = "/tmp/sy_fuzz_store_XXXXXX";
    if (!::mkdtemp(dir)) std::abort();
    static std::string root = dir;
    std::atexit([] { std::filesystem::remove_all(root); });
    sy::storage::LocalStoreOptions o;
    o.root = root;
    o.public_url = kPublicUrl;
    o.credentials = {"surroundyou", "a-secret-the-fuzzer-does-not-know", "us-east-1", "s3"};
    o.max_object_bytes = 200LL * 1024 * 1024;
    return std::make_unique<sy::storage::LocalObjectStore>(o);
  }();
  return *instance;
}

std::string_view without_outer_whitespace(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

struct Outcome {
  bool ok = false;
  sy::storage::StoreRequest request;
  sy::storage::StoreError error;
};

Outcome authorize(const std::string& method, const std::string& target,
                  const std::map<std::string, std::string>& headers, Clock::time_point now) {
  Outcome out;
  out.ok = store().authorize(
      method, target,
      [&](std::string_view name) -> std::optional<std::string> {
        const auto it = headers.find(std::string(name));
        if (it == headers.end()) return std::nullopt;
        return it->second;
      },
      now, &out.request, &out.error);
  if (!out.ok) {
    SY_FUZZ_CHECK(out.error.status == 400 || out.error.status == 403 || out.error.status == 404 ||
                      out.error.status == 411 || out.error.status == 413,
                  "a refusal with an unexpected status");
    SY_FUZZ_CHECK(!out.error.code.empty(), "a refusal without a code");
  }
  return out;
}

// Raw bytes as a request nobody signed: it must never pass.
void unsigned_request(FuzzedDataProvider& in) {
  const std::string method = in.PickValueInArray({"GET", "PUT", "HEAD", "DELETE", "POST"});
  std::map<std::string, std::string> headers{{"host", kHost}};
  if (in.ConsumeBool()) headers["content-length"] = in.ConsumeRandomLengthString(24);
  if (in.ConsumeBool()) headers["host"] = in.ConsumeRandomLengthString(64);
  const std::string target = "/store/" + in.ConsumeRemainingBytesAsString();
  const auto out = authorize(method, target, headers, Clock::now());
  SY_FUZZ_CHECK(!out.ok, "a request signed without the secret passed");
}

// A URL the store signed, then maybe altered, used at some time.
void signed_request(FuzzedDataProvider& in) {
  const bool put = in.ConsumeBool();
  const auto ttl = std::chrono::seconds(in.ConsumeIntegralInRange<int>(1, 7 * 24 * 3600));
  const std::int64_t size = in.ConsumeIntegralInRange<std::int64_t>(0, 200LL * 1024 * 1024);
  const std::string download_name = put ? "" : in.ConsumeRandomLengthString(200);
  const std::string key = in.ConsumeRandomLengthString(300);
  if (!sy::storage::is_valid_key(key)) return;

  const auto before = Clock::now();
  const auto presigned = put ? store().presign_put(key, size, "audio/mpeg", ttl)
                             : store().presign_get(key, download_name, ttl);
  std::string target = presigned.url.substr(std::string(kPublicUrl).size());
  std::string method = presigned.method;
  std::map<std::string, std::string> headers{{"host", kHost}};
  if (put) headers["content-length"] = std::to_string(size);

  bool altered = false;
  switch (in.ConsumeIntegralInRange<int>(0, 6)) {
    case 0: break;
    case 1: {  // one byte of the target replaced
      const auto at = in.ConsumeIntegralInRange<std::size_t>(0, target.size() - 1);
      const char c = static_cast<char>(in.ConsumeIntegral<std::uint8_t>());
      altered = target[at] != c;
      target[at] = c;
      break;
    }
    case 2: {  // bytes inserted
      const auto at = in.ConsumeIntegralInRange<std::size_t>(0, target.size());
      const std::string extra = in.ConsumeRandomLengthString(32);
      altered = !extra.empty();
      target.insert(at, extra);
      break;
    }
    case 3: {  // a range cut out
      const auto at = in.ConsumeIntegralInRange<std::size_t>(0, target.size() - 1);
      const auto n = in.ConsumeIntegralInRange<std::size_t>(1, target.size() - at);
      target.erase(at, n);
      altered = true;
      break;
    }
    case 4:
      method = in.PickValueInArray({"GET", "PUT", "HEAD", "DELETE", "POST"});
      altered = method != presigned.method;
      break;
    case 5:
      headers["content-length"] = in.ConsumeRandomLengthString(24);
      altered = put && headers["content-length"] != std::to_string(size);
      break;
    case 6:
      headers["host"] = in.ConsumeRandomLengthString(64);
      altered = headers["host"] != kHost;
      break;
  }
  const auto offset = std::chrono::seconds(
      in.ConsumeIntegralInRange<std::int64_t>(-3600, 8 * 24 * 3600));
  const auto now = Clock::now() + offset;
  const auto out = authorize(method, target, headers, now);

  if (out.ok) {
    SY_FUZZ_CHECK(out.request.key == key, "a signed URL opened another key");
    SY_FUZZ_CHECK(method == presigned.method, "a signed URL served another method");
    // An HTTP parser hands over a field value without the spaces and tabs around it (RFC 9110
    // 5.5), and SigV4 signs it so: " 127.0.0.1:8080\t" is the signed host, anything else not.
    SY_FUZZ_CHECK(without_outer_whitespace(headers["host"]) == kHost, "a signed URL passed for another host");
    SY_FUZZ_CHECK(now <= before + ttl + 2s, "an expired URL passed");
    if (put) SY_FUZZ_CHECK(out.request.content_length == size, "a PUT passed with another size");
    for (const char c : out.request.content_disposition)
      SY_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F,
                    "a control character reaches the Content-Disposition header");
  } else if (!altered && offset >= 0s && offset + 2s <= ttl) {
    std::fprintf(stderr, "refused %s %s: %s\n", method.c_str(), target.c_str(),
                 out.error.message.c_str());
    SY_FUZZ_CHECK(false, "an unaltered URL within its lifetime was refused");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool())
    signed_request(in);
  else
    unsigned_request(in);
  return 0;
}
