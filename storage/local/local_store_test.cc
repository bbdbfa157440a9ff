#include "storage/local/local_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <sys/stat.h>

#include "base/errors.h"
#include "storage/keys.h"
#include "tests/support/small_filesystem.h"
#include "tests/support/temp_dir.h"

namespace sy::storage {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LocalStoreOptions o;
    o.root = root;
    o.public_url = "http://127.0.0.1:8080";
    o.credentials = {"local", "a-long-random-secret", "us-east-1", "s3"};
    o.max_object_bytes = 1 << 20;
    store = std::make_unique<LocalObjectStore>(o);
    store->set_object_created_handler([this](const ObjectCreated& e) { events.push_back(e); });
  }
  // The target the client sends, from a presigned URL.
  static std::string target_of(const std::string& url) {
    return url.substr(url.find('/', std::string("http://").size()));
  }
  bool authorize(const std::string& method, const std::string& target,
                 std::map<std::string, std::string> headers, StoreRequest* req, StoreError* err,
                 Clock::time_point now = Clock::now()) {
    headers.emplace("host", "127.0.0.1:8080");
    return store->authorize(
        method, target,
        [&](std::string_view n) -> std::optional<std::string> {
          auto it = headers.find(std::string(n));
          if (it == headers.end()) return std::nullopt;
          return it->second;
        },
        now, req, err);
  }
  static std::string noise(std::size_t n) {
    std::mt19937 rng(7);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  }

  sy::testing::TempDir dir;
  const fs::path root = dir.path();
  std::unique_ptr<LocalObjectStore> store;
  std::vector<ObjectCreated> events;
};

TEST_F(LocalStoreTest, PresignedPutStreamsToDiskAndRaisesEvent) {
  const std::string key = upload_key("job1", "My Song (live).mp3");
  const std::string data = noise(300000);
  const auto put = store->presign_put(key, static_cast<std::int64_t>(data.size()), "audio/mpeg", 900s);
  EXPECT_EQ(put.method, "PUT");
  for (const char* p : {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Credential=", "X-Amz-Date=",
                        "X-Amz-Expires=900", "X-Amz-SignedHeaders=content-length%3Bhost",
                        "X-Amz-Signature="})
    EXPECT_NE(put.url.find(p), std::string::npos) << p;

  StoreRequest req;
  StoreError err;
  ASSERT_TRUE(authorize("PUT", target_of(put.url),
                        {{"content-length", std::to_string(data.size())}}, &req, &err))
      << err.message;
  EXPECT_EQ(req.key, key);
  auto w = store->begin_put(req.key, req.content_length);
  for (std::size_t off = 0; off < data.size(); off += 4096)
    ASSERT_TRUE(w->write(data.data() + off, std::min<std::size_t>(4096, data.size() - off)));
  EXPECT_FALSE(store->stat(key));  // not visible before commit
  w->commit();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, key);
  EXPECT_EQ(events[0].size, static_cast<std::int64_t>(data.size()));
  std::ifstream in(store->path_for(key), std::ios::binary);
  std::ostringstream back;
  back << in.rdbuf();
  EXPECT_EQ(back.str(), data);
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
}

TEST_F(LocalStoreTest, WrongSizeStoresNothing) {
  const std::string key = upload_key("job1", "a.mp3");
  {
    auto w = store->begin_put(key, 10);
    EXPECT_TRUE(w->write("12345", 5));
    EXPECT_THROW(w->commit(), std::runtime_error);
  }
  {
    auto w = store->begin_put(key, 4);
    EXPECT_FALSE(w->write("12345", 5));
  }
  EXPECT_FALSE(store->stat(key));
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
}

