#include "storage/object_store_conformance_test.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <random>
#include <set>

#include "tests/support/http_client.h"

namespace sy::storage::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using sy::testing::http_request;
using sy::testing::HttpHeaders;
using sy::testing::read_file;

HttpHeaders headers_of(const PresignedRequest& r) { return {r.headers.begin(), r.headers.end()}; }

std::set<std::string> keys_of(const std::vector<ObjectInfo>& objects) {
  std::set<std::string> keys;
  for (const auto& o : objects) keys.insert(o.key);
  return keys;
}

// The last character of the signature changed: a URL nobody signed.
std::string tampered(std::string url) {
  url.back() = url.back() == '0' ? '1' : '0';
  return url;
}

bool same_files(const fs::path& a, const fs::path& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  std::vector<char> ba(1 << 20), bb(1 << 20);
  while (fa && fb) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() || !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin()))
      return false;
  }
  return fa.eof() && fb.eof();
}

// Resident memory of this process, from /proc/self/status (kB lines): the high-water mark
// since the last reset_peak_memory(), and now.
std::int64_t status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
  return -1;
}
bool reset_peak_memory() { return static_cast<bool>(std::ofstream("/proc/self/clear_refs") << "5"); }

}  // namespace

void ObjectStoreConformance::SetUp() {
  GetParam().reset();
  store = open();
}

std::unique_ptr<ObjectStore> ObjectStoreConformance::open(const ClockFn& clock) const {
  return open_store(GetParam().settings(clock));
}

fs::path ObjectStoreConformance::make_file(const std::string& name, std::int64_t size,
                                           unsigned seed) {
  const fs::path path = scratch.path() / name;
  std::ofstream out(path, std::ios::binary);
  std::mt19937 rng(seed);
  std::vector<std::uint32_t> block(1 << 16);
  for (std::int64_t left = size; left > 0;) {
    for (auto& w : block) w = rng();
    const auto n = std::min<std::int64_t>(left, static_cast<std::int64_t>(block.size() * 4));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    left -= n;
  }
  return path;
}

std::string ObjectStoreConformance::put(const std::string& key, std::int64_t size, unsigned seed) {
  const auto file = make_file("put.bin", size, seed);
  store->upload_from_file(key, file);
  return read_file(file);
}

std::string ObjectStoreConformance::get(const std::string& key) {
  const auto file = scratch.path() / "get.bin";
  store->download_to_file(key, file);
  auto bytes = read_file(file);
  fs::remove(file);
  return bytes;
}

int ObjectStoreConformance::presigned_put(const PresignedRequest& put, const std::string& body) {
  return http_request(put.method, put.url, body, headers_of(put)).status;
}

TEST_P(ObjectStoreConformance, PutStatGetOverwriteRemove) {
  const std::string key = "processed/j1/song (8D).mp3";
  const auto before = Clock::now();
  const std::string first = put(key, 5000, 1);
  const auto info = store->stat(key);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->key, key);
  EXPECT_EQ(info->size, 5000);
  // Servers keep whole seconds; RGW runs on this machine's clock.
  EXPECT_GE(info->modified, before - 2s);
  EXPECT_LE(info->modified, Clock::now() + 2s);
  EXPECT_EQ(get(key), first);

  const std::string second = put(key, 3000, 2);
  EXPECT_EQ(store->stat(key)->size, 3000);
  EXPECT_EQ(get(key), second) << "a second upload replaces the object";

  put("processed/j1/empty.mp3", 0);
  EXPECT_EQ(store->stat("processed/j1/empty.mp3")->size, 0);
  EXPECT_EQ(get("processed/j1/empty.mp3"), "");

  store->remove(key);
  EXPECT_FALSE(store->stat(key));
  EXPECT_TRUE(store->stat("processed/j1/empty.mp3")) << "only the named object goes";
}

