// The single-node platform end to end: a real `serve` process on a loopback port, real HTTP,
// real renders. Each test starts its own server on its own data directory.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>

#include "base/sanitizers.h"
#include "engine/testing/click_track.h"
#include "storage/keys.h"
#include "tests/support/api_client.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/stereo_levels.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using sy::testing::decode_stereo;
using sy::testing::http_request;
using sy::testing::HttpResponse;
using sy::testing::level_difference_spread;
using sy::testing::read_file;
using sy::testing::target_of;

// Reads `event: status` messages until the job is final or the stream ends.
std::vector<json> read_events(const std::string& url, std::chrono::seconds timeout) {
  std::vector<json> events;
  std::string pending;
  const auto res = sy::testing::http_stream(
      url, {{"Accept", "text/event-stream"}}, timeout, [&](std::string_view chunk) {
        pending.append(chunk);
        std::size_t pos;
        while ((pos = pending.find("\n\n")) != std::string::npos) {
          const std::string message = pending.substr(0, pos);
          pending.erase(0, pos + 2);
          if (message.rfind("event: status\ndata: ", 0) == 0) {
            events.push_back(json::parse(message.substr(20)));
            const std::string s = events.back()["status"];
            if (s == "done" || s == "failed" || s == "expired") return false;
          }
        }
        return true;
      });
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  return events;
}

// ---- fixtures --------------------------------------------------------------------------

// `seconds` of a real song as MP3, cut with the ffmpeg tool.
// `centred`: both channels carry the mono mix, so any left/right movement comes from us.
std::string make_song(const sy::testing::TempDir& dir, const std::string& name, double seconds,
                      double start = 20, bool centred = false) {
  const std::string out = dir.file(name);
  const std::string cmd = "ffmpeg -loglevel error -y -ss " + std::to_string(start) + " -t " +
                          std::to_string(seconds) + " -i " SY_MUSIC_DIR "/hr3-caves.ogg -ac 2 " +
                          (centred ? "-af 'pan=stereo|c0<c0+c1|c1<c0+c1' " : "") +
                          "-c:a libmp3lame -b:a 192k " + sy::testing::quote(out);
  EXPECT_EQ(sy::testing::shell(cmd), 0);
  return out;
}

class ServiceTest : public ::testing::Test {
 protected:
  using Job = sy::testing::CreatedJob;

  void SetUp() override { data = tmp.path() / "data"; }
  void TearDown() override {
    if (HasFailure() && server) std::cerr << "---- server log ----\n" << server->log_tail() << "\n";
  }

  // `any_port`: listen on port 0 and learn the bound port from the server's log.
  void start(std::map<std::string, std::string> env = {}, int workers = 2, bool any_port = false) {
    env.emplace("SY_CREATE_PER_MINUTE", "0");
    sy::testing::ServeOptions o;
    o.binary = SY_SERVE_BINARY;
    o.data_dir = data;
    o.log = tmp.path() / "server.log";
    o.workers = workers;
    if (any_port) o.port = 0;
    o.env = std::move(env);
    const std::string child_ready = "\"msg\":\"worker started\"";
    const std::size_t before = log_count(child_ready);  // a restart appends to the same log
    server = std::make_unique<sy::testing::ServerProcess>(std::move(o));
    // The render processes start beside the API; on a busy machine they can take seconds
    // (they run at a lower priority), which would count against the tests' timings.
    const auto end = Steady::now() + 30s;
    while (Steady::now() < end && log_count(child_ready) < before + static_cast<std::size_t>(workers))
      std::this_thread::sleep_for(20ms);
  }
  std::size_t log_count(const std::string& needle) const {
    const std::string log = read_file(tmp.path() / "server.log");
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  }
  void restart(std::map<std::string, std::string> env = {}, int workers = 2) {
    server.reset();
    start(std::move(env), workers);
  }
  unsigned short port() const { return server->port(); }
  pid_t server_pid() const { return server->pid(); }
  sy::testing::ApiClient api() const { return sy::testing::ApiClient(server->url("")); }
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}, const sy::testing::HttpHeaders& headers = {}) {
    return api().call(method, target, body, headers);
  }

  Job create(const std::string& filename, std::int64_t size, json settings = json::object()) {
    return api().create(filename, size, settings);
  }
  HttpResponse put(const Job& job, const std::string& bytes) { return api().upload(job, bytes); }
  Job submit(const std::string& path, json settings = json::object()) {
    const std::string bytes = read_file(path);
    auto job = create(fs::path(path).filename().string(), static_cast<std::int64_t>(bytes.size()), settings);
    const auto r = put(job, bytes);
    EXPECT_EQ(r.status, 200) << r.body;
    return job;
  }
  HttpResponse status(const Job& job) { return api().status(job); }
  json wait_final(const Job& job, std::chrono::seconds timeout = 120s) {
    return api().wait_final(job, timeout);
  }
  json wait_for(const Job& job, const std::function<bool(const json&)>& pred,
                std::chrono::seconds timeout = 60s) {
    return api().wait_for(job, pred, timeout);
  }
  static void expect_error(const HttpResponse& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    const auto j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_TRUE(j["error"]["code"].is_string()) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string()) << r.body;
  }
  std::size_t objects_of(const std::string& id) {
    std::size_t n = 0;
    for (const char* prefix : {"uploads", "processed"}) {
      const fs::path p = data / "objects" / prefix / id;
      if (fs::exists(p))
        for (const auto& e : fs::recursive_directory_iterator(p)) n += e.is_regular_file();
    }
    return n;
  }

  sy::testing::TempDir tmp;
  fs::path data;
  std::unique_ptr<sy::testing::ServerProcess> server;
};

