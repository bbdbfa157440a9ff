#include "io/ffmpeg_util.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "base/errors.h"

extern "C" {
#include <libavutil/error.h>
}

namespace sy::io::ffmpeg {
namespace {

// A job that meets a transient error is retried without counting the attempt; one that meets
// the file's own fault fails. A file must never land on the first side.
TEST(FfmpegErrors, ReadingOnlyRunningOutOfDescriptorsIsTheMachinesTrouble) {
  for (int error : {EIO, EAGAIN, ENOMEM, ENOSPC}) {
    SCOPED_TRACE(error);
    EXPECT_NO_THROW(throw_if_transient(AVERROR(error), Direction::kRead, "reading"));
  }
  EXPECT_NO_THROW(throw_if_transient(AVERROR_INVALIDDATA, Direction::kRead, "reading"));
  EXPECT_THROW(throw_if_transient(AVERROR(EMFILE), Direction::kRead, "reading"), base::TransientError);
  EXPECT_THROW(throw_if_transient(AVERROR(ENFILE), Direction::kRead, "reading"), base::TransientError);
}

TEST(FfmpegErrors, WritingAFullDiskOrAnIoErrorIsTheMachinesTroubleAndMemoryTheFiles) {
  EXPECT_THROW(throw_if_transient(AVERROR(ENOSPC), Direction::kWrite, "writing"), base::StorageFull);
  for (int error : {EIO, EAGAIN, EMFILE, EPIPE}) {
    SCOPED_TRACE(error);
    EXPECT_THROW(throw_if_transient(AVERROR(error), Direction::kWrite, "writing"), base::TransientError);
  }
  EXPECT_NO_THROW(throw_if_transient(AVERROR(ENOMEM), Direction::kWrite, "writing"));
  EXPECT_NO_THROW(throw_if_transient(AVERROR(EINVAL), Direction::kWrite, "writing"));
  EXPECT_NO_THROW(throw_if_transient(0, Direction::kWrite, "writing"));
}

}  // namespace
}  // namespace sy::io::ffmpeg
