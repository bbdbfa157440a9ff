#include "worker/supervisor_channel.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace sy::worker {
namespace {

TEST(SupervisorChannel, MessagesRoundTripOneDatagramEach) {
  const ChannelPair pair = make_channel_pair();
  ChannelMessage ended;
  ended.kind = ChannelMessage::Kind::kEnded;
  ended.job_id = "0f1e";
  ended.outcome = "done";
  ended.wall_seconds = 6.5;
  ended.realtime_factor = 46;
  ChannelMessage length;
  length.kind = ChannelMessage::Kind::kLength;
  length.job_id = "0f1e";
  length.seconds = 301.5;
  ASSERT_TRUE(send_message(pair.child_end, ended));
  ASSERT_TRUE(send_message(pair.child_end, length));
  char buf[kMaxChannelMessage + 1];
  const auto a = decode(std::string_view(buf, static_cast<std::size_t>(::recv(pair.supervisor_end, buf, sizeof buf, 0))));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, ChannelMessage::Kind::kEnded);
  EXPECT_EQ(a->outcome, "done");
  EXPECT_DOUBLE_EQ(a->wall_seconds, 6.5);
  const auto b = decode(std::string_view(buf, static_cast<std::size_t>(::recv(pair.supervisor_end, buf, sizeof buf, 0))));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, ChannelMessage::Kind::kLength);
  EXPECT_DOUBLE_EQ(b->seconds, 301.5);
  ::close(pair.child_end);
  ::close(pair.supervisor_end);
}

TEST(SupervisorChannel, WhatAHostileChildSaysIsDropped) {
  EXPECT_FALSE(decode(""));
  EXPECT_FALSE(decode("not json"));
  EXPECT_FALSE(decode(R"({"kind":"reboot"})"));
  EXPECT_FALSE(decode(R"({"kind":"started"})")) << "no job";
  EXPECT_FALSE(decode(R"({"kind":"started","job":42})"));
  EXPECT_FALSE(decode(R"({"kind":"length","job":"a","seconds":"long"})"));
  EXPECT_FALSE(decode(R"([1,2,3])"));
  EXPECT_FALSE(decode(std::string(kMaxChannelMessage + 1, ' ')));
  EXPECT_TRUE(decode(R"({"kind":"wake"})"));
}

}  // namespace
}  // namespace sy::worker