// How an attempt's result becomes the job's (worker/worker_pool.cc): the target is replaced
// whole, keeps its type for downloads, and the source is gone.
TEST_P(ObjectStoreConformance, MoveReplacesTheTargetWholeAndRemovesTheSource) {
  const std::string target = "processed/j1/song é (8D).mp3";
  const std::string older = put(target, 4000, 1);
  const std::string from = "attempts/j1/2-ab/song é (8D).mp3";
  const std::string newer = put(from, 70000, 2);
  store->move(from, target, 5s);
  EXPECT_EQ(get(target), newer);
  EXPECT_FALSE(store->stat(from)) << "the source is gone";
  EXPECT_TRUE(store->list("attempts/j1/").empty());
  const auto url = store->presign_get(target, "song é (8D).mp3", 60s);
  const auto res = http_request("GET", url.url);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type"), "audio/mpeg");
  EXPECT_EQ(res.body, newer);
  EXPECT_THROW(store->move("attempts/j1/none/x.mp3", "processed/j1/x.mp3", 5s), std::exception);
  EXPECT_FALSE(store->stat("processed/j1/x.mp3")) << "a failed move creates nothing";
  EXPECT_THROW(store->move(from, "processed/../x", 5s), std::invalid_argument);
}

TEST_P(ObjectStoreConformance, MissingKeysAreAbsentNotErrors) {
  EXPECT_FALSE(store->stat("uploads/none/a.mp3"));
  EXPECT_TRUE(store->list("uploads/none/").empty());
  EXPECT_NO_THROW(store->remove("uploads/none/a.mp3"));
  EXPECT_NO_THROW(store->remove_prefix("uploads/none/"));
  // Reading one is an error, and leaves nothing where the copy was to go.
  const auto dest = scratch.path() / "copy.bin";
  EXPECT_THROW(store->download_to_file("uploads/none/a.mp3", dest), std::runtime_error);
  EXPECT_EQ(scratch.entries(), std::vector<std::string>{});
  const auto get = store->presign_get("uploads/none/a.mp3", "a.mp3", 60s);
  EXPECT_EQ(http_request("GET", get.url).status, 404);
}

TEST_P(ObjectStoreConformance, ListsByPrefixAndRemovesByPrefix) {
  put("uploads/a/1.mp3", 10);
  put("uploads/a/2.mp3", 20);
  put("uploads/ab/3.mp3", 30);
  put("processed/a/1 (8D).mp3", 40);
  const auto a = store->list("uploads/a/");
  EXPECT_EQ(keys_of(a), (std::set<std::string>{"uploads/a/1.mp3", "uploads/a/2.mp3"}));
  for (const auto& o : a) EXPECT_EQ(o.size, o.key == "uploads/a/1.mp3" ? 10 : 20) << o.key;
  // A prefix is a string prefix, not a folder.
  EXPECT_EQ(store->list("uploads/a").size(), 3u);
  EXPECT_EQ(store->list("uploads/").size(), 3u);
  EXPECT_EQ(store->list("").size(), 4u);
  EXPECT_TRUE(store->list("uploads/a/1.mp3x").empty());

  store->remove_prefix("uploads/a/");
  EXPECT_EQ(keys_of(store->list("")),
            (std::set<std::string>{"uploads/ab/3.mp3", "processed/a/1 (8D).mp3"}));
  store->remove_prefix("");
  EXPECT_TRUE(store->list("").empty());
}

TEST_P(ObjectStoreConformance, KeysWithAnyAllowedCharacterRoundTrip) {
  // Every character sanitise_filename keeps, and UTF-8: the URL encoding, the signature and
  // the listing must all agree on the key.
  const std::string key = "processed/j1/a+b & c's #1 (é) [x], @!.mp3";
  const std::string bytes = put(key, 100);
  EXPECT_EQ(keys_of(store->list("processed/j1/")), std::set<std::string>{key});
  EXPECT_EQ(store->stat(key)->size, 100);
  EXPECT_EQ(get(key), bytes);
  const auto got = http_request("GET", store->presign_get(key, "a+b & c's #1 (é).mp3", 60s).url);
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body, bytes);

  const std::string upload = "uploads/j2/Song é (live) & more #2.mp3";
  GetParam().expect_upload(upload, 7);
  EXPECT_EQ(presigned_put(store->presign_put(upload, 7, "audio/mpeg", 60s), "1234567"), 200);
  EXPECT_EQ(get(upload), "1234567");
  store->remove(key);
  store->remove(upload);
  EXPECT_TRUE(store->list("").empty());
}

