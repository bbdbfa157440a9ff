#pragma once
// SY_VECTOR_CLONES marks a hot loop's function for a second, AVX2 copy that the dynamic loader
// picks once at start-up on CPUs that have it (GCC's target_clones, ELF ifuncs only). No FMA
// in either copy, so both give bit-identical output. Defining SY_NO_TARGET_CLONES turns it
// off for a compiler or sanitizer that cannot build ifuncs.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__) && !defined(SY_NO_TARGET_CLONES)
#define SY_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SY_VECTOR_CLONES
#endif