// ---- the tests -------------------------------------------------------------------------

TEST_F(ServiceTest, WholeFlowUploadProgressDownloadAndTheResultIs8D) {
  start();
  // Long enough that the render spans several progress samples.
  const std::string song = make_song(tmp, "My Song.mp3", 45, 5, true);
  const std::string bytes = read_file(song);
  const auto job = create("My Song.mp3", static_cast<std::int64_t>(bytes.size()), {{"format", "mp3"}});
  EXPECT_EQ(status(job).json_body()["status"], "awaiting_upload");
  // Follow the events from before the upload, as the web page does.
  std::vector<json> events;
  std::thread listener([&] {
    events = read_events(server->url("/api/v1/jobs/" + job.id + "/events?token=" + job.token), 180s);
  });
  std::this_thread::sleep_for(300ms);
  const auto up = put(job, bytes);
  ASSERT_EQ(up.status, 200) << up.body;
  listener.join();

  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front()["status"], "awaiting_upload");
  EXPECT_EQ(events.back()["status"], "done") << events.back().dump();
  double last = -1;
  int progress_events = 0;
  for (const auto& e : events) {
    if (e["status"] != "processing") continue;
    const double p = e["progress"];
    EXPECT_GE(p, last);
    last = p;
    if (p > 0 && p < 1) ++progress_events;
  }
  EXPECT_GE(progress_events, 2) << "progress is reported while rendering";

  const auto done = status(job).json_body();
  ASSERT_EQ(done["status"], "done") << done.dump();
  EXPECT_EQ(done["attempts"], 1);
  EXPECT_NEAR(done["result"]["durationSeconds"].get<double>(), 45.0, 0.2);
  const std::string url = done["result"]["url"];
  // processed/<job>/<name> (8D).<ext> (PRODUCT.md), saved under the name.
  EXPECT_NE(url.find("/store/processed/" + job.id + "/My%20Song%20%288D%29.mp3?"), std::string::npos) << url;

  const auto result = call("GET", target_of(url));
  ASSERT_EQ(result.status, 200);
  EXPECT_EQ(result.header("content-type"), "audio/mpeg");
  EXPECT_NE(result.header("content-disposition").find("My Song (8D).mp3"), std::string::npos);
  EXPECT_EQ(static_cast<std::int64_t>(result.body.size()), done["result"]["bytes"].get<std::int64_t>());
  const auto part = call("GET", target_of(url), {}, {{"Range", "bytes=100-1099"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, result.body.substr(100, 1000));

  // The bytes decode to the song's length, and the sound now moves between the ears.
  const std::string out = tmp.file("result.mp3");
  std::ofstream(out, std::ios::binary) << result.body;
  const auto original = decode_stereo(tmp, song, 44100);
  const auto rendered = decode_stereo(tmp, out, 44100);
  EXPECT_NEAR(static_cast<double>(rendered.size()) / 2 / 44100, 45.0, 0.1);
  RecordProperty("level_difference_spread_db", std::to_string(level_difference_spread(rendered, 44100)));
  const double before = level_difference_spread(original, 44100);
  const double after = level_difference_spread(rendered, 44100);
  EXPECT_LT(before, 1.0) << "the fixture is centred";
  EXPECT_GT(after, 6.0) << "left/right balance should swing as the source circles: "
                                 << before << " dB before, " << after << " dB after";
}

TEST_F(ServiceTest, ListenOnPortZeroSignsUrlsForTheBoundPort) {
  start({}, 0, /*any_port=*/true);
  ASSERT_NE(port(), 0);
  const std::string bytes(4000, 'x');
  const auto job = create("a.mp3", 4000);
  // http://127.0.0.1:<port>/store/uploads/...: the port the server is bound to, not 0.
  const std::string authority = "http://127.0.0.1:";
  ASSERT_EQ(job.upload_url.rfind(authority, 0), 0u) << job.upload_url;
  const int url_port = std::stoi(job.upload_url.substr(authority.size()));
  EXPECT_EQ(url_port, port()) << job.upload_url;
  // The URL works as handed out: its port, its path, and the Host header it was signed for.
  const auto up = put(job, bytes);
  EXPECT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(objects_of(job.id), 1u);
  EXPECT_EQ(status(job).json_body()["status"], "queued");  // no workers: it waits
}

TEST_F(ServiceTest, SignaturesSizesAndTokensAreEnforced) {
  start({{"SY_UPLOAD_URL_SECONDS", "2"}});
  const std::string bytes(4000, 'x');
  const auto job = create("a.mp3", 4000);

  std::string tampered = job.upload_url;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  expect_error(call("PUT", target_of(tampered), bytes), 403);
  expect_error(call("PUT", target_of(job.upload_url), bytes + "more bytes"), 403);
  expect_error(call("PUT", target_of(job.upload_url), bytes.substr(10)), 403);
  EXPECT_EQ(objects_of(job.id), 0u);
  EXPECT_EQ(status(job).json_body()["status"], "awaiting_upload");

  // Another job's id with this job's token.
  const auto other = create("b.mp3", 10);
  expect_error(call("GET", "/api/v1/jobs/" + other.id, {}, {{"Authorization", "Bearer " + job.token}}), 404);
  expect_error(call("GET", "/api/v1/jobs/" + other.id), 404);
  expect_error(call("DELETE", "/api/v1/jobs/" + other.id, {}, {{"Authorization", "Bearer " + job.token}}), 404);
  // One job's upload URL used for another job's key.
  std::string swapped = target_of(job.upload_url);
  swapped.replace(swapped.find(job.id), job.id.size(), other.id);
  expect_error(call("PUT", swapped, std::string(10, 'y')), 403);
  EXPECT_EQ(objects_of(other.id), 0u);

  // An expired URL.
  std::this_thread::sleep_for(3s);
  const auto late = put(job, bytes);
  expect_error(late, 403);
  EXPECT_EQ(late.json_body()["error"]["code"], "ExpiredRequest");
  EXPECT_EQ(objects_of(job.id), 0u);

  // Error shapes of the API itself.
  expect_error(call("POST", "/api/v1/jobs", "not json"), 400);
  expect_error(call("POST", "/api/v1/jobs", json{{"filename", "a.mp3"}, {"size", 300LL << 20}}.dump()), 413);
  expect_error(call("POST", "/api/v1/jobs", json{{"filename", "a.txt"}, {"size", 3}}.dump()), 415);
  expect_error(call("POST", "/api/v1/jobs", std::string(300 * 1024, ' ')), 413);
  expect_error(call("GET", "/api/v1/nothing"), 404);
  expect_error(call("PUT", "/api/v1/jobs"), 405);
  expect_error(call("GET", "/store/uploads/" + job.id + "/a.mp3"), 403);
}

TEST_F(ServiceTest, DownloadUrlOpensOnlyItsOwnKey) {
  start();
  const auto a = submit(make_song(tmp, "a.mp3", 3));
  const auto b = submit(make_song(tmp, "b.mp3", 3, 40));
  const auto ja = wait_final(a);
  const auto jb = wait_final(b);
  ASSERT_EQ(ja["status"], "done");
  ASSERT_EQ(jb["status"], "done");
  std::string url = target_of(ja["result"]["url"]);
  EXPECT_EQ(call("GET", url).status, 200);
  url.replace(url.find(a.id), a.id.size(), b.id);
  url.replace(url.find("a%20%288D%29"), 12, "b%20%288D%29");
  expect_error(call("GET", url), 403);
}

TEST_F(ServiceTest, NotAudioFailsAfterOneAttemptWithAReason) {
  start();
  std::string junk;
  for (int i = 0; i < 500; ++i) junk += "this is a text file, not a song\n";
  const std::string path = tmp.file("notes.mp3");
  std::ofstream(path) << junk;
  const auto job = submit(path);
  const auto j = wait_final(job);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["attempts"], 1);
  EXPECT_EQ(j["retryable"], false) << "the same upload would fail the same way";
  ASSERT_TRUE(j["error"].is_string());
  EXPECT_GT(j["error"].get<std::string>().size(), 10u);
  const auto metrics = call("GET", "/metrics");
  EXPECT_NE(metrics.body.find("sy_jobs{state=\"failed\"} 1"), std::string::npos);
}

