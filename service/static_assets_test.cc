#include "service/static_assets.h"

#include <gtest/gtest.h>

#include "web/embedded_assets.h"

namespace sy::service {
namespace {

Request get(std::string target, std::string method = "GET") {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

TEST(StaticAssets, RootAnswersThePageRevalidatedWithAPolicy) {
  const auto res = static_asset(get("/?utm=x"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_EQ(res->header("Cache-Control").value_or(""), "no-cache");
  EXPECT_NE(res->header("Content-Security-Policy").value_or("").find("script-src 'self'"), std::string::npos);
  EXPECT_NE(res->body.find("<html"), std::string::npos);
  const auto same = static_asset(get("/index.html"));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->body, res->body);
}

TEST(StaticAssets, EveryEmbeddedAssetIsServedWithItsTypeAndCachedForGood) {
  int assets = 0;
  for (const auto& a : web::embedded_assets()) {
    if (a.path.rfind("/assets/", 0) != 0) continue;
    ++assets;
    const auto res = static_asset(get(std::string(a.path)));
    ASSERT_TRUE(res) << a.path;
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body.size(), a.bytes.size());
    EXPECT_EQ(res->header("Content-Type").value_or(""), std::string(a.content_type));
    EXPECT_NE(res->header("Cache-Control").value_or("").find("immutable"), std::string::npos);
    if (a.path.ends_with(".js")) {
      EXPECT_EQ(a.content_type, "text/javascript; charset=utf-8");
    }
  }
  // The built page has its script and styles; a build with SY_BUILD_WEB=OFF has only a placeholder.
  if (web::embedded_assets().size() > 1) {
    EXPECT_GE(assets, 2);
  }
}

TEST(StaticAssets, HeadSendsHeadersOnly) {
  const auto res = static_asset(get("/", "HEAD"));
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->head_only);
  EXPECT_FALSE(res->body.empty());  // its size is the Content-Length
}

TEST(StaticAssets, LeavesEverythingElseToTheApi) {
  EXPECT_FALSE(static_asset(get("/", "POST")));
  EXPECT_FALSE(static_asset(get("/api/v1/presets")));
  EXPECT_FALSE(static_asset(get("/healthz")));
  EXPECT_FALSE(static_asset(get("/store/uploads/x")));
  const auto missing = static_asset(get("/assets/nope.js"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  const auto sneaky = static_asset(get("/assets/../index.html"));
  ASSERT_TRUE(sneaky);
  EXPECT_EQ(sneaky->status, 404);
}

}  // namespace
}  // namespace sy::service
