#pragma once
// A property the fuzzed code must keep. Breaking one is a finding like a crash: the message
// says which, and abort() makes libFuzzer save the input that did it.
#include <cstdio>
#include <cstdlib>

#define SY_FUZZ_CHECK(condition, message)                                                 \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      std::fprintf(stderr, "fuzz property broken at %s:%d: %s\n", __FILE__, __LINE__,     \
                   message);                                                              \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)