// With one attempt per job, whether a failed job may be tried again is what the queue was
// told, not its attempt count: a refused file is never retryable; a render process killed
// right after it moved a whole result into place, before it recorded the job done, is (the
// file was not at fault) — and the job it leaves failed keeps no result, neither in its view
// nor in the store.
TEST_F(ServiceTest, WithOneAttemptAFailedJobSaysWhetherTheFileWasAtFaultAndKeepsNoResult) {
  start({{"SY_MAX_ATTEMPTS", "1"}, {"SY_TEST_KILL_AFTER_MOVE", "doomed.mp3"}}, 1);
  std::string junk;
  for (int i = 0; i < 500; ++i) junk += "this is a text file, not a song\n";
  const std::string notes = tmp.file("notes.mp3");
  std::ofstream(notes) << junk;
  const auto refused = submit(notes);
  const auto doomed = submit(make_song(tmp, "doomed.mp3", 3));

  const auto r = wait_final(refused);
  EXPECT_EQ(r["status"], "failed") << r.dump();
  EXPECT_EQ(r["attempts"], 1);
  EXPECT_EQ(r["maxAttempts"], 1);
  EXPECT_EQ(r["retryable"], false) << "the same upload would be refused again";

  const auto d = wait_final(doomed);
  EXPECT_EQ(d["status"], "failed") << d.dump();
  EXPECT_EQ(d["attempts"], 1);
  EXPECT_EQ(d["retryable"], true) << "the render process died; the file was never refused";
  EXPECT_EQ(d["error"], "the render was stopped by the system (most often: out of memory)");
  EXPECT_FALSE(d.contains("result")) << d.dump();
  // The result object the process moved into place went with the failure (the store's own
  // folders; the upload stays for a rerender). The supervisor logs the death after it removed
  // the objects, a moment after the queue said "failed".
  const auto logged = Steady::now() + 10s;
  while (Steady::now() < logged && log_count("render process died holding a job") == 0)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(log_count("render process died holding a job"), 1u) << "the child did not die holding the job";
  // The emptied folders go with the objects, so a missing one reads as none left: the
  // folders counted are the store's own roots, and the upload beside them is where the
  // store's layout says, so a moved layout fails here rather than pass by counting nothing.
  ASSERT_TRUE(fs::is_directory(data / "objects/uploads" / doomed.id))
      << "the store keeps its objects elsewhere";
  for (const std::string_view root : sy::storage::kJobKeyRoots) {
    if (root == "uploads/") continue;  // kept for a rerender: counted below
    std::size_t left = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(data / "objects" / root / doomed.id, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      left += it->is_regular_file(ec);
    EXPECT_TRUE(!ec || ec == std::errc::no_such_file_or_directory) << root << doomed.id << ": " << ec.message();
    EXPECT_EQ(left, 0u) << root << doomed.id << " kept a failed job's object";
  }
  std::size_t uploads = 0;
  for (const auto& e : fs::recursive_directory_iterator(data / "objects/uploads" / doomed.id))
    uploads += e.is_regular_file();
  EXPECT_EQ(uploads, 1u);
}

TEST_F(ServiceTest, KillNineMidJobThenRestartCompletesItOnce) {
  const std::map<std::string, std::string> env{{"SY_LEASE_SECONDS", "2"}};
  start(env, 1);
  const auto job = submit(make_song(tmp, "long.mp3", 60));
  wait_for(job, [](const json& j) { return j["status"] == "processing" && j["progress"].get<double>() > 0.05; });
  EXPECT_EQ(server->stop(SIGKILL), 128 + SIGKILL);
  restart(env, 1);
  const auto j = wait_final(job, 180s);
  EXPECT_EQ(j["status"], "done") << j.dump();
  EXPECT_EQ(j["attempts"], 2) << "the crashed attempt counts, the job is not done twice";
  std::size_t results = 0;
  for (const auto& e : fs::recursive_directory_iterator(data / "objects/processed" / job.id))
    results += e.is_regular_file();
  EXPECT_EQ(results, 1u);
}

TEST_F(ServiceTest, SigtermMidJobExitsCleanlyAndTheJobResumes) {
  start({}, 1);
  const auto job = submit(make_song(tmp, "long.mp3", 60));
  wait_for(job, [](const json& j) { return j["status"] == "processing" && j["progress"].get<double>() > 0.05; });
  const auto t0 = Steady::now();
  EXPECT_EQ(server->stop(SIGTERM), 0);
  EXPECT_LT(Steady::now() - t0, 15s);
  restart({}, 1);
  // Handed back without counting the attempt, so it starts again as attempt 1.
  const auto j = wait_final(job, 180s);
  EXPECT_EQ(j["status"], "done") << j.dump();
  EXPECT_EQ(j["attempts"], 1);
}

TEST_F(ServiceTest, TwentyJobsAtOnceAllComplete) {
  start();
  const std::string song = make_song(tmp, "short.mp3", 2);
  std::vector<Job> jobs(20);
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < jobs.size(); ++i)
    clients.emplace_back([&, i] { jobs[i] = submit(song); });
  for (auto& t : clients) t.join();
  for (const auto& job : jobs) {
    const auto j = wait_final(job, 240s);
    EXPECT_EQ(j["status"], "done") << j.dump();
    EXPECT_EQ(j["attempts"], 1);
  }
}

