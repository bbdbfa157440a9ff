#include "worker/scratch_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace sy::worker {
namespace {

namespace fs = std::filesystem;

// A process that makes its scratch folder, says where, and waits to be killed.
struct OtherProcess {
  pid_t pid = -1;
  fs::path scratch;

  explicit OtherProcess(const fs::path& parent) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      ScratchDir dir(parent, std::string(kScratchPrefix) + "other-");
      std::ofstream(dir.path() / "half-written.mp3") << "render in flight";
      const std::string path = dir.path().string() + "\n";
      (void)!::write(fds[1], path.data(), path.size());
      for (;;) ::pause();
    }
    ::close(fds[1]);
    std::string path;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') path.push_back(c);
    ::close(fds[0]);
    scratch = path;
  }
  void kill() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  ~OtherProcess() {
    if (pid > 0) kill();
  }
};

TEST(ScratchDir, EachProcessGetsAPrivateUnguessableFolder) {
  sy::testing::TempDir parent;
  ScratchDir a(parent.path(), "sy-a-");
  ScratchDir b(parent.path(), "sy-a-");
  EXPECT_NE(a.path(), b.path());
  EXPECT_EQ(a.path().parent_path(), parent.path());
  struct stat st {};
  ASSERT_EQ(::stat(a.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(fs::exists(a.path() / ScratchDir::kLockName));
}

TEST(ScratchDir, OnlyFoldersOfProcessesThatAreGoneAreRemoved) {
  sy::testing::TempDir parent;
  OtherProcess alive(parent.path());
  OtherProcess dead(parent.path());
  ASSERT_TRUE(fs::exists(alive.scratch / "half-written.mp3"));
  ScratchDir mine(parent.path(), std::string(kScratchPrefix) + "me-");
  std::ofstream(parent.path() / "not-ours.txt") << "left alone";
  fs::create_directory(parent.path() / "unrelated");

  dead.kill();
  EXPECT_EQ(remove_abandoned_scratch(parent.path(), kScratchPrefix), 1u);
  EXPECT_FALSE(fs::exists(dead.scratch));
  EXPECT_TRUE(fs::exists(alive.scratch / "half-written.mp3")) << "a live process's render";
  EXPECT_TRUE(fs::exists(mine.path()));
  EXPECT_TRUE(fs::exists(parent.path() / "not-ours.txt"));
  EXPECT_TRUE(fs::exists(parent.path() / "unrelated"));

  alive.kill();
  EXPECT_EQ(remove_abandoned_scratch(parent.path(), kScratchPrefix), 1u);
  EXPECT_FALSE(fs::exists(alive.scratch));
}

TEST(ScratchDir, AFolderWithoutItsLockIsLeftWhileYoung) {
  sy::testing::TempDir parent;
  fs::create_directory(parent.path() / "sy-starting-abc123");  // between mkdtemp and the lock
  EXPECT_EQ(remove_abandoned_scratch(parent.path(), kScratchPrefix), 0u);
  fs::last_write_time(parent.path() / "sy-starting-abc123",
                      fs::file_time_type::clock::now() - std::chrono::minutes(5));
  EXPECT_EQ(remove_abandoned_scratch(parent.path(), kScratchPrefix), 1u);
}

TEST(ScratchDir, GoesAwayWithItsOwner) {
  sy::testing::TempDir parent;
  fs::path path;
  {
    ScratchDir dir(parent.path(), "sy-x-");
    path = dir.path();
    std::ofstream(path / "output.mp3") << "x";
  }
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace sy::worker
