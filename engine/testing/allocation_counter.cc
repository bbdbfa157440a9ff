#include "engine/testing/allocation_counter.h"

#include <cstdlib>
#include <new>

// Replacing malloc works through ELF symbol interposition (glibc documents it, "Replacing
// malloc"); every definition here forwards to glibc's own allocator, so memory from either
// side can be freed by the other. ASan and friends bring their own malloc: there only
// operator new is replaced.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SY_COUNT_C_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SY_COUNT_C_ALLOCATIONS 0
#endif
#endif
#if !defined(SY_COUNT_C_ALLOCATIONS) && defined(__GLIBC__)
#define SY_COUNT_C_ALLOCATIONS 1
#endif
#ifndef SY_COUNT_C_ALLOCATIONS
#define SY_COUNT_C_ALLOCATIONS 0
#endif

namespace {
// Plain thread-locals of the executable: reading them never allocates.
thread_local bool armed = false;
thread_local std::size_t allocations = 0;

void note() noexcept {
  if (armed) ++allocations;
}
}  // namespace

#if SY_COUNT_C_ALLOCATIONS
extern "C" {
// glibc's allocator under its own names (exported for exactly this use).
void* __libc_malloc(std::size_t size) noexcept;
void* __libc_calloc(std::size_t count, std::size_t size) noexcept;
void* __libc_realloc(void* p, std::size_t size) noexcept;
void* __libc_memalign(std::size_t alignment, std::size_t size) noexcept;
void __libc_free(void* p) noexcept;

void* malloc(std::size_t size) noexcept {
  note();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
  note();
  return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) noexcept {
  note();
  return __libc_realloc(p, size);
}
void* memalign(std::size_t alignment, std::size_t size) noexcept {
  note();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  note();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  note();
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void free(void* p) noexcept { __libc_free(p); }
}

namespace {
void* raw_allocate(std::size_t size) noexcept { return __libc_malloc(size == 0 ? 1 : size); }
void* raw_allocate_aligned(std::size_t size, std::size_t alignment) noexcept {
  return __libc_memalign(alignment, size == 0 ? 1 : size);
}
void raw_free(void* p) noexcept { __libc_free(p); }
}  // namespace
#else
namespace {
void* raw_allocate(std::size_t size) noexcept { return std::malloc(size == 0 ? 1 : size); }
void* raw_allocate_aligned(std::size_t size, std::size_t alignment) noexcept {
  return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}
void raw_free(void* p) noexcept { std::free(p); }
}  // namespace
#endif

void* operator new(std::size_t size) {
  note();
  if (void* p = raw_allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  note();
  return raw_allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  note();
  return raw_allocate(size);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  note();
  if (void* p = raw_allocate_aligned(size, static_cast<std::size_t>(alignment))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) { return ::operator new(size, alignment); }
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  note();
  return raw_allocate_aligned(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  note();
  return raw_allocate_aligned(size, static_cast<std::size_t>(alignment));
}
void operator delete(void* p) noexcept { raw_free(p); }
void operator delete[](void* p) noexcept { raw_free(p); }
void operator delete(void* p, std::size_t) noexcept { raw_free(p); }
void operator delete[](void* p, std::size_t) noexcept { raw_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { raw_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { raw_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { raw_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { raw_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { raw_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { raw_free(p); }

namespace sy::testing {

CountAllocations::CountAllocations() noexcept {
  allocations = 0;
  armed = true;
}

CountAllocations::~CountAllocations() { armed = false; }

std::size_t CountAllocations::count() const noexcept { return allocations; }

bool counts_c_allocations() noexcept { return SY_COUNT_C_ALLOCATIONS != 0; }

}  // namespace sy::testing