TEST_F(LocalStoreTest, PutRefusesOtherSizesTamperingAndExpiry) {
  const std::string key = upload_key("job1", "a.mp3");
  const auto put = store->presign_put(key, 1000, "", 60s);
  const std::string t = target_of(put.url);
  StoreRequest req;
  StoreError err;
  EXPECT_FALSE(authorize("PUT", t, {{"content-length", "1001"}}, &req, &err));
  EXPECT_EQ(err.status, 403);
  EXPECT_NE(err.message.find("size mismatch"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("1001 bytes"), std::string::npos) << err.message;
  EXPECT_FALSE(authorize("PUT", t, {{"content-length", "2000000"}}, &req, &err));
  EXPECT_EQ(err.status, 413);
  EXPECT_FALSE(authorize("PUT", t, {}, &req, &err));
  EXPECT_EQ(err.status, 411);
  std::string tampered = t;
  tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(authorize("PUT", tampered, {{"content-length", "1000"}}, &req, &err));
  EXPECT_EQ(err.status, 403);
  EXPECT_EQ(err.code, "SignatureDoesNotMatch");
  EXPECT_FALSE(authorize("PUT", t, {{"content-length", "1000"}}, &req, &err, Clock::now() + 61s));
  EXPECT_EQ(err.status, 403);
  EXPECT_EQ(err.code, "ExpiredRequest");
  // The same signature on another job's key.
  std::string other = t;
  other.replace(other.find("job1"), 4, "job2");
  EXPECT_FALSE(authorize("PUT", other, {{"content-length", "1000"}}, &req, &err));
  EXPECT_EQ(err.status, 403);
  EXPECT_TRUE(authorize("PUT", t, {{"content-length", "1000"}}, &req, &err));
}

TEST_F(LocalStoreTest, GetCarriesDispositionAndRejectsTraversal) {
  const std::string key = processed_key("job1", "My Song.mp3", "mp3");
  const auto get = store->presign_get(key, "My Song (8D).mp3", 3600s);
  StoreRequest req;
  StoreError err;
  ASSERT_TRUE(authorize("GET", target_of(get.url), {}, &req, &err)) << err.message;
  EXPECT_EQ(req.key, key);
  EXPECT_EQ(req.content_type, "audio/mpeg");
  EXPECT_NE(req.content_disposition.find("filename=\"My Song (8D).mp3\""), std::string::npos);
  EXPECT_FALSE(authorize("GET", "/store/../../etc/passwd", {}, &req, &err));
  EXPECT_EQ(err.status, 400);
  EXPECT_FALSE(authorize("GET", "/store/uploads/%2e%2e/%2e%2e/x", {}, &req, &err));
  EXPECT_EQ(err.status, 400);
  EXPECT_THROW(store->path_for("../x"), std::invalid_argument);
}

TEST_F(LocalStoreTest, ListRemoveAndCopy) {
  const fs::path src = root / "src.bin";
  { std::ofstream(src, std::ios::binary) << noise(5000); }
  store->upload_from_file("processed/j1/a (8D).mp3", src);
  store->upload_from_file("uploads/j1/a.mp3", src);
  store->upload_from_file("uploads/j2/b.mp3", src);
  EXPECT_EQ(store->list("uploads/").size(), 2u);
  EXPECT_EQ(store->stat("uploads/j1/a.mp3")->size, 5000);
  store->download_to_file("uploads/j2/b.mp3", root / "copy.bin");
  EXPECT_EQ(fs::file_size(root / "copy.bin"), 5000u);
  store->remove_prefix("uploads/j1/");
  EXPECT_FALSE(store->stat("uploads/j1/a.mp3"));
  EXPECT_FALSE(fs::exists(root / "objects/uploads/j1"));
  EXPECT_TRUE(store->stat("uploads/j2/b.mp3"));
  EXPECT_EQ(events.size(), 3u);
}

TEST_F(LocalStoreTest, StaleTempFilesAreRemoved) {
  auto w = store->begin_put("uploads/j/a.mp3", 100);
  w->write("abc", 3);
  EXPECT_EQ(store->remove_stale_temp_files(1h), 0u);
  EXPECT_EQ(store->remove_stale_temp_files(-1s), 1u);
}

// Workers sharing the data folder (docs/SCALING.md) store their results side by side: each
// puts its attempt under attempts/<job>/ and moves it into processed/<job>/, and the move
// removes the folders it emptied, attempts/ itself included. A put that made or found
// attempts/ just before another worker's move removed it used to fail with ENOENT, and the
// job's attempt failed with it (a CI run saw a job done on its second attempt).
TEST_F(LocalStoreTest, PutsAndMovesOfWorkersSharingTheFolderDoNotTripOverEachOther) {
  const fs::path src = root / "src.bin";
  { std::ofstream(src, std::ios::binary) << noise(64); }
  constexpr int kJobs = 1000;
  auto worker = [&](const std::string& name, std::string* failure) {
    LocalStoreOptions o;
    o.root = root;
    o.public_url = "http://127.0.0.1:8080";
    o.credentials = {"local", "a-long-random-secret", "us-east-1", "s3"};
    LocalObjectStore own(o);  // another process's store on the same folder
    for (int i = 0; i < kJobs && failure->empty(); ++i) {
      const std::string job = name + std::to_string(i);
      try {
        own.upload_from_file("attempts/" + job + "/1-ab/a (8D).mp3", src);
        own.move("attempts/" + job + "/1-ab/a (8D).mp3", "processed/" + job + "/a (8D).mp3", 1s);
      } catch (const std::exception& e) {
        *failure = "job " + job + ": " + e.what();
      }
    }
  };
  std::string first_failure, second_failure;
  std::thread first(worker, "a", &first_failure);
  std::thread second(worker, "b", &second_failure);
  first.join();
  second.join();
  EXPECT_EQ(first_failure, "");
  EXPECT_EQ(second_failure, "");
  EXPECT_EQ(store->list("processed/").size(), 2u * kJobs);
  EXPECT_TRUE(store->list("attempts/").empty());
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0xFFFF;
}

TEST_F(LocalStoreTest, OnlyTheServiceUserReadsTheData) {
  const fs::path src = root / "src.bin";
  { std::ofstream(src, std::ios::binary) << noise(100); }
  ::chmod(root.c_str(), 0755);  // a folder made earlier, or by hand, is closed on start
  LocalStoreOptions o = store->options();
  LocalObjectStore reopened(o);
  reopened.upload_from_file("uploads/j1/a.mp3", src);
  EXPECT_EQ(mode_of(root), 0700u);
  EXPECT_EQ(mode_of(root / "objects"), 0700u);
  EXPECT_EQ(mode_of(root / "tmp"), 0700u);
  EXPECT_EQ(mode_of(root / "objects/uploads/j1"), 0700u);
  EXPECT_EQ(mode_of(root / "objects/uploads/j1/a.mp3"), 0600u);
  load_or_create_secret(root);
  EXPECT_EQ(mode_of(root / "store.secret"), 0600u);
}

TEST(LocalStoreDiskFull, AnUploadThatFillsTheDiskFailsAsStorageFullAndLeavesNothing) {
  sy::testing::SmallFilesystem disk(256 * 1024);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  LocalStoreOptions o;
  o.root = disk.path() / "data";
  o.public_url = "http://127.0.0.1:8080";
  o.credentials = {"local", "a-long-random-secret", "us-east-1", "s3"};
  o.max_object_bytes = 4 << 20;
  LocalObjectStore store(o);
  int created = 0;
  store.set_object_created_handler([&](const ObjectCreated&) { ++created; });
  const std::string block(64 * 1024, 'x');
  {
    auto writer = store.begin_put("uploads/j1/big.mp3", 1 << 20);
    EXPECT_THROW(
        {
          for (int i = 0; i < 16; ++i) writer->write(block.data(), block.size());
          writer->commit();
        },
        base::StorageFull);
  }
  EXPECT_TRUE(fs::is_empty(o.root / "tmp"));
  EXPECT_FALSE(store.stat("uploads/j1/big.mp3"));
  EXPECT_EQ(created, 0);
  // Once there is room again (the half-written file is gone), a small object goes in.
  const fs::path small = disk.path() / "small.bin";
  { std::ofstream(small, std::ios::binary) << "tiny"; }
  store.upload_from_file("uploads/j2/small.mp3", small);
  EXPECT_TRUE(store.stat("uploads/j2/small.mp3"));
}

TEST(LocalStoreDiskFull, ACopyToAFullScratchDiskIsStorageFull) {
  sy::testing::TempDir data;
  sy::testing::SmallFilesystem scratch(64 * 1024);
  if (!scratch.available()) GTEST_SKIP() << scratch.why_not();
  LocalStoreOptions o;
  o.root = data.path();
  o.public_url = "http://127.0.0.1:8080";
  o.credentials = {"local", "a-long-random-secret", "us-east-1", "s3"};
  LocalObjectStore store(o);
  const fs::path src = data.path() / "src.bin";
  { std::ofstream(src, std::ios::binary) << std::string(200 * 1024, 'y'); }
  store.upload_from_file("uploads/j1/a.mp3", src);
  EXPECT_THROW(store.download_to_file("uploads/j1/a.mp3", scratch.path() / "in.mp3"),
               base::StorageFull);
  EXPECT_TRUE(fs::is_empty(scratch.path()));
}

}  // namespace
}  // namespace sy::storage