TEST_F(ServiceTest, DeleteRemovesTheJobAndItsFiles) {
  start();
  const auto job = submit(make_song(tmp, "a.mp3", 3));
  ASSERT_EQ(wait_final(job)["status"], "done");
  EXPECT_GT(objects_of(job.id), 0u);
  const auto r = call("DELETE", "/api/v1/jobs/" + job.id, {}, {{"Authorization", "Bearer " + job.token}});
  EXPECT_EQ(r.status, 204);
  expect_error(status(job), 404);
  EXPECT_EQ(objects_of(job.id), 0u);

  // Deleting a job while it renders stops the render and leaves nothing behind.
  const auto running = submit(make_song(tmp, "long.mp3", 60));
  wait_for(running, [](const json& j) { return j["status"] == "processing"; });
  EXPECT_EQ(call("DELETE", "/api/v1/jobs/" + running.id, {}, {{"Authorization", "Bearer " + running.token}}).status, 204);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(objects_of(running.id), 0u);
}

// The page's flow: a preview, then the whole song with other settings from the same upload.
TEST_F(ServiceTest, PreviewThenRerenderWithoutASecondUpload) {
  start();
  const auto source = submit(make_song(tmp, "Song.mp3", 40, 5, true), {{"preview", {{"seconds", 8}}}});
  const auto preview = wait_final(source);
  ASSERT_EQ(preview["status"], "done") << preview.dump();
  EXPECT_EQ(preview["settings"]["preview"], (json{{"seconds", 8}}));
  EXPECT_NEAR(preview["result"]["durationSeconds"].get<double>(), 8.0, 0.1);
  const std::string preview_url = preview["result"]["url"];
  EXPECT_NE(preview_url.find("Song%20%288D%20preview%29.mp3?"), std::string::npos) << preview_url;
  const std::string preview_file = tmp.file("preview.mp3");
  std::ofstream(preview_file, std::ios::binary) << call("GET", target_of(preview_url)).body;
  EXPECT_NEAR(static_cast<double>(decode_stereo(tmp, preview_file, 44100).size()) / 2 / 44100, 8.0, 0.1);

  const sy::testing::HttpHeaders auth{{"Authorization", "Bearer " + source.token}};
  const std::string target = "/api/v1/jobs/" + source.id + "/rerender";
  expect_error(call("POST", target, R"({"settings":{}})", {{"Authorization", "Bearer nope"}}), 404);
  const auto r = call("POST", target, json{{"settings", {{"period", 6}, {"format", "flac"}}}}.dump(), auth);
  ASSERT_EQ(r.status, 201) << r.body;
  const json created = r.json_body();
  EXPECT_EQ(created["status"], "queued") << "queued at once: there is nothing to upload";
  EXPECT_FALSE(created.contains("upload"));
  const Job whole{created["id"], created["token"], "", {}};
  const auto done = wait_final(whole);
  ASSERT_EQ(done["status"], "done") << done.dump();
  EXPECT_EQ(done["settings"]["period"], 6);
  EXPECT_FALSE(done["settings"].contains("preview"));
  EXPECT_NEAR(done["result"]["durationSeconds"].get<double>(), 40.0, 0.2);
  // Measured on the delivered file: at the loudness target, under the peak ceiling, moving.
  const json report = done["result"]["report"];
  ASSERT_TRUE(report.is_object()) << done.dump();
  EXPECT_NEAR(report["integratedLufs"].get<double>(), -14.0, 0.3) << report.dump();
  EXPECT_LE(report["truePeakDbtp"].get<double>(), -1.0 + 0.05) << report.dump();
  EXPECT_TRUE(report["loudnessRange"].is_number());
  EXPECT_TRUE(report["correlation"].is_number());
  EXPECT_GT(report["rotationDepthDb"].get<double>(), 6.0) << report.dump();
  const auto flac = call("GET", target_of(done["result"]["url"]));
  ASSERT_EQ(flac.status, 200);
  const std::string whole_file = tmp.file("whole.flac");
  std::ofstream(whole_file, std::ios::binary) << flac.body;
  const auto rendered = decode_stereo(tmp, whole_file, 44100);
  EXPECT_NEAR(static_cast<double>(rendered.size()) / 2 / 44100, 40.0, 0.1);
  EXPECT_GT(level_difference_spread(rendered, 44100), 6.0) << "the whole song is 8D";
  EXPECT_FALSE(fs::exists(data / "objects" / "uploads" / whole.id)) << "no second upload";
  EXPECT_EQ(status(source).json_body()["status"], "done") << "the source is kept";

  // Once the source is deleted and no render needs its upload, rerenders have nothing to read.
  ASSERT_EQ(call("DELETE", "/api/v1/jobs/" + source.id, {}, auth).status, 204);
  expect_error(call("POST", target, "{}", auth), 404);
  const auto gone = call("POST", "/api/v1/jobs/" + whole.id + "/rerender", "{}",
                         {{"Authorization", "Bearer " + whole.token}});
  expect_error(gone, 409);
  EXPECT_EQ(gone.json_body()["error"]["code"], "source_gone");
}