TEST_P(ObjectStoreConformance, InvalidKeysAreRefusedBeforeAnythingIsSent) {
  // What keys.h calls invalid never names an object, on any backend: no path tricks, no
  // empty or dot segments, no control characters.
  const auto file = make_file("a.bin", 10);
  const std::vector<std::string> invalid{"",
                                         "/uploads/a.mp3",
                                         "uploads//a.mp3",
                                         "uploads/../processed/a.mp3",
                                         "uploads/./a.mp3",
                                         "uploads/a.mp3/",
                                         "uploads\\a.mp3",
                                         "uploads/a\nb.mp3"};
  for (const auto& key : invalid) {
    SCOPED_TRACE("key '" + key + "'");
    EXPECT_THROW(store->stat(key), std::invalid_argument);
    EXPECT_THROW(store->remove(key), std::invalid_argument);
    EXPECT_THROW(store->upload_from_file(key, file), std::invalid_argument);
    EXPECT_THROW(store->download_to_file(key, scratch.path() / "copy.bin"), std::invalid_argument);
    EXPECT_THROW(store->presign_put(key, 10, "", 60s), std::invalid_argument);
    EXPECT_THROW(store->presign_get(key, "a.mp3", 60s), std::invalid_argument);
  }
  EXPECT_TRUE(store->list("").empty());
  EXPECT_FALSE(std::filesystem::exists(scratch.path() / "copy.bin"));
}

TEST_P(ObjectStoreConformance, DownloadDeliversTheWholeCopyOrLeavesTheFileAlone) {
  const std::string bytes = put("processed/j1/a (8D).mp3", 4000);
  // Folders on the way are made.
  const auto nested = scratch.path() / "job" / "work" / "in.mp3";
  store->download_to_file("processed/j1/a (8D).mp3", nested);
  EXPECT_EQ(read_file(nested), bytes);
  // A file already there is replaced whole, or, when the object is missing, left as it was.
  const auto dest = scratch.path() / "dest.mp3";
  std::ofstream(dest) << "what was there before";
  EXPECT_THROW(store->download_to_file("processed/j1/none.mp3", dest), std::runtime_error);
  EXPECT_EQ(read_file(dest), "what was there before");
  store->download_to_file("processed/j1/a (8D).mp3", dest);
  EXPECT_EQ(read_file(dest), bytes);
  EXPECT_EQ(scratch.entries(), (std::vector<std::string>{"dest.mp3", "job", "put.bin"}))
      << "no temporary file is left behind";
  // Uploading a file that is not there stores nothing.
  EXPECT_THROW(store->upload_from_file("processed/j1/b.mp3", scratch.path() / "none.bin"),
               std::runtime_error);
  EXPECT_FALSE(store->stat("processed/j1/b.mp3"));
}

TEST_P(ObjectStoreConformance, ListsAndRemovesPastOnePageOfResults) {
  // S3 answers a listing 1000 keys at a time.
  constexpr int kObjects = 1003;
  const auto file = make_file("tiny.bin", 1);
  for (int i = 0; i < kObjects; ++i)
    store->upload_from_file("uploads/many/" + std::to_string(i) + ".mp3", file);
  put("uploads/other/a.mp3", 1);
  const auto listed = store->list("uploads/many/");
  EXPECT_EQ(listed.size(), static_cast<std::size_t>(kObjects));
  EXPECT_EQ(keys_of(listed).size(), static_cast<std::size_t>(kObjects)) << "no key twice";
  store->remove_prefix("uploads/many/");
  EXPECT_TRUE(store->list("uploads/many/").empty());
  EXPECT_EQ(store->list("").size(), 1u);
}

