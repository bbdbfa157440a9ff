// The service under hostile clients (issue 11): refusals delivered to clients that write
// their whole body before reading, connection limits at a small open-file limit, event
// stream caps, and a job vanishing while it is asked about. A real `serve` process, real
// sockets: a client here writes exactly what a script or an attacker would.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/api_client.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/small_filesystem.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
using sy::testing::target_of;

// A TCP connection from `source` (any 127.x.y.z: each is a different client to the server)
// to the server; -1 when it cannot connect.
int connect_from(const std::string& source, unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// What the peer sends until it closes (or `until` appears, or 20 s pass).
std::string read_reply(int fd, const std::string& until = {}) {
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  return out;
}

// As Python's urllib and browsers without Expect: 100-continue do: the whole request is
// written before a byte of the answer is read. "" when a write failed (broken pipe, reset).
std::string write_all_then_read(unsigned short port, const std::string& request) {
  const int fd = connect_from("127.0.0.1", port);
  if (fd < 0) return "";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return "";
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string reply = read_reply(fd);
  ::close(fd);
  return reply;
}

int status_of(const std::string& reply) {
  if (reply.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(reply.substr(9, 3));
}

class HostileClientsTest : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> env = {}, int workers = 0,
             const fs::path& data_dir = {}) {
    env.emplace("SY_CREATE_PER_MINUTE", "0");
    sy::testing::ServeOptions o;
    o.binary = SY_SERVE_BINARY;
    o.data_dir = data_dir.empty() ? tmp.path() / "data" : data_dir;
    o.log = tmp.path() / "server.log";
    o.workers = workers;
    o.env = std::move(env);
    server = std::make_unique<sy::testing::ServerProcess>(std::move(o));
  }
  void TearDown() override {
    if (HasFailure() && server) std::cerr << "---- server log ----\n" << server->log_tail() << "\n";
  }
  sy::testing::ApiClient api() const { return sy::testing::ApiClient(server->url("")); }
  unsigned short port() const { return server->port(); }
  std::string head(const std::string& method, const std::string& target,
                   const std::vector<std::string>& fields = {}) const {
    std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                      std::to_string(port()) + "\r\n";
    for (const auto& f : fields) out += f + "\r\n";
    return out + "\r\n";
  }

  sy::testing::TempDir tmp;
  std::unique_ptr<sy::testing::ServerProcess> server;
};

TEST_F(HostileClientsTest, ARefusedUploadWrittenWholeBeforeReadingGetsItsAnswer) {
  start();
  constexpr std::int64_t kSize = 5 * 1024 * 1024;
  const std::string body(kSize, 'x');
  for (int round = 0; round < 10; ++round) {
    const auto job = api().create("song.mp3", kSize);
    std::string forged = target_of(job.upload_url);
    forged.back() = forged.back() == '0' ? '1' : '0';  // a signature that does not match
    std::vector<std::string> fields{"Content-Length: " + std::to_string(kSize)};
    for (const auto& [k, v] : job.upload_headers) fields.push_back(k + ": " + v);
    const std::string reply = write_all_then_read(port(), head("PUT", forged, fields) + body);
    ASSERT_EQ(status_of(reply), 403) << "round " << round << ": " << reply.substr(0, 200);
    EXPECT_NE(reply.find("SignatureDoesNotMatch"), std::string::npos) << reply;
  }
  // A declared JSON body over its limit and a malformed header are answered the same way.
  const std::string big(2 * 1024 * 1024, ' ');
  EXPECT_EQ(status_of(write_all_then_read(
                port(), head("POST", "/api/v1/jobs",
                             {"Content-Length: " + std::to_string(big.size())}) + big)),
            413);
  EXPECT_EQ(status_of(write_all_then_read(
                port(), "PUT /store/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                        "\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n")),
            411);
  EXPECT_EQ(status_of(write_all_then_read(port(), "GARBAGE\r\n\r\n" + std::string(300000, 'y'))),
            400);
}

TEST_F(HostileClientsTest, ATrickledHeaderIsCutOffAtItsDeadline) {
  start({{"SY_HEADER_TIMEOUT_SECONDS", "1"}});
  const int fd = connect_from("127.0.0.1", port());
  ASSERT_GE(fd, 0);
  const auto started = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 60 && !closed; ++i) {  // a byte every 100 ms, never a whole header
    closed = ::send(fd, "G", 1, MSG_NOSIGNAL) != 1;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char c;
      closed = ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
    }
  }
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
}