// Beat-synced motion: the API's result says the tempo the turns follow, or, when the song has
// no clear beat, a note instead of a tempo.
TEST_F(ServiceTest, TheReportSaysTheTempoTheTurnsFollow) {
  start();
  // The engine's click track (4/4 over a noise bed, a held note changing each bar) at 120 BPM.
  const auto clicks = sy::testing::click_track(24, 44100, [](double) { return 120.0; });
  const std::string raw = tmp.file("clicks.f32");
  std::ofstream(raw, std::ios::binary)
      .write(reinterpret_cast<const char*>(clicks.audio.data()),
             static_cast<std::streamsize>(clicks.audio.size() * sizeof(float)));
  const std::string beat = tmp.file("Beat.flac");
  ASSERT_EQ(sy::testing::shell("ffmpeg -loglevel error -y -f f32le -ar 44100 -ac 1 -i " + sy::testing::quote(raw) +
                               " -ac 2 " + sy::testing::quote(beat)),
            0);
  const std::string noise = tmp.file("Noise.flac");
  ASSERT_EQ(sy::testing::shell("ffmpeg -loglevel error -y -f lavfi -i "
                               "anoisesrc=color=pink:amplitude=0.3:seed=5:sample_rate=44100:duration=16 -ac 2 " +
                               sy::testing::quote(noise)),
            0);
  const auto with_beat = submit(beat, {{"beatsPerTurn", 8}, {"format", "flac"}});
  const auto without_beat = submit(noise, {{"beatsPerTurn", 8}, {"period", 5}, {"format", "flac"}});
  const auto plain = submit(beat, {{"format", "flac"}});

  const json found = wait_final(with_beat);
  ASSERT_EQ(found["status"], "done") << found.dump();
  const json report = found["result"]["report"];
  ASSERT_TRUE(report["tempoBpm"].is_number()) << report.dump();
  EXPECT_NEAR(report["tempoBpm"].get<double>(), 120.0, 1.2) << report.dump();
  EXPECT_FALSE(report.contains("note")) << report.dump();

  const json none = wait_final(without_beat);
  ASSERT_EQ(none["status"], "done") << none.dump();
  EXPECT_FALSE(none["result"]["report"].contains("tempoBpm")) << none.dump();
  EXPECT_EQ(none["result"]["report"].value("note", ""), "no clear beat found: turning once every 5 s instead")
      << none.dump();

  const json off = wait_final(plain);
  ASSERT_EQ(off["status"], "done") << off.dump();
  EXPECT_FALSE(off["result"]["report"].contains("tempoBpm")) << "no beat sync asked: " << off.dump();
  EXPECT_FALSE(off["result"]["report"].contains("note")) << off.dump();
}