TEST_P(ObjectStoreConformance, PresignedPutAndGetRoundTrip) {
  const std::string key = "uploads/j1/My Song.mp3";
  const std::string body = read_file(make_file("body.bin", 300000));
  GetParam().expect_upload(key, static_cast<std::int64_t>(body.size()));
  const auto put = store->presign_put(key, static_cast<std::int64_t>(body.size()), "audio/mpeg", 900s);
  EXPECT_EQ(put.method, "PUT");
  EXPECT_NEAR(std::chrono::duration<double>(put.expires_at - Clock::now()).count(), 900, 5);
  ASSERT_EQ(presigned_put(put, body), 200);
  ASSERT_TRUE(store->stat(key));
  EXPECT_EQ(store->stat(key)->size, static_cast<std::int64_t>(body.size()));
  EXPECT_EQ(get(key), body);

  const auto get = store->presign_get(key, "My Song (8D).mp3", 3600s);
  EXPECT_EQ(get.method, "GET");
  EXPECT_NEAR(std::chrono::duration<double>(get.expires_at - Clock::now()).count(), 3600, 5);
  const auto res = http_request("GET", get.url, {}, headers_of(get));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.body, body);
  EXPECT_EQ(res.header("content-type"), "audio/mpeg");
  EXPECT_NE(res.header("content-disposition").find("attachment"), std::string::npos);
  EXPECT_NE(res.header("content-disposition").find("My Song (8D).mp3"), std::string::npos)
      << res.header("content-disposition");
}

TEST_P(ObjectStoreConformance, PresignedGetServesByteRanges) {
  const std::string key = "processed/j1/song (8D).mp3";
  const std::string bytes = put(key, 10000);
  const std::string url = store->presign_get(key, "", 60s).url;
  const auto range = [&](const std::string& r) { return http_request("GET", url, {}, {{"Range", r}}); };

  const auto middle = range("bytes=100-1099");
  EXPECT_EQ(middle.status, 206);
  EXPECT_EQ(middle.body, bytes.substr(100, 1000));
  EXPECT_EQ(middle.header("content-range"), "bytes 100-1099/10000");
  const auto tail = range("bytes=-500");
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, bytes.substr(9500));
  const auto open_ended = range("bytes=9990-");
  EXPECT_EQ(open_ended.status, 206);
  EXPECT_EQ(open_ended.body, bytes.substr(9990));
  const auto past_the_end = range("bytes=9990-20000");
  EXPECT_EQ(past_the_end.status, 206);
  EXPECT_EQ(past_the_end.body, bytes.substr(9990)) << "a range is cut at the object's end";
  EXPECT_EQ(range("bytes=10000-").status, 416);
}

TEST_P(ObjectStoreConformance, PresignedPutRefusesOtherSizesTamperingAndExpiry) {
  const std::string key = "uploads/j1/a.mp3";
  const std::string other = "uploads/j2/a.mp3";
  const std::string body(1000, 'x');
  // Both keys wait for an upload of this size: a refusal below is the signature's doing.
  GetParam().expect_upload(key, 1000);
  GetParam().expect_upload(other, 1000);
  const auto put = store->presign_put(key, 1000, "", 60s);

  EXPECT_EQ(presigned_put(put, body + "y"), 403) << "the size is signed";
  EXPECT_EQ(presigned_put(put, body.substr(1)), 403) << "the size is signed";
  auto forged = put;
  forged.url = tampered(put.url);
  EXPECT_EQ(presigned_put(forged, body), 403);
  auto moved = put;
  moved.url.replace(moved.url.find("/j1/"), 4, "/j2/");
  EXPECT_EQ(presigned_put(moved, body), 403) << "a signature holds for its own key only";
  const auto past = open([] { return Clock::now() - 2h; });
  EXPECT_EQ(presigned_put(past->presign_put(key, 1000, "", 60s), body), 403) << "expired";
  EXPECT_FALSE(store->stat(key));
  EXPECT_FALSE(store->stat(other));

  EXPECT_EQ(presigned_put(put, body), 200) << "the URL itself was good all along";
  EXPECT_EQ(store->stat(key)->size, 1000);
}

