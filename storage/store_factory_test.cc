#include "storage/store_factory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "tests/support/temp_dir.h"

namespace sy::storage {
namespace {

using namespace std::chrono_literals;

StoreSettings local_settings(const std::filesystem::path& root) {
  StoreSettings s;
  s.local.root = root;
  s.local.public_url = "http://127.0.0.1:8080";
  s.local.credentials.access_key = "surroundyou";
  return s;
}

std::string first_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(StoreFactory, LocalStoresOnOneFolderShareTheSecretKeptBesideIt) {
  sy::testing::TempDir dir;
  const auto signer = open_store(local_settings(dir.path()));
  const auto secret_file = dir.path() / "store.secret";
  ASSERT_TRUE(std::filesystem::exists(secret_file));
  struct stat st {};
  ASSERT_EQ(::stat(secret_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "only the owner reads the signing secret";
  EXPECT_EQ(first_line(secret_file).size(), 64u);

  // Another process on the folder (a restarted server, a worker) checks what the first signed.
  const auto checker = open_store(local_settings(dir.path()));
  const auto* local = dynamic_cast<LocalObjectStore*>(checker.get());
  ASSERT_NE(local, nullptr);
  const auto url = signer->presign_get("processed/j/a (8D).mp3", "a (8D).mp3", 60s).url;
  StoreRequest req;
  StoreError err;
  EXPECT_TRUE(local->authorize(
      "GET", url.substr(url.find("/store/")),
      [](std::string_view name) -> std::optional<std::string> {
        if (name == "host") return "127.0.0.1:8080";
        return std::nullopt;
      },
      Clock::now(), &req, &err))
      << err.message;
  EXPECT_EQ(req.key, "processed/j/a (8D).mp3");
}

TEST(StoreFactory, ProcessesStartingTogetherAgreeOnOneSecret) {
  // Many rounds: the race this guards (one starter replacing a secret another already
  // returned) needs an unlucky interleaving, first seen under ASan's timing.
  for (int round = 0; round < 50; ++round) {
    sy::testing::TempDir dir;
    std::vector<std::string> secrets(8);
    std::vector<std::thread> threads;
    for (auto& s : secrets) threads.emplace_back([&] { s = load_or_create_secret(dir.path()); });
    for (auto& t : threads) t.join();
    for (const auto& s : secrets) ASSERT_EQ(s, secrets.front()) << "round " << round;
    ASSERT_EQ(first_line(dir.path() / "store.secret"), secrets.front());
    ASSERT_EQ(dir.entries(), std::vector<std::string>{"store.secret"}) << "no temporary file left";
  }
}

TEST(StoreFactory, AnUnusableSecretFileIsReplacedAndAGivenSecretWins) {
  sy::testing::TempDir dir;
  std::ofstream(dir.path() / "store.secret") << "short\n";
  const std::string made = load_or_create_secret(dir.path());
  EXPECT_EQ(made.size(), 64u);
  EXPECT_EQ(first_line(dir.path() / "store.secret"), made);

  auto s = local_settings(dir.path() / "given");
  s.local.credentials.secret_key = "a-secret-from-the-configuration";
  open_store(s);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "given" / "store.secret"));
}

TEST(StoreFactory, OpensS3FromItsSettings) {
  StoreSettings s;
  s.backend = "s3";
  s.s3.endpoint = "http://127.0.0.1:7480";
  s.s3.bucket = "songs";
  s.s3.path_style = true;
  s.s3.access_key = "key";
  s.s3.secret_key = "secret";
  const auto store = open_store(s);
  EXPECT_NE(dynamic_cast<S3ObjectStore*>(store.get()), nullptr);
  EXPECT_EQ(store->presign_put("uploads/j/a.mp3", 10, "audio/mpeg", 60s).url.rfind(
                "http://127.0.0.1:7480/songs/uploads/j/a.mp3?", 0),
            0u);
}

TEST(StoreFactory, RefusesUnknownBackendsAndIncompleteSettings) {
  StoreSettings unknown;
  unknown.backend = "ftp";
  EXPECT_THROW(open_store(unknown), std::invalid_argument);
  EXPECT_THROW(open_store(StoreSettings{}), std::invalid_argument) << "local needs a folder";
  StoreSettings no_bucket;
  no_bucket.backend = "s3";
  no_bucket.s3.access_key = "key";
  no_bucket.s3.secret_key = "secret";
  EXPECT_THROW(open_store(no_bucket), std::invalid_argument);
}

}  // namespace
}  // namespace sy::storage
