#pragma once
// Whether this build runs under AddressSanitizer (the asan preset). ASan reserves terabytes of
// address space for its shadow memory when a process starts, so a process under an
// address-space limit (RLIMIT_AS, `ulimit -v`) cannot start at all; code that sets one, and
// tests that prove one, ask this first.

namespace sy::base {

#if defined(__SANITIZE_ADDRESS__)  // GCC
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)       // Clang
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace sy::base