// The idle connections come from 127.0.0.2 upwards, at most 60 from each address, so the
// per-client cap does not turn them away; the job's client is 127.0.0.1.
TEST_F(HostileClientsTest, IdleConnectionsAtTheFileLimitLockNobodyOut) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_max < 2000) GTEST_SKIP() << "the test itself needs 2,000 descriptors";
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  start({{"SY_TEST_OPEN_FILES", "1024"}}, 1);
  std::vector<int> idle;
  for (int i = 0; i < 1500; ++i) {
    const int fd = connect_from("127.0.0." + std::to_string(2 + i / 60), port());
    if (fd >= 0) idle.push_back(fd);
  }
  EXPECT_EQ(idle.size(), 1500u);  // the backlog takes them all; the server sheds the excess

  const std::string song = tmp.file("song.wav");
  ASSERT_EQ(sy::testing::shell("ffmpeg -loglevel error -y -f lavfi -i 'sine=frequency=440:duration=3' -ac 2 " +
                               sy::testing::quote(song)), 0);
  const std::string bytes = sy::testing::read_file(song);
  const auto job = api().create("song.wav", static_cast<std::int64_t>(bytes.size()));
  ASSERT_EQ(api().upload(job, bytes).status, 200);
  EXPECT_EQ(api().wait_final(job, 120s)["status"], "done");
  for (const int fd : idle) ::close(fd);
}

TEST_F(HostileClientsTest, OverThePerClientCapA503WithRetryAfter) {
  start({{"SY_MAX_CONNECTIONS_PER_CLIENT", "8"}});
  std::vector<int> held;
  for (int i = 0; i < 8; ++i) held.push_back(connect_from("127.0.0.9", port()));
  std::this_thread::sleep_for(200ms);  // the server has admitted them
  const int extra = connect_from("127.0.0.9", port());
  ASSERT_GE(extra, 0);
  const std::string request = head("GET", "/healthz");
  ::send(extra, request.data(), request.size(), MSG_NOSIGNAL);
  const std::string reply = read_reply(extra);
  ::close(extra);
  EXPECT_EQ(status_of(reply), 503) << reply;
  EXPECT_NE(reply.find("Retry-After: 1"), std::string::npos) << reply;
  // Another client is served.
  EXPECT_EQ(sy::testing::http_request("GET", server->url("/healthz")).status, 200);
  for (const int fd : held) ::close(fd);
}