// A video goes in, a video comes back: its picture packet for packet, its sound in 8D.
TEST_F(ServiceTest, AVideoComesBackAVideoWithItsPictureUntouched) {
  start();
  const std::string clip = tmp.file("clip.mp4");
  ASSERT_EQ(sy::testing::shell("ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=25:duration=6 "
                               "-f lavfi -i anoisesrc=color=pink:amplitude=0.3:seed=3:sample_rate=44100:duration=6 -ac 2 "
                               "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac " + sy::testing::quote(clip)),
            0);
  const auto job = submit(clip, {{"format", "keep"}, {"period", 3}});  // two turns in 6 s
  const auto done = wait_final(job);
  ASSERT_EQ(done["status"], "done") << done.dump();
  EXPECT_EQ(done["settings"]["format"], "keep");
  EXPECT_EQ(done["result"]["format"], "mp4");
  EXPECT_EQ(done["result"]["filename"], "clip (8D).mp4");
  const auto got = call("GET", target_of(done["result"]["url"]));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.header("content-type"), "video/mp4");
  const std::string out = tmp.file("result.mp4");
  std::ofstream(out, std::ios::binary) << got.body;
  const auto hashes = [&](const std::string& file) {
    const std::string list = tmp.file("hashes.txt");
    EXPECT_EQ(sy::testing::shell("ffprobe -v error -select_streams v:0 -show_packets -show_data_hash md5 "
                                 "-show_entries packet=data_hash -of csv=p=0 " + sy::testing::quote(file) + " > " +
                                 sy::testing::quote(list)),
              0);
    return read_file(list);
  };
  const std::string before = hashes(clip);
  EXPECT_GT(std::count(before.begin(), before.end(), '\n'), 90);
  EXPECT_EQ(hashes(out), before) << "every packet of the picture, byte for byte";
  EXPECT_GT(level_difference_spread(decode_stereo(tmp, out, 44100), 44100), 6.0) << "the sound circles";
}

