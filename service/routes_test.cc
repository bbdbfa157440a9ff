#include "service/routes.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <set>
#include <string>

// Counts heap allocations on this thread while `counting` is set: matching runs for every
// request and must not build strings.
namespace {
thread_local bool counting = false;
thread_local int allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (counting) ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace sy::service {
namespace {

TEST(Routes, EachMethodAndPathOnceWithWhatItsStreamingNeeds) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const Route& r : routes()) {
    EXPECT_TRUE(seen.emplace(r.method, r.path).second) << r.method << " " << r.path;
    EXPECT_NE(r.handler, nullptr) << r.path;
    EXPECT_EQ(r.open_upload != nullptr, r.streaming == Streaming::kUpload) << r.path;
    EXPECT_EQ(r.body_limit == 0, r.streaming == Streaming::kUpload) << r.path;
    EXPECT_FALSE(r.openapi.empty()) << r.path;
  }
}

TEST(Routes, APlaceholderTakesOneSegmentAndAKeyTheRestOfThePath) {
  auto m = match_route("GET", "/api/v1/jobs/0123abcd", true);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->path, "/api/v1/jobs/{id}");
  EXPECT_EQ(m.param, "0123abcd");
  EXPECT_EQ(m.label, "/api/v1/jobs/{id}");

  m = match_route("GET", "/api/v1/jobs/0123abcd/events", true);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->streaming, Streaming::kEvents);
  EXPECT_EQ(m.param, "0123abcd");

  m = match_route("PUT", "/store/uploads/0123/My Song.mp3", true);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->streaming, Streaming::kUpload);
  EXPECT_EQ(m.param, "uploads/0123/My Song.mp3");

  for (const char* path : {"/api/v1/jobs/a/b", "/api/v1/jobs/a/events/b", "/api/v1/jobs/a/nope",
                           "/api/v1/job", "/api/v1/jobs/x/uploaded/", "/", "/nothing"}) {
    m = match_route("GET", path, true);
    EXPECT_FALSE(m.route) << path;
    EXPECT_FALSE(m.path_known) << path;
    EXPECT_EQ(m.label, "other") << path;
  }
}

TEST(Routes, AnotherMethodOnAKnownPathIsAllowedElsewhere) {
  auto m = match_route("PATCH", "/api/v1/jobs/abc", true);
  EXPECT_FALSE(m.route);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.label, "/api/v1/jobs/{id}");
  EXPECT_EQ(allowed_methods("/api/v1/jobs/abc", true), "GET, DELETE");
  EXPECT_EQ(allowed_methods("/api/v1/jobs", true), "POST");
  EXPECT_EQ(allowed_methods("/store/uploads/a/b.mp3", true), "GET, HEAD, PUT");
  // Probes may use any verb.
  EXPECT_TRUE(match_route("HEAD", "/healthz", true).route);
  EXPECT_TRUE(match_route("POST", "/readyz", true).route);
}

TEST(Routes, WithoutAnEmbeddedStoreItsRoutesDoNotExist) {
  const auto m = match_route("GET", "/store/uploads/a/b.mp3", false);
  EXPECT_FALSE(m.route);
  EXPECT_FALSE(m.path_known);
  EXPECT_EQ(m.label, "/store/{key}");
  EXPECT_EQ(allowed_methods("/store/uploads/a/b.mp3", false), "");
}

TEST(Routes, MethodLabelsStayBounded) {
  EXPECT_EQ(method_label("GET"), "GET");
  EXPECT_EQ(method_label("OPTIONS"), "OPTIONS");
  EXPECT_EQ(method_label("BREW"), "OTHER");
}

TEST(Routes, MatchingDoesNotAllocate) {
  const std::string status = "/api/v1/jobs/" + std::string(32, 'a');
  const std::string key = "/store/uploads/" + std::string(32, 'a') + "/a long song name.mp3";
  allocations = 0;
  counting = true;
  std::size_t found = 0;
  for (int i = 0; i < 100; ++i) {
    found += match_route("GET", status, true).route != nullptr;
    found += match_route("PUT", key, true).route != nullptr;
    found += match_route("GET", "/unknown/path", true).route != nullptr;
    found += method_label("GET").size() > 0;
  }
  counting = false;
  EXPECT_EQ(found, 300u);
  EXPECT_EQ(allocations, 0);
}

}  // namespace
}  // namespace sy::service
