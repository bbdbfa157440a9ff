#pragma once
// What a client may read in a job's `error` (issue 11): a sentence, without the server's
// paths, SQL, the database's name or any host. The log keeps those.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace sy::testing {

inline ::testing::AssertionResult is_for_people(const std::string& text) {
  if (text.size() < 10) return ::testing::AssertionFailure() << "no sentence: '" << text << "'";
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string own_host = host;
  std::transform(own_host.begin(), own_host.end(), own_host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string& secret :
       {std::string("/"), std::string("\\"), std::string("sqlite"), std::string("select "),
        std::string("update "), std::string("postgres"), std::string("s3:"), std::string("127.0.0.1"),
        std::string("localhost"), std::string("http"), std::string("errno"), own_host}) {
    if (!secret.empty() && lower.find(secret) != std::string::npos)
      return ::testing::AssertionFailure() << "'" << text << "' shows '" << secret << "'";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace sy::testing
