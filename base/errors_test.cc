#include "base/errors.h"

#include <gtest/gtest.h>

namespace sy::base {
namespace {

// What decides a job's fate: trouble of the machine is retried, never blamed on the file.
TEST(Errors, AnErrnoBecomesTheErrorItsCauseCallsFor) {
  EXPECT_THROW(throw_errno(ENOSPC, "write"), StorageFull);
  EXPECT_THROW(throw_errno(EDQUOT, "write"), StorageFull);
  for (int transient : {EMFILE, ENFILE, EIO, ECONNREFUSED, ETIMEDOUT, ENOMEM}) {
    try {
      throw_errno(transient, "open");
      ADD_FAILURE() << "no throw";
    } catch (const StorageFull&) {
      ADD_FAILURE() << "not a full disk: " << transient;
    } catch (const TransientError& e) {
      EXPECT_NE(std::string(e.what()).find("open: "), std::string::npos);
    }
  }
  for (int lasting : {ENOENT, EACCES, EISDIR, EINVAL}) {
    try {
      throw_errno(lasting, "open");
      ADD_FAILURE() << "no throw";
    } catch (const TransientError&) {
      ADD_FAILURE() << "not transient: " << lasting;
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), lasting);
    }
  }
}

TEST(Errors, UnavailableAndStorageFullAreTransient) {
  EXPECT_THROW(throw Unavailable("db away"), TransientError);
  EXPECT_THROW(throw StorageFull("disk full"), TransientError);
  EXPECT_THROW(throw TransientError("x"), std::runtime_error);
}

}  // namespace
}  // namespace sy::base