TEST_F(ServiceTest, JanitorExpiresUploadsAndRemovesOldJobs) {
  start({{"SY_RETENTION_SECONDS", "3"}, {"SY_UPLOAD_URL_SECONDS", "1"},
         {"SY_JANITOR_SECONDS", "1"}, {"SY_JANITOR_GRACE_SECONDS", "1"}});
  const std::string song = make_song(tmp, "a.mp3", 2);
  const auto never = create("never.mp3", 1000);
  const auto done = submit(song);
  // Each job holds its state for the 3 s of retention only, and on a busy machine the render
  // can take longer than that: watch both at once.
  bool rendered = false, expired = false;
  const auto until = Steady::now() + 120s;
  while (Steady::now() < until && !(rendered && expired)) {
    if (const auto r = status(done); r.status == 200 && r.json_body()["status"] == "done") rendered = true;
    if (const auto r = status(never); r.status == 200 && r.json_body()["status"] == "expired") expired = true;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(rendered);
  EXPECT_TRUE(expired);
  const auto end = Steady::now() + 30s;
  while (Steady::now() < end && (status(done).status != 404 || status(never).status != 404))
    std::this_thread::sleep_for(200ms);
  expect_error(status(done), 404);
  expect_error(status(never), 404);
  EXPECT_EQ(objects_of(done.id), 0u);
}

TEST_F(ServiceTest, JobCreationIsRateLimitedPerClientBehindAProxy) {
  start({{"SY_CREATE_PER_MINUTE", "6"}, {"SY_CREATE_BURST", "2"},
         {"SY_CLIENT_IP_HEADER", "X-Forwarded-For"}});
  const std::string body = json{{"filename", "a.mp3"}, {"size", 10}}.dump();
  const auto from = [&](const std::string& forwarded) {
    return call("POST", "/api/v1/jobs", body, {{"X-Forwarded-For", forwarded}});
  };
  EXPECT_EQ(from("1.1.1.1").status, 201);
  EXPECT_EQ(from("1.1.1.1").status, 201);
  const auto limited = from("1.1.1.1");
  expect_error(limited, 429);
  EXPECT_FALSE(limited.header("retry-after").empty());
  // The proxy appends the real address; a client-supplied first entry changes nothing.
  expect_error(from("9.9.9.9, 1.1.1.1"), 429);
  EXPECT_EQ(from("2.2.2.2").status, 201);
}

TEST_F(ServiceTest, HealthReadinessPresetsOpenApiAndMetrics) {
  start({{"SY_CORS_ORIGINS", "https://app.example"}});
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  EXPECT_GE(call("GET", "/api/v1/presets").json_body()["presets"].size(), 6u);
  EXPECT_EQ(call("GET", "/api/v1/openapi.json").json_body()["openapi"], "3.0.3");
  const auto pre = call("OPTIONS", "/api/v1/jobs", {},
                             {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("access-control-allow-origin"), "https://app.example");
  const auto evil = call("GET", "/api/v1/presets", {}, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(evil.header("access-control-allow-origin"), "");
  const auto m = call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("sy_http_requests_total{method=\"GET\",route=\"/api/v1/presets\",status=\"200\"}"),
            std::string::npos) << m.body;
  EXPECT_NE(m.body.find("sy_queue_depth"), std::string::npos);
}

// ---- renders in supervised child processes ----------------------------------------------

using sy::testing::children_of;

// Resident memory of the process alone (its children not counted), in MiB.
double rss_mib(pid_t pid) {
  const double mib = sy::testing::proc_status_mib(pid, "VmRSS");
  if (mib < 0) ADD_FAILURE() << "no VmRSS for " << pid;
  return mib;
}

// 2 MiB of 16-bit stereo WAV whose header claims 750,000,017 samples a second: converting
// that rate builds a resampler filter of about 2 GiB (issue 10).
std::string make_sample_rate_bomb(const sy::testing::TempDir& dir) {
  const std::uint32_t rate = 750000017, data_bytes = 2u << 20;
  std::string wav = "RIFF";
  const auto u32 = [&wav](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) wav.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  const auto u16 = [&wav](std::uint16_t v) {
    wav.push_back(static_cast<char>(v & 0xff));
    wav.push_back(static_cast<char>(v >> 8));
  };
  u32(36 + data_bytes);
  wav += "WAVEfmt ";
  u32(16);
  u16(1);         // PCM
  u16(2);         // channels
  u32(rate);
  u32(rate * 4);  // bytes per second (wraps, as a forged header's would)
  u16(4);         // block align
  u16(16);        // bits
  wav += "data";
  u32(data_bytes);
  for (std::uint32_t i = 0; i < data_bytes / 2; ++i) u16(static_cast<std::uint16_t>(i * 7919));
  const std::string path = dir.file("bomb.wav");
  std::ofstream(path, std::ios::binary) << wav;
  return path;
}

// `seconds` of music (the fixture song looped), long enough to be caught mid-render.
std::string make_long_song(const sy::testing::TempDir& dir, const std::string& name, double seconds) {
  const std::string out = dir.file(name);
  EXPECT_EQ(sy::testing::shell("ffmpeg -loglevel error -y -stream_loop -1 -i " SY_MUSIC_DIR
                               "/hr3-caves.ogg -t " + std::to_string(seconds) +
                               " -ac 2 -c:a libmp3lame -b:a 192k " + sy::testing::quote(out)),
            0);
  return out;
}

bool is_final(const json& job) {
  if (!job.is_object()) return false;
  const std::string s = job.value("status", "");
  return s == "done" || s == "failed" || s == "expired";
}

// What a person reads: no signal names, errno text or paths.
void expect_readable(const std::string& reason) {
  EXPECT_FALSE(reason.empty());
  for (const char* raw : {"signal", "SIG", "errno", "Cannot allocate", "bad_alloc", "/", "exit"})
    EXPECT_EQ(reason.find(raw), std::string::npos) << reason;
}

TEST_F(ServiceTest, SampleRateBombFailsReadablyWhileTheApiStaysQuickAndSmall) {
  if (!sy::testing::memory_bounds_apply())
    GTEST_SKIP() << "its bounds (/healthz < 100 ms, the API under 100 MiB) are the release "
                    "build's; ASan's shadow memory and quarantine change both";
  start({}, 2);
  const auto bomb = submit(make_sample_rate_bomb(tmp));
  const auto song = submit(make_song(tmp, "song.mp3", 20));
  double worst_ms = 0, worst_rss = 0;
  json b, s;
  const auto end = Steady::now() + 180s;
  while (!(is_final(b) && is_final(s))) {
    const auto t0 = Steady::now();
    const auto health = call("GET", "/healthz");
    const double ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
    EXPECT_EQ(health.status, 200);
    EXPECT_LT(ms, 100) << "/healthz while the children render";
    worst_ms = std::max(worst_ms, ms);
    const double rss = rss_mib(server_pid());
    EXPECT_LT(rss, 100) << "RSS of the API process";
    worst_rss = std::max(worst_rss, rss);
    b = status(bomb).json_body();
    s = status(song).json_body();
    if (Steady::now() > end) {
      ADD_FAILURE() << "not finished: " << b.dump() << " " << s.dump();
      break;
    }
    std::this_thread::sleep_until(t0 + 200ms);
  }
  RecordProperty("healthz_worst_ms", std::to_string(worst_ms));
  RecordProperty("api_rss_worst_mib", std::to_string(worst_rss));
  EXPECT_EQ(s["status"], "done") << s.dump();
  ASSERT_EQ(b["status"], "failed") << b.dump();
  const std::string reason = b["error"];
  // Refused as bad input before the resampler is built: no retry, no child at its limit.
  EXPECT_NE(reason.find("sample rate"), std::string::npos) << reason;
  EXPECT_EQ(b["attempts"], 1) << b.dump();
  expect_readable(reason);
}

TEST_F(ServiceTest, KillNineOfARenderChildRetriesTheJobAtOnceOnAFreshChild) {
  start({}, 1);  // the default 60 s lease: a job that waited for it would come back late
  // Long enough to be killed mid-render; under ASan renders are ~10x slower, so a shorter
  // song still is, and its two attempts fit in the attempt's time limit.
  const std::string song = make_long_song(tmp, "long.mp3", sy::base::kAddressSanitizer ? 30 : 240);
  const auto job = submit(song);
  wait_for(job, [](const json& j) { return j["status"] == "processing" && j["progress"].get<double>() > 0.05; });
  const auto before = children_of(server_pid());
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(::kill(before[0], SIGKILL), 0);
  const auto killed = Steady::now();
  pid_t fresh = 0;
  while (Steady::now() - killed < 5s && fresh == 0) {
    for (pid_t p : children_of(server_pid()))
      if (p != before[0]) fresh = p;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_NE(fresh, 0);
  EXPECT_LT(Steady::now() - killed, 1s) << "a new render process runs within a second";
  // Attempt 2 starts at once, not when the lease runs out. No result is handed out before the
  // job is done, and the result object only ever appears whole (every size the store's
  // folder showed on the way is the final one).
  const auto processed = data / "objects/processed" / job.id;
  std::set<std::pair<std::string, std::uintmax_t>> seen;
  json j;
  bool second_attempt = false;
  while (!is_final(j) && Steady::now() - killed < 180s) {
    j = status(job).json_body();
    if (j["attempts"] == 2 && !second_attempt) {
      second_attempt = true;
      EXPECT_LT(Steady::now() - killed, 10s);
    }
    if (j["status"] != "done") {
      EXPECT_FALSE(j.contains("result")) << j.dump();
    }
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(processed, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec)) seen.emplace(it->path().filename().string(), fs::file_size(it->path(), ec));
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(j["status"], "done") << j.dump();
  EXPECT_EQ(j["attempts"], 2);
  const auto result = sy::testing::http_request("GET", j["result"]["url"]);
  ASSERT_EQ(result.status, 200);
  for (const auto& [name, size] : seen) {
    EXPECT_EQ(name, "long (8D).mp3");
    EXPECT_EQ(size, result.body.size()) << "a half-written result in the store";
  }
  const std::string out = tmp.file("result.mp3");
  std::ofstream(out, std::ios::binary) << result.body;
  EXPECT_NEAR(static_cast<double>(sy::testing::decoded_samples(out)),
              static_cast<double>(sy::testing::decoded_samples(song)), 44100 * 0.1)
      << "the whole song, rendered once";
  EXPECT_EQ(call("GET", "/healthz").status, 200);
}

TEST_F(ServiceTest, AFileThatCrashesTheDecoderFailsAfterMaxAttemptsAndServingGoesOn) {
  // The test-only hook: a child aborts on an upload that starts with this marker.
  start({{"SY_TEST_CRASH_MARKER", "SY-TEST-CRASH"}}, 2);
  const std::string path = tmp.file("crash.mp3");
  std::ofstream(path, std::ios::binary) << "SY-TEST-CRASH" << std::string(4000, 'x');
  const auto crash = submit(path);
  const auto song = submit(make_song(tmp, "song.mp3", 5));
  const auto j = wait_final(crash);
  EXPECT_EQ(j["status"], "failed") << j.dump();
  EXPECT_EQ(j["attempts"], 3);
  EXPECT_EQ(j["retryable"], true) << "its attempts ran out on crashes, not on a refusal of the file";
  EXPECT_EQ(j["error"], "the file made the decoder fail");
  EXPECT_EQ(wait_final(song)["status"], "done");
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  const auto end = Steady::now() + 2s;
  while (Steady::now() < end && children_of(server_pid()).size() != 2) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(children_of(server_pid()).size(), 2u) << "every crashed child was replaced";
  // And a child never outlives its supervisor, however the supervisor ends.
  const auto children = children_of(server_pid());
  EXPECT_EQ(server->stop(SIGKILL), 128 + SIGKILL);
  const auto killed = Steady::now();
  for (pid_t p : children) {
    while (Steady::now() - killed < 2s && ::kill(p, 0) == 0) std::this_thread::sleep_for(10ms);
    EXPECT_NE(::kill(p, 0), 0) << "render process " << p << " outlived serve";
  }
}

TEST_F(ServiceTest, ARenderOverItsTimeLimitFailsWithTheReason) {
  start({{"SY_WORKER_TIME_LIMIT_SECONDS", "1"}, {"SY_WORKER_TIME_PER_AUDIO_SECOND", "0"},
         {"SY_MAX_ATTEMPTS", "1"}}, 1);
  const auto job = submit(make_long_song(tmp, "long.mp3", 240));  // ~5 s of rendering
  const auto j = wait_final(job);
  EXPECT_EQ(j["status"], "failed") << j.dump();
  EXPECT_EQ(j["error"], "the render took longer than allowed");
}

TEST_F(ServiceTest, AWorkerRunByHandHoldsItselfToTheSameLimits) {
  sy::testing::ChildProcess worker({SY_SERVE_BINARY, "worker"},
                                   {{"SY_DATA_DIR", data.string()},
                                    {"SY_WORKER_MEMORY_LIMIT_MB", "512"},
                                    {"SY_WORKER_OPEN_FILES_LIMIT", "100"}},
                                   tmp.path() / "worker.log");
  const auto end = Steady::now() + 30s;
  while (Steady::now() < end && read_file(worker.log()).find("\"worker started\"") == std::string::npos)
    std::this_thread::sleep_for(20ms);
  const std::string limits = read_file("/proc/" + std::to_string(worker.pid()) + "/limits");
  const auto limit = [&limits](const std::string& name) {
    const auto at = limits.find(name);
    if (at == std::string::npos) return std::string();
    std::istringstream fields(limits.substr(at + name.size()));
    std::string soft;
    fields >> soft;
    return soft;
  };
  if (!sy::base::kAddressSanitizer) {  // ASan cannot start under an address-space limit
    EXPECT_EQ(limit("Max address space"), std::to_string(512LL << 20)) << limits;
  }
  EXPECT_EQ(limit("Max open files"), "100");
  EXPECT_EQ(limit("Max file size"), std::to_string(2048LL << 20)) << "the default";
  EXPECT_EQ(limit("Max core file size"), "0");
  EXPECT_EQ(worker.stop(SIGTERM), 0) << worker.log_tail();
}

}  // namespace