TEST_F(HostileClientsTest, AJobHoldsAtMostFourEventStreams) {
  start();
  const auto job = api().create("a.mp3", 1000);
  const auto other = api().create("b.mp3", 1000);
  const auto open_stream = [&](const sy::testing::CreatedJob& j, const std::string& source,
                               int* fd_out) {
    const int fd = connect_from(source, port());
    const std::string request = head("GET", "/api/v1/jobs/" + j.id + "/events?token=" + j.token);
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    *fd_out = fd;
    return status_of(read_reply(fd, "\r\n\r\n"));
  };
  std::vector<int> fds(100, -1);
  int opened = 0;
  // From many addresses, so only the per-job cap can refuse them.
  for (int i = 0; i < 100; ++i)
    opened += open_stream(job, "127.0.1." + std::to_string(1 + i), &fds[i]) == 200;
  EXPECT_EQ(opened, 4);
  int other_fd = -1;
  EXPECT_EQ(open_stream(other, "127.0.2.1", &other_fd), 200);
  for (const int fd : fds) ::close(fd);
  ::close(other_fd);
  // Closed streams give their slots back.
  int again = -1;
  for (int i = 0; i < 50 && open_stream(job, "127.0.3.1", &again) != 200; ++i) {
    ::close(again);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(again, 0);
  ::close(again);
}

// The open-stream gauge as /metrics reports it; -1 when it cannot be read.
int open_streams_gauge(const sy::testing::ServerProcess& server) {
  const auto res = sy::testing::http_request("GET", server.url("/metrics"));
  const std::string name = "\nsy_event_streams_open ";
  const auto at = res.body.find(name);
  if (res.status != 200 || at == std::string::npos) return -1;
  return std::stoi(res.body.substr(at + name.size()));
}

// Another process holding every lock byte of the SQLite queue's shared-memory WAL index
// (bytes 120-127 of the -shm file, sqlite.org/walformat.html), as a process stuck inside
// SQLite would: the server's reads then fail for real (SQLITE_PROTOCOL after SQLite's ~10 s
// of retries). A POSIX record lock, so it is dropped when this object closes the file.
class WalIndexLock {
 public:
  explicit WalIndexLock(const fs::path& shm) : fd_(::open(shm.c_str(), O_RDWR | O_CLOEXEC)) {
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 120;
    lock.l_len = 8;
    held_ = fd_ >= 0 && ::fcntl(fd_, F_SETLKW, &lock) == 0;
  }
  ~WalIndexLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  WalIndexLock(const WalIndexLock&) = delete;
  WalIndexLock& operator=(const WalIndexLock&) = delete;
  bool held() const { return held_; }

 private:
  int fd_;
  bool held_ = false;
};

TEST_F(HostileClientsTest, AStreamWhoseQueueReadFailsEndsAndGivesItsSlotBack) {
  start();
  const auto job = api().create("a.mp3", 1000);
  const int fd = connect_from("127.0.0.1", port());
  ASSERT_GE(fd, 0);
  const std::string request = head("GET", "/api/v1/jobs/" + job.id + "/events?token=" + job.token);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  const std::string opened = read_reply(fd, "event: status");
  ASSERT_EQ(status_of(opened), 200) << opened;
  EXPECT_EQ(open_streams_gauge(*server), 1);
  std::string rest;
  {
    WalIndexLock lock(tmp.path() / "data" / "queue.db-shm");
    ASSERT_TRUE(lock.held());
    timeval tv{40, 0};  // SQLite gives up after ~10 s of retries
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    rest = read_reply(fd);  // until the server closes the stream
  }
  ::close(fd);
  EXPECT_NE(rest.find("event: unavailable"), std::string::npos) << rest;
  EXPECT_EQ(rest.find("sqlite"), std::string::npos) << rest;
  EXPECT_EQ(open_streams_gauge(*server), 0);
  // The slot is free again: a new stream of the job opens once the queue can be read.
  const int again = connect_from("127.0.0.1", port());
  ::send(again, request.data(), request.size(), MSG_NOSIGNAL);
  EXPECT_EQ(status_of(read_reply(again, "event: status")), 200);
  ::close(again);
}

std::int64_t free_bytes(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

TEST_F(HostileClientsTest, LowDiskMakesItUnreadyAndRefusesUploadsThatWouldNotFitUnwritten) {
  constexpr std::int64_t kMiB = 1024 * 1024;
  sy::testing::SmallFilesystem disk(48 * kMiB);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  start({{"SY_MIN_FREE_MB", "16"}}, 0, disk.path() / "data");
  // 40 MiB would leave less than the 16 MiB floor: 507 as soon as the header is read.
  const auto big = api().create("big.wav", 40 * kMiB);
  const std::int64_t free_before = free_bytes(disk.path());
  std::vector<std::string> fields{"Content-Length: " + std::to_string(40 * kMiB)};
  for (const auto& [k, v] : big.upload_headers) fields.push_back(k + ": " + v);
  const int fd = connect_from("127.0.0.1", port());
  const std::string request = head("PUT", target_of(big.upload_url), fields);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  ::send(fd, std::string(kMiB, 'x').data(), kMiB, MSG_NOSIGNAL);  // a first piece of the body
  const std::string reply = read_reply(fd, "}");
  ::close(fd);
  EXPECT_EQ(status_of(reply), 507) << reply;
  EXPECT_NE(reply.find("insufficient_storage"), std::string::npos) << reply;
  EXPECT_GT(free_bytes(disk.path()), free_before - kMiB / 2) << "part of the upload was written";
  EXPECT_EQ(sy::testing::http_request("GET", server->url("/readyz")).status, 200);
  // One that fits is stored.
  const auto small = api().create("small.wav", kMiB);
  EXPECT_EQ(api().upload(small, std::string(kMiB, 'y')).status, 200);

  // Something else fills the disk to under the floor: not ready, saying why and nothing more.
  const fs::path filler = disk.path() / "filler";
  {
    std::ofstream out(filler, std::ios::binary);
    const std::string block(kMiB, 'f');
    while (free_bytes(disk.path()) > 8 * kMiB && out.write(block.data(), kMiB)) out.flush();
  }
  const auto unready = sy::testing::http_request("GET", server->url("/readyz"));
  EXPECT_EQ(unready.status, 503);
  EXPECT_NE(unready.body.find("low disk space"), std::string::npos) << unready.body;
  EXPECT_EQ(unready.body.find(disk.path().string()), std::string::npos) << unready.body;
  EXPECT_EQ(sy::testing::http_request("GET", server->url("/healthz")).status, 200);
  // Room again: ready again, without a restart.
  fs::remove(filler);
  EXPECT_EQ(sy::testing::http_request("GET", server->url("/readyz")).status, 200);
}

TEST_F(HostileClientsTest, AJobDeletedWhileItsUploadIsConfirmedIsA404NeverACrash) {
  start();
  for (int round = 0; round < 200; ++round) {
    const auto job = api().create("a.mp3", 10);
    ASSERT_EQ(api().upload(job, std::string(10, 'z')).status, 200);
    const sy::testing::HttpHeaders auth{{"Authorization", "Bearer " + job.token}};
    int confirmed = 0;
    std::thread confirm([&] {
      confirmed = api().call("POST", "/api/v1/jobs/" + job.id + "/uploaded", {}, auth).status;
    });
    const int deleted = api().call("DELETE", "/api/v1/jobs/" + job.id, {}, auth).status;
    confirm.join();
    EXPECT_EQ(deleted, 204);
    EXPECT_TRUE(confirmed == 202 || confirmed == 404) << "round " << round << ": " << confirmed;
  }
  EXPECT_EQ(sy::testing::http_request("GET", server->url("/healthz")).status, 200);
}

// A JSON body is at most 256 KiB, but that is room for 100,000 nested arrays: copied or
// printed by recursion, one such value used to overflow the stack and end the whole server.
// The server starts with 1 MiB thread stacks (a host's `ulimit -s 1024`), so the outcome does
// not hang on how much stack one build's copy of a JSON level takes.
TEST_F(HostileClientsTest, DeeplyNestedJsonIsA400AndTheServerLives) {
  rlimit stack{};
  ::getrlimit(RLIMIT_STACK, &stack);
  const rlimit small{1 << 20, stack.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_STACK, &small), 0);
  start({{"SY_S3_EVENTS_SECRET", "an-events-secret-of-enough-length-0123"}});
  ::setrlimit(RLIMIT_STACK, &stack);
  const std::string deep = std::string(130000, '[') + std::string(130000, ']');
  const std::string create = R"({"filename":"a.mp3","size":100,"settings":{"preset":)" + deep + "}}";
  const sy::testing::HttpHeaders as_json{{"Content-Type", "application/json"}};
  const auto refused = api().call("POST", "/api/v1/jobs", create, as_json);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("invalid_json"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("nested"), std::string::npos) << refused.body;

  const auto job = api().create("a.mp3", 10);
  ASSERT_EQ(api().upload(job, std::string(10, 'z')).status, 200);
  const auto rerender =
      api().call("POST", "/api/v1/jobs/" + job.id + "/rerender", R"({"settings":)" + deep + "}",
                 {{"Authorization", "Bearer " + job.token}, {"Content-Type", "application/json"}});
  EXPECT_EQ(rerender.status, 400) << rerender.body;
  const auto events =
      api().call("POST", "/api/v1/events/s3", R"({"Records":[{"s3":)" + deep + "}]}",
                 {{"Authorization", "Bearer an-events-secret-of-enough-length-0123"},
                  {"Content-Type", "application/json"}});
  EXPECT_EQ(events.status, 400) << events.body;
  EXPECT_EQ(sy::testing::http_request("GET", server->url("/healthz")).status, 200);
}

}  // namespace
