#pragma once
// Counts heap allocations, for the tests that prove a processor's process() never allocates.
// Link allocation_counter.cc into the test binary: it replaces the global operator new and
// (outside sanitizer builds) malloc and its relatives, so allocations inside C libraries
// such as FFTW count too.
#include <cstddef>

namespace sy::testing {

// Counts the allocations this thread makes while the object lives (other threads' do not
// count). Not nestable.
class CountAllocations {
 public:
  CountAllocations() noexcept;
  ~CountAllocations();
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;

  std::size_t count() const noexcept;
};

// False where the C allocator cannot be replaced (sanitizer builds own malloc): there only
// operator new counts.
bool counts_c_allocations() noexcept;

}  // namespace sy::testing