TEST_P(ObjectStoreConformance, PresignedGetRefusesTamperingExpiryAndOtherKeys) {
  put("processed/j1/a (8D).mp3", 100);
  put("processed/j2/a (8D).mp3", 100);
  const auto get = store->presign_get("processed/j1/a (8D).mp3", "a (8D).mp3", 60s);
  EXPECT_EQ(http_request("GET", tampered(get.url)).status, 403);
  std::string moved = get.url;
  moved.replace(moved.find("/j1/"), 4, "/j2/");
  EXPECT_EQ(http_request("GET", moved).status, 403);
  const auto past = open([] { return Clock::now() - 2h; });
  EXPECT_EQ(http_request("GET", past->presign_get("processed/j1/a (8D).mp3", "", 60s).url).status, 403);
  EXPECT_EQ(http_request("GET", get.url).status, 200);
}

TEST_P(ObjectStoreConformance, LargeObjectsStreamWithoutBeingHeldInMemory) {
  // Below and above the size where the S3 store switches to a multipart upload (32 MiB).
  for (const std::int64_t size : {24LL << 20, 40LL << 20}) {
    SCOPED_TRACE(std::to_string(size >> 20) + " MiB");
    const auto src = make_file("large.bin", size, static_cast<unsigned>(size));
    const std::string key = "processed/j1/large (8D).flac";
    const auto copy = scratch.path() / "large-copy.bin";

    // Neither direction holds the object, or a large part of it, in memory: the peak of
    // this process's resident memory grows by a few buffers at most.
    const auto peak_growth = [](const std::function<void()>& transfer) {
      EXPECT_TRUE(reset_peak_memory()) << "Linux /proc/self/clear_refs resets the peak";
      const std::int64_t resident = status_bytes("VmRSS");
      transfer();
      return status_bytes("VmHWM") - resident;
    };
    const auto upload_growth = peak_growth([&] { store->upload_from_file(key, src); });
    const auto download_growth = peak_growth([&] { store->download_to_file(key, copy); });
    constexpr std::int64_t kBound = 8LL << 20;
    EXPECT_LT(upload_growth, kBound) << "upload held " << (upload_growth >> 20) << " MiB";
    EXPECT_LT(download_growth, kBound) << "download held " << (download_growth >> 20) << " MiB";
    const std::string mib = std::to_string(size >> 20);
    RecordProperty("upload_peak_growth_kib_" + mib, static_cast<int>(upload_growth >> 10));
    RecordProperty("download_peak_growth_kib_" + mib, static_cast<int>(download_growth >> 10));

    EXPECT_EQ(store->stat(key)->size, size);
    EXPECT_TRUE(same_files(src, copy));
    const auto last = http_request("GET", store->presign_get(key, "", 60s).url, {},
                                   {{"Range", "bytes=" + std::to_string(size - 100) + "-"}});
    EXPECT_EQ(last.status, 206);
    EXPECT_EQ(last.body, read_file(src).substr(static_cast<std::size_t>(size - 100)));
    store->remove(key);
  }

  // A long song through a presigned PUT, as a browser uploads it.
  constexpr std::int64_t kSize = 40LL << 20;
  const auto src = make_file("long.bin", kSize);
  const std::string upload = "uploads/j2/long.flac";
  GetParam().expect_upload(upload, kSize);
  EXPECT_EQ(presigned_put(store->presign_put(upload, kSize, "audio/flac", 300s), read_file(src)), 200);
  store->download_to_file(upload, scratch.path() / "long-copy.bin");
  EXPECT_TRUE(same_files(src, scratch.path() / "long-copy.bin"));
  store->remove(upload);
}

}  // namespace sy::storage::testing
